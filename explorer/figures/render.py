"""Images for display and download: grids of items, crisp upscaling, PNG and animated GIF.

Inputs are float images in [0, 1], either grayscale ``(H, W)`` or colour ``(H, W, 3)``,
as ``Dataset.to_display`` returns them. Upscaling is nearest-neighbour on purpose: an
8x8 or 28x28 digit scaled by the browser turns into a blur, scaled here it stays a grid
of sharp pixels.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

# GIF delays are in hundredths of a second, and browsers show delays under 20 ms as 100 ms.
_MIN_FRAME_MS = 20


def _check_images(images: np.ndarray) -> np.ndarray:
    """A stack ``(n, H, W)`` or ``(n, H, W, 3)`` as float32, or a ValueError naming the shape."""
    images = np.asarray(images, dtype=np.float32)
    colour = images.ndim == 4 and images.shape[-1] == 3
    if not (images.ndim == 3 or colour) or len(images) == 0:
        raise ValueError(
            f"expected a non-empty stack of images (n, H, W) or (n, H, W, 3), got shape {images.shape}"
        )
    return images


def tile(images: np.ndarray, ncols: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """One grid image of ``images`` in row-major order, ``pad`` pixels of ``pad_value``
    between tiles (not around them); unused cells of the last row are ``pad_value`` too.

    ``ncols`` defaults to ``ceil(sqrt(n))``, giving a square-ish grid.
    """
    images = _check_images(images)
    n, h, w = images.shape[:3]
    ncols = max(1, min(ncols or math.ceil(math.sqrt(n)), n))
    nrows = math.ceil(n / ncols)
    grid = np.full(
        (nrows * h + (nrows - 1) * pad, ncols * w + (ncols - 1) * pad, *images.shape[3:]),
        pad_value,
        dtype=np.float32,
    )
    for k, image in enumerate(images):
        row, col = divmod(k, ncols)
        top, left = row * (h + pad), col * (w + pad)
        grid[top : top + h, left : left + w] = image
    return grid


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling: every pixel becomes a ``scale`` x ``scale`` block."""
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    image = np.asarray(image)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] to bytes 0..255; values outside are clipped and NaN becomes 0."""
    image = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0)
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _to_pil(image: np.ndarray, scale: int) -> Image.Image:
    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3)):
        raise ValueError(f"expected an image (H, W) or (H, W, 3), got shape {image.shape}")
    return Image.fromarray(to_uint8(upscale(image, scale)))


def to_png(image: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of one image, upscaled ``scale`` times, for ``st.download_button``."""
    buffer = io.BytesIO()
    _to_pil(image, scale).save(buffer, format="PNG")
    return buffer.getvalue()


def to_gif(
    frames: np.ndarray, fps: float = 12, scale: int = 4, loop: bool = True, bounce: bool = True
) -> bytes:
    """Animated GIF bytes of ``frames`` ``(n, H, W)`` or ``(n, H, W, 3)``.

    ``bounce`` plays forward then backward without repeating the end frames
    (``2n - 2`` frames), so a looping interpolation glides back instead of jumping.
    ``loop=False`` plays once. Identical consecutive frames are merged by the encoder.
    Rates above 50 fps are capped, because browsers play shorter frames at 10 fps.
    """
    frames = _check_images(frames)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if bounce:
        frames = np.concatenate([frames, frames[-2:0:-1]])
    first, *rest = [_to_pil(frame, scale) for frame in frames]
    options = {"loop": 0} if loop else {}
    buffer = io.BytesIO()
    first.save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=rest,
        duration=max(_MIN_FRAME_MS, round(1000 / fps)),
        **options,
    )
    return buffer.getvalue()


def sparklines(series: np.ndarray, height: int = 24, width: int = 48) -> np.ndarray:
    """Each series (n, T, C) drawn as a small dark-on-white line image (n, height, width),
    every channel in the same frame, scaled to the item's own range: a hover thumbnail."""
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 3:
        raise ValueError(f"series must be (n, T, C), got shape {series.shape}")
    n, length, channels = series.shape
    images = np.ones((n, height, width))
    # Sample densely along x so steep segments still draw connected strokes.
    xs = np.linspace(0, length - 1, width * 4)
    cols = np.minimum((xs / max(length - 1, 1) * (width - 1)).round().astype(int), width - 1)
    lo = series.min(axis=(1, 2), keepdims=True)[:, 0]
    span = np.maximum(series.max(axis=(1, 2), keepdims=True)[:, 0] - lo, 1e-12)
    for c in range(channels):
        values = np.stack([np.interp(xs, np.arange(length), s[:, c]) for s in series])
        rows = ((1 - (values - lo) / span) * (height - 1)).round().astype(int)
        images[np.arange(n)[:, None], rows, cols[None, :]] = 0.0
    return images
