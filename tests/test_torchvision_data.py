"""The torchvision data sets, each read from tiny files written in the exact on-disk format
torchvision's own loader expects, through ``load_dataset``; plus the errors a user can hit."""

from __future__ import annotations

import hashlib
import json
import pickle
import string
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli import main as cli
from explorer.config import DataConfig
from explorer.data import SOURCES, Dataset, load_dataset
from explorer.data import torchvision_sets as tvs
from explorer.data.torchvision_sets import TORCHVISION_SETS
from explorer.errors import DataError, DataNotFoundError

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")
CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
       "t10k-labels-idx1-ubyte")
RNG = np.random.default_rng(0)


def _load(name: str, root: Path, **options) -> Dataset:
    return load_dataset(DataConfig(name, root=str(root), **options))


def _assert_images(ds: Dataset, item_shape: tuple[int, ...], sizes: tuple[int, int]) -> None:
    assert (ds.kind, ds.item_shape, (len(ds.x_train), len(ds.x_test))) == ("image", item_shape, sizes)
    for x in (ds.x_train, ds.x_test):
        assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
    for y in (ds.y_train, ds.y_test):
        assert y is None or (y.dtype == torch.int64 and y.min() >= 0)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# --- idx-ubyte sets (the MNIST family) -------------------------------------------------------


def _write_idx(path: Path, array: np.ndarray) -> None:
    """The idx format torchvision's read_sn3_pascalvincent_tensor parses: a big-endian magic
    (0, 0, type 0x08 = uint8, number of dimensions), each dimension as a big-endian int32,
    then the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _write_idx_set(folder: Path, names: tuple[str, ...], train: np.ndarray, y_train: np.ndarray,
                   test: np.ndarray, y_test: np.ndarray) -> None:
    for name, array in zip(names, (train, y_train, test, y_test)):
        _write_idx(folder / name, array)


def _digits(n: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 28x28 images whose labels cycle through every class."""
    return RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % n_classes


@pytest.mark.parametrize(("name", "folder", "class_names"), [
    ("fashion_mnist", "FashionMNIST", FASHION),
    ("kmnist", "KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
    ("mnist", "MNIST", tuple(str(d) for d in range(10))),
])
def test_idx_sets_read_the_official_split(tmp_path: Path, name: str, folder: str,
                                          class_names: tuple[str, ...]) -> None:
    (x_train, y_train), (x_test, y_test) = _digits(30, 10), _digits(12, 10)
    _write_idx_set(tmp_path / folder / "raw", IDX, x_train, y_train, x_test, y_test)
    ds = _load(name, tmp_path)
    _assert_images(ds, (1, 28, 28), (30, 12))
    assert ds.name == name and ds.class_names == class_names and ds.n_classes == 10
    # Pixels and labels as written, in file order, scaled by 1/255.
    assert torch.equal(ds.x_train[:, 0], torch.from_numpy(x_train).float() / 255)
    assert torch.equal(ds.y_test, torch.from_numpy(y_test))
    assert ds.label_name(0) == class_names[0]


def test_emnist_letters_are_upright_and_labelled_a_to_z(tmp_path: Path) -> None:
    from torchvision.datasets import EMNIST

    # An asymmetric pattern: a bar along the top row and a dot near the right edge. The
    # EMNIST files store each image transposed (column by column), so write it that way.
    upright = np.zeros((28, 28), dtype=np.uint8)
    upright[0, :] = 255
    upright[20, 25] = 128
    x_train = np.stack([upright.T] * 3)
    names = tuple(f"emnist-letters-{p}-{k}" for p in ("train", "test")
                  for k in ("images-idx3-ubyte", "labels-idx1-ubyte"))
    _write_idx_set(tmp_path / "EMNIST" / "raw", names, x_train, np.array([1, 26, 2]),
                   np.stack([upright.T] * 2), np.array([26, 1]))
    # torchvision returns the images as stored, i.e. transposed: the reason for the fix.
    raw = EMNIST(str(tmp_path), split="letters", train=True, download=False).data[0]
    assert torch.equal(raw, torch.from_numpy(upright.T))
    ds = _load("emnist_letters", tmp_path)
    _assert_images(ds, (1, 28, 28), (3, 2))
    assert torch.equal(ds.x_train[0, 0], torch.from_numpy(upright).float() / 255)
    assert (ds.x_train[:, 0, 0] == 1).all() and ds.x_train[0, 0, 20, 25] == pytest.approx(128 / 255)
    # Labels 1..26 in the files become 0-based class ids named a..z.
    assert ds.y_train.tolist() == [0, 25, 1] and ds.y_test.tolist() == [25, 0]
    assert ds.class_names == tuple(string.ascii_lowercase) and ds.n_classes == 26
    assert ds.label_name(25) == "z" and ds.class_label("b") == 1


def test_idx_subsets_are_seeded_and_reproducible(tmp_path: Path) -> None:
    (x_train, y_train), (x_test, y_test) = _digits(40, 10), _digits(20, 10)
    _write_idx_set(tmp_path / "FashionMNIST" / "raw", IDX, x_train, y_train, x_test, y_test)
    first, again, other = (_load("fashion_mnist", tmp_path, max_samples=8, seed=s) for s in (0, 0, 1))
    assert (len(first.x_train), len(first.x_test)) == (8, 8)
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.y_test, again.y_test)
    assert not torch.equal(first.x_train, other.x_train)
    # The subset is real rows of the file, kept in file order.
    full = _load("fashion_mnist", tmp_path)
    rows = [int((full.x_train == x).flatten(1).all(1).nonzero()) for x in first.x_train]
    assert rows == sorted(rows) and torch.equal(full.y_train[rows], first.y_train)


