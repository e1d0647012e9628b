"""Bring your own model: an encoder and decoder trained anywhere become a model folder that
every page and command opens like one of ours (``config.json``, ``encoder.onnx``,
``decoder.onnx`` and, for data that lives nowhere else, ``data.npz``).

``export`` takes two torch modules; ``import_onnx`` two ``.onnx`` files made elsewhere. Both
check the pair against the data's item shape on a real batch before anything is written, and
save through the one atomic save (``checkpoint.save_folder``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from explorer.config import DataConfig, ModelConfig, TrainConfig, to_dict
from explorer.data import SOURCES, Dataset, load_dataset
from explorer.models.onnx_model import (
    DECODER_FILE,
    DECODER_OUTPUTS,
    ENCODER_FILE,
    OnnxAutoencoder,
    check_pair,
)
from explorer.projection import ProjectionConfig
from explorer.store.checkpoint import FORMAT_VERSION, ONNX_MODEL_NAME, library_versions, save_folder
from explorer.store.onnx_io import OnnxFunction, OnnxModelError, export_decoder_onnx, export_encoder_onnx

Progress = Callable[[str], None]  # hears a line of progress


def resolve_data(data: str | DataConfig | Dataset) -> tuple[Dataset, DataConfig, bool]:
    """The data set, its config and whether it must be stored with the model (anything but a
    built-in source, which loads again from its name)."""
    if isinstance(data, Dataset):
        return data, DataConfig(name="upload", path=data.name), True
    if isinstance(data, DataConfig):
        cfg = data
    elif data in SOURCES:
        cfg = DataConfig(name=data)
    else:
        cfg = DataConfig(name="upload", path=str(Path(data).resolve()))
    return load_dataset(cfg), cfg, cfg.name == "upload"


def _model_config(data: Dataset, latent_dim: int, likelihood: str) -> ModelConfig:
    return ModelConfig(name=ONNX_MODEL_NAME, input_shape=tuple(data.x_test.shape[1:]), latent_dim=latent_dim,
                       hidden=(), channels=(), likelihood=likelihood)


def _save(out: str | Path, cfg: ModelConfig, data_cfg: DataConfig, dataset: Dataset | None,
          decoder_output: str, variational: bool, write_pair, overwrite: bool) -> Path:
    config: dict[str, Any] = {
        "format_version": FORMAT_VERSION, "model": to_dict(cfg), "data": to_dict(data_cfg),
        "train": to_dict(TrainConfig()), "metrics": {}, "history": {}, "versions": library_versions(),
        # Recorded so the catalog can tell a VAE from its config alone, without loading the graphs.
        "onnx": {"decoder_output": decoder_output, "variational": variational},
        "summary": f"imported ONNX encoder and decoder, {cfg.latent_dim}-D codes",
    }
    return save_folder(out, config, write_pair, overwrite=overwrite, dataset=dataset)


def export(encoder: nn.Module, decoder: nn.Module, data: str | DataConfig | Dataset, out: str | Path, *,
           likelihood: str = "bernoulli", decoder_output: str = "mean", overwrite: bool = False,
           on_progress: Progress | None = None) -> Path:
    """Export a torch encoder and decoder as a model folder at ``out``.

    ``encoder(x)`` maps a batch of items to codes (batch, latent_dim), or, for a VAE, to a
    tuple (mean, log-variance); the prior is then N(0, I), as for our own VAEs. ``decoder(z)``
    maps codes to items; ``decoder_output`` says whether it returns data-space values
    ("mean", e.g. sigmoid pixels; the default) or Bernoulli logits ("logits").
    ``likelihood`` is "bernoulli" (images in [0, 1], the default) or "gaussian" (squared error).
    ``data`` is a source name, a file path, a ``DataConfig`` or a ``Dataset``."""
    if decoder_output not in DECODER_OUTPUTS:
        raise OnnxModelError(f"decoder_output must be one of {', '.join(DECODER_OUTPUTS)}, "
                             f"got {decoder_output!r}.")
    dataset, data_cfg, store = resolve_data(data)
    example = dataset.x_test[:8]
    encoder, decoder = encoder.eval().cpu(), decoder.eval().cpu()
    with torch.no_grad():
        out_enc = encoder(example)
        variational = isinstance(out_enc, (tuple, list))
        mu = out_enc[0] if variational else out_enc
        if variational and (len(out_enc) != 2 or out_enc[1].shape != mu.shape):
            raise OnnxModelError("A VAE encoder returns (mean, log-variance) of one shape; got "
                                 f"{len(out_enc)} outputs.")
        if mu.ndim != 2:
            raise OnnxModelError(f"The encoder returns codes of shape {tuple(mu.shape)}; "
                                 "expected (batch, latent_dim).")
        x_hat = decoder(mu)
    if tuple(x_hat.shape) != tuple(example.shape):
        raise OnnxModelError(f"The decoder gives items of shape {tuple(x_hat.shape[1:])}; the data's items "
                             f"have shape {tuple(example.shape[1:])}.")
    cfg = _model_config(dataset, mu.shape[1], likelihood)

    def write_pair(tmp: Path) -> None:
        export_encoder_onnx(encoder, example, tmp / ENCODER_FILE, variational)
        export_decoder_onnx(decoder, cfg.latent_dim, tmp / DECODER_FILE)
        check_pair(OnnxAutoencoder(cfg, OnnxFunction(tmp / ENCODER_FILE), OnnxFunction(tmp / DECODER_FILE),
                                   decoder_output))

    folder = _save(out, cfg, data_cfg, dataset if store else None, decoder_output, variational, write_pair,
                   overwrite)
    return write_default_maps(folder, dataset, on_progress)


def import_onnx(encoder_path: str | Path, decoder_path: str | Path, data: str | DataConfig | Dataset,
                out: str | Path, *, likelihood: str = "bernoulli", decoder_output: str = "mean",
                overwrite: bool = False, on_progress: Progress | None = None) -> Path:
    """Copy two ``.onnx`` files made anywhere into a model folder at ``out``, after checking
    that they parse, are self-contained and fit the data's items (see ``export`` for options)."""
    dataset, data_cfg, store = resolve_data(data)
    encoder, decoder = OnnxFunction(encoder_path), OnnxFunction(decoder_path)
    outputs = encoder(dataset.x_test[:2].numpy()) if _takes(encoder, dataset) else None
    if outputs is None:
        raise OnnxModelError(f"{encoder_path} expects input of shape {encoder.input_shape}; the data's "
                             f"items have shape {tuple(dataset.x_test.shape[1:])}.")
    latent = outputs[0].reshape(2, -1).shape[1]
    cfg = _model_config(dataset, latent, likelihood)
    check_pair(OnnxAutoencoder(cfg, encoder, decoder, decoder_output))

    def write_pair(tmp: Path) -> None:
        shutil.copyfile(encoder_path, tmp / ENCODER_FILE)
        shutil.copyfile(decoder_path, tmp / DECODER_FILE)

    folder = _save(out, cfg, data_cfg, dataset if store else None, decoder_output, encoder.n_outputs == 2,
                   write_pair, overwrite)
    return write_default_maps(folder, dataset, on_progress)


