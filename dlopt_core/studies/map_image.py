"""Pictures of trainability maps: the two-hue colour map and a PNG writer (no GUI needed).

Trainable runs are blue, divergent ones red-orange, in the spirit of the paper's images. Within
each hue the colour runs from deep (fast: the loss fell, or blew up, quickly) to pale (slow: the
runs next to the edge); the intensity is the rank of ``|value|`` among the pixels of the same
outcome, so every map uses the whole range of shades whatever its values.

The picture puts the first axis horizontally (left to right) and the second vertically (bottom
to top): picture row ``r``, column ``c`` shows ``value[c, n1 - 1 - r]``.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

# deep and pale ends of each hue (RGB)
TRAINABLE = ((16, 52, 120), (198, 222, 250))
DIVERGENT = ((150, 24, 16), (252, 214, 170))
NOT_DONE = (40, 40, 40)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks of ``x`` scaled to [0, 1] (0 for a single value)."""
    if x.size <= 1:
        return np.zeros(x.size)
    order = np.argsort(x, kind="stable")
    r = np.empty(x.size)
    r[order] = np.arange(x.size) / (x.size - 1)
    return r


def map_colors(value: np.ndarray) -> np.ndarray:
    """``rgb[n0, n1, 3]`` (uint8) for the value grid: blue where the run trained, red-orange
    where it diverged, pale near the edge; NaN (not computed) is dark grey."""
    value = np.asarray(value, dtype=np.float64)
    rgb = np.empty((*value.shape, 3))
    rgb[...] = NOT_DONE
    for mask, (deep, pale) in ((value < 0, TRAINABLE), (value > 0, DIVERGENT)):
        t = _ranks(np.abs(value[mask]))[:, None]
        rgb[mask] = np.array(deep) * (1 - t) + np.array(pale) * t
    return np.round(rgb).astype(np.uint8)


def picture(value: np.ndarray) -> np.ndarray:
    """The coloured map the way it is shown: first axis across, second axis up."""
    return np.ascontiguousarray(map_colors(value).transpose(1, 0, 2)[::-1])


def write_png(path: str | os.PathLike[str], rgb: np.ndarray, scale: int = 1) -> None:
    """Write ``rgb[h, w, 3]`` (uint8) as a PNG file, each pixel ``scale`` x ``scale``."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    if scale > 1:
        rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
    with open(path, "wb") as f:
        f.write(png)