@pytest.mark.parametrize(("name", "folder", "files"), [
    ("fashion_mnist", "FashionMNIST/raw", IDX),
    ("kmnist", "KMNIST/raw", IDX),
    ("emnist_letters", "EMNIST/raw", ("emnist-letters-train-images-idx3-ubyte",
                                      "emnist-letters-test-labels-idx1-ubyte")),
    ("cifar10", "cifar-10-batches-py", ("data_batch_1", "data_batch_5", "test_batch", "batches.meta")),
    ("celeba", "celeba", ("img_align_celeba/", "list_eval_partition.txt", "list_attr_celeba.txt",
                          "identity_CelebA.txt", "list_bbox_celeba.txt",
                          "list_landmarks_align_celeba.txt")),
])
def test_missing_files_say_which_go_where_and_never_download(tmp_path: Path, monkeypatch, name: str,
                                                             folder: str, files: tuple[str, ...]) -> None:
    import torchvision.datasets

    attempts: list[str] = []
    cls = getattr(torchvision.datasets, next(s.dataset for s in TORCHVISION_SETS if s.name == name))
    monkeypatch.setattr(cls, "download", lambda self: attempts.append(name))
    with pytest.raises(DataNotFoundError) as info:
        _load(name, tmp_path)
    assert attempts == []
    message = str(info.value)
    assert f"files not found under {tmp_path / folder}. Put " in message
    assert all(f in message for f in files)
    assert "--data-root" in message and "LATENT_EXPLORER_DATA" in message and "\n" not in message
    if name == "celeba":
        assert "--max-samples" in message and "--image-size 64" in message


