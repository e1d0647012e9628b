"""Decoders as programs the page can run: a model's decoder written out as a list of plain
layers (dense, then an elementwise activation) over float32 arrays, so a browser can decode
the point under the pointer every animation frame instead of a ~100 ms server round trip.

``decoder_program`` says which models qualify (MLP decoders) and why others do not;
``run_program`` is the reference forward the page's JavaScript mirrors step by step, kept
here so a test can hold both to PyTorch's ``decode``."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.models.base import Autoencoder
from explorer.models.bodies import MLPDecoder

# Elementwise activations the page implements, by the name it knows them under.
_ACTIVATIONS: dict[type[nn.Module], str] = {
    nn.ReLU: "relu",
    nn.LeakyReLU: "leaky_relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.Identity: "identity",
}


@dataclass(frozen=True, eq=False)
class Layer:
    """One step: ``dense`` (y = W x + b, W of shape (out, in)) or an activation by name
    (``slope`` is LeakyReLU's negative slope)."""

    kind: str
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    slope: float = 0.0


@dataclass(frozen=True, eq=False)
class DecoderProgram:
    latent_dim: int
    output_shape: tuple[int, ...]
    layers: tuple[Layer, ...]

    def to_page(self) -> dict[str, object]:
        """JSON-ready form: arrays as base64 little-endian float32, sent once per model."""
        def b64(a: np.ndarray) -> str:
            return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()

        return {
            "latent_dim": self.latent_dim,
            "output_shape": list(self.output_shape),
            "layers": [
                {"kind": "dense", "n_in": int(layer.weight.shape[1]), "n_out": int(layer.weight.shape[0]),
                 "weight": b64(layer.weight), "bias": b64(layer.bias)}
                if layer.kind == "dense" else {"kind": layer.kind, "slope": layer.slope}
                for layer in self.layers
            ],
        }


def decoder_program(model: Autoencoder) -> DecoderProgram | str:
    """The model's ``decode`` as a page program, or one line saying why it must run on the
    server (the page then says so and uses the server path)."""
    if not model.has_decoder:
        return "This folder holds codes only: there is no decoder to run."
    # An imported ONNX pair has graphs, not torch bodies.
    decoder = getattr(model, "decoder", None)
    if not isinstance(decoder, MLPDecoder):
        kind = "an ONNX graph" if decoder is None else type(decoder).__name__
        return (f"This model's decoder ({kind}) does not run in the page yet; "
                "each decode is a server round trip.")
    layers: list[Layer] = []
    for module in decoder.net:
        if isinstance(module, nn.Linear):
            layers.append(Layer("dense", module.weight.detach().cpu().numpy().astype(np.float32),
                                module.bias.detach().cpu().numpy().astype(np.float32)))
        elif isinstance(module, nn.Dropout):
            continue  # identity at decode time (eval mode)
        elif type(module) in _ACTIVATIONS:
            slope = float(module.negative_slope) if isinstance(module, nn.LeakyReLU) else 0.0
            layers.append(Layer(_ACTIVATIONS[type(module)], slope=slope))
        else:
            return (f"This decoder has a {type(module).__name__} layer, which the page cannot run; "
                    "each decode is a server round trip.")
    if model.cfg.likelihood == "bernoulli":  # decode() squashes logits to intensities
        layers.append(Layer("sigmoid"))
    return DecoderProgram(model.latent_dim, tuple(decoder.output_shape), tuple(layers))


def run_program(program: DecoderProgram, z: np.ndarray) -> np.ndarray:
    """Decode codes (n, latent_dim) with the program in float32, as the page does."""
    h = np.asarray(z, dtype=np.float32).reshape(-1, program.latent_dim)
    for layer in program.layers:
        if layer.kind == "dense":
            h = h @ layer.weight.T + layer.bias
        elif layer.kind == "relu":
            h = np.maximum(h, 0)
        elif layer.kind == "leaky_relu":
            h = np.where(h >= 0, h, h * np.float32(layer.slope))
        elif layer.kind == "tanh":
            h = np.tanh(h)
        elif layer.kind == "sigmoid":
            h = 1 / (1 + np.exp(-np.clip(h, -80, 80)))  # no float32 overflow; same value
    return h.astype(np.float32).reshape(-1, *program.output_shape)


def decode_reference(model: Autoencoder, z: np.ndarray) -> np.ndarray:
    """PyTorch's decode of the same codes, for comparing against the page."""
    with torch.no_grad():
        return model.decode(torch.as_tensor(np.asarray(z, dtype=np.float32))).numpy()
