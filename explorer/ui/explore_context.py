"""What the Explore page's panels share: the open model and its map, and the overlays picked."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer import latent
from explorer.projection import Projection
from explorer.store.catalog import ModelEntry
from explorer.store.checkpoint import Checkpoint
from explorer.ui import live_decode, resources

# An RBM's code is its hidden units' probabilities, in [0, 1]: N(0, I) draws would decode
# values it never produces, and its own samples need Gibbs sampling, which this page lacks.
NO_RBM_PRIOR = ("An RBM has no N(0, I) prior: its code is the hidden units' probabilities, each "
                "between 0 and 1, and its own samples come from Gibbs sampling, not from one draw.")


@dataclass(frozen=True)
class Context:
    """Everything the panels need about the open model and its map."""

    entry: ModelEntry
    ckpt: Checkpoint
    view: resources.View
    proj: Projection
    live: live_decode.LiveSource | str  # what decodes in the page, or why nothing does

    @property
    def model(self):
        return self.ckpt.model

    @property
    def data(self):
        return self.view.data

    def label(self, i: int) -> str:
        labels = self.view.labels
        return f"#{i}" if labels is None else f"#{i} · {self.data.label_name(int(labels[i]))}"


@dataclass(frozen=True)
class Overlays:
    color_by: str
    prior: bool
    density: bool
    ellipses: bool
    n_prior: int
    temperature: float
    prior_seed: int


def prior_codes(ctx: Context, o: Overlays) -> torch.Tensor:
    return latent.prior_samples(ctx.model, o.n_prior, o.temperature, o.prior_seed)
