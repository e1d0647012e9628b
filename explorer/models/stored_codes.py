"""Codes computed elsewhere, behind the one model interface: the "encoder" is a lookup table
from each stored item to the code given for it, and there is no decoder.

So every command and page that reads codes (maps, neighbours, clustering, selection, export)
works unchanged on an imported codes file, while anything that decodes or scores a
reconstruction stops with one line saying that a decoder is missing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from explorer.config import ModelConfig
from explorer.data import Dataset
from explorer.errors import CheckpointError, ExplorerError
from explorer.models.base import Autoencoder

CODES_MODEL_NAME = "codes"  # the model name in the config of an imported codes file
IMPORTED_CODES_FILE = "imported_codes.npz"  # the codes of the stored items, train and test


class NoDecoderError(ExplorerError):
    """A codes-only folder was asked to decode, reconstruct or encode a new item."""


NO_DECODER = ("This folder holds codes only: there is no decoder, so nothing can be decoded, "
              "sampled or reconstructed. Import the model's encoder and decoder "
              "(python -m explorer import --encoder E.onnx --decoder D.onnx) to decode.")


def item_key(row: np.ndarray) -> bytes:
    """A 16-byte digest of one item's float32 bytes: the lookup key (70,000 MNIST items make
    a table of about 1 MB instead of 220 MB of raw rows)."""
    return hashlib.blake2b(np.ascontiguousarray(row, dtype=np.float32).tobytes(), digest_size=16).digest()


class StoredCodes(Autoencoder):
    trainable = False
    has_decoder = False

    def __init__(self, cfg: ModelConfig, items: np.ndarray, codes: np.ndarray) -> None:
        nn.Module.__init__(self)  # no networks: the table is the encoder
        if len(items) != len(codes):
            raise ExplorerError(f"{len(items)} items but {len(codes)} codes; give one code per item.")
        self.cfg = cfg
        self.variational = False
        self.log_sigma = None
        self.codes = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
        # The first code of an item given twice wins: identical items cannot be told apart.
        self.index: dict[bytes, int] = {}
        for i, row in enumerate(items.reshape(len(items), -1)):
            self.index.setdefault(item_key(row), i)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows = x.detach().cpu().numpy().reshape(len(x), -1)
        found = [self.index.get(item_key(row)) for row in rows]
        missing = sum(i is None for i in found)
        if missing:
            raise NoDecoderError(
                f"{missing} of {len(x)} items are not among the {len(self.codes):,} this folder holds "
                "codes for, and codes cannot be computed here without an encoder. Use the folder's "
                "own data, or import the encoder and decoder as ONNX.")
        return self.codes[torch.tensor(found, dtype=torch.long)], None

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        raise NoDecoderError(NO_DECODER)


def load_stored_codes(folder: Path, cfg: ModelConfig, data: Dataset) -> StoredCodes:
    """The lookup model of a codes-only folder, from its stored items and codes."""
    path = folder / IMPORTED_CODES_FILE
    try:
        with np.load(path, allow_pickle=False) as f:
            train, test = f["train"], f["test"]
    except (OSError, KeyError, ValueError, EOFError) as exc:
        raise CheckpointError(f"{path} is not a readable codes file ({exc}); import them again.") from None
    paired = len(train) == len(data.x_train) and len(test) == len(data.x_test)
    if not paired or train.shape[1:] != (cfg.latent_dim,) or test.shape[1:] != (cfg.latent_dim,):
        raise CheckpointError(f"{path} does not match the folder's items; import the codes again.")
    items = np.concatenate([data.x_train.numpy(), data.x_test.numpy()])
    return StoredCodes(cfg, items, np.concatenate([train, test]))
