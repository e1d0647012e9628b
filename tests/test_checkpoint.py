import json

import pytest
import torch

from explorer.config import DataConfig, TrainConfig
from explorer.errors import CheckpointError
from explorer.models import MODELS, build_model, model_config
from explorer.store.checkpoint import FORMAT_VERSION, load_checkpoint, read_config, save_checkpoint
from explorer.training.train import History


def _saved(tmp_path, name="vae", overwrite=False):
    shape = (1, 8, 8) if MODELS[name].fits("image") else (16, 2)
    model = build_model(model_config(name, shape, 3))
    history = History(train={"total": [3.0, 2.0]}, epochs_run=2, seconds=1.5)
    folder = save_checkpoint(tmp_path / "ckpt", model, DataConfig("digits"), TrainConfig(epochs=2),
                             {"recon_sse": 1.25}, history, overwrite=overwrite)
    return model, folder


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_is_bit_exact(tmp_path, name):
    model, folder = _saved(tmp_path, name)
    loaded = load_checkpoint(folder)
    original, restored = model.state_dict(), loaded.model.state_dict()
    assert original.keys() == restored.keys()
    assert all(torch.equal(original[k], restored[k]) for k in original)
    assert loaded.config == model.cfg
    assert loaded.data == DataConfig("digits") and loaded.train == TrainConfig(epochs=2)
    assert loaded.metrics == {"recon_sse": 1.25}
    assert loaded.history.train == {"total": [3.0, 2.0]} and loaded.history.epochs_run == 2
    x = torch.rand(4, *model.cfg.input_shape)
    model.eval()
    assert torch.equal(model.encode(x), loaded.model.encode(x))


def test_config_records_versions(tmp_path):
    _, folder = _saved(tmp_path)
    config = read_config(folder)
    assert config["format_version"] == FORMAT_VERSION
    assert config["versions"]["torch"] == torch.__version__


def test_save_replaces_atomically_and_leaves_no_temp_folders(tmp_path):
    _saved(tmp_path)
    model, folder = _saved(tmp_path, "ae", overwrite=True)
    assert load_checkpoint(folder).config.name == "ae"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="is not a checkpoint folder"):
        load_checkpoint(tmp_path / "nothing")


def test_folder_without_config(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="has no config.json"):
        load_checkpoint(tmp_path)


def test_corrupt_config(tmp_path):
    _, folder = _saved(tmp_path)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)


def test_foreign_config(tmp_path):
    _, folder = _saved(tmp_path)
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(CheckpointError, match="not a Latent Explorer checkpoint"):
        load_checkpoint(folder)


def test_future_format_version(tmp_path):
    _, folder = _saved(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["format_version"] = FORMAT_VERSION + 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=f"format {FORMAT_VERSION + 1}.*reads format {FORMAT_VERSION}"):
        load_checkpoint(folder)


def test_corrupt_weights(tmp_path):
    _, folder = _saved(tmp_path)
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)


def test_pickled_torch_file_is_refused_not_unpickled(tmp_path):
    _, folder = _saved(tmp_path)
    torch.save({"evil": torch.zeros(1)}, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"latent_dim": 5}, "has shape .* but the config builds"),
        ({"name": "conv_vae"}, "belong to a different model"),
        ({"name": "transformer_9000"}, "cannot be built.*Unknown model"),
    ],
)
def test_config_that_does_not_match_the_weights(tmp_path, change, message):
    _, folder = _saved(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["model"].update(change)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(folder)
