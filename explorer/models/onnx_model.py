"""An autoencoder made elsewhere, as an ``encoder.onnx`` and a ``decoder.onnx`` pair, behind
the one model interface (``posterior``, ``encode``, ``decode``, ``loss``, ``sample_prior``), so
every page and command opens it like a model of our own.

It inherits everything but the two networks from ``Autoencoder``: the likelihood, the loss
terms and the N(0, I) prior are the same code. onnxruntime has no gradients, so what needs
them (training, fine-tuning, a contractive penalty) is not available for these models."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from explorer.config import ModelConfig
from explorer.models.base import Autoencoder
from explorer.store.onnx_io import OnnxFunction, OnnxModelError

ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
# What the decoder outputs: data-space values ("mean": pixel intensities in [0, 1] for a
# Bernoulli likelihood) or, as our own models, Bernoulli logits ("logits").
DECODER_OUTPUTS = ("mean", "logits")


class OnnxAutoencoder(Autoencoder):
    trainable = False

    def __init__(self, cfg: ModelConfig, encoder: OnnxFunction, decoder: OnnxFunction,
                 decoder_output: str = "mean") -> None:
        nn.Module.__init__(self)  # no torch bodies or head to build: the graphs are the networks
        if decoder_output not in DECODER_OUTPUTS:
            raise OnnxModelError(f"decoder_output must be one of {', '.join(DECODER_OUTPUTS)}, "
                                 f"got {decoder_output!r}.")
        if encoder.n_outputs not in (1, 2):
            raise OnnxModelError(f"{encoder.path} has {encoder.n_outputs} outputs; an encoder returns "
                                 "the code, or the mean and log-variance of a VAE posterior.")
        self.cfg = cfg
        self.variational = encoder.n_outputs == 2
        self.onnx_encoder, self.onnx_decoder = encoder, decoder
        self.decoder_output = decoder_output
        self.log_sigma = None  # a Gaussian likelihood is scored as squared error

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")  # onnxruntime here runs on the CPU

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        outputs = self.onnx_encoder(x.detach().cpu().numpy())
        mu = torch.from_numpy(outputs[0]).reshape(len(x), -1)
        if not self.variational:
            return mu, None
        return mu, torch.from_numpy(outputs[1]).reshape(len(x), -1).clamp(-20.0, 10.0)

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        out = torch.from_numpy(self.onnx_decoder(z.detach().cpu().numpy())[0])
        out = out.reshape(len(z), *self.cfg.input_shape)
        if self.cfg.likelihood == "bernoulli" and self.decoder_output == "mean":
            return torch.logit(out.clamp(1e-6, 1 - 1e-6))  # decode's sigmoid gives the mean back
        return out


def load_onnx_model(folder: Path, cfg: ModelConfig, decoder_output: str) -> OnnxAutoencoder:
    """The pair in ``folder``, with the code width and item shape checked against ``cfg``."""
    encoder = OnnxFunction(folder / ENCODER_FILE)
    decoder = OnnxFunction(folder / DECODER_FILE)
    model = OnnxAutoencoder(cfg, encoder, decoder, decoder_output)
    check_pair(model)
    return model


def check_pair(model: OnnxAutoencoder) -> None:
    """Run two items through the pair: the encoder gives ``latent_dim`` numbers per item (and
    a log-variance of the same shape), the decoder items of ``input_shape``."""
    cfg = model.cfg
    x = torch.full((2, *cfg.input_shape), 0.5)
    try:
        outputs = model.onnx_encoder(x.numpy())
    except OnnxModelError as exc:
        raise OnnxModelError(f"The encoder does not take items of shape {cfg.input_shape}: {exc}") from None
    for name, out in zip(("code", "log-variance"), outputs):
        if out.shape != (2, cfg.latent_dim):
            raise OnnxModelError(f"The encoder's {name} has shape {out.shape[1:]} per batch of 2; "
                                 f"expected ({cfg.latent_dim},) per item.")
    z = torch.zeros(2, cfg.latent_dim)
    try:
        out = model.onnx_decoder(z.numpy())[0]
    except OnnxModelError as exc:
        raise OnnxModelError(f"The decoder does not take codes of {cfg.latent_dim} numbers: {exc}") from None
    if out.shape[0] != 2 or out[0].size != int(torch.tensor(cfg.input_shape).prod()):
        raise OnnxModelError(f"The decoder gives items of shape {tuple(out.shape[1:])}; the data's items "
                             f"have shape {cfg.input_shape}.")
