"""Bring your own model: a pair exported by a script that knows nothing of this project
imports with one command and works in the CLI and the app, and so does ``explorer.export``."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from app_support import no_errors, page
from torch import nn

import explorer
from explorer.cli import main
from explorer.config import DataConfig
from explorer.data import load_dataset
from explorer.store.catalog import list_models
from explorer.store.checkpoint import load_checkpoint
from explorer.store.onnx_io import OnnxModelError

EXPLORE = "from explorer.ui.explore import explore_page\nexplore_page()\n"


class _TheirAE(nn.Module):
    """Someone's own autoencoder for 8x8 digits: nothing here comes from explorer."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 4))
        self.dec = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 64), nn.Sigmoid(),
                                 nn.Unflatten(1, (1, 8, 8)))


class _TheirVAEEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
        self.mu, self.logvar = nn.Linear(32, 3), nn.Linear(32, 3)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


def _their_trained_ae() -> _TheirAE:
    torch.manual_seed(0)
    ae = _TheirAE()
    x = torch.from_numpy(__import__("sklearn.datasets", fromlist=["load_digits"]).load_digits().data)
    x = (x.float() / 16).reshape(-1, 1, 8, 8)
    opt = torch.optim.Adam(ae.parameters(), 1e-2)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.binary_cross_entropy(ae.dec(ae.enc(x)), x).backward()
        opt.step()
    return ae.eval()


def _their_export(module: nn.Module, example: torch.Tensor, path: Path) -> Path:
    torch.onnx.export(module, (example,), str(path), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "n"}, "output": {0: "n"}}, dynamo=False)
    return path


@pytest.fixture(scope="module")
def their_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("elsewhere")
    ae = _their_trained_ae()
    enc = _their_export(ae.enc, torch.rand(3, 1, 8, 8), folder / "my_encoder.onnx")
    dec = _their_export(ae.dec, torch.rand(3, 4), folder / "my_decoder.onnx")
    return ae, enc, dec


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def imported(their_files, tmp_path_factory) -> Path:
    _, enc, dec = their_files
    out = tmp_path_factory.mktemp("runs") / "their-ae"
    code, _, err = _run(["import", "--encoder", str(enc), "--decoder", str(dec), "--data", "digits",
                         "--out", str(out)])
    assert code == 0, err
    return out


def test_imported_model_gives_their_own_codes_and_reconstructions(their_files, imported):
    ae = their_files[0]
    model = load_checkpoint(imported).model
    x = load_dataset(DataConfig("digits")).x_test[:50]
    with torch.no_grad():
        assert torch.allclose(model.encode(x), ae.enc(x), atol=1e-5)
        assert torch.allclose(model.decode(model.encode(x)), ae.dec(ae.enc(x)), atol=1e-5)
    assert model.latent_dim == 4 and not model.variational
    entries = {e.path.name: e for e in list_models(runs=imported.parent, pretrained=imported / "none")}
    assert not entries["their-ae"].variational


def test_imported_model_works_in_every_command(imported, tmp_path):
    code, out, err = _run(["evaluate", str(imported), "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["model"] == "onnx" and report["latent_dim"] == 4
    # trained for 150 steps, it reconstructs far better than the all-0.5 guess
    x = load_dataset(DataConfig("digits")).x_test
    assert report["recon_sse"] < ((x - 0.5) ** 2).flatten(1).sum(1).mean().item() / 2
    code, _, err = _run(["encode", str(imported), "--out", str(tmp_path / "z.npz")])
    assert code == 0, err
    with np.load(tmp_path / "z.npz") as f:
        assert f["z"].shape == (len(x), 4) and "label" in f.files
    code, _, err = _run(["project", str(imported), "--out", str(tmp_path / "p.csv")])
    assert code == 0, err
    assert np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1).shape == (len(x), 3)
    code, out, err = _run(["knn", str(imported), "--json", "--method", "pca"])
    assert code == 0, err
    assert json.loads(out)["knn_accuracy"] > 0.5  # ten classes: chance is 0.1


def test_explore_page_opens_an_imported_model(imported, monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(imported.parent))
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(tmp_path / "cache"))
    at = page(EXPLORE, model=imported.name)
    no_errors(at)
    assert at.title[0].value == imported.name
    assert at.get("plotly_chart")


