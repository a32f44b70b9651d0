"""How a long history is reduced before it is drawn, and which part of it the view follows.

The steps are cut into equal spans and each span keeps its first, last, lowest and highest points
at the steps where they were recorded, so a change of rate is drawn where it happened and spikes
stay; :class:`LiveReduction` keeps the spans of a growing run that are complete, so that each
update reduces only the new ones. Smoothing (an exponential moving average) changes the display
only. The ranges a plot follows a run with are chosen here too, before painting (pyqtgraph's own
auto-range costs a second repaint per update). Pure NumPy: no Qt.
"""

from __future__ import annotations

import math

import numpy as np


def ema(values: np.ndarray, span: float) -> np.ndarray:
    """Exponential moving average with time constant ``span`` points, debiased at the start.

    Computed as a truncated convolution, which is vectorised and exact to 1e-6 of the weight.
    """
    n = len(values)
    if n < 3 or span <= 1.0:
        return values.copy()
    a = 1.0 - 1.0 / span
    length = min(n, int(math.ceil(math.log(1e-6) / math.log(a))) + 1)
    kernel = a ** np.arange(length)
    num = np.convolve(values, kernel)[:n]
    den = np.convolve(np.ones(n), kernel)[:n]
    return num / den


def _spans(x: np.ndarray, n_spans: int) -> np.ndarray:
    """The span (0 .. n_spans-1) of each step when [x[0], x[-1]] is cut into equal spans."""
    width = float(x[-1] - x[0])
    if width <= 0.0:
        return np.zeros(len(x), dtype=np.int64)
    return np.minimum(((x - x[0]) * (n_spans / width)).astype(np.int64), n_spans - 1)


