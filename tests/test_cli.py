import contextlib
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

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
    # Columns counted from 1, as the app's exports and code imports count them.
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "p1,p2,label"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "zero"], "expected a whole number"),
        (["train", "--latent-dim", "-3"], "latent_dim must be between 2 and 256, got -3."),
        (["train", "--data", "imagenet"], "Unknown data source 'imagenet'"),
        (["train", "--model", "gpt"], "Unknown model 'gpt'"),
        (["train", "--device", "cuda:7"], "Available devices: cpu"),
        (["train", "--hidden", "a,b"], "comma-separated integers"),
        (["train", "--data", "moons", "--augment-shift", "1"], "Random shifts move images"),
        (["train", "--augment-shift", "-1"], "augment_shift must be between 0 and 8, got -1."),
        (["frobnicate"], "invalid choice"),
        (["train", "--epoch", "1"], "unrecognized arguments: --epoch 1"),  # no prefix matching
        (["evaluate", "/no/such/folder"], "is not a checkpoint folder"),
        (["encode", "/no/such/folder", "--out", "z.npz"], "is not a checkpoint folder"),
        (["encode", "/no/such/folder", "--out", "z.txt"], "--out must end in .npz or .csv"),
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
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


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


def test_regularity_compares_an_ae_with_a_vae_row_by_row(runs, capfd):
    ae, vae = runs / "digits-ae-2d", runs / "digits-vae-2d"
    code, out, _ = run_cli(capfd, "regularity", str(ae), str(vae), "--n-prior", "500", "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report["models"]) == {"digits-ae-2d", "digits-vae-2d"}
    measures = set(report["models"]["digits-vae-2d"])
    assert {"prior samples judged valid", "prior samples' class mix off the data's"} <= measures
    assert set(report["favours"]) == measures == set(report["reading"])
    # The KL term keeps the VAE's aggregate posterior near N(0, I); nothing holds the AE's there.
    assert report["favours"]["mean code variance"] == "digits-vae-2d"
    vae_row = report["models"]["digits-vae-2d"]
    assert abs(vae_row["mean code variance"] - 1) < 0.5
    assert all(0 <= report["models"][m][s] <= 1 for m in report["models"]
               for s in ("prior samples judged valid", "prior samples' class mix off the data's"))
    code, text, _ = run_cli(capfd, "regularity", str(ae), str(vae), "--n-prior", "500")
    assert code == 0 and "favours" in text.splitlines()[0] and "digits-vae-2d" in text


def test_denoise_reports_psnr_beside_the_best_filter(runs, capfd):
    from explorer.apps.denoise import denoise
    from explorer.config import DataConfig
    from explorer.data import load_dataset
    from explorer.store.checkpoint import load_checkpoint

    folder = runs / "digits-denoising-ae"
    code, out, _ = run_cli(capfd, "denoise", str(folder), "--noise", "masking", "--level", "0.3",
                           "--items", "200", "--json")
    assert code == 0
    report = json.loads(out)
    expected = denoise(load_checkpoint(folder).model, load_dataset(DataConfig("digits")).x_test[:200],
                       "masking", 0.3).psnr
    filters = {n: v for n, v in expected.items() if n not in ("noisy input", "autoencoder")}
    assert report["items"] == 200 and report["best_filter"] == max(filters, key=filters.get)
    for name, value in expected.items():
        assert report[f"psnr {name}"] == pytest.approx(value)
    assert report["autoencoder_gain_over_noisy_db"] == pytest.approx(
        expected["autoencoder"] - expected["noisy input"])


def test_arithmetic_moves_an_item_to_another_class_and_draws_it(trained, tmp_path, capfd):
    from PIL import Image

    png = tmp_path / "analogy.png"
    code, out, _ = run_cli(capfd, "arithmetic", str(trained), "--a", "items:0,1", "--b", "0",
                           "--c", "3", "--out", str(png), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["groups"]["A"] == {"spec": "items:0,1", "items": 2}
    from explorer.config import DataConfig
    from explorer.data import load_dataset

    zeros = int((load_dataset(DataConfig("digits")).y_test == 0).sum())
    assert report["groups"]["B"]["items"] == zeros  # every test item of class 0
    assert set(report["class_means"]) == {str(c) for c in range(10)}
    assert 0 < report["result"]["confidence"] <= 1
    with Image.open(png) as image:  # four 8x8 tiles, 2 px apart, drawn 4 times larger
        assert image.size == (4 * (4 * 8 + 3 * 2), 4 * 8)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--a", "items:", "--b", "0", "--c", "1"], "Group A is empty"),
        (["--a", "items:5000", "--b", "0", "--c", "1"], "Group A names items outside 0..359"),
        (["--a", "items:x", "--b", "0", "--c", "1"], "takes whole numbers"),
        (["--a", "items:100000000000000000000", "--b", "0", "--c", "1"], "takes whole numbers"),
        (["--a", "0", "--b", "11", "--c", "1"], "digits has no class '11'"),
    ],
)
def test_arithmetic_bad_groups_are_one_line_errors(trained, capfd, argv, message):
    code, _, err = run_cli(capfd, "arithmetic", str(trained), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_application_commands_refuse_data_of_another_shape(trained, tmp_path, capfd):
    code, _, err = run_cli(capfd, "regularity", str(trained), "--data", "moons")
    assert code == 2 and "expects items of shape (1, 8, 8), got (2,)" in err
    code, _, err = run_cli(capfd, "regularity", str(trained), "--judge-data", "moons")
    assert code == 2 and "The judge's data moons has items of shape (2,)" in err
    only_eights = tmp_path / "eights.npz"
    np.savez(only_eights, x=np.random.default_rng(0).random((300, 1, 8, 8), dtype=np.float32),
             y=np.full(300, 8))
    code, _, err = run_cli(capfd, "regularity", str(trained), "--judge-data", str(only_eights))
    assert code == 2 and "does not have every class of digits" in err


def test_regularity_compares_only_models_of_the_same_data(trained, tmp_path, capfd):
    other = tmp_path / "digits-seed-3"
    assert main(["train", "--data", "digits", "--model", "ae", "--epochs", "1", "--seed", "3",
                 "--max-samples", "900", "--out", str(other), "--quiet"]) == 0
    code, _, err = run_cli(capfd, "regularity", str(trained), str(other))
    assert code == 2 and "were trained on different data (or splits of it); give --data" in err
    code, out, _ = run_cli(capfd, "regularity", str(trained), str(other), "--data", "digits",
                           "--n-prior", "200", "--json")
    assert code == 0 and set(json.loads(out)["models"]) == {"vae", "digits-seed-3"}


@pytest.mark.parametrize(("level", "message"), [("2", "--level 2.0 is out of range"),
                                                 ("nan", "--level nan is out of range")])
def test_denoise_refuses_a_noise_level_out_of_range(trained, capfd, level, message):
    code, _, err = run_cli(capfd, "denoise", str(trained), "--level", level, "--noise", "masking")
    assert code == 2 and message in err


def test_arithmetic_cannot_write_into_a_folder(trained, tmp_path, capfd):
    code, _, err = run_cli(capfd, "arithmetic", str(trained), "--a", "0", "--b", "0", "--c", "1",
                           "--out", str(tmp_path))
    assert code == 2 and f"Cannot write {tmp_path}" in err and len(err.strip().splitlines()) == 1


def test_train_saves_the_schedule_and_shift(tmp_path, capfd):
    out = tmp_path / "shifted"
    code, _, _ = run_cli(capfd, "train", "--data", "digits", "--model", "ae", "--epochs", "1",
                         "--schedule", "one_cycle", "--augment-shift", "1", "--out", str(out), "--quiet")
    saved = json.loads((out / "config.json").read_text())["train"]
    assert code == 0 and (saved["schedule"], saved["augment_shift"]) == ("one_cycle", 1)


@pytest.mark.parametrize("error", [MemoryError, lambda: torch.OutOfMemoryError("CUDA out of memory")])
def test_running_out_of_memory_anywhere_is_one_line(capfd, monkeypatch, error):
    from explorer import cli

    def exhausted(args):
        raise error()

    monkeypatch.setitem(cli.COMMANDS, "devices", exhausted)
    code, _, err = run_cli(capfd, "devices")
    assert code == 2
    assert err == "error: This machine ran out of memory. Use a smaller data set, batch or model.\n"


def test_usage_errors_point_at_the_help_of_the_command_used(capfd):
    code, _, err = run_cli(capfd, "explroe")
    assert code == 2 and "(see `python -m explorer --help`)" in err
    code, _, err = run_cli(capfd, "train", "--epochs", "many")
    assert code == 2 and "(see `python -m explorer train --help`)" in err
