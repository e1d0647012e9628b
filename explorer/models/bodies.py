"""Encoder and decoder bodies. A body maps items to features (encoder) or codes to
output parameters (decoder); the latent head and the loss live in ``base.Autoencoder``."""

from __future__ import annotations

import math

import torch
from torch import nn

from explorer.errors import ModelConfigError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,
}


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, dropout: float = 0.0,
        last_activation: bool = True) -> nn.Sequential:
    """Linear layers of the given sizes with an activation after each (optionally not the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or last_activation:
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], hidden: tuple[int, ...],
                 activation: type[nn.Module] = nn.ReLU, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = mlp([math.prod(input_shape), *hidden], activation, dropout)
        self.out_features = hidden[-1] if hidden else math.prod(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class MLPDecoder(nn.Module):
    def __init__(self, latent_dim: int, hidden: tuple[int, ...], output_shape: tuple[int, ...],
                 activation: type[nn.Module] = nn.ReLU, dropout: float = 0.0) -> None:
        super().__init__()
        self.output_shape = output_shape
        self.net = mlp([latent_dim, *reversed(hidden), math.prod(output_shape)], activation,
                       dropout, last_activation=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.output_shape)


def _conv_sizes(size: int, n_layers: int) -> list[int]:
    """Spatial sizes after each stride-2 conv (kernel 4, padding 1 halves, rounding down)."""
    sizes = [size]
    for _ in range(n_layers):
        sizes.append(sizes[-1] // 2)
    if sizes[-1] < 1:
        raise ModelConfigError(
            f"Images of size {size} are too small for {n_layers} conv layers; use fewer channels "
            "entries or the MLP model."
        )
    return sizes


class ConvEncoder(nn.Module):
    """Conv + BatchNorm + LeakyReLU, each halving the image, then flattened."""

    def __init__(self, input_shape: tuple[int, ...], channels: tuple[int, ...]) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ModelConfigError(
                f"Convolutional models need images (C, H, W); this data has items of shape "
                f"{input_shape}. Pick an MLP model."
            )
        c, h, w = input_shape
        hs, ws = _conv_sizes(h, len(channels)), _conv_sizes(w, len(channels))
        layers: list[nn.Module] = []
        for n_in, n_out in zip((c, *channels[:-1]), channels):
            layers += [nn.Conv2d(n_in, n_out, 4, 2, 1), nn.BatchNorm2d(n_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.out_features = channels[-1] * hs[-1] * ws[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """The mirror of ``ConvEncoder`` with ConvTranspose layers; output_padding restores odd sizes."""

    def __init__(self, latent_dim: int, channels: tuple[int, ...],
                 output_shape: tuple[int, ...]) -> None:
        super().__init__()
        c, h, w = output_shape
        hs, ws = _conv_sizes(h, len(channels)), _conv_sizes(w, len(channels))
        self.start_shape = (channels[-1], hs[-1], ws[-1])
        self.project = nn.Sequential(nn.Linear(latent_dim, math.prod(self.start_shape)),
                                     nn.LeakyReLU(0.2))
        layers: list[nn.Module] = []
        ups = list(zip(reversed(channels), (*reversed(channels[:-1]), c)))
        for i, (n_in, n_out) in enumerate(ups):
            level = len(channels) - 1 - i  # size index we upsample to
            pad = (hs[level] - 2 * hs[level + 1], ws[level] - 2 * ws[level + 1])
            layers.append(nn.ConvTranspose2d(n_in, n_out, 4, 2, 1, output_padding=pad))
            if i < len(ups) - 1:
                layers += [nn.BatchNorm2d(n_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(-1, *self.start_shape))


def _sequence_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ModelConfigError(
            f"Sequence models need series of shape (T, C); this data has items of shape {shape}. "
            "Pick an MLP or convolutional model."
        )
    return shape[0], shape[1]


class SequenceEncoder(nn.Module):
    """An LSTM read over time; its last hidden state summarizes the series."""

    def __init__(self, input_shape: tuple[int, ...], width: int) -> None:
        super().__init__()
        _, channels = _sequence_shape(input_shape)
        self.lstm = nn.LSTM(channels, width, batch_first=True)
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        return h[-1]


class SequenceDecoder(nn.Module):
    """The code fed at every time step to an LSTM whose states are read out per step."""

    def __init__(self, latent_dim: int, width: int, output_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.length, channels = _sequence_shape(output_shape)
        self.lstm = nn.LSTM(latent_dim, width, batch_first=True)
        self.readout = nn.Linear(width, channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        states, _ = self.lstm(z[:, None, :].expand(-1, self.length, -1))
        return self.readout(states)