# Stored with every imported folder, so its first PCA or UMAP map opens from a file.
DEFAULT_MAPS = (ProjectionConfig(method="pca"), ProjectionConfig(method="umap"))


def write_default_maps(folder: Path, data: Dataset, on_progress: Progress | None = None) -> Path:
    """The codes of ``data``'s test items and their default maps, into ``folder``;
    ``on_progress(message)`` hears when that starts (a first UMAP can take tens of seconds)."""
    from explorer.store.catalog import write_precomputed
    from explorer.store.checkpoint import load_checkpoint

    maps = [cfg for cfg in DEFAULT_MAPS if len(data.x_test) >= cfg.spec.min_codes]
    if on_progress is not None:
        on_progress(f"computing the default maps ({', '.join(c.method.upper() for c in maps)})...")
    write_precomputed(folder, load_checkpoint(folder).model, data, maps)
    return folder


def _takes(fn: OnnxFunction, data: Dataset) -> bool:
    """Whether the graph's declared input fits the items (symbolic dims fit anything)."""
    declared = fn.input_shape[1:]
    item = tuple(data.x_test.shape[1:])
    return len(declared) == len(item) and all(not isinstance(d, int) or d == s
                                              for d, s in zip(declared, item))


def read_latent_dim(folder: str | Path) -> int:
    from explorer.store.checkpoint import read_config

    return int(read_config(folder)["model"]["latent_dim"])
