"""The hostile corpus: data files, command lines and checkpoint folders built to crash, hang,
exhaust memory, run code or write where they should not. Every one must end the CLI with
exit code 2 and exactly one line on stderr starting with ``error: ``; no traceback, no file
written anywhere but the case's own folder, and no pickle payload ever run (the payloads
create a marker file when unpickled)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.cli import main
from explorer.config import DataConfig
from explorer.data.uploads import load_upload_bytes
from explorer.errors import DataError

REPO = Path(__file__).resolve().parents[1]
MARKER = "PAYLOAD-RAN"  # a pickle payload below creates a file of this name when unpickled


class _Payload:
    """Unpickling this calls ``open(path, "w")``: the marker file appears if anything unpickles."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


# --- building hostile files ------------------------------------------------------------------


def _npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_header_only(shape: tuple[int, ...], descr: str = "<f8", body: bytes = b"\0" * 64) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + body


def _pickled_array(tmp: Path) -> bytes:
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(tmp / MARKER)
    return _npy_bytes(evil, allow_pickle=True)


def _zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no pixel data."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def _png(value: int = 100) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8, 8), value).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A ~5 MB .npz whose one array inflates to 1 GiB of zeros."""
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
          archive.open("x.npy", "w", force_zip64=True) as member):
        member.write(_npy_header_only((2**27,), body=b""))
        chunk = bytes(1 << 24)
        for _ in range(64):
            member.write(chunk)
    return buffer.getvalue()


def _file(name: str, data: bytes | Callable[[Path], bytes]) -> Callable[[Path, dict], Path]:
    def make(tmp: Path, shared: dict) -> Path:
        path = tmp / "inputs" / name
        path.write_bytes(data(tmp) if callable(data) else data)
        return path

    return make


def _bomb_file(name: str) -> Callable[[Path, dict], Path]:
    def make(tmp: Path, shared: dict) -> Path:
        path = tmp / "inputs" / name
        path.write_bytes(shared["bomb"])
        return path

    return make


def _special(kind: str) -> Callable[[Path, dict], Path]:
    def make(tmp: Path, shared: dict) -> Path:
        path = tmp / "inputs" / "data.npz"
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "loop":
            other = tmp / "inputs" / "other.npz"
            path.symlink_to(other)
            other.symlink_to(path)
        elif kind == "dev_zero":
            path = tmp / "inputs" / "zeros.npy"
            path.symlink_to("/dev/zero")
        elif kind == "missing":
            pass
        return path

    return make


def _encrypted(data: bytes) -> bytes:
    """The zip with every member flagged as password-protected in its central directory."""
    data, start = bytearray(data), 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        data[start + 8] |= 1
        start += 4
    return bytes(data)


@functools.cache
def _many_members() -> bytes:
    return _zip_bytes({f"{i}.png": b"" for i in range(50_001)}, zipfile.ZIP_STORED)  # built once


