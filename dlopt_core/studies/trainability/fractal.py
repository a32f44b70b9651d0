"""The fractal dimension of a map's border between converged and diverged runs, by box counting."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlopt_core.studies.trainability.problem import MapError


# -- the fractal dimension ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FractalFit:
    """A box-counting fit: ``log count = -dimension * log size + intercept`` over the box sizes
    ``sizes[lo:hi]`` (pixels); ``counts`` are the boxes that hold an edge pixel."""

    dimension: float
    intercept: float
    sizes: np.ndarray
    counts: np.ndarray
    fit_range: tuple[int, int]  # smallest and largest box size used by the fit, in pixels

    @property
    def ok(self) -> bool:
        return math.isfinite(self.dimension)

    def describe(self) -> str:
        if not self.ok:
            return "no fractal dimension (too few edge pixels or box sizes)"
        lo, hi = self.fit_range
        return f"{self.dimension:.3f} (box sizes {lo} to {hi} pixels)"


def edge_mask(value: np.ndarray) -> np.ndarray:
    """Edge pixels: ``mask[i, j]`` is true when the 2 x 2 block ``value[i:i+2, j:j+2]`` holds
    both signs (a trainable and a divergent run). NaN (not computed) counts as neither."""
    value = np.asarray(value, dtype=np.float64)
    pos = value > 0
    neg = value < 0
    blocks_pos = pos[:-1, :-1] | pos[1:, :-1] | pos[:-1, 1:] | pos[1:, 1:]
    blocks_neg = neg[:-1, :-1] | neg[1:, :-1] | neg[:-1, 1:] | neg[1:, 1:]
    return blocks_pos & blocks_neg


def box_counting(mask: np.ndarray, min_size: int = 1, max_size: int | None = None) -> FractalFit:
    """The box-counting dimension of the true pixels of ``mask``.

    Boxes of side 1, 2, 4, ... up to a quarter of the shorter side (or ``max_size``) tile the
    image; ``counts[k]`` is how many boxes of side ``sizes[k]`` hold a true pixel. The dimension
    is minus the least-squares slope of log count against log size over the sizes from
    ``min_size`` to ``max_size``; it needs at least three sizes with boxes counted (else NaN).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise MapError("box counting needs a 2-D mask")
    limit = min(mask.shape) // 4 if max_size is None else int(max_size)
    sizes, counts = [], []
    s = 1
    while s <= max(limit, 1):
        h, w = -(-mask.shape[0] // s), -(-mask.shape[1] // s)
        padded = np.zeros((h * s, w * s), dtype=bool)
        padded[: mask.shape[0], : mask.shape[1]] = mask
        counts.append(int(padded.reshape(h, s, w, s).any(axis=(1, 3)).sum()))
        sizes.append(s)
        s *= 2
    sizes_a, counts_a = np.array(sizes), np.array(counts)
    use = (sizes_a >= min_size) & (counts_a > 0)
    if use.sum() < 3:
        return FractalFit(math.nan, math.nan, sizes_a, counts_a, (0, 0))
    slope, intercept = np.polyfit(np.log(sizes_a[use]), np.log(counts_a[use]), 1)
    used = sizes_a[use]
    return FractalFit(
        float(-slope), float(intercept), sizes_a, counts_a, (int(used.min()), int(used.max()))
    )
