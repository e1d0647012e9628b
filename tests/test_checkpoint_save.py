"""Saving never destroys what a user has, and a kill at any instant of a save leaves the path
loadable (the complete old or the complete new checkpoint) with nothing left behind."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import sys
import tempfile
import time

import numpy as np
import pytest
import torch

from explorer.cli import main as cli
from explorer.config import DataConfig, TrainConfig
from explorer.errors import CheckpointExistsError, OutputPathError
from explorer.models import build_model, model_config
from explorer.store import checkpoint as ck
from explorer.store import folder_swap
from explorer.store.checkpoint import check_save_target, load_checkpoint, recover, save_checkpoint


def _model(latent_dim: int = 3):
    return build_model(model_config("ae", (1, 8, 8), latent_dim, hidden=(16,)))


def _save(folder, latent_dim: int = 3, **kwargs):
    return save_checkpoint(folder, _model(latent_dim), DataConfig("digits"), TrainConfig(epochs=1), **kwargs)


def _partials(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def test_a_folder_of_the_users_is_refused_and_left_as_it_was(tmp_path):
    thesis = tmp_path / "work" / "thesis.tex"
    thesis.parent.mkdir()
    thesis.write_text("chapter 1")
    with pytest.raises(OutputPathError, match=r"not part of a checkpoint \(thesis.tex\)"):
        _save(tmp_path / "work", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert thesis.read_text() == "chapter 1"


def test_an_existing_file_is_refused_and_not_hidden(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    with pytest.raises(OutputPathError, match="exists and is not a folder"):
        _save(notes, overwrite=True)
    assert notes.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_replacing_a_checkpoint_needs_overwrite(tmp_path):
    folder = _save(tmp_path / "ckpt", latent_dim=3)
    with pytest.raises(CheckpointExistsError, match="already holds a checkpoint; pass --overwrite"):
        _save(folder, latent_dim=4)
    assert load_checkpoint(folder).config.latent_dim == 3
    _save(folder, latent_dim=4, overwrite=True)
    assert load_checkpoint(folder).config.latent_dim == 4
    assert _partials(folder) == []


def test_an_empty_folder_may_become_a_checkpoint(tmp_path):
    (tmp_path / "empty").mkdir()
    assert load_checkpoint(_save(tmp_path / "empty")).config.latent_dim == 3


@pytest.mark.parametrize("target", [".", "..", "/proc/latent-explorer", "/dev/null", "/sys/x"])
def test_special_places_are_refused(target):
    with pytest.raises(OutputPathError):
        check_save_target(target, overwrite=True)


def test_a_symbolic_link_is_refused(tmp_path):
    real = tmp_path / "real"
    _save(real)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(OutputPathError, match="symbolic link"):
        _save(tmp_path / "link", overwrite=True)


def test_cli_refuses_a_users_folder_before_training(tmp_path, capsys, monkeypatch):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "thesis.tex").write_text("chapter 1")

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the output folder was checked")

    monkeypatch.setattr("explorer.training.train.fit", no_training)
    code = cli(["train", "--data", "digits", "--epochs", "50", "--out", str(tmp_path / "work"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "thesis.tex" in err
    assert (tmp_path / "work" / "thesis.tex").read_text() == "chapter 1"


def test_cli_overwrite(tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "--data", "digits", "--epochs", "1", "--out", out, "--quiet"]
    assert cli([*args, "--latent-dim", "2"]) == 0
    assert cli([*args, "--latent-dim", "3"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert load_checkpoint(out).config.latent_dim == 2
    assert cli([*args, "--latent-dim", "3", "--overwrite"]) == 0
    assert load_checkpoint(out).config.latent_dim == 3


def test_an_upload_is_stored_with_the_model_and_evaluated_from_there(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data_file = tmp_path / "mine.npz"
    np.savez(data_file, x=rng.random((80, 6)).astype(np.float32), y=rng.integers(0, 2, 80))
    out = tmp_path / "run"
    assert cli(["train", "--data", str(data_file), "--model", "ae", "--epochs", "2", "--out", str(out),
                "--quiet"]) == 0
    capsys.readouterr()
    assert cli(["evaluate", str(out), "--json"]) == 0
    before = capsys.readouterr().out
    # Another file takes the upload's name; then the run moves to another machine's folder.
    np.savez(data_file, x=rng.random((50, 6)).astype(np.float32) * 9)
    moved = tmp_path / "elsewhere" / "run"
    shutil.copytree(out, moved)
    data_file.unlink()
    assert cli(["evaluate", str(moved), "--json"]) == 0
    after = capsys.readouterr().out
    assert after.replace(str(moved), str(out)) == before


# ---- kill -9 at every step of a save -------------------------------------------------------

def _patch_steps(on_point) -> None:
    """Wrap every step of a save so ``on_point(name)`` runs before and after it (in this process)."""

    def wrap(owner, attribute: str):
        original = getattr(owner, attribute)

        def wrapper(*args, **kwargs):
            on_point(f"before {attribute}")
            result = original(*args, **kwargs)
            on_point(f"after {attribute}")
            return result

        setattr(owner, attribute, wrapper)

    wrap(tempfile, "mkdtemp")
    wrap(ck, "save_file")
    wrap(pathlib.Path, "write_text")
    wrap(ck, "write_dataset")
    wrap(folder_swap, "sync_tree")
    wrap(os, "rename")
    wrap(folder_swap, "exchange")
    wrap(shutil, "rmtree")


def _points(folder: pathlib.Path, fallback: bool) -> list[str]:
    """The pause points one save passes, counted in a child so this process stays unpatched."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        seen = []
        _patch_steps(seen.append)
        if fallback:
            folder_swap.exchange = lambda a, b: False
        _save(folder, latent_dim=4, overwrite=True, dataset=_tiny_dataset())
        os.write(write, "\n".join(seen).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        names = pipe.read().split("\n")
    os.waitpid(pid, 0)
    return names


def _tiny_dataset():
    from explorer.data.base import split

    x = np.random.default_rng(0).random((12, 4)).astype(np.float32)
    return split("tiny", "tabular", x, None, 0.25, 0)


def _kill_at(folder: pathlib.Path, point: int, fallback: bool, reached: pathlib.Path) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        count = 0

        def on_point(name: str) -> None:
            nonlocal count
            count += 1
            if count == point:
                reached.write_text(name)
                time.sleep(120)

        _patch_steps(on_point)
        if fallback:
            folder_swap.exchange = lambda a, b: False
        _save(folder, latent_dim=4, overwrite=True, dataset=_tiny_dataset())
        os._exit(0)
    deadline = time.monotonic() + 60
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert reached.exists(), f"the save never reached point {point}"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("fallback", [False, True], ids=["atomic-exchange", "two-renames"])
def test_a_kill_at_any_step_leaves_a_loadable_checkpoint_and_no_leftovers(tmp_path, fallback):
    folder = _save(tmp_path / "ckpt", latent_dim=3)
    points = _points(_save(tmp_path / "counting" / "ckpt", latent_dim=3), fallback)
    assert len(points) >= 12 and any("rename" in p or "exchange" in p for p in points)
    # the steps patched are the ones the save runs
    assert "before sync_tree" in points and ("before exchange" in points) != fallback
    for point in range(1, len(points) + 1):
        reached = tmp_path / f"reached-{point}"
        _kill_at(folder, point, fallback, reached)
        latent_dim = load_checkpoint(folder).config.latent_dim  # loads, old or new, after any kill
        assert latent_dim in (3, 4), (point, reached.read_text())
        recover(folder)
        assert _partials(folder) == [], (point, reached.read_text())
        _save(folder, latent_dim=3, overwrite=True)  # back to the old one for the next round
        assert _partials(folder) == []


def test_recover_only_removes_folders_that_are_ours(tmp_path):
    folder = _save(tmp_path / "ckpt")
    dead = 2**22 + 12345  # above the default pid_max: no such process
    ours = tmp_path / f".ckpt.partial-{dead}-abc"
    ours.mkdir()
    (ours / "model.safetensors").write_bytes(b"partial")
    users = tmp_path / f".ckpt.partial-{dead}-notes"
    users.mkdir()
    (users / "notes.txt").write_text("not a checkpoint file")
    recover(folder)
    assert not ours.exists() and (users / "notes.txt").exists()
    assert load_checkpoint(folder).config.latent_dim == 3


def test_a_checkpoint_moved_aside_by_a_killed_save_is_put_back(tmp_path):
    folder = _save(tmp_path / "ckpt")
    os.rename(folder, tmp_path / f".ckpt.partial-{2**22 + 7}-old")
    assert load_checkpoint(folder).config.latent_dim == 3
    assert _partials(folder) == []


def test_weights_round_trip_through_the_atomic_save(tmp_path):
    model = _model()
    folder = save_checkpoint(tmp_path / "ckpt", model, DataConfig("digits"), TrainConfig())
    save_checkpoint(folder, model, DataConfig("digits"), TrainConfig(), overwrite=True)
    loaded = load_checkpoint(folder).model.state_dict()
    assert all(torch.equal(v, loaded[k]) for k, v in model.state_dict().items())


if sys.platform.startswith("linux"):

    def test_the_swap_is_one_atomic_exchange_on_linux(tmp_path):
        a, b = tmp_path / "a", tmp_path / "b"
        a.mkdir()
        b.mkdir()
        (a / "x").write_text("a")
        assert folder_swap.exchange(a, b)
        assert (b / "x").read_text() == "a" and not (a / "x").exists()
