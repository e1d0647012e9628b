import contextlib
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from explorer.cli import main


def run_cli(capfd, *argv):
    """Run the CLI with its own stdout/stderr buffers: earlier tests (Streamlit, logging) may
    have rebound sys.stderr in ways pytest's capture fixtures do not see."""
    capfd.readouterr()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "vae"
    code = main(["train", "--data", "digits", "--model", "vae", "--latent-dim", "2", "--epochs", "2",
                 "--out", str(folder), "--quiet", "--json"])
    assert code == 0
    return folder


def test_models_and_devices_json(capfd):
    code, out, _ = run_cli(capfd, "models", "--json")
    assert code == 0
    names = {m["name"] for m in json.loads(out)}
    assert {"ae", "vae", "conv_ae", "conv_vae"} <= names
    code, out, _ = run_cli(capfd, "devices", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == "cpu"


def test_train_reports_and_saves(trained, capfd):
    assert (trained / "config.json").is_file() and (trained / "model.safetensors").is_file()
    code, out, _ = run_cli(capfd, "evaluate", str(trained), "--json")
    report = json.loads(out)
    assert code == 0
    assert report["model"] == "vae" and report["latent_dim"] == 2
    assert 0 < report["recon_sse"] < 64 and report["neg_elbo"] > report["kl"] > 0


def test_encode_and_project_write_files(trained, tmp_path, capfd):
    code, out, _ = run_cli(capfd, "encode", str(trained), "--out", str(tmp_path / "z.npz"), "--json")
    assert code == 0
    with np.load(tmp_path / "z.npz", allow_pickle=False) as f:
        assert f["z"].shape == (360, 2) and f["logvar"].shape == (360, 2) and f["label"].shape == (360,)
    code, out, _ = run_cli(capfd, "project", str(trained), "--method", "pca",
                           "--out", str(tmp_path / "p.csv"), "--json")
    assert code == 0 and json.loads(out)["n"] == 360
    table = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    assert table.shape == (360, 3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "zero"], "expected a whole number"),
        (["train", "--latent-dim", "-3"], "must be positive"),
        (["train", "--data", "imagenet"], "Unknown data source 'imagenet'"),
        (["train", "--model", "gpt"], "Unknown model 'gpt'"),
        (["train", "--device", "cuda:7"], "Available devices: cpu"),
        (["train", "--hidden", "a,b"], "comma-separated integers"),
        (["train", "--data", "moons", "--augment-shift", "1"], "Random shifts move images"),
        (["train", "--augment-shift", "-1"], "invalid choice: -1"),
        (["frobnicate"], "invalid choice"),
        (["evaluate", "/no/such/folder"], "is not a checkpoint folder"),
        (["encode", "/no/such/folder", "--out", "z.txt"], "is not a checkpoint folder"),
        (["train", "--data", "mnist", "--data-root", "/nonexistent-root", "--epochs", "1"],
         "MNIST files not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(capfd, monkeypatch, argv, message):
    import torchvision.datasets.mnist as tv_mnist

    monkeypatch.setattr(tv_mnist.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    code, out, err = run_cli(capfd, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_output_suffix(trained, capfd):
    code, _, err = run_cli(capfd, "encode", str(trained), "--out", "codes.txt")
    assert code == 2 and "must end in .npz or .csv" in err


def test_module_entry_point_exits_2_on_bad_arguments():
    proc = subprocess.run([sys.executable, "-m", "explorer", "train", "--epochs", "x"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: argument --epochs")


def test_knn_reports_neighbours_clusters_and_trust(trained, capfd):
    code, out, err = run_cli(capfd, "knn", str(trained), "--method", "pca", "--baselines", "--json")
    assert code == 0, err  # before parsing, so a failure shows the CLI's message
    report = json.loads(out)
    assert report["knn_accuracy"] > 0.2  # ten classes: chance is 0.1, after only 2 epochs
    assert report["knn_accuracy_raw"] > 0.9
    assert -1 <= report["ari"] <= 1 and 0 <= report["nmi"] <= 1
    assert report["trustworthiness"] == pytest.approx(1.0)  # a raw 2-D code projected by PCA: a rotation


def test_finetune_compares_frozen_finetuned_and_scratch(trained, capfd):
    code, out, err = run_cli(capfd, "finetune", str(trained), "--labels", "3,6", "--min-steps", "20",
                             "--json")
    assert code == 0, err
    report = json.loads(out)
    rows = [(r["labels_per_class"], r["method"]) for r in report["rows"]]
    assert sorted(rows) == sorted((n, m) for n in (3, 6) for m in ("frozen", "finetuned", "scratch"))
    assert all(0.0 < r["accuracy"] <= 1.0 for r in report["rows"])
    assert "[6/6]" in err  # progress on stderr, never in the JSON
    code, out, _ = run_cli(capfd, "finetune", str(trained), "--labels", "3", "--methods", "frozen",
                           "--min-steps", "10")
    assert code == 0 and "frozen" in out and "{" not in out  # a table, not a dict
    code, _, err = run_cli(capfd, "finetune", str(trained), "--labels", "500")
    assert code == 2 and "labels per class" in err


def test_knn_needs_labels(tmp_path, capfd):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "unlabelled.npz", x=rng.normal(size=(60, 5)).astype(np.float32))
    out_dir = tmp_path / "model"
    assert main(["train", "--data", str(tmp_path / "unlabelled.npz"), "--model", "ae", "--epochs", "1",
                 "--out", str(out_dir), "--quiet"]) == 0
    capfd.readouterr()
    code, _, err = run_cli(capfd, "knn", str(out_dir))
    assert code == 2 and "has no labels" in err
