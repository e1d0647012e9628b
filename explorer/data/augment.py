"""Data augmentation applied to training batches only (never to validation or test items)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image of ``images`` (N, C, H, W) moved by its own random whole-pixel offset of up to
    ``max_shift`` in each direction, filled with zeros where it moves in from outside.

    Whole pixels keep the images exactly as sharp as the data: a sub-pixel shift would blur
    them, and a model trained on blur learns to draw blur.
    """
    n, _, height, width = images.shape
    offsets = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator,
                            device=images.device).to(images.dtype)
    # Sampling grids are in [-1, 1]: one pixel is 2 / size. Nearest-pixel sampling at
    # whole-pixel offsets lands exactly on pixel centres, so values are copied, not mixed.
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = -2.0 * offsets[:, 0] / width
    theta[:, 1, 2] = -2.0 * offsets[:, 1] / height
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="nearest", padding_mode="zeros", align_corners=False)