def _truncated_npz(tmp: Path) -> bytes:
    data = _npz_bytes(x=np.random.default_rng(0).random((50, 6)))
    return data[: len(data) // 2]


def _npz_member_lies(tmp: Path) -> bytes:
    """A valid zip whose x.npy header announces far more data than the member holds."""
    return _zip_bytes({"x.npy": _npy_header_only((10_000, 1000))})


DATA_FILES: dict[str, Callable[[Path, dict], Path]] = {
    "npy-header-claims-1e12-elements": _file("big.npy", _npy_header_only((10**12,), "|u1")),
    "npy-header-claims-1e6-by-1e6": _file("big.npy", _npy_header_only((10**6, 10**6))),
    "npy-header-negative-shape": _file("neg.npy", _npy_header_only((-5, 3))),
    "npy-truncated": _file("cut.npy", _npy_bytes(np.ones((100, 10), np.float32))[:300]),
    "npy-pickled-object-array": _file("evil.npy", _pickled_array),
    "npy-raw-pickle": _file("evil.npy", lambda tmp: pickle.dumps(_Payload(tmp / MARKER))),
    "npy-object-array-of-ints": _file("obj.npy", _npy_bytes(np.array([1, 2, 3], object), True)),
    "npy-garbage": _file("junk.npy", os.urandom(4096)),
    "npy-empty": _file("empty.npy", b""),
    "npy-one-dimensional": _file("flat.npy", _npy_bytes(np.ones(100))),
    "npy-five-dimensional": _file("deep.npy", _npy_bytes(np.ones((4, 2, 2, 2, 2)))),
    "npy-nan": _file("nan.npy", _npy_bytes(np.full((20, 3), np.nan))),
    "npy-inf": _file("inf.npy", _npy_bytes(np.array([[np.inf, 1.0]] * 20))),
    "npy-complex": _file("complex.npy", _npy_bytes(np.ones((20, 3), np.complex64))),
    "npy-strings": _file("text.npy", _npy_bytes(np.array([["a", "b"]] * 20))),
    "npy-three-samples": _file("few.npy", _npy_bytes(np.ones((3, 4)))),
    "npy-empty-items": _file("hollow.npy", _npy_bytes(np.ones((10, 0)))),
    "npy-items-too-big-for-a-model": _file("wide.npy", _npy_bytes(np.zeros((4, 1, 2000, 2000), np.uint8))),
    "npz-bomb-1gib": _bomb_file("bomb.npz"),
    "npz-member-header-claims-1e12": _file(
        "big.npz", _zip_bytes({"x.npy": _npy_header_only((10**12,), "|u1")})),
    "npz-member-announces-more-than-it-holds": _file("lies.npz", _npz_member_lies),
    "npz-pickled-object-array": _file("evil.npz", lambda tmp: _zip_bytes({"x.npy": _pickled_array(tmp)})),
    "npz-raw-pickle-member": _file(
        "evil.npz", lambda tmp: _zip_bytes({"x.npy": pickle.dumps(_Payload(tmp / MARKER))})),
    "npz-raw-pickle-member-no-suffix": _file(
        "evil.npz", lambda tmp: _zip_bytes({"x": pickle.dumps(_Payload(tmp / MARKER))})),
    "npz-object-array": _file(
        "obj.npz", _zip_bytes({"x.npy": _npy_bytes(np.array([[1], [2]], object), True)})),
    "npz-one-dimensional": _file("flat.npz", _npz_bytes(x=np.ones(50))),
    "npz-nan": _file("nan.npz", _npz_bytes(x=np.full((20, 4), np.nan))),
    "npz-inf": _file("inf.npz", _npz_bytes(x=np.full((20, 4), -np.inf))),
    "npz-labels-do-not-match": _file("y.npz", _npz_bytes(x=np.ones((20, 4)), y=np.arange(7))),
    "npz-labels-two-dimensional": _file("y2.npz", _npz_bytes(x=np.ones((20, 4)), y=np.ones((20, 3)))),
    "npz-labels-nan": _file("ynan.npz", _npz_bytes(x=np.ones((20, 4)), y=np.full(20, np.nan))),
    "npz-unknown-kind": _file("kind.npz", _npz_bytes(x=np.ones((20, 4)), kind=np.array("movie"))),
    "npz-extra-arrays": _file("extra.npz", _npz_bytes(x=np.ones((20, 4)), w=np.ones(3))),
    "npz-no-x-among-many": _file("nox.npz", _npz_bytes(a=np.ones((20, 4)), b=np.ones((20, 4)))),
    "npz-image-values-out-of-range": _file(
        "img.npz", _npz_bytes(x=np.full((20, 1, 8, 8), 300.0), kind=np.array("image"))),
    "npz-empty": _file("empty.npz", b""),
    "npz-garbage": _file("junk.npz", os.urandom(4096)),
    "npz-truncated": _file("cut.npz", _truncated_npz),
    "csv-binary-garbage": _file("junk.csv", bytes(range(256)) * 16),
    "csv-ragged-rows": _file("ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n"),
    "csv-non-utf8-cells": _file("latin.csv", "a,b\n1,\xe9t\xe9\n2,3\n".encode("latin-1") * 3),
    "csv-empty": _file("empty.csv", b""),
    "csv-header-only": _file("head.csv", b"a,b,label\n"),
    "csv-no-header": _file("nohead.csv", b"1,2\n3,4\n5,6\n7,8\n9,10\n"),
    "csv-nan-cells": _file("nan.csv", b"a,b\n" + b"nan,1\n" * 10),
    "csv-overflowing-numbers": _file("huge.csv", b"a,b\n" + b"1e999,1\n" * 10),
    "csv-only-a-label": _file("label.csv", b"label\n" + b"1\n" * 10),
    "csv-nul-bytes": _file("nul.csv", b"a,b\n1,\x002\n" * 5),
    "zip-bomb-1gib": _bomb_file("bomb.zip"),
    "zip-50001-members": _file("many.zip", lambda tmp: _many_members()),
    "zip-png-header-100000-squared": _file(
        "huge.zip", _zip_bytes({f"{i}.png": _png_header(100_000, 100_000) for i in range(4)})),
    "zip-png-header-6000-squared": _file(
        "big.zip", _zip_bytes({f"{i}.png": _png_header(6000, 6000) for i in range(4)})),
    "zip-garbage-images": _file("junk.zip", _zip_bytes({f"{i}.png": os.urandom(64) for i in range(4)})),
    "zip-no-images": _file("text.zip", _zip_bytes({"a.txt": b"hello"})),
    "zip-garbage": _file("junk.zip", os.urandom(2048)),
    "zip-encrypted-members": _file(
        "locked.zip", lambda tmp: _encrypted(_zip_bytes({f"{i}.png": _png() for i in range(4)}))),
    "png-single-image": _file("one.png", _png()),
    "png-huge-header-single": _file("huge.png", _png_header(100_000, 100_000)),
    "unsupported-suffix": _file("data.txt", b"1,2,3\n"),
    "symlink-loop": _special("loop"),
    "fifo": _special("fifo"),
    "folder-named-like-a-file": _special("folder"),
    "symlink-to-dev-zero": _special("dev_zero"),
    "missing-file": _special("missing"),
}


def _data_case(make: Callable[[Path, dict], Path]) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        return ["train", "--data", str(make(tmp, shared)), "--model", "ae", "--epochs", "1", "--quiet",
                "--out", str(tmp / "model")]

    return argv


# --- command lines ---------------------------------------------------------------------------


def _train(*flags: str) -> Callable[[Path, dict], list[str]]:
    return lambda tmp, shared: ["train", "--data", "digits", "--max-samples", "60", "--epochs", "1",
                                "--quiet", "--out", str(tmp / "model"), *flags]


def _on_ckpt(command: str, *flags: str) -> Callable[[Path, dict], list[str]]:
    """``command`` on the shared checkpoint; ``{tmp}`` in a flag is the case's folder."""
    return lambda tmp, shared: [command, str(shared["ckpt"]),
                                *(f.replace("{tmp}", str(tmp)) for f in flags)]


def _read_only(tmp: Path, shared: dict) -> list[str]:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp / "inputs" / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return ["encode", str(shared["ckpt"]), "--out", str(folder / "z.npz")]


def _existing_file_as_checkpoint_folder(tmp: Path, shared: dict) -> list[str]:
    (tmp / "inputs" / "notes.txt").write_text("keep me")
    return _train("--out", str(tmp / "inputs" / "notes.txt"))(tmp, shared)


def _folder_of_other_files(tmp: Path, shared: dict) -> list[str]:
    (tmp / "inputs" / "photos").mkdir()
    (tmp / "inputs" / "photos" / "cat.jpg").write_bytes(b"precious")
    return _train("--out", str(tmp / "inputs" / "photos"))(tmp, shared)


def _out_loop(tmp: Path, shared: dict) -> list[str]:
    loop = tmp / "inputs" / "z.npz"
    loop.symlink_to(loop)
    return ["encode", str(shared["ckpt"]), "--out", str(loop)]


def _out_under_a_file(tmp: Path, shared: dict) -> list[str]:
    (tmp / "inputs" / "afile").write_text("x")
    return ["encode", str(shared["ckpt"]), "--out", str(tmp / "inputs" / "afile" / "z.npz")]


def _out_fifo(tmp: Path, shared: dict) -> list[str]:
    os.mkfifo(tmp / "inputs" / "pipe.npz")
    return ["encode", str(shared["ckpt"]), "--out", str(tmp / "inputs" / "pipe.npz")]


ARGUMENTS: dict[str, Callable[[Path, dict], list[str]]] = {
    **{f"train--{flag.strip('-')}={value}": _train(flag, value) for flag, value in [
        ("--latent-dim", "0"), ("--latent-dim", "1"), ("--latent-dim", "257"),
        ("--latent-dim", "1000000000"), ("--latent-dim", "-5"), ("--latent-dim", "2.5"),
        ("--latent-dim", "nan"),
        ("--epochs", "0"), ("--epochs", "-1"), ("--epochs", "1000000000"), ("--epochs", "inf"),
        ("--batch-size", "0"), ("--batch-size", "-8"), ("--batch-size", "1000000000000"),
        ("--lr", "0"), ("--lr", "-1"), ("--lr", "nan"), ("--lr", "inf"), ("--lr", "1e9"), ("--lr", "fast"),
        ("--weight-decay", "-1"), ("--weight-decay", "nan"), ("--weight-decay", "inf"),
        ("--beta", "-1"), ("--beta", "nan"), ("--beta", "inf"),
        ("--dropout", "1.0"), ("--dropout", "2.0"), ("--dropout", "-0.1"), ("--dropout", "nan"),
        ("--noise-level", "-1"), ("--noise-level", "nan"), ("--noise-level", "1e9"),
        ("--sparsity-l1", "-1"), ("--sparsity-target", "1.5"), ("--sparsity-kl-weight", "nan"),
        ("--contractive-weight", "-1"),
        ("--validation-fraction", "1.5"), ("--validation-fraction", "1.0"),
        ("--validation-fraction", "-0.1"), ("--validation-fraction", "nan"),
        ("--patience", "-1"), ("--grad-clip", "0"), ("--grad-clip", "-1"), ("--grad-clip", "nan"),
        ("--augment-shift", "9"), ("--augment-shift", "-1"),
        ("--seed", "-1"), ("--seed", "4294967296"), ("--seed", "nan"),
        ("--max-samples", "0"), ("--max-samples", "-1"), ("--max-samples", "1000000000000"),
        ("--image-size", "60000"), ("--image-size", "0"),
        ("--hidden", "0"), ("--hidden", "1000000000"), ("--hidden", "16384,16384"), ("--hidden", "a,b"),
        ("--hidden", ",".join(["4"] * 17)),
        ("--model", "gpt"), ("--activation", "swish"), ("--noise", "fog"), ("--likelihood", "poisson"),
        ("--schedule", "cosine"), ("--color", "cmyk"), ("--device", "cuda:7"), ("--device", "toaster"),
        ("--out", "."), ("--out", "/proc/x"), ("--out", "/sys/x"), ("--out", "/dev/x"),
    ]},
    "train-masking-level-above-1": _train("--noise", "masking", "--noise-level", "2"),
    "train-validation-leaves-nothing": _train("--validation-fraction", "0.9999"),
    "train-conv-channels-huge": _train("--model", "conv_ae", "--channels", "1000000000"),
    "train-conv-channels-over-the-size-limit": _train("--model", "conv_ae", "--channels", "16384,16384"),
    "train-unknown-flag": _train("--frobnicate"),
    "train-out-is-a-file": _existing_file_as_checkpoint_folder,
    "train-out-is-a-folder-of-other-files": _folder_of_other_files,
    "unknown-command": lambda tmp, shared: ["frobnicate"],
    "encode-out-dot": _on_ckpt("encode", "--out", "."),
    "encode-out-existing-folder": _on_ckpt("encode", "--out", "{tmp}"),
    "encode-out-proc": _on_ckpt("encode", "--out", "/proc/z.npz"),
    "encode-out-dev": _on_ckpt("encode", "--out", "/dev/z.npz"),
    "encode-out-dev-null": _on_ckpt("encode", "--out", "/dev/null"),
    "encode-out-missing-parent": _on_ckpt("encode", "--out", "{tmp}/no/such/z.npz"),
    "encode-out-wrong-suffix": _on_ckpt("encode", "--out", "{tmp}/z.txt"),
    "encode-out-empty": _on_ckpt("encode", "--out", ""),
    "encode-out-read-only-folder": _read_only,
    "encode-out-symlink-loop": _out_loop,
    "encode-out-under-a-file": _out_under_a_file,
    "encode-out-fifo": _out_fifo,
    "encode-split-unknown": _on_ckpt("encode", "--split", "all", "--out", "{tmp}/z.npz"),
    "project-n-components-4": _on_ckpt("project", "--n-components", "4", "--out", "{tmp}/p.npz"),
    "project-n-components-1": _on_ckpt("project", "--n-components", "1", "--out", "{tmp}/p.npz"),
    "project-n-neighbors-1": _on_ckpt("project", "--n-neighbors", "1", "--out", "{tmp}/p.npz"),
    "project-n-neighbors-huge": _on_ckpt("project", "--n-neighbors", "1000000", "--out", "{tmp}/p.npz"),
    "project-min-dist-2": _on_ckpt("project", "--min-dist", "2", "--out", "{tmp}/p.npz"),
    "project-min-dist-nan": _on_ckpt("project", "--min-dist", "nan", "--out", "{tmp}/p.npz"),
    "project-perplexity-0": _on_ckpt("project", "--perplexity", "0", "--out", "{tmp}/p.npz"),
    "project-perplexity-inf": _on_ckpt("project", "--perplexity", "inf", "--out", "{tmp}/p.npz"),
    "project-seed-negative": _on_ckpt("project", "--seed", "-1", "--out", "{tmp}/p.npz"),
    "project-method-unknown": _on_ckpt("project", "--method", "lda", "--out", "{tmp}/p.npz"),
    "project-out-dot": _on_ckpt("project", "--out", "."),
    "project-out-proc": _on_ckpt("project", "--out", "/proc/p.csv"),
    "arithmetic-out-dot": _on_ckpt("arithmetic", "--a", "0", "--b", "0", "--c", "1", "--out", "."),
    "arithmetic-out-proc": _on_ckpt("arithmetic", "--a", "0", "--b", "0", "--c", "1", "--out", "/proc/a.png"),
    "arithmetic-out-missing-parent": _on_ckpt("arithmetic", "--a", "0", "--b", "0", "--c", "1",
                                              "--out", "{tmp}/no/such/a.png"),
    "knn-k-0": _on_ckpt("knn", "--k", "0"),
    "finetune-min-steps-0": _on_ckpt("finetune", "--min-steps", "0"),
    "finetune-labels-0": _on_ckpt("finetune", "--labels", "0"),
    "regularity-n-prior-0": _on_ckpt("regularity", "--n-prior", "0"),
    "denoise-items-0": _on_ckpt("denoise", "--items", "0"),
    "denoise-level-nan": _on_ckpt("denoise", "--level", "nan"),
    "denoise-seed-huge": _on_ckpt("denoise", "--seed", "99999999999"),
    "anomaly-target-fpr-2": lambda tmp, shared: ["anomaly", "--normal", "0", "--target-fpr", "2"],
    "anomaly-target-fpr-nan": lambda tmp, shared: ["anomaly", "--normal", "0", "--target-fpr", "nan"],
}


# --- checkpoint folders ----------------------------------------------------------------------


def _ckpt_copy(tmp: Path, shared: dict) -> Path:
    folder = tmp / "inputs" / "ckpt"
    shutil.copytree(shared["ckpt"], folder)
    return folder


def _config_change(change: Callable[[dict], None]) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        folder = _ckpt_copy(tmp, shared)
        config = json.loads((folder / "config.json").read_text())
        change(config)
        (folder / "config.json").write_text(json.dumps(config))
        return ["evaluate", str(folder)]

    return argv


def _config_text(text: Callable[[Path], str | bytes]) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        folder = _ckpt_copy(tmp, shared)
        content = text(tmp)
        path = folder / "config.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return ["evaluate", str(folder)]

    return argv


def _set(section: str, key: str, value) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        if section:
            config[section][key] = value
        else:
            config[key] = value

    return change


def _weights(make: Callable[[Path, bytes], bytes | None]) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        folder = _ckpt_copy(tmp, shared)
        path = folder / "model.safetensors"
        data = make(tmp, path.read_bytes())
        path.unlink()
        if data is not None:
            path.write_bytes(data)
        return ["evaluate", str(folder)]

    return argv


def _torch_pickle(tmp: Path, _: bytes) -> bytes:
    buffer = io.BytesIO()
    torch.save({"head.weight": _Payload(tmp / MARKER)}, buffer)
    return buffer.getvalue()


def _other_shape(tmp: Path, _: bytes) -> bytes:
    from safetensors.torch import save

    from explorer.config import ModelConfig
    from explorer.models import build_model

    model = build_model(ModelConfig(name="ae", input_shape=(1, 8, 8), hidden=(32,), latent_dim=2,
                                    likelihood="bernoulli"))
    return save({k: v.contiguous() for k, v in model.state_dict().items()})


def _weights_special(kind: str) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        folder = _ckpt_copy(tmp, shared)
        path = folder / "model.safetensors"
        path.unlink()
        if kind == "dev_zero":
            path.symlink_to("/dev/zero")
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        return ["evaluate", str(folder)]

    return argv


def _config_special(kind: str) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        folder = _ckpt_copy(tmp, shared)
        path = folder / "config.json"
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "loop":
            path.symlink_to(path)
        elif kind == "dev_zero":
            path.symlink_to("/dev/zero")
        return ["evaluate", str(folder)]

    return argv


def _checkpoint_is(kind: str) -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        path = tmp / "inputs" / "ckpt"
        if kind == "file":
            path.write_text("{}")
        elif kind == "loop":
            path.symlink_to(path)
        return ["evaluate", str(path)]

    return argv


def _data_root_elsewhere(tmp: Path, shared: dict) -> list[str]:
    """A checkpoint that names a data root of its own: it must never be created or read."""
    shared["evil_root"] = tmp / "evil-root"
    return _config_change(lambda c: c["data"].update(name="mnist", root=str(tmp / "evil-root")))(tmp, shared)


def _deep(n: int) -> Callable[[Path], str]:
    return lambda tmp: '{"format_version": 1, "model": ' + "[" * n + "]" * n + "}"


CHECKPOINTS: dict[str, Callable[[Path, dict], list[str]]] = {
    "config-not-json": _config_text(lambda tmp: "{not json"),
    "config-not-utf8": _config_text(lambda tmp: b'{"format_version": 1, "model": "\xff\xfe"}'),
    "config-huge": _config_text(lambda tmp: '{"pad": "' + "x" * (11 * 2**20) + '"}'),
    "config-nested-200000": _config_text(_deep(200_000)),
    "config-nested-500": _config_text(_deep(500)),
    "config-a-list": _config_text(lambda tmp: "[1, 2, 3]"),
    "config-5000-digit-number": _config_text(
        lambda tmp: '{"format_version": ' + "9" * 5000 + ', "model": {}}'),
    "config-fifo": _config_special("fifo"),
    "config-symlink-loop": _config_special("loop"),
    "config-symlink-to-dev-zero": _config_special("dev_zero"),
    "config-missing": _config_special("missing"),
    "format-version-string": _config_change(_set("", "format_version", "1")),
    "format-version-true": _config_change(_set("", "format_version", True)),
    "format-version-2": _config_change(_set("", "format_version", 2)),
    "format-version-missing": _config_change(lambda c: c.pop("format_version")),
    "model-a-string": _config_change(_set("", "model", "vae")),
    "model-a-list": _config_change(_set("", "model", [1, 2])),
    "data-a-string": _config_change(_set("", "data", "digits")),
    "train-a-list": _config_change(_set("", "train", [])),
    "metrics-a-string": _config_change(_set("", "metrics", "good")),
    "metric-not-a-number": _config_change(_set("", "metrics", {"recon": "low"})),
    "history-a-string": _config_change(_set("", "history", "long")),
    "history-epochs-a-string": _config_change(_set("", "history", {"epochs_run": "many"})),
    "history-curve-of-strings": _config_change(_set("", "history", {"train": {"total": ["a"]}})),
    "versions-a-list": _config_change(_set("", "versions", ["1.0"])),
    "latent-dim-negative": _config_change(_set("model", "latent_dim", -3)),
    "latent-dim-1e9": _config_change(_set("model", "latent_dim", 10**9)),
    "latent-dim-a-string": _config_change(_set("model", "latent_dim", "2")),
    "latent-dim-true": _config_change(_set("model", "latent_dim", True)),
    "latent-dim-float": _config_change(_set("model", "latent_dim", 2.5)),
    "hidden-huge": _config_change(_set("model", "hidden", [10**9])),
    "hidden-over-the-size-limit": _config_change(_set("model", "hidden", [16384, 16384, 16384])),
    "hidden-a-string": _config_change(_set("model", "hidden", "abc")),
    "hidden-nested": _config_change(_set("model", "hidden", [[16]])),
    "hidden-null": _config_change(_set("model", "hidden", None)),
    "input-shape-empty": _config_change(_set("model", "input_shape", [])),
    "input-shape-zero": _config_change(_set("model", "input_shape", [0])),
    "input-shape-huge": _config_change(_set("model", "input_shape", [10**6, 10**6, 10**6])),
    "model-name-unknown": _config_change(_set("model", "name", "transformer_9000")),
    "model-name-a-number": _config_change(_set("model", "name", 5)),
    "dropout-nan": _config_text(lambda tmp: (
        lambda c: json.dumps(c).replace('"dropout": 0.0', '"dropout": NaN'))(
        json.loads((tmp / "inputs" / "ckpt" / "config.json").read_text()))),
    "beta-a-string": _config_change(_set("model", "beta", "high")),
    "activation-unknown": _config_change(_set("model", "activation", "swish")),
    "train-epochs-negative": _config_change(_set("train", "epochs", -1)),
    "train-lr-a-string": _config_change(_set("train", "lr", "fast")),
    "data-test-fraction-5": _config_change(_set("data", "test_fraction", 5)),
    "data-seed-negative": _config_change(_set("data", "seed", -1)),
    "data-root-elsewhere": _data_root_elsewhere,
    "weights-truncated": _weights(lambda tmp, data: data[: len(data) // 2]),
    "weights-garbage": _weights(lambda tmp, data: os.urandom(len(data))),
    "weights-empty": _weights(lambda tmp, data: b""),
    "weights-pickle-renamed": _weights(_torch_pickle),
    "weights-header-length-2-40": _weights(lambda tmp, data: struct.pack("<Q", 2**40) + data[8:]),
    "weights-header-not-json": _weights(lambda tmp, data: struct.pack("<Q", 16) + b"{" * 16 + b"\0" * 64),
    "weights-header-nested": _weights(lambda tmp, data: struct.pack("<Q", 20_000) + b"[" * 20_000),
    "weights-padded": _weights(lambda tmp, data: data + b"\0" * 4096),
    "weights-of-another-shape": _weights(_other_shape),
    "weights-missing": _weights(lambda tmp, data: None),
    "weights-symlink-to-dev-zero": _weights_special("dev_zero"),
    "weights-fifo": _weights_special("fifo"),
    "weights-a-folder": _weights_special("folder"),
    "checkpoint-is-a-file": _checkpoint_is("file"),
    "checkpoint-symlink-loop": _checkpoint_is("loop"),
    "checkpoint-missing": _checkpoint_is("missing"),
}

# --- ONNX files for `import` ------------------------------------------------------------------


def _good_onnx(tmp: Path, which: str, latent: int = 4) -> Path:
    """A valid encoder (8x8 digits -> latent) or decoder, exported as any script would."""
    from torch import nn

    module, example = ((nn.Sequential(nn.Flatten(), nn.Linear(64, latent)), torch.rand(2, 1, 8, 8))
                       if which == "encoder" else
                       (nn.Sequential(nn.Linear(latent, 64), nn.Unflatten(1, (1, 8, 8))),
                        torch.rand(2, latent)))
    path = tmp / "inputs" / f"good-{which}-{latent}.onnx"
    torch.onnx.export(module, (example,), str(path), input_names=["in"], output_names=["out"],
                      dynamic_axes={"in": {0: "n"}, "out": {0: "n"}}, dynamo=False)
    return path


def _import(encoder: Callable[[Path], Path] | None = None, decoder: Callable[[Path], Path] | None = None,
            data: str = "digits") -> Callable[[Path, dict], list[str]]:
    def argv(tmp: Path, shared: dict) -> list[str]:
        enc = encoder(tmp) if encoder else _good_onnx(tmp, "encoder")
        dec = decoder(tmp) if decoder else _good_onnx(tmp, "decoder")
        return ["import", "--encoder", str(enc), "--decoder", str(dec), "--data", data,
                "--out", str(tmp / "cwd" / "imported")]

    return argv


def _onnx_bytes(name: str, make: Callable[[Path], bytes]) -> Callable[[Path], Path]:
    def file(tmp: Path) -> Path:
        path = tmp / "inputs" / name
        path.write_bytes(make(tmp))
        return path

    return file


def _sparse_huge(tmp: Path) -> Path:
    path = tmp / "inputs" / "huge.onnx"
    with open(path, "wb") as handle:
        handle.truncate(600 * 2**20)  # sparse: past the 512 MiB default, no disk used
    return path


def _external_data(tmp: Path) -> Path:
    import onnx

    model = onnx.load(str(_good_onnx(tmp, "encoder")))
    path = tmp / "inputs" / "external.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    return path


def _to_dev_zero(tmp: Path) -> Path:
    path = tmp / "inputs" / "zero.onnx"
    path.symlink_to("/dev/zero")
    return path


IMPORTS: dict[str, Callable[[Path, dict], list[str]]] = {
    "pickle-renamed-onnx": _import(_onnx_bytes("pickled.onnx", lambda tmp: pickle.dumps(
        {"weight": _Payload(tmp / MARKER)}))),
    "torch-save-renamed-onnx": _import(decoder=_onnx_bytes("torch.onnx",
                                                           lambda tmp: _torch_pickle(tmp, b""))),
    "truncated-onnx": _import(_onnx_bytes("half.onnx", lambda tmp: (
        lambda b: b[:len(b) // 2])(_good_onnx(tmp, "encoder").read_bytes()))),
    "empty-onnx": _import(_onnx_bytes("empty.onnx", lambda tmp: b"")),
    "text-onnx": _import(_onnx_bytes("text.onnx", lambda tmp: b"not a model at all\n" * 20)),
    "huge-onnx": _import(_sparse_huge),
    "external-data-onnx": _import(_external_data),
    "onnx-symlink-to-dev-zero": _import(decoder=_to_dev_zero),
    "onnx-missing": _import(lambda tmp: tmp / "inputs" / "nothing.onnx"),
    "onnx-wrong-item-shape": _import(data="wine"),
    "onnx-decoder-of-other-width": _import(decoder=lambda tmp: _good_onnx(tmp, "decoder", latent=3)),
    "onnx-encoder-as-decoder": _import(decoder=lambda tmp: _good_onnx(tmp, "encoder")),
}

CASES = {
    **{f"import:{name}": make for name, make in IMPORTS.items()},
    **{f"data:{name}": _data_case(make) for name, make in DATA_FILES.items()},
    **{f"argv:{name}": make for name, make in ARGUMENTS.items()},
    **{f"checkpoint:{name}": make for name, make in CHECKPOINTS.items()},
}


# --- running them ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory, bomb) -> dict:
    """A tiny trained checkpoint (never modified; cases corrupt copies) and the bomb."""
    folder = tmp_path_factory.mktemp("hostile") / "tiny-ae"
    assert main(["train", "--data", "digits", "--model", "ae", "--hidden", "16", "--epochs", "1",
                 "--max-samples", "100", "--quiet", "--out", str(folder)]) == 0
    return {"ckpt": folder, "bomb": bomb, "data_root": tmp_path_factory.mktemp("user-data-root")}


@pytest.fixture
def case_dir(tmp_path, shared, monkeypatch) -> Path:
    import torchvision.datasets.mnist as tv_mnist

    monkeypatch.setattr(tv_mnist.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # no download, ever
    monkeypatch.setenv("LATENT_EXPLORER_DATA", str(shared["data_root"]))
    (tmp_path / "inputs").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # default outputs (runs/...) would land here
    return tmp_path


def _tree(root: Path) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(root):  # never follows links
        found |= {os.path.relpath(os.path.join(folder, n), root) for n in dirs + files}
    return found


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_refused(code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code == 2, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: "), err


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hostile_input_is_one_line_and_exit_2(case, case_dir, shared):
    argv = CASES[case](case_dir, shared)
    before = _tree(case_dir)
    code, _, err = _run(argv)
    _assert_refused(code, err)
    assert _tree(case_dir) == before, "something was written"
    assert not (case_dir / MARKER).exists(), "a pickle payload ran"
    assert "evil_root" not in shared or not shared.pop("evil_root").exists()


def test_corpus_is_large_enough():
    assert len(CASES) >= 90


@pytest.mark.parametrize("case", ["data:npz-pickled-object-array", "checkpoint:config-nested-200000",
                                  "argv:encode-out-dot"])
def test_no_traceback_leaks_from_the_process(case, case_dir, shared):
    argv = CASES[case](case_dir, shared)
    proc = subprocess.run([sys.executable, "-m", "explorer", *argv], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "LATENT_EXPLORER_DATA": str(shared["data_root"]),
                                                "PYTHONPATH": str(REPO)})
    _assert_refused(proc.returncode, proc.stderr)
    assert not (case_dir / MARKER).exists()


# --- the same bytes through the app's upload path ----------------------------------------------

UPLOADS = [name for name in DATA_FILES
           if name not in ("symlink-loop", "fifo", "folder-named-like-a-file", "symlink-to-dev-zero",
                           "missing-file")]


@pytest.mark.parametrize("name", UPLOADS)
def test_uploaded_bytes_are_refused_like_files(name, case_dir, shared):
    """The Train page hands ``load_upload_bytes`` the uploader's bytes and name."""
    path = DATA_FILES[name](case_dir, shared)
    data = path.read_bytes()
    if name == "npy-items-too-big-for-a-model":
        pytest.skip("a valid upload; the model size limit refuses it (see the CLI case)")
    with pytest.raises(DataError):
        load_upload_bytes(data, path.name, DataConfig(name="upload"))
    assert not (case_dir / MARKER).exists()


@pytest.mark.parametrize("name", ["npz-pickled-object-array", "csv-ragged-rows",
                                  "npy-header-claims-1e12-elements"])
def test_train_page_shows_a_hostile_upload_as_one_error(name, case_dir, shared, monkeypatch, tmp_path):
    from app_support import page

    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(tmp_path / "runs"))
    path = DATA_FILES[name](case_dir, shared)
    at = page("from explorer.ui.train_page import train_page\ntrain_page()\n")
    at.selectbox(key="train_data").set_value("upload a file…").run()
    at.file_uploader(key="train_upload").set_value((path.name, path.read_bytes(), "application/octet-stream"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1 and path.name in at.error[0].value
    assert not (case_dir / MARKER).exists()