def test_explorer_export_writes_a_folder_every_command_opens(tmp_path):
    ae = _their_trained_ae()
    out = explorer.export(ae.enc, ae.dec, "digits", tmp_path / "exported")
    assert {p.name for p in out.iterdir()} == {"config.json", "encoder.onnx", "decoder.onnx", "codes.npz",
                                              "projections"}
    code, out_text, err = _run(["evaluate", str(out), "--json"])
    assert code == 0, err
    assert json.loads(out_text)["latent_dim"] == 4
    with pytest.raises(Exception, match="already holds a checkpoint"):
        explorer.export(ae.enc, ae.dec, "digits", out)  # the one save path's overwrite rule
    explorer.export(ae.enc, ae.dec, "digits", out, overwrite=True)


def test_explorer_export_of_a_vae_keeps_its_posterior(tmp_path):
    torch.manual_seed(0)
    enc = _TheirVAEEncoder()
    dec = nn.Sequential(nn.Linear(3, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))
    out = explorer.export(enc, dec, "digits", tmp_path / "vae")
    model = load_checkpoint(out).model
    x = load_dataset(DataConfig("digits")).x_test[:20]
    mu, logvar = model.posterior(x)
    with torch.no_grad():
        assert torch.allclose(mu, enc(x)[0], atol=1e-5) and torch.allclose(logvar, enc(x)[1], atol=1e-5)
    assert model.variational and set(model.loss(x)) == {"recon", "kl", "total"}
    # The catalog tells a VAE from its config alone, as it does for our own families.
    entries = {e.path.name: e for e in list_models(runs=tmp_path, pretrained=tmp_path / "none")}
    assert entries["vae"].variational
    code, out_text, err = _run(["evaluate", str(out), "--json", "--nll-samples", "4"])
    assert code == 0, err
    assert np.isfinite(json.loads(out_text)["nll"])


def test_explorer_export_refuses_a_decoder_of_the_wrong_shape(tmp_path):
    enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    dec = nn.Sequential(nn.Linear(2, 63))
    with pytest.raises(OnnxModelError, match="shape"):
        explorer.export(enc, dec, "digits", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_a_stored_upload_travels_with_the_model(tmp_path):
    x = np.random.default_rng(0).random((60, 5)).astype(np.float32)
    np.savez(tmp_path / "rows.npz", x=x)
    enc = nn.Sequential(nn.Linear(5, 2))
    dec = nn.Sequential(nn.Linear(2, 5))
    out = explorer.export(enc, dec, str(tmp_path / "rows.npz"), tmp_path / "rows-model",
                          likelihood="gaussian")
    assert (out / "data.npz").is_file()
    (tmp_path / "rows.npz").unlink()  # the model evaluates without the original file
    code, _, err = _run(["evaluate", str(out), "--json"])
    assert code == 0, err


def test_app_opens_on_the_folder_it_is_started_on(imported, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from explorer.cli import app_command

    argv, env = app_command(str(imported))
    assert argv[-1].endswith("app.py") and env["LATENT_EXPLORER_OPEN"] == str(imported.resolve())
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(tmp_path / "no-runs"))  # not found through runs
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LATENT_EXPLORER_OPEN", env["LATENT_EXPLORER_OPEN"])
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120).run()
    no_errors(at)
    assert at.sidebar.selectbox(key="pick_model").value == imported.name


def test_app_on_a_folder_that_is_not_a_model_is_one_line(tmp_path):
    code, _, err = _run(["app", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "config.json" in err


@pytest.mark.parametrize("url_path", ["", "compare", "anomalies", "neighbours", "denoise", "arithmetic",
                                      "labels", "interpolation"])
def test_every_page_opens_on_an_imported_model(imported, env, monkeypatch, url_path):
    from app_support import goto
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LATENT_EXPLORER_OPEN", str(imported))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120).run()
    at = goto(at, url_path)
    no_errors(at)
    # Compare picks an AE and a VAE in the page; Anomalies trains its own models.
    picker = {"compare": "pick_left", "anomalies": None}.get(url_path, "pick_model")
    if url_path == "compare":
        at.selectbox(key="pick_right").set_value("digits-vae-2d")  # a run of the same data (conftest)
    if picker is not None:
        at.selectbox(key=picker).set_value(imported.name).run()
        no_errors(at)
        assert at.selectbox(key=picker).value == imported.name
