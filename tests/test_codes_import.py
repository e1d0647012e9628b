"""Codes made elsewhere open like a model: ``import --codes`` reads .npz, .csv and .parquet
codes (with labels, with or without the items they belong to); maps, neighbours, metrics and
exports work on them, and everything that decodes says a decoder is missing, in one line."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from app_support import no_errors, page

from explorer.cli import main
from explorer.config import DataConfig
from explorer.data import load_dataset
from explorer.errors import DataError
from explorer.latent import encode_all
from explorer.models.stored_codes import NoDecoderError
from explorer.store.catalog import list_models
from explorer.store.checkpoint import load_checkpoint, stored_dataset
from explorer.store.codes_import import import_codes, read_codes, read_codes_bytes

EXPLORE = "from explorer.ui.explore import explore_page\nexplore_page()\n"
ARITHMETIC = "from explorer.ui.arithmetic_page import arithmetic_page\narithmetic_page()\n"


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _blobs(n: int = 120, dim: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated clusters of codes, labelled "cat" and "dog"."""
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 1, (n // 2, dim)), rng.normal(8, 1, (n // 2, dim))])
    return z.astype(np.float32), np.array(["cat"] * (n // 2) + ["dog"] * (n // 2))


def _write(path: Path, z: np.ndarray, labels: np.ndarray) -> Path:
    if path.suffix == ".npz":
        np.savez(path, z=z, y=labels)
    elif path.suffix == ".csv":
        header = ",".join([f"d{i}" for i in range(z.shape[1])] + ["animal"])
        rows = [",".join([*(f"{v:.9g}" for v in row), str(lab)]) for row, lab in zip(z, labels)]
        path.write_text(header + "\n" + "\n".join(rows) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {f"d{i}": z[:, i] for i in range(z.shape[1])} | {"animal": labels}
        pq.write_table(pa.table(columns), path)
    return path


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".parquet"])
def test_codes_file_imports_and_gives_back_its_codes(tmp_path, suffix):
    z, labels = _blobs()
    source = _write(tmp_path / f"codes{suffix}", z, labels)
    out = import_codes(source, tmp_path / "folder", labels=None if suffix == ".npz" else "animal")
    model = load_checkpoint(out).model
    data = stored_dataset(out)
    assert data.kind == "tabular" and data.class_names == ("cat", "dog")
    assert len(data.x_train) + len(data.x_test) == len(z)
    # Without items each code stands for itself: the "encoder" gives every code back exactly.
    for part in (data.x_train, data.x_test):
        assert torch.equal(encode_all(model, part), part)
    assert {tuple(r) for r in data.x_test.numpy()} <= {tuple(r) for r in z}
    with pytest.raises(NoDecoderError, match="no decoder"):
        model.decode(torch.zeros(1, z.shape[1]))
    entry = next(e for e in list_models(runs=tmp_path, pretrained=tmp_path / "none") if e.path == out)
    assert not entry.has_decoder and entry.latent_dim == z.shape[1]


def test_codes_stay_paired_with_their_items_through_the_split(tmp_path):
    """Codes of the digits test items (any function of the items will do: here a fixed
    projection) import with --data; after the folder's own split every stored item still
    carries its own code."""
    data = load_dataset(DataConfig("digits"))
    x = data.x_test.flatten(1).numpy()
    weights = np.random.default_rng(1).normal(size=(x.shape[1], 3)).astype(np.float32)
    codes = x @ weights
    source = tmp_path / "digit-codes.npz"
    np.savez(source, z=codes)
    out = import_codes(source, tmp_path / "folder", data=DataConfig("digits"))
    stored = stored_dataset(out)
    model = load_checkpoint(out).model
    assert stored.kind == "image" and stored.class_names == data.class_names  # labels from the data
    for part in (stored.x_train, stored.x_test):
        expected = part.flatten(1).numpy() @ weights
        np.testing.assert_allclose(encode_all(model, part).numpy(), expected, rtol=1e-5, atol=1e-4)
    with pytest.raises(NoDecoderError, match="not among"):
        model.encode(torch.rand(2, *stored.item_shape))  # an item it has no code for


def test_codes_of_every_item_pair_with_train_then_test(tmp_path):
    data = load_dataset(DataConfig("digits"))
    items = torch.cat([data.x_train, data.x_test]).flatten(1).numpy()
    source = tmp_path / "all.npz"
    np.savez(source, z=items[:, :4] * 2.0)
    out = import_codes(source, tmp_path / "folder", data=DataConfig("digits"))
    stored = stored_dataset(out)
    assert len(stored.x_train) + len(stored.x_test) == len(items)
    np.testing.assert_array_equal(encode_all(load_checkpoint(out).model, stored.x_test).numpy(),
                                  stored.x_test.flatten(1).numpy()[:, :4] * 2.0)


def test_imported_codes_work_in_the_commands_and_decoding_is_one_line(tmp_path):
    z, labels = _blobs()
    source = _write(tmp_path / "codes.csv", z, labels)
    out = tmp_path / "runs" / "their-codes"
    code, stdout, err = _run(["import", "--codes", str(source), "--labels", "animal", "--out", str(out),
                              "--json"])
    assert code == 0, err
    assert json.loads(stdout)["decoder"] is False
    code, stdout, err = _run(["knn", str(out), "--k", "3", "--method", "pca", "--json"])
    assert code == 0, err
    report = json.loads(stdout)
    assert report["knn_accuracy"] == 1.0 and report["ari"] == 1.0  # two far-apart blobs
    code, _, err = _run(["project", str(out), "--method", "pca", "--out", str(tmp_path / "p.csv")])
    assert code == 0, err
    assert np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1).shape[1] == 3
    code, _, err = _run(["encode", str(out), "--out", str(tmp_path / "e.npz")])
    assert code == 0, err
    for command in (["evaluate", str(out)], ["samplers", str(out)]):
        code, _, err = _run(command)
        assert code != 0 and err.strip().count("\n") <= 1 and "no decoder" in err, (command, err)


@pytest.mark.parametrize(
    "content, name, labels, message",
    [
        ("d0,d1\n1,2\n3,nan\n4,5\n6,7\n", "nan.csv", None, "NaN"),
        ("d0,d1,animal\n1,2,a\n3,4,b\n", "few.csv", "animal", "at least 4"),
        ("d0,d1\n1,2\n3,4\n5,6\n7,8\n", "codes.csv", "animal", "animal"),
        ("just text", "codes.txt", None, ".parquet"),
        ("PAR1 not really", "broken.parquet", None, "Parquet"),
        ("", "empty.csv", None, "empty"),
    ],
)
def test_bad_codes_files_are_one_line(tmp_path, content, name, labels, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_codes(path, labels)
    argv = ["import", "--codes", str(path), "--out", str(tmp_path / "out")]
    code, _, err = _run(argv + (["--labels", labels] if labels else []))
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_pickled_codes_are_refused(tmp_path):
    path = tmp_path / "codes.npz"
    np.savez(path, z=np.array([{"a": 1}] * 5, dtype=object))
    with pytest.raises(DataError, match="pickle"):
        read_codes(path)


def test_text_columns_beside_the_codes_are_named(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "codes.parquet"
    pq.write_table(pa.table({"d0": [1.0, 2, 3, 4], "d1": [1.0, 2, 3, 4], "note": list("abcd")}), path)
    with pytest.raises(DataError, match="'note'"):
        read_codes(path)


def test_codes_that_do_not_fit_the_data_are_one_line(tmp_path):
    source = tmp_path / "codes.npz"
    np.savez(source, z=np.zeros((17, 3), np.float32))
    code, _, err = _run(["import", "--codes", str(source), "--data", "digits", "--out", str(tmp_path / "o")])
    assert code == 2 and err.count("\n") == 1 and "17 codes" in err


def test_codes_with_an_encoder_is_a_usage_error(tmp_path):
    code, _, err = _run(["import", "--codes", "c.npz", "--encoder", "e.onnx", "--out", str(tmp_path / "o")])
    assert code == 2 and "not both" in err


def test_explore_page_maps_imported_codes_and_says_what_needs_a_decoder(tmp_path, monkeypatch):
    z, labels = _blobs()
    out = import_codes(_write(tmp_path / "codes.npz", z, labels), tmp_path / "runs" / "their-codes")
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(out.parent))
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(tmp_path / "cache"))
    at = page(EXPLORE, model=out.name, item="3")
    no_errors(at)
    assert at.get("plotly_chart")
    assert "imported codes" in at.caption[0].value
    assert any("codes only" in i.value and "decoder" in i.value for i in at.info)
    assert not at.tabs  # no decoding tabs (Interpolate, Prior, Sliders, Grid)
    at = page(ARITHMETIC, model=out.name)
    no_errors(at)
    assert any("codes only" in i.value for i in at.info)


@pytest.fixture(scope="module")
def digit_codes(tmp_path_factory) -> Path:
    """A codes folder whose items are the digits test images (codes: a fixed projection)."""
    folder = tmp_path_factory.mktemp("codes")
    x = load_dataset(DataConfig("digits")).x_test.flatten(1).numpy()
    np.savez(folder / "digit-codes.npz", z=x @ np.random.default_rng(2).normal(size=(x.shape[1], 2)))
    return import_codes(folder / "digit-codes.npz", folder / "digit-codes", data=DataConfig("digits"))


@pytest.mark.parametrize("url_path", ["", "compare", "anomalies", "neighbours", "denoise", "arithmetic",
                                      "labels", "interpolation", "timeline"])
def test_every_page_opens_on_a_codes_folder(digit_codes, env, monkeypatch, url_path):
    """Opened with ``app DIR`` on a codes folder, no page fails; pages that decode say why not."""
    from app_support import goto
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LATENT_EXPLORER_OPEN", str(digit_codes))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120).run()
    at = goto(at, url_path)
    no_errors(at)
    if url_path in ("denoise", "arithmetic", "labels", "interpolation"):
        assert any("codes only" in i.value for i in at.info), [i.value for i in at.info]


def test_an_imported_folder_opens_its_default_maps_from_files(digit_codes):
    """The app's codes of the folder hit the PCA and UMAP maps stored at import."""
    from explorer.store.byo import DEFAULT_MAPS
    from explorer.store.catalog import PROJECTIONS_DIR, projection_cache_dir

    stored = stored_dataset(digit_codes)
    z = encode_all(load_checkpoint(digit_codes).model, stored.x_test).numpy()
    for cfg in DEFAULT_MAPS:
        assert projection_cache_dir(digit_codes, z, cfg) == digit_codes / PROJECTIONS_DIR, cfg.method


def test_an_uploaded_codes_file_reads_like_one_on_disk(tmp_path):
    z, labels = _blobs()
    path = _write(tmp_path / "codes.parquet", z, labels)

    uploaded = read_codes_bytes(path.read_bytes(), "codes.parquet", "animal")
    on_disk = read_codes(path, "animal")
    np.testing.assert_array_equal(uploaded.z, on_disk.z)
    np.testing.assert_array_equal(uploaded.labels, on_disk.labels)
    out = import_codes(uploaded, tmp_path / "up", labels="animal")
    assert stored_dataset(out).class_names == ("cat", "dog")
    with pytest.raises(DataError, match="empty"):
        read_codes_bytes(b"", "codes.csv")


def test_a_table_the_app_or_the_cli_writes_imports_back():
    from explorer.store.io import csv_bytes, npz_bytes

    z = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    labels = np.arange(40) % 4
    table = csv_bytes({"z": z, "logvar": None, "label": labels})
    assert table.decode().splitlines()[0] == "z1,z2,z3,label"
    back = read_codes_bytes(table, "codes.csv", labels="label")
    np.testing.assert_allclose(back.z, z, rtol=1e-5)
    assert back.columns == ("z1", "z2", "z3") and back.labels.astype(int).tolist() == labels.tolist()
    back = read_codes_bytes(npz_bytes({"z": z, "y": labels, "logvar": None}), "codes.npz")
    np.testing.assert_array_equal(back.z, z)
    assert back.labels.tolist() == labels.tolist()
