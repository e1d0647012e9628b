"""Every data source in ``SOURCES``, every upload format, and the errors a user can hit."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.config import DataConfig
from explorer.data import SOURCES, file_formats, load_dataset
from explorer.data.base import Dataset
from explorer.data.uploads import load_image_files, load_upload_bytes, load_upload_path
from explorer.errors import DataError

SHARED_DATA = Path(__file__).parents[2] / "shared" / "data"

# Item kind and shape of each built-in source; a new source must be added here.
BUILTIN = {
    "digits": ("image", (1, 8, 8)),
    "swiss_roll": ("tabular", (3,)),
    "moons": ("tabular", (2,)),
    "blobs": ("tabular", (10,)),
    "wine": ("tabular", (13,)),
    "breast_cancer": ("tabular", (30,)),
    "sines": ("series", (64, 1)),
}
GENERATED = {"swiss_roll", "moons", "blobs", "sines"}  # sizes follow max_samples
UPLOAD = DataConfig(name="upload")


def _config(name: str, seed: int = 0) -> DataConfig:
    return DataConfig(name=name, seed=seed, max_samples=600 if name in GENERATED else None)


def _x(ds: Dataset) -> torch.Tensor:
    return torch.cat([ds.x_train, ds.x_test])


def _y(ds: Dataset) -> torch.Tensor:
    assert ds.y_train is not None and ds.y_test is not None
    return torch.cat([ds.y_train, ds.y_test])


def _assert_well_formed(ds: Dataset) -> None:
    assert ds.x_train.dtype == ds.x_test.dtype == torch.float32
    assert torch.isfinite(_x(ds)).all()
    assert ds.x_train.shape[1:] == ds.x_test.shape[1:]
    if ds.y_train is not None:
        y = _y(ds)
        assert y.dtype == torch.int64
        assert y.min() >= 0
        assert ds.class_names is not None and len(ds.class_names) == ds.n_classes
    if ds.kind == "image":
        assert _x(ds).min() >= 0 and _x(ds).max() <= 1
        assert ds.x_train.ndim == 4 and ds.x_train.shape[1] in (1, 3)
    if ds.feature_names is not None:
        assert len(ds.feature_names) == ds.n_features


def _assert_standardized(x: torch.Tensor, dims: tuple[int, ...]) -> None:
    assert torch.allclose(x.double().mean(dims), torch.zeros(1, dtype=torch.float64), atol=1e-4)
    assert torch.allclose(x.double().std(dims, unbiased=False), torch.ones(1, dtype=torch.float64), atol=1e-3)


def _class_fractions(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    return torch.bincount(y, minlength=n_classes).double() / len(y)


def _assert_stratified(ds: Dataset, tolerance: float = 0.05) -> None:
    assert ds.y_train is not None and ds.y_test is not None
    train = _class_fractions(ds.y_train, ds.n_classes)
    test = _class_fractions(ds.y_test, ds.n_classes)
    assert (train - test).abs().max() < tolerance


# --- built-in sources ---------------------------------------------------------------------


def test_every_source_is_tested() -> None:
    # The torchvision sets (mnist, fashion_mnist, ...) are tested in test_torchvision_data.py.
    from explorer.data.torchvision_sets import TORCHVISION_SETS

    assert set(SOURCES) == set(BUILTIN) | {"mnist_sample"} | {s.name for s in TORCHVISION_SETS}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_source_shape_kind_and_values(name: str) -> None:
    cfg = _config(name)
    ds = SOURCES[name](cfg)
    kind, item_shape = BUILTIN[name]
    _assert_well_formed(ds)
    assert (ds.name, ds.kind, ds.item_shape) == (name, kind, item_shape)
    n = len(_x(ds))
    if name in GENERATED:
        assert n == cfg.max_samples
    assert len(ds.x_test) == pytest.approx(cfg.test_fraction * n, abs=1)
    if kind == "tabular":
        _assert_standardized(_x(ds), (0,))
    if kind == "series":
        assert _x(ds).abs().max() < 1.5  # amplitude <= 1 plus a little noise
    assert ds.y_train is not None and ds.n_classes >= 2


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_split_is_reproducible_and_seeded(name: str) -> None:
    first, again = SOURCES[name](_config(name)), SOURCES[name](_config(name))
    other = SOURCES[name](_config(name, seed=1))
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.y_train, again.y_train)
    assert torch.equal(first.x_test, again.x_test)
    assert not torch.equal(first.x_train, other.x_train)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_split_is_stratified(name: str) -> None:
    _assert_stratified(SOURCES[name](_config(name)))


def test_load_dataset_routes_names_and_rejects_unknown() -> None:
    assert load_dataset(DataConfig(name="moons", max_samples=100)).name == "moons"
    with pytest.raises(DataError, match="Unknown data source 'nope'"):
        load_dataset(DataConfig(name="nope"))
    with pytest.raises(DataError, match="An upload needs a file"):
        load_dataset(DataConfig(name="upload"))


# --- MNIST --------------------------------------------------------------------------------


def _mnist_root() -> Path:
    if not (SHARED_DATA / "MNIST" / "raw").is_dir():
        pytest.skip(
            f"no MNIST files at {SHARED_DATA / 'MNIST' / 'raw'} (the shared development "
            "data); the loader reads local files only"
        )
    return SHARED_DATA


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return SOURCES["mnist"](DataConfig(name="mnist", root=str(_mnist_root())))


def test_mnist_canonical_split(mnist: Dataset) -> None:
    # Cheaper checks than _assert_well_formed: copying 70,000 images would dominate the file.
    assert mnist.x_train.dtype == mnist.x_test.dtype == torch.float32
    assert (mnist.kind, mnist.item_shape) == ("image", (1, 28, 28))
    assert (len(mnist.x_train), len(mnist.x_test)) == (60_000, 10_000)
    for x in (mnist.x_train, mnist.x_test):
        assert x.min() == 0 and x.max() == 1
    assert mnist.y_train.dtype == torch.int64
    for y in (mnist.y_train, mnist.y_test):
        assert set(y.unique().tolist()) == set(range(10))
    assert mnist.class_names == tuple(str(d) for d in range(10))
    _assert_stratified(mnist, tolerance=0.01)  # the canonical split is balanced by design


def test_mnist_subset_is_seeded() -> None:
    root = str(_mnist_root())
    first, again, other = (
        SOURCES["mnist"](DataConfig(name="mnist", root=root, max_samples=300, seed=seed))
        for seed in (0, 0, 1)
    )
    assert (len(first.x_train), len(first.x_test)) == (300, 300)
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.y_test, again.y_test)
    assert not torch.equal(first.x_train, other.x_train)


def test_mnist_missing_files_say_where_they_go(tmp_path: Path, monkeypatch) -> None:
    import torchvision.datasets.mnist as tv_mnist

    def offline(url: str, *args, **kwargs) -> None:
        raise URLError(f"offline test: {url}")

    # Fails each mirror at once, through torchvision's real download loop.
    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", offline)
    with pytest.raises(DataError, match=r"MNIST files not found under .*--data-root") as info:
        SOURCES["mnist"](DataConfig(name="mnist", root=str(tmp_path)))
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)


# --- the shipped MNIST sample -------------------------------------------------------------


def test_mnist_sample_is_fixed_and_balanced() -> None:
    from explorer.data.sample import SAMPLE_PATH, SAMPLE_SIZES

    if not SAMPLE_PATH.is_file():
        pytest.skip(f"{SAMPLE_PATH} is not built yet (scripts/build_pretrained.py writes it)")
    ds = SOURCES["mnist_sample"](DataConfig(name="mnist_sample"))
    _assert_well_formed(ds)
    assert (ds.name, ds.kind, ds.item_shape, ds.n_classes) == ("mnist_sample", "image", (1, 28, 28), 10)
    assert (len(ds.x_train), len(ds.x_test)) == (SAMPLE_SIZES["train"], SAMPLE_SIZES["test"])
    _assert_stratified(ds, tolerance=0.03)  # drawn at random from balanced MNIST
    # The sample ships as a fixed split: the seed does not reshuffle it.
    other = SOURCES["mnist_sample"](DataConfig(name="mnist_sample", seed=1))
    assert torch.equal(ds.x_train, other.x_train) and torch.equal(ds.y_test, other.y_test)


def test_missing_mnist_sample_says_how_to_rebuild(tmp_path: Path, monkeypatch) -> None:
    from explorer.data import sample

    monkeypatch.setattr(sample, "SAMPLE_PATH", tmp_path / "mnist-sample.npz")
    with pytest.raises(DataError, match="MNIST sample .* is missing; rebuild it"):
        SOURCES["mnist_sample"](DataConfig(name="mnist_sample"))


# --- upload helpers -----------------------------------------------------------------------


def _npz(**arrays: object) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _image(size: tuple[int, int] = (12, 10), value: int = 128, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (value, 255 - value, 0)).save(buffer, fmt)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, (40, 12, 12), dtype=np.uint8)
LABELS = np.repeat(["cat", "dog"], 20)


# --- uploads: NumPy ------------------------------------------------------------------------


def test_npz_uint8_images_with_string_labels() -> None:
    ds = load_upload_bytes(_npz(x=PIXELS, y=LABELS), "pets.npz", UPLOAD)
    _assert_well_formed(ds)
    assert (ds.name, ds.kind, ds.item_shape) == ("pets", "image", (1, 12, 12))
    assert ds.class_names == ("cat", "dog")
    assert _x(ds).max().item() == pytest.approx(PIXELS.max() / 255.0)
    _assert_stratified(ds)


@pytest.mark.parametrize(
    ("shape", "item_shape"),
    [
        ((40, 9, 10, 1), (1, 9, 10)),
        ((40, 9, 10, 3), (3, 9, 10)),
        ((40, 1, 9, 10), (1, 9, 10)),
        ((40, 3, 9, 10), (3, 9, 10)),
    ],
)
def test_npz_image_channel_layouts(shape: tuple[int, ...], item_shape: tuple[int, ...]) -> None:
    ds = load_upload_bytes(_npz(x=RNG.random(shape)), "img.npz", UPLOAD)
    assert (ds.kind, ds.item_shape) == ("image", item_shape)


def test_channels_last_pixels_land_in_the_right_place() -> None:
    x = np.zeros((8, 9, 9, 3), dtype=np.uint8)
    x[..., 0] = 255  # all red
    ds = load_upload_bytes(_npz(x=x), "red.npz", UPLOAD)
    assert (_x(ds)[:, 0] == 1).all() and (_x(ds)[:, 1:] == 0).all()


def test_binary_masks_keep_their_0_1_values() -> None:
    masks = (PIXELS > 128).astype(np.uint8)
    ds = load_upload_bytes(_npz(x=masks), "masks.npz", UPLOAD)
    assert ds.kind == "image" and set(_x(ds).unique().tolist()) == {0.0, 1.0}


def test_float_images_in_0_255_are_scaled() -> None:
    ds = load_upload_bytes(_npz(x=RNG.uniform(0, 255, (20, 9, 9, 3))), "f.npz", UPLOAD)
    assert ds.kind == "image" and _x(ds).max() <= 1 and _x(ds).max() > 0.9


def test_flat_pixel_rows_become_images() -> None:
    ds = load_upload_bytes(_npz(x=PIXELS.reshape(40, -1)), "flat.npz", UPLOAD)
    assert (ds.kind, ds.item_shape) == ("image", (1, 12, 12))


def test_tabular_rows_are_standardized_and_labels_encoded() -> None:
    x = RNG.normal(5.0, 3.0, (60, 4))
    y = np.repeat([2.5, 10.0, -1.0], 20)
    ds = load_upload_bytes(_npz(x=x, y=y), "table.npz", UPLOAD)
    _assert_well_formed(ds)
    assert (ds.kind, ds.item_shape) == ("tabular", (4,))
    _assert_standardized(_x(ds), (0,))
    assert ds.class_names == ("-1.0", "2.5", "10.0")
    _assert_stratified(ds)


def test_series_are_standardized_per_channel() -> None:
    x = np.stack([RNG.normal(0, 1, (30, 20)), RNG.normal(100, 50, (30, 20))], axis=-1)
    ds = load_upload_bytes(_npz(x=x), "sensors.npz", UPLOAD)
    assert (ds.kind, ds.item_shape, ds.y_train) == ("series", (20, 2), None)
    _assert_standardized(_x(ds), (0, 1))


def test_short_or_thin_arrays_in_0_1_are_series_not_images() -> None:
    ds = load_upload_bytes(_npz(x=RNG.random((20, 50, 2))), "thin.npz", UPLOAD)
    assert ds.kind == "series"


@pytest.mark.parametrize(
    ("x", "kind", "item_shape"),
    [
        (RNG.random((20, 64)), "tabular", (64,)),  # would be guessed as 8x8 images
        (RNG.random((20, 16, 16)), "series", (16, 16)),  # would be guessed as images
        (RNG.normal(size=(20, 30)), "series", (30, 1)),
        (RNG.normal(size=(20, 30, 2)), "tabular", (60,)),
        (RNG.random((20, 25)), "image", (1, 5, 5)),
    ],
)
def test_npz_kind_overrides_the_guess(x: np.ndarray, kind: str, item_shape: tuple[int, ...]) -> None:
    ds = load_upload_bytes(_npz(x=x, kind=kind), "k.npz", UPLOAD)
    assert (ds.kind, ds.item_shape) == (kind, item_shape)


def test_npz_single_array_need_not_be_called_x() -> None:
    ds = load_upload_bytes(_npz(features=RNG.normal(size=(20, 3))), "one.npz", UPLOAD)
    assert ds.item_shape == (3,) and ds.y_train is None


@pytest.mark.parametrize(
    "y",
    [np.repeat([0, 1], 20), np.repeat([True, False], 20), np.repeat([3, 7], 20)[:, None], LABELS.astype("S")],
)
def test_labels_of_any_dtype_are_encoded(y: np.ndarray) -> None:
    ds = load_upload_bytes(_npz(x=PIXELS, y=y), "lab.npz", UPLOAD)
    assert ds.n_classes == 2 and len(ds.class_names) == 2


def test_npy_has_no_labels() -> None:
    ds = load_upload_bytes(_npy(RNG.normal(size=(20, 3)).astype(np.float32)), "plain.npy", UPLOAD)
    assert (ds.name, ds.kind, ds.y_train, ds.y_test) == ("plain", "tabular", None, None)


def test_upload_split_is_seeded_and_max_samples_subsets() -> None:
    data = _npz(x=PIXELS, y=LABELS)
    first, again = (load_upload_bytes(data, "p.npz", UPLOAD) for _ in range(2))
    other = load_upload_bytes(data, "p.npz", DataConfig(name="upload", seed=1))
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.y_test, again.y_test)
    assert not torch.equal(first.x_train, other.x_train)
    small = load_upload_bytes(data, "p.npz", DataConfig(name="upload", max_samples=10))
    assert len(_x(small)) == 10
    # Classes a subset lost are not listed (most seeds drop the one dog).
    one_dog = _npz(x=PIXELS, y=np.array(["cat"] * 39 + ["dog"]))
    for seed in range(5):
        cfg = DataConfig(name="upload", max_samples=8, seed=seed)
        ds = load_upload_bytes(one_dog, "c.npz", cfg)
        assert len(ds.class_names) == len(_y(ds).unique())


def test_upload_path_and_load_dataset(tmp_path: Path) -> None:
    path = tmp_path / "mine.npz"
    path.write_bytes(_npz(x=PIXELS, y=LABELS))
    ds = load_upload_path(DataConfig(name="upload", path=str(path)))
    assert (ds.name, ds.kind) == ("mine", "image")
    assert load_dataset(DataConfig(name="upload", path=str(path))).name == "mine"


# --- uploads: NumPy errors -----------------------------------------------------------------

PICKLE_REFUSED = r"pickled \(object\) arrays are refused for safety.*np\.savez\(path, x="


def test_pickled_npy_is_refused() -> None:
    objects = np.array([{"a": 1}] * 5, dtype=object)
    with pytest.raises(DataError, match=PICKLE_REFUSED):
        load_upload_bytes(_npy(objects, allow_pickle=True), "evil.npy", UPLOAD)


def test_raw_pickle_is_refused_without_unpickling(tmp_path: Path) -> None:
    class Boom:
        def __reduce__(self):
            return (Path(tmp_path / "pwned").touch, ())

    payload = pickle.dumps(Boom())
    with pytest.raises(DataError, match=PICKLE_REFUSED):
        load_upload_bytes(payload, "evil.npy", UPLOAD)
    with pytest.raises(DataError, match=PICKLE_REFUSED):
        load_upload_bytes(_zip({"x.npy": payload}), "evil.npz", UPLOAD)
    assert not (tmp_path / "pwned").exists()


def test_pickled_npz_is_refused() -> None:
    with pytest.raises(DataError, match=PICKLE_REFUSED):
        load_upload_bytes(_npz(x=np.array([[1], "a"], dtype=object)), "evil.npz", UPLOAD)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.float32(3.0)}, r"shape \(\); expected one sample per row"),
        ({"x": np.arange(10.0)}, r"x\.reshape\(-1, 1\)"),
        ({"x": np.zeros((5, 2, 3, 4, 5))}, r"shape \(5, 2, 3, 4, 5\)"),
        ({"x": np.zeros((3, 2))}, r"only 3 samples, too few .* at least 4"),
        ({"x": PIXELS, "y": LABELS[:-1]}, "40 samples but 39 labels"),
        ({"x": PIXELS, "y": np.zeros((40, 2))}, r"one value per sample, shape \(n,\)"),
        ({"x": PIXELS, "y": np.full(40, np.nan)}, "labels are NaN"),
        ({"x": np.array([[1.0, np.nan]] * 5)}, "holds 5 NaN or infinite values"),
        ({"x": np.array([["a", "b"]] * 5)}, "must be numbers, got dtype <U1"),
        ({"x": np.zeros((5, 0))}, r"shape \(5, 0\), so each sample is empty"),
        ({"a": PIXELS, "b": PIXELS}, "name the data array 'x' \\(found a, b\\)"),
        ({"x": PIXELS, "labels": LABELS}, "unexpected arrays labels"),
        ({"x": PIXELS, "kind": "picture"}, "'kind' must be one of image, tabular, series"),
        ({"x": RNG.normal(size=(5, 8, 8, 3))}, r"image values must lie in \[0, 1\] or \[0, 255\]"),
        ({"x": RNG.random((5, 8, 8, 4))}, r"1 \(grayscale\) or 3 \(RGB\) channels"),
        ({"x": RNG.random((5, 10)), "kind": "image"}, "square number of pixels, got 10"),
        ({"x": RNG.random((5, 8, 8, 3)), "kind": "series"}, r"a series must be \(n, T\)"),
    ],
)
def test_bad_npz_says_what_to_fix(arrays: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_upload_bytes(_npz(**arrays), "bad.npz", UPLOAD)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.npz", r"empty.npz is empty \(0 bytes\)"),
        (b"x", "data.txt", r"unsupported file type '\.txt'.*\.npz"),
        (b"x", "data", r"unsupported file type '\(no extension\)'"),
        (b"not a zip at all", "junk.npz", r"junk.npz is not a valid zip archive.*np\.savez"),
        (_npz(x=PIXELS)[:200], "cut.npz", "cut.npz is not a valid zip archive"),
        (b"hello", "junk.npy", r"not a NumPy \.npy file; save one with np\.save"),
        (_npy(PIXELS)[:300], "cut.npy", "cut.npy is corrupt or truncated"),
        (_zip({"notes.txt": b"hi"}), "odd.npz", "entry 'notes.txt' is not a NumPy array"),
    ],
)
def test_bad_files_say_what_to_fix(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_upload_bytes(data, filename, UPLOAD)


def test_upload_path_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No file at"):
        load_upload_path(DataConfig(name="upload", path=str(tmp_path / "missing.npz")))
    with pytest.raises(DataError, match="is a folder.*zip a folder of images"):
        load_upload_path(DataConfig(name="upload", path=str(tmp_path)))


# --- uploads: CSV --------------------------------------------------------------------------


def _table(n: int = 12, label: str = "Class") -> bytes:
    rows = [f"{i},{i * i % 7},{'bc'[i % 2]}" for i in range(n)]
    return _csv(f"a,b,{label}", *rows)


def test_csv_features_and_named_label_column() -> None:
    ds = load_upload_bytes(_table(), "table.csv", UPLOAD)
    _assert_well_formed(ds)
    assert (ds.name, ds.kind, ds.feature_names, ds.class_names) == (
        "table",
        "tabular",
        ("a", "b"),
        ("b", "c"),
    )
    _assert_standardized(_x(ds), (0,))


def test_csv_without_label_column_is_unlabelled() -> None:
    data = _csv("a,b,labels", *(f"{i},{i % 3},{i % 2}" for i in range(10)))
    ds = load_upload_bytes(data, "t.csv", UPLOAD)
    assert ds.y_train is None and ds.feature_names == ("a", "b", "labels")


def test_csv_label_column_from_config_and_numeric_label_order() -> None:
    data = _csv("f1;f2;grade", *(f"{i};{i % 3};{(2, 10)[i % 2]}" for i in range(10)))
    ds = load_upload_bytes(data, "s.csv", DataConfig(name="upload", label_column="GRADE"))
    assert ds.feature_names == ("f1", "f2") and ds.class_names == ("2", "10")


def test_csv_of_pixels_becomes_images() -> None:
    rows = [",".join(["7", *map(str, row)]) for row in PIXELS[:6, :8, :8].reshape(6, -1)]
    header = ",".join(["label", *(f"p{i}" for i in range(64))])
    ds = load_upload_bytes(_csv(header, *rows), "px.csv", UPLOAD)
    assert (ds.kind, ds.item_shape, ds.feature_names) == ("image", (1, 8, 8), None)


@pytest.mark.parametrize(
    ("data", "cfg", "message"),
    [
        (_csv("1,2,3", "4,5,6"), UPLOAD, "first row holds numbers.*add a header row"),
        (_csv("a,b"), UPLOAD, "has a header but no data rows"),
        (
            _csv("a,colour", *(f"{i},red" for i in range(5))),
            UPLOAD,
            r"column 'colour' is not numeric \(data row 1: 'red'\)",
        ),
        (
            _csv("a,b", *(f"{i},{'' if i < 2 else i}" for i in range(10))),
            UPLOAD,
            "column 'b' has 2 empty, NaN or infinite cells in 10 rows",
        ),
        (
            _csv("a,b", "1,nan", *(f"{i},{i}" for i in range(5))),
            UPLOAD,
            "column 'b' has 1 empty, NaN or infinite cells in 6 rows",
        ),
        (_csv("a,b,c", "1,2,3", "4,5,6", "7,8"), UPLOAD, "data row 3 has 2 cells but the header has 3"),
        (
            _table(),
            DataConfig(name="upload", label_column="kind"),
            "no label column 'kind'; the columns are a, b, Class",
        ),
        (
            _csv("a,label", "1,x", "2,", "3,y", "4,x", "5,y"),
            UPLOAD,
            "label column 'label' has 1 empty cells in 5 rows",
        ),
        (_csv("label", "x", "y"), UPLOAD, "no feature columns"),
        (_table(n=3), UPLOAD, "only 3 samples"),
        (b"\n\n", UPLOAD, "holds no rows"),
    ],
)
def test_bad_csv_says_what_to_fix(data: bytes, cfg: DataConfig, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_upload_bytes(data, "bad.csv", cfg)


# --- uploads: images and zips -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_image_files_are_decoded_and_resized(fmt: str) -> None:
    files = [(f"{i}.{fmt.lower()}", _image((10 + i, 14), 40 * i, fmt)) for i in range(5)]
    gray = load_image_files(files, DataConfig(name="upload", image_size=16))
    _assert_well_formed(gray)
    assert (gray.name, gray.kind, gray.item_shape, gray.y_train) == ("images", "image", (1, 16, 16), None)
    rgb = load_image_files(files, DataConfig(name="upload", image_size=8, color="rgb"))
    assert rgb.item_shape == (3, 8, 8)


def test_zip_image_folder_layout_gives_labels() -> None:
    members = {
        f"pets/{cls}/{i}.png": _image(value=v) for cls, v in (("cat", 30), ("dog", 200)) for i in range(4)
    }
    members |= {
        "__MACOSX/pets/cat/._0.png": b"resource fork",
        "pets/.DS_Store": b"x",
        "pets/README.txt": b"ignored",
        "pets/cat/.hidden.png": b"not an image",
    }
    ds = load_upload_bytes(_zip(members), "pets.zip", DataConfig(name="upload", image_size=6))
    _assert_well_formed(ds)
    assert (ds.name, ds.kind, ds.item_shape, ds.class_names) == ("pets", "image", (1, 6, 6), ("cat", "dog"))
    assert len(_x(ds)) == 8
    # Labels follow the folders: each class has its own uniform colour.
    for part in ("train", "test"):
        x, y = getattr(ds, f"x_{part}"), getattr(ds, f"y_{part}")
        for label in (0, 1):
            assert x[y == label].std() < 1e-6


def test_flat_zip_is_unlabelled() -> None:
    members = {f"shots/{i}.jpg": _image(fmt="JPEG") for i in range(5)}
    ds = load_upload_bytes(_zip(members), "shots.zip", UPLOAD)
    assert ds.y_train is None and len(_x(ds)) == 5


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({f"{i}.png": _image() for i in range(3)} | {"b.png": b"garbage"}, "cannot read image 'b.png'"),
        ({"a.png": _image(), "b.png": _image()}, "only 2 samples"),
        ({"notes.txt": b"hi"}, "only 0 samples"),
        (
            {"cat/a.png": _image(), "cat/b.png": _image(), "dog/c.png": _image(), "d.png": _image()},
            "some images sit in class folders and some do not",
        ),
    ],
)
def test_bad_zip_says_what_to_fix(members: dict[str, bytes], message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_upload_bytes(_zip(members), "bad.zip", UPLOAD)


def test_zip_bombs_are_refused(monkeypatch) -> None:
    data = _zip({f"{i}.png": _image() for i in range(6)})
    monkeypatch.setattr(file_formats, "MAX_ZIP_MEMBERS", 5)
    with pytest.raises(DataError, match="holds 6 files; the limit is 5"):
        load_upload_bytes(data, "many.zip", UPLOAD)
    monkeypatch.setattr(file_formats, "MAX_ZIP_MEMBERS", 50_000)
    # Small files that inflate past the limit: refused from the zip's directory, before inflating.
    monkeypatch.setenv("LATENT_EXPLORER_MAX_DATA_BYTES", "10000")
    bomb = _zip({f"{i}.png": _image() for i in range(6)} | {"pad.txt": bytes(100_000)})
    assert len(bomb) < 10_000
    with pytest.raises(DataError, match="would unpack to 98.1 KiB; the limit is 9.8 KiB"):
        load_upload_bytes(bomb, "big.zip", UPLOAD)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros((100, 100)))
    assert len(buffer.getvalue()) < 10_000
    with pytest.raises(DataError, match="would unpack to"):
        load_upload_bytes(buffer.getvalue(), "big.npz", UPLOAD)


def test_image_decompression_bomb_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    with pytest.raises(DataError, match="cannot read image '0.png' \\(DecompressionBomb"):
        load_image_files([(f"{i}.png", _image()) for i in range(4)], UPLOAD)


def test_bad_image_uploads_say_what_to_fix() -> None:
    with pytest.raises(DataError, match="cat.png is a single image.*several images"):
        load_upload_bytes(_image(), "cat.png", UPLOAD)
    with pytest.raises(DataError, match="notes.txt is not an image"):
        load_image_files([("notes.txt", b"hi")] + [(f"{i}.png", _image()) for i in range(4)], UPLOAD)
    with pytest.raises(DataError, match="images has only 2 samples"):
        load_image_files([(f"{i}.png", _image()) for i in range(2)], UPLOAD)
    with pytest.raises(DataError, match="cannot read image 'broken.png'"):
        load_image_files([("broken.png", _image()[:40])] + [(f"{i}.png", _image()) for i in range(4)], UPLOAD)


def test_npy_headers_are_checked_against_the_limit_before_reading(monkeypatch) -> None:
    data = _npy(np.zeros((100, 10)))  # 8,000 bytes of float64
    monkeypatch.setenv("LATENT_EXPLORER_MAX_DATA_BYTES", "9000")
    assert len(_x(load_upload_bytes(data, "ok.npy", UPLOAD))) == 100
    header = data[: data.index(b"\n") + 1]
    claims = header.replace(b"(100, 10)", b"(10000000, 10)")  # a header that lies, no data behind it
    with pytest.raises(DataError, match=r"shape \(10000000, 10\) and dtype float64 takes 762.9 MiB; "
                       "the limit is 8.8 KiB.*LATENT_EXPLORER_MAX_DATA_BYTES"):
        load_upload_bytes(claims, "liar.npy", UPLOAD)
    monkeypatch.setenv("LATENT_EXPLORER_MAX_DATA_BYTES", str(2**40))
    with pytest.raises(DataError, match="header announces 800,000,000 bytes of data, the file holds"):
        load_upload_bytes(claims, "liar.npy", UPLOAD)
    monkeypatch.setenv("LATENT_EXPLORER_MAX_DATA_BYTES", "a lot")
    with pytest.raises(DataError, match="LATENT_EXPLORER_MAX_DATA_BYTES must be a whole number of bytes"):
        load_upload_bytes(data, "ok.npy", UPLOAD)