def test_only_the_missing_files_are_listed_as_missing(tmp_path: Path) -> None:
    (x, y), (xt, yt) = _digits(4, 2), _digits(4, 2)
    _write_idx_set(tmp_path / "KMNIST" / "raw", IDX, x, y, xt, yt)
    (tmp_path / "KMNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataNotFoundError, match=r"\(missing t10k-labels-idx1-ubyte\)\. Put train-images"):
        _load("kmnist", tmp_path)


def test_gzipped_idx_files_say_to_gunzip(tmp_path: Path) -> None:
    import gzip

    (x, y), (xt, yt) = _digits(4, 2), _digits(4, 2)
    folder = tmp_path / "FashionMNIST" / "raw"
    _write_idx_set(folder, IDX, x, y, xt, yt)
    # Keep the name, gzip the bytes: a common mistake with the official .gz downloads.
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(DataError, match=r"not valid idx-ubyte files .*gunzip"):
        _load("fashion_mnist", tmp_path)


# --- CIFAR-10 --------------------------------------------------------------------------------

CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def _write_cifar(folder: Path, per_batch: int = 2, n_test: int = 4) -> dict[str, np.ndarray]:
    """The python batches as the official archive has them: pickled dicts with ``data``, an
    (n, 3072) uint8 array of R, G then B planes, and ``labels``; ``batches.meta`` names the
    classes. Returns the images written, (n, 3, 32, 32) per file."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, name in enumerate([*CIFAR_TRAIN, "test_batch"]):
        n = n_test if name == "test_batch" else per_batch
        images = RNG.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        labels = [(i + k) % 10 for k in range(n)]
        batch = {"batch_label": name, "data": images.reshape(n, -1), "labels": labels,
                 "filenames": [f"{name}_{k}.png" for k in range(n)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = images
    meta = {"label_names": list(CIFAR), "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return written


def _trust_tiny_cifar(monkeypatch, folder: Path) -> None:
    """Make the tiny files "official" by giving torchvision their checksums."""
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "train_list", [[n, _md5(folder / n)] for n in CIFAR_TRAIN])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", _md5(folder / "test_batch")]])
    monkeypatch.setattr(CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                          "md5": _md5(folder / "batches.meta")})


def test_cifar10_reads_verified_batches(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    written = _write_cifar(folder)
    _trust_tiny_cifar(monkeypatch, folder)
    ds = _load("cifar10", tmp_path)
    _assert_images(ds, (3, 32, 32), (10, 4))
    assert ds.class_names == CIFAR
    # Channel planes land in place: the first training image's pixels, scaled by 1/255.
    assert torch.equal(ds.x_train[0], torch.from_numpy(written["data_batch_1"][0]).float() / 255)
    assert torch.equal(ds.x_test[-1], torch.from_numpy(written["test_batch"][-1]).float() / 255)
    assert ds.y_train[:4].tolist() == [0, 1, 1, 2] and ds.y_test.tolist() == [5, 6, 7, 8]
    small = _load("cifar10", tmp_path, max_samples=3, seed=4)
    assert (len(small.x_train), len(small.x_test)) == (3, 3)
    assert torch.equal(small.x_train, _load("cifar10", tmp_path, max_samples=3, seed=4).x_train)


class _MakesMarker:
    """A pickle payload: unpickling it calls open(marker, "w"), creating the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_tampered_cifar_batches_are_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar(folder)
    marker = tmp_path / "unpickled"
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": _MakesMarker(marker), "labels": []}))
    # torchvision's own checksum lists, untouched: none of these files is the official one.
    with pytest.raises(DataNotFoundError, match=r"not the official ones \(checksums differ: data_batch_1"):
        _load("cifar10", tmp_path)
    assert not marker.exists()


def test_one_tampered_batch_among_verified_ones_is_named_and_refused(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar(folder)
    _trust_tiny_cifar(monkeypatch, folder)  # every file verified ...
    marker = tmp_path / "unpickled"
    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": _MakesMarker(marker), "labels": []}))
    with pytest.raises(DataNotFoundError, match=r"checksums differ: data_batch_3\)\. Only byte-identical"):
        _load("cifar10", tmp_path)  # ... then one swapped for a payload
    assert not marker.exists()


# --- CelebA ----------------------------------------------------------------------------------

CELEBA_FILES = ("list_eval_partition.txt", "list_attr_celeba.txt", "identity_CelebA.txt",
                "list_bbox_celeba.txt", "list_landmarks_align_celeba.txt")
# Partition 0 train, 1 validation, 2 test; Male as -1/1 like the official attribute table.
CELEBA_ROWS = [(0, 1), (0, -1), (1, 1), (2, -1), (0, -1), (2, 1), (0, 1), (2, 1)]


def _face_jpeg(path: Path, green: int) -> None:
    """A 16x32 portrait: red top 8 rows, blue bottom 8, green in the central 16x16 square.
    Bands sit on JPEG's 8x8 blocks, so a centre crop holds green only."""
    pixels = np.zeros((32, 16, 3), dtype=np.uint8)
    pixels[:8, :, 0] = 255
    pixels[8:24, :, 1] = green
    pixels[24:, :, 2] = 255
    Image.fromarray(pixels).save(path, "JPEG", quality=100, subsampling=0)


def _write_celeba(root: Path) -> Path:
    """The aligned JPEGs and the five text tables in CelebA's own layout (space separated;
    the attribute, bbox and landmark tables start with a count line and a header line)."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(len(CELEBA_ROWS))]
    for i, name in enumerate(names):
        _face_jpeg(folder / "img_align_celeba" / name, green=255 - 16 * i)
    count = f"{len(names)}\n"
    tables = {
        "list_eval_partition.txt": "".join(f"{n} {p}\n" for n, (p, _) in zip(names, CELEBA_ROWS)),
        "list_attr_celeba.txt": count + "Smiling Male Young \n"
        + "".join(f"{n}  1 {m:2d} -1\n" for n, (_, m) in zip(names, CELEBA_ROWS)),
        "identity_CelebA.txt": "".join(f"{n} {100 + i}\n" for i, n in enumerate(names)),
        "list_bbox_celeba.txt": count + "image_id x_1 y_1 width height\n"
        + "".join(f"{n}    95  71 226 313\n" for n in names),
        "list_landmarks_align_celeba.txt": count
        + "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y "
        "rightmouth_x rightmouth_y\n" + "".join(f"{n} 69 109 106 113 77 142 73 152 108 154\n" for n in names),
    }
    for filename, text in tables.items():
        (folder / filename).write_text(text)
    return folder


@pytest.fixture
def celeba_root(tmp_path: Path, monkeypatch) -> Path:
    from torchvision.datasets import CelebA

    folder = _write_celeba(tmp_path)
    official = {name: file_id for file_id, _, name in CelebA.file_list}
    monkeypatch.setattr(CelebA, "file_list", [(official[n], _md5(folder / n), n) for n in CELEBA_FILES])
    return tmp_path


def test_celeba_faces_are_cropped_resized_and_labelled_by_male(celeba_root: Path) -> None:
    ds = _load("celeba", celeba_root, image_size=8, color="rgb")
    _assert_images(ds, (3, 8, 8), (4, 3))  # the official partition; validation rows unused
    # The centre crop keeps the green square only (squashing the portrait would keep the red
    # and blue bands), faces in file order: the training rows are faces 1, 2, 5 and 7.
    assert ds.x_train[:, [0, 2]].max() < 0.05
    greens = torch.tensor([255 - 16 * i for i in (0, 1, 4, 6)]) / 255
    assert torch.allclose(ds.x_train[:, 1].mean((1, 2)), greens, atol=0.02)
    assert ds.class_names == ("female", "male")
    assert ds.y_train.tolist() == [1, 0, 0, 1] and ds.y_test.tolist() == [0, 1, 1]


def test_celeba_grayscale_and_image_size(celeba_root: Path) -> None:
    ds = _load("celeba", celeba_root, image_size=12)
    _assert_images(ds, (1, 12, 12), (4, 3))
    # Pure green (255) in luminance is 0.587 (ITU-R 601), the first face of each split.
    assert ds.x_train[0].mean().item() == pytest.approx(0.587, abs=0.02)


def test_celeba_subset_decodes_only_the_kept_faces(celeba_root: Path, monkeypatch) -> None:
    import PIL.Image

    opened: list[str] = []
    real_open = PIL.Image.open

    def spy(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", spy)
    first = _load("celeba", celeba_root, image_size=8, max_samples=2, seed=3)
    assert (len(first.x_train), len(first.x_test)) == (2, 2) and len(opened) == 4
    again = _load("celeba", celeba_root, image_size=8, max_samples=2, seed=3)
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.y_test, again.y_test)


def test_celeba_tables_must_be_the_official_ones(celeba_root: Path) -> None:
    folder = celeba_root / "celeba"
    (folder / "list_bbox_celeba.txt").write_text("edited\n")
    with pytest.raises(DataNotFoundError, match=r"not the official ones \(checksums differ: list_bbox"):
        _load("celeba", celeba_root)


def test_celeba_missing_face_and_size_limit(celeba_root: Path, monkeypatch) -> None:
    (celeba_root / "celeba" / "img_align_celeba" / "000002.jpg").unlink()
    with pytest.raises(DataNotFoundError, match=r"cannot read 000002\.jpg in .*img_align_celeba"):
        _load("celeba", celeba_root, image_size=8)
    monkeypatch.setattr(tvs, "CELEBA_MAX_BYTES", 4 * 3 * 8 * 8 * 4 - 1)  # 4 RGB faces, minus a byte
    with pytest.raises(DataError, match=r"4 faces at 3x8x8 would take .* --max-samples"):
        _load("celeba", celeba_root, image_size=8, color="rgb")


# --- registry, CLI -----------------------------------------------------------------------------


def test_each_set_is_declared_once_and_registered() -> None:
    names = [s.name for s in TORCHVISION_SETS]
    assert len(names) == len(set(names))
    assert {"fashion_mnist", "kmnist", "emnist_letters", "cifar10", "celeba", "mnist"} == set(names)
    assert all(SOURCES[s.name] == s.load for s in TORCHVISION_SETS)
    # Only MNIST keeps its download attempt; a checkpoint of any other set never downloads.
    assert [s.name for s in TORCHVISION_SETS if s.downloads] == ["mnist"]


def test_cli_trains_on_fashion_mnist_files(tmp_path: Path, capsys) -> None:
    (x, y), (xt, yt) = _digits(64, 10), _digits(16, 10)
    _write_idx_set(tmp_path / "FashionMNIST" / "raw", IDX, x, y, xt, yt)
    out = tmp_path / "run"
    assert cli(["train", "--data", "fashion_mnist", "--data-root", str(tmp_path), "--epochs", "1",
                "--quiet", "--out", str(out), "--json"]) == 0
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    capsys.readouterr()
    # A checkpoint's data root is never followed (it is data, not instructions): the user names it.
    assert cli(["evaluate", str(out), "--data-root", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == "fashion_mnist"


def test_cli_missing_root_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    code = cli(["train", "--data", "cifar10", "--data-root", str(tmp_path / "nowhere"), "--epochs", "1",
                "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: CIFAR-10 files not found under") and "cifar-10-batches-py" in err
    assert not (tmp_path / "run").exists()


def test_celeba_cli_passes_image_size_and_colour(celeba_root: Path) -> None:
    out = celeba_root / "run"
    assert cli(["train", "--data", "celeba", "--data-root", str(celeba_root), "--image-size", "8",
                "--color", "rgb", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    data = json.loads((out / "config.json").read_text())["data"]
    assert (data["name"], data["image_size"], data["color"]) == ("celeba", 8, "rgb")



def test_train_page_picker_shows_missing_files_as_an_error(tmp_path: Path, monkeypatch) -> None:
    from app_support import page

    monkeypatch.setenv("LATENT_EXPLORER_DATA", str(tmp_path))
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(tmp_path / "cache"))
    at = page("from explorer.ui.train_page import train_page\ntrain_page()\n")
    for spec in TORCHVISION_SETS:
        if spec.name == "mnist":
            continue  # its download attempt is covered in test_data.py
        at.selectbox(key="train_data").set_value(spec.name).run()
        assert not at.exception, [e.message for e in at.exception]
        assert [e.value for e in at.error] == [at.error[0].value]
        assert f"files not found under {tmp_path / spec.folder}" in at.error[0].value
    (x, y), (xt, yt) = _digits(20, 10), _digits(10, 10)
    _write_idx_set(tmp_path / "FashionMNIST" / "raw", IDX, x, y, xt, yt)
    at.selectbox(key="train_data").set_value("fashion_mnist").run()
    assert not at.error
    assert any("fashion_mnist: 20 training and 10 test items" in c.value for c in at.caption)