def _firsts_and_lasts(mask: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Indices of the first and the last True of ``mask`` within each span."""
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return pos
    s = span[pos]
    change = s[1:] != s[:-1]
    return np.r_[pos[np.r_[True, change]], pos[np.r_[change, True]]]


def _span_starts(span: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, span[1:] != span[:-1]])


def _curve_points(
    x: np.ndarray, y: np.ndarray, span: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per span (``span``: non-decreasing, one per point), the first, last, lowest and highest
    points at their own steps, in step order: ``(x, y, span)`` of the points kept."""
    n = len(x)
    starts = _span_starts(span)
    counts = np.diff(np.r_[starts, n])
    lo = np.repeat(np.minimum.reduceat(y, starts), counts)
    hi = np.repeat(np.maximum.reduceat(y, starts), counts)
    keep = np.unique(
        np.r_[
            starts,
            starts + counts - 1,
            _firsts_and_lasts(y == lo, span),
            _firsts_and_lasts(y == hi, span),
        ]
    )
    return x[keep], y[keep], span[keep]


def _band_points(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, span: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per span, the lowest ``lo`` and the highest ``hi``, held from the span's first step to
    its last: ``(x, low, high, span)`` of the band's corners."""
    starts = _span_starts(span)
    ends = np.r_[starts[1:], len(x)] - 1
    xs = np.column_stack([x[starts], x[ends]]).ravel()
    return (
        xs,
        np.repeat(np.minimum.reduceat(lo, starts), 2),
        np.repeat(np.maximum.reduceat(hi, starts), 2),
        np.repeat(span[starts], 2),
    )


def decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``max_points`` points drawn like all of them: the steps ``x`` (increasing) are cut
    into equal spans, and each span keeps its first, last, lowest and highest points, at their
    own steps and in step order (of equal values, the first and the last). Spikes stay, and a
    jump is drawn between the two recorded steps where it happened."""
    if len(x) <= max_points:
        return x, y
    return _curve_points(x, y, _spans(x, max(1, max_points // 4)))[:2]


def decimate_band(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A min/max band reduced like :func:`decimate`: per span of steps, the lowest ``lo`` and
    the highest ``hi``, held from the span's first step to its last."""
    if len(x) <= max_points:
        return x, lo, hi
    return _band_points(x, lo, hi, _spans(x, max(1, max_points // 2)))[:3]


def span_width(extent: float, n_spans: int) -> float:
    """The smallest power of two that cuts ``extent`` into at most ``n_spans`` spans (and one
    more for the end point)."""
    if extent <= 0.0:
        return 1.0
    return 2.0 ** math.ceil(math.log2(extent / n_spans))


class LiveReduction:
    """:func:`decimate` (or, with ``band``, :func:`decimate_band`) for a series that grows at
    its end, as a live run's history does, redoing only its newest span.

    The spans are aligned at multiples of a power-of-two width from the first step, so a
    finished span stays as it is while the run goes on; its reduced points are kept. All is
    reduced anew only when the width doubles (the run doubled in length) or when the rows
    before the newest span changed (the history halved, the log axis dropped values, a new
    run): the inputs are compared with the last ones, so no caller has to say so.
    """

    def __init__(self, max_points: int = 0, band: bool = False) -> None:
        self.max_points = max_points or MAX_DRAWN
        self.band = band
        self.n_spans = max(1, self.max_points // (2 if band else 4))
        self._clear()

    def _clear(self) -> None:
        self._inputs: tuple[np.ndarray, ...] = ()
        self._rows = 0  # the rows of the inputs whose spans are finished and kept reduced
        self._width = 0.0
        self._done: tuple[np.ndarray, ...] = ()
        self.reused_rows = 0  # rows of the last call taken from the kept part (tests, benchmarks)

    def _still_valid(self, arrays: tuple[np.ndarray, ...], width: float) -> bool:
        rows = self._rows
        return (
            rows > 0
            and width == self._width
            and len(arrays[0]) > rows
            and all(
                np.array_equal(a[:rows], b[:rows], equal_nan=True)
                for a, b in zip(arrays, self._inputs, strict=True)
            )
        )

    def __call__(self, x: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
        """The reduced ``(x, *values)``: ``(x, y)`` for a curve, ``(x, low, high)`` for a band."""
        arrays = (x, *values)
        if len(x) <= self.max_points:
            self._clear()
            return arrays
        width = span_width(float(x[-1] - x[0]), self.n_spans)
        if not self._still_valid(arrays, width):
            self._clear()
            self._width = width
        rows = self._rows
        self.reused_rows = rows
        span = ((x[rows:] - x[0]) // width).astype(np.int64)
        tail = tuple(a[rows:] for a in arrays)
        reduced = _band_points(*tail, span) if self.band else _curve_points(*tail, span)
        *cols, point_span = reduced
        done = point_span < span[-1]
        if not self._done:
            self._done = tuple(c[:0] for c in cols)
        self._done = tuple(
            np.concatenate([kept, c[done]]) for kept, c in zip(self._done, cols, strict=True)
        )
        self._rows = rows + int(np.searchsorted(span, span[-1]))
        self._inputs = arrays
        return tuple(
            np.concatenate([kept, c[~done]]) for kept, c in zip(self._done, cols, strict=True)
        )


def blowup_range(values: np.ndarray, start: float, log: bool = False) -> tuple[float, float]:
    """The y range for a run that diverged, whose last values would flatten the rest of the
    curve. Linear: min and max of the values up to 1000 times ``start`` (the first value), at
    least ten times ``start``, so the first steps of the blow-up stay in view and the curve
    leaves the plot at the top. Log (``values`` and ``start`` as log10): every value, since a
    logarithmic axis shows a blow-up of any size as a line."""
    if log:
        return float(np.min(values)), max(float(np.max(values)), start + 1.0)
    limit = start + 1000.0 * max(abs(start), 1e-12)
    ordinary = values[values <= limit]
    if len(ordinary) == 0:
        ordinary = values
    top = start + 9.0 * max(abs(start), 1e-12)
    return float(np.min(ordinary)), max(float(np.max(ordinary)), top)


MAX_DRAWN = 1200  # points per curve handed to pyqtgraph; a plot is rarely wider than 600 px
KEEP_FILL = 0.8  # a followed y range stays while the data fill at least this much of it


def followed_steps(last: float) -> tuple[float, float]:
    """The steps in view while a plot follows a run up to step ``last``: from 0 to a round
    number a little past it, so that the axis moves a few times per doubling of the run
    instead of every frame (a moved axis is drawn anew, labels and grid)."""
    top = max(last * 1.01, 1.0)
    quantum = 10.0 ** math.floor(math.log10(top)) / 5.0
    top = math.ceil(top / quantum) * quantum
    return -0.01 * top, top


def kept_range(
    current: tuple[float, float],
    lo: float,
    hi: float,
    fresh: tuple[float, float],
    refit: bool = False,
) -> tuple[float, float]:
    """The y range for values from ``lo`` to ``hi``: ``current`` while it holds them and they
    fill at least :data:`KEEP_FILL` of it, else ``fresh`` (the values with their margins), so
    that the axis is not drawn anew every frame while a loss creeps down; ``refit`` takes
    ``fresh`` in any case."""
    c0, c1 = current
    if not refit and c0 <= lo and hi <= c1 and hi > lo and hi - lo >= KEEP_FILL * (c1 - c0):
        return c0, c1
    return fresh
