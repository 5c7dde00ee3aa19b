"""Rows drawn as small greyscale images (``image_shape=(H, W)``), as inline PNG data URIs.

The numeric feature columns, in file order, are the pixels. The PNG encoder is a few lines of
zlib (grayscale, 8 bit) so that images cost ~100-600 bytes each and need no imaging library;
the browser scales them up with ``image-rendering: pixelated``.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = ["encode_png", "png_data_uri", "pixel_columns", "RowImages"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode a 2-D uint8 array (0 = black) as a grayscale 8-bit PNG."""
    image = np.asarray(pixels)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"encode_png needs a 2-D uint8 array, got {image.dtype} of shape {image.shape}")
    height, width = image.shape
    # Each scanline starts with filter type 0 (none).
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), image]).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def png_data_uri(pixels: np.ndarray) -> str:
    """``data:image/png;base64,...`` for a 2-D uint8 array."""
    return "data:image/png;base64," + base64.b64encode(encode_png(pixels)).decode("ascii")


def pixel_columns(dataset: Dataset, image_shape: tuple[int, int]) -> list[str]:
    """The first H*W numeric feature columns (label and ID excluded), in file order.

    Raises
    ------
    ConfigError
        When the table has fewer numeric feature columns than H*W pixels.
    """
    height, width = image_shape
    if height <= 0 or width <= 0:
        raise ConfigError(f"image_shape must be positive, got {height}x{width}.")
    candidates = [
        name for name in dataset.columns
        if name != dataset.label and name != dataset.id_column
        and dataset.roles.get(name) not in ("id", "label")
        and pd.api.types.is_numeric_dtype(dataset.frame[name])
        and not pd.api.types.is_bool_dtype(dataset.frame[name])
    ]
    needed = height * width
    if len(candidates) < needed:
        raise ConfigError(
            f"image_shape {height}x{width} needs {needed} numeric pixel columns, but "
            f"{dataset.name} has {len(candidates)} numeric feature columns. "
            "Pass the shape of the images the columns hold (e.g. --image-shape 8x8 for 64 columns)."
        )
    return candidates[:needed]


class RowImages:
    """Draws rows of one dataset as image data URIs on a shared intensity scale.

    High values are drawn dark (ink on paper), as in sklearn's digits; the scale is the 1st..99.9th
    percentile of the pixel values so that one stray value does not wash out every image.
    """

    def __init__(self, dataset: Dataset, image_shape: tuple[int, int], *, seed: int = 0) -> None:
        self.dataset = dataset
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.columns = pixel_columns(dataset, self.image_shape)
        rng = np.random.default_rng(seed)
        n = dataset.n_rows
        sample = np.sort(rng.choice(n, size=min(n, 2000), replace=False)) if n else np.arange(0)
        values = self._pixels(sample)
        finite = values[np.isfinite(values)]
        if finite.size:
            self.low, self.high = (float(v) for v in np.percentile(finite, [1.0, 99.9]))
            self.low = min(self.low, float(finite.min()))
        else:
            self.low, self.high = 0.0, 1.0
        if self.high <= self.low:
            self.high = self.low + 1.0

    def _pixels(self, rows: np.ndarray) -> np.ndarray:
        block = self.dataset.frame.iloc[rows][self.columns]
        return block.to_numpy(dtype=np.float64, na_value=np.nan)

    def uris(self, rows: Iterable[int]) -> dict[int, str]:
        """Row number -> PNG data URI, for the rows that exist in the dataset."""
        wanted = sorted({int(r) for r in rows if 0 <= int(r) < self.dataset.n_rows})
        if not wanted:
            return {}
        values = self._pixels(np.asarray(wanted))
        scaled = np.clip((values - self.low) / (self.high - self.low), 0.0, 1.0)
        scaled = np.where(np.isnan(scaled), 0.0, scaled)  # a missing pixel is drawn as background
        grey = (255 - np.round(scaled * 255)).astype(np.uint8)
        return {row: png_data_uri(grey[i].reshape(self.image_shape)) for i, row in enumerate(wanted)}
