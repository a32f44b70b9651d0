"""A painted diagram of a fully connected network: nodes, signed weights and neuron thumbnails.

Weights are edges coloured by sign (orange negative, blue positive) whose width and opacity grow
with ``|w|``; hidden neurons show a small image of their output over the input plane. Geometry is
computed on resize and on a change of architecture; weight updates only re-bucket the edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.colors import class_color

NEGATIVE = class_color(0)  # orange, as class 0
POSITIVE = class_color(1)  # blue, as class 1
NEUTRAL = QColor(150, 150, 150)

_N_LEVELS = 12  # magnitude buckets per sign: one pen and one drawLines call each
_HIT_TOLERANCE = 4.0  # pixels
_MAX_THUMB = 46.0
_MAX_INPUT_NODE = 16.0
_PITCH_RATIO = 1.3  # node pitch / node size
_MARGIN = 8.0


def diverging_lut() -> np.ndarray:
    """256 ARGB32 colours from orange (-1) through near-white (0) to blue (+1)."""
    t = np.linspace(-1.0, 1.0, 256)
    mid = np.array([246.0, 246.0, 243.0])
    neg = np.array([NEGATIVE.red(), NEGATIVE.green(), NEGATIVE.blue()], dtype=float)
    pos = np.array([POSITIVE.red(), POSITIVE.green(), POSITIVE.blue()], dtype=float)
    a = np.abs(t)[:, None] ** 0.85
    end = np.where(t[:, None] < 0.0, neg, pos)
    rgb = np.clip(np.rint(mid * (1.0 - a) + end * a), 0, 255).astype(np.uint32)
    return (0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).astype(np.uint32)


_LUT = diverging_lut()


def values_to_qimage(values: np.ndarray) -> QImage:
    """A QImage of a 2-D array in [-1, 1] through the diverging colormap (row 0 at the top)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    idx = np.clip(np.rint((v + 1.0) * 127.5), 0, 255).astype(np.intp)
    argb = np.ascontiguousarray(_LUT[idx])
    h, w = argb.shape
    return QImage(argb.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` blended towards ``b`` by ``t`` in [0, 1], opaque."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


class NetworkDiagram(QWidget):
    """Columns of nodes joined by weight edges; call :meth:`set_network` on every update."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._sizes: list[int] = []
        self._names: list[str] = []
        self._has_bias = True
        self._theta: np.ndarray | None = None
        self._images: list[list[QImage]] = []  # per hidden (and optionally output) column
        self._hover_edge: int | None = None
        self._hover_node: tuple[int, int] | None = None
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(7.0, self._font.pointSizeF() * 0.85))
        self._clear_edges()
        self._geometry_dirty = True
        self._node_rects: list[list[QRectF]] = []
        self._col_x: list[float] = []
        self._headers: list[tuple[QRectF, str]] = []
        self._labels: list[tuple[QRectF, str]] = []

    # ---------------------------------------------------------------- public API
    def set_network(
        self,
        layer_sizes: Sequence[int],
        theta: np.ndarray | None,
        thumbnails: Sequence[np.ndarray] | None = None,
        input_names: Sequence[str] | None = None,
        bias: bool = True,
    ) -> None:
        """Show ``layer_sizes`` with the flat parameters ``theta`` (None: grey edges), laid
        out as ``Network`` lays them out: per layer W, then b unless ``bias`` is False.

        ``thumbnails[l]`` (shape ``(n_units, H, W)``, values in [-1, 1], row 0 drawn on top) is the
        output of hidden layer ``l`` over the input plane; one more entry, if given, is drawn in
        the output nodes. ``input_names`` label the input nodes (default x1, x2, ...).
        """
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"layer_sizes needs at least two positive sizes, got {layer_sizes!r}")
        names = list(input_names) if input_names is not None else []
        if len(names) != sizes[0]:
            names = [f"x{i + 1}" for i in range(sizes[0])]
        if sizes != self._sizes or names != self._names or bias != self._has_bias:
            self._sizes = sizes
            self._names = names
            self._has_bias = bias
            self._build_topology()
            self._geometry_dirty = True
            self._hover_edge = None
            self._hover_node = None
        if theta is not None:
            theta = np.asarray(theta, dtype=np.float64).reshape(-1)
            if theta.size != self._n_params:
                raise ValueError(f"theta has {theta.size} entries, the network {self._n_params}")
            theta = theta.copy()
        self._theta = theta
        self._images = self._make_images(thumbnails)
        if not self._geometry_dirty:
            self._bucket_edges()
        self.update()

    def layer_sizes(self) -> list[int]:
        """The sizes last passed to :meth:`set_network`."""
        return list(self._sizes)

    def edge_at(self, pos: QPointF) -> tuple[int, int, int, float] | None:
        """``(layer, i, j, w)`` of the edge nearest ``pos`` within a few pixels, else None.

        ``layer`` indexes ``Network.unflatten`` (0 = input to first layer); ``w = W[i, j]``
        (nan when no parameters were given).
        """
        k = self._edge_index_at(pos)
        if k is None:
            return None
        return (int(self._e_layer[k]), int(self._e_i[k]), int(self._e_j[k]), self._weight(k))

    def node_at(self, pos: QPointF) -> tuple[int, int] | None:
        """``(column, unit)`` of the node under ``pos`` (column 0 = inputs), else None."""
        self._ensure_geometry()
        for c, x in enumerate(self._col_x):
            rects = self._node_rects[c]
            if not rects or abs(pos.x() - x) > rects[0].width() / 2 + 2.0:
                continue
            for u, r in enumerate(rects):
                if r.adjusted(-2.0, -2.0, 2.0, 2.0).contains(pos):
                    return c, u
        return None

    def node_center(self, column: int, unit: int) -> QPointF:
        """Centre of a node in widget coordinates (for tests and overlays)."""
        self._ensure_geometry()
        return self._node_rects[column][unit].center()

    def edge_line(self, layer: int, i: int, j: int) -> QLineF:
        """The drawn segment of the weight ``W[layer][i, j]``."""
        self._ensure_geometry()
        return QLineF(self._lines[self._edge_offsets[layer] + i * self._sizes[layer + 1] + j])

    def tooltip_at(self, pos: QPointF) -> str | None:
        """The tooltip text shown at ``pos``: a node's bias or an edge's weight."""
        node = self.node_at(pos)
        if node is not None:
            return self._node_text(*node)
        k = self._edge_index_at(pos)
        if k is None:
            return None
        layer, i, j = int(self._e_layer[k]), int(self._e_i[k]), int(self._e_j[k])
        w = self._weight(k)
        value = "n/a" if np.isnan(w) else f"{w:+.4g}"
        return (
            f"layer {layer + 1}: w[{i + 1}\u2192{j + 1}] = {value}\n"
            f"from {self._node_name(layer, i)} to {self._node_name(layer + 1, j)}"
        )

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(240, 180)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(360, 260)

    # ---------------------------------------------------------------- topology and data
    def _clear_edges(self) -> None:
        self._n_params = 0
        self._e_layer = np.zeros(0, dtype=np.int64)
        self._e_i = np.zeros(0, dtype=np.int64)
        self._e_j = np.zeros(0, dtype=np.int64)
        self._e_flat = np.zeros(0, dtype=np.int64)
        self._e_gamma = np.zeros(0)
        self._edge_offsets: list[int] = []
        self._bias_offsets: list[int] = []
        self._lines: list[QLineF] = []
        self._seg = np.zeros((4, 0))
        self._buckets: list[tuple[QPen, list[QLineF]]] = []
        self._pens: list[QPen] = []
        self._grey_pen = QPen()
        self._strength = np.zeros(0)

    def _build_topology(self) -> None:
        """Per-edge layer/i/j arrays and their flat indices into theta."""
        self._clear_edges()
        layers, ii, jj, flat = [], [], [], []
        offset = edge = 0
        for layer, (n_in, n_out) in enumerate(zip(self._sizes[:-1], self._sizes[1:], strict=True)):
            i, j = np.divmod(np.arange(n_in * n_out), n_out)
            layers.append(np.full(n_in * n_out, layer))
            ii.append(i)
            jj.append(j)
            flat.append(offset + np.arange(n_in * n_out))
            self._edge_offsets.append(edge)
            self._bias_offsets.append(offset + n_in * n_out)
            edge += n_in * n_out
            offset += n_in * n_out + (n_out if self._has_bias else 0)
        self._n_params = offset
        self._e_layer = np.concatenate(layers)
        self._e_i = np.concatenate(ii)
        self._e_j = np.concatenate(jj)
        self._e_flat = np.concatenate(flat)
        # dense layers get a steeper magnitude curve so their strongest weights stand out
        fan = np.array([a * b for a, b in zip(self._sizes[:-1], self._sizes[1:], strict=True)])
        self._e_gamma = np.clip(1.0 + 0.9 * np.log2(fan / 24.0), 1.0, 6.0)[self._e_layer]

    def _make_images(self, thumbnails: Sequence[np.ndarray] | None) -> list[list[QImage]]:
        images: list[list[QImage]] = []
        if thumbnails is None:
            return images
        for col, thumbs in enumerate(thumbnails, start=1):
            if col >= len(self._sizes):
                break
            arr = np.asarray(thumbs)
            if arr.ndim != 3 or arr.shape[0] != self._sizes[col]:
                raise ValueError(
                    f"thumbnails[{col - 1}] must have shape ({self._sizes[col]}, H, W), "
                    f"got {arr.shape}"
                )
            images.append([values_to_qimage(a) for a in arr])
        return images

    def _weight(self, k: int) -> float:
        if self._theta is None:
            return float("nan")
        return float(self._theta[self._e_flat[k]])

    def _bias(self, column: int, unit: int) -> float | None:
        if self._theta is None or column == 0 or not self._has_bias:
            return None
        return float(self._theta[self._bias_offsets[column - 1] + unit])

    def _column_title(self, column: int, short: bool) -> str:
        last = len(self._sizes) - 1
        if column == 0:
            return "in" if short else f"input ({self._sizes[0]})"
        if column == last:
            return "out" if short else "output"
        return f"h{column}" if short else f"hidden {column}"

    def _node_name(self, column: int, unit: int) -> str:
        if column == 0:
            return f"input {self._names[unit]}"
        if column == len(self._sizes) - 1:
            return f"output {unit + 1}"
        return f"hidden {column}, unit {unit + 1}"

    def _node_text(self, column: int, unit: int) -> str:
        name = self._node_name(column, unit)
        bias = self._bias(column, unit)
        if column == 0:
            return name
        if not self._has_bias:
            return f"{name}\nno bias"
        if bias is None:
            return f"{name}\nbias b = n/a"
        return f"{name}\nbias b = {bias:+.4g}"

    # ---------------------------------------------------------------- geometry
    def _ensure_geometry(self) -> None:
        if self._geometry_dirty:
            self._layout()
            self._geometry_dirty = False
            self._bucket_edges()

    def _layout(self) -> None:
        """Node rectangles, labels and edge segments for the current size."""
        self._node_rects, self._col_x, self._headers, self._labels = [], [], [], []
        if not self._sizes:
            self._lines, self._seg = [], np.zeros((4, 0))
            return
        fm = QFontMetricsF(self._font)
        w, h = float(max(self.width(), 60)), float(max(self.height(), 60))
        n_cols = len(self._sizes)
        top = _MARGIN + fm.height() + 6.0
        avail = max(h - top - _MARGIN, 20.0)
        n_in = self._sizes[0]
        in_pitch = min(avail / n_in, _MAX_INPUT_NODE * _PITCH_RATIO)
        show_labels = in_pitch >= fm.height() * 0.95 and n_in <= 24
        label_w = max((fm.horizontalAdvance(s) for s in self._names), default=0.0)
        label_w = min(label_w, w * 0.18)
        left = _MARGIN + (label_w + 6.0 if show_labels else 0.0)
        right = w - _MARGIN
        gap = (right - left) / max(n_cols - 1, 1)
        max_node = min(_MAX_THUMB, gap * 0.42)
        sizes_px: list[float] = []
        for c, n in enumerate(self._sizes):
            cap = min(_MAX_INPUT_NODE, max_node) if c == 0 else max_node
            pitch = min(avail / n, cap * _PITCH_RATIO)
            sizes_px.append(max(pitch / _PITCH_RATIO, 1.5))
        # column centres: first and last node edges touch the margins
        x0 = left + sizes_px[0] / 2
        x1 = right - sizes_px[-1] / 2
        step = (x1 - x0) / max(n_cols - 1, 1)
        short = any(
            fm.horizontalAdvance(self._column_title(c, False)) > step * 0.95 for c in range(n_cols)
        )
        for c, n in enumerate(self._sizes):
            x = x0 + c * step
            s = sizes_px[c]
            pitch = s * _PITCH_RATIO if n > 1 else s
            y_start = top + (avail - pitch * (n - 1)) / 2
            rects = [QRectF(x - s / 2, y_start + u * pitch - s / 2, s, s) for u in range(n)]
            self._col_x.append(x)
            self._node_rects.append(rects)
            title = self._column_title(c, short)
            tw = fm.horizontalAdvance(title) + 4.0
            hx = min(max(x - tw / 2, 2.0), w - tw - 2.0)
            self._headers.append((QRectF(hx, _MARGIN, tw, fm.height()), title))
        if show_labels:
            for u, r in enumerate(self._node_rects[0]):
                box = QRectF(_MARGIN, r.center().y() - fm.height() / 2, label_w + 2.0, fm.height())
                self._labels.append(
                    (box, fm.elidedText(self._names[u], Qt.TextElideMode.ElideRight, label_w + 2))
                )
        # edge segments from the right side of the source to the left side of the target
        ax, ay, bx, by = [], [], [], []
        for layer in range(n_cols - 1):
            src, dst = self._node_rects[layer], self._node_rects[layer + 1]
            sx = src[0].right()
            dx = dst[0].left()
            sy = np.array([r.center().y() for r in src])
            dy = np.array([r.center().y() for r in dst])
            ax.append(np.full(sy.size * dy.size, sx))
            bx.append(np.full(sy.size * dy.size, dx))
            ay.append(np.repeat(sy, dy.size))
            by.append(np.tile(dy, sy.size))
        seg = np.vstack(
            [np.concatenate(ax), np.concatenate(ay), np.concatenate(bx), np.concatenate(by)]
        )
        self._seg = seg
        self._lines = [QLineF(a, b, c, d) for a, b, c, d in seg.T.tolist()]
        # pen widths follow the densest column so strong edges do not merge into a band
        min_pitch = min(
            (rects[1].center().y() - rects[0].center().y()) if len(rects) > 1 else _MAX_THUMB
            for rects in self._node_rects
        )
        self._make_pens(max_width=float(np.clip(min_pitch * 0.25, 1.5, 4.5)))

    def _make_pens(self, max_width: float) -> None:
        """Opaque pens, pre-mixed with the background: semi-transparent wide antialiased
        strokes are an order of magnitude slower in Qt's raster engine."""
        self._max_width = max_width
        bg = self.palette().color(QPalette.ColorRole.Base)
        self._pens = []
        for base in (NEGATIVE, POSITIVE):
            for level in range(_N_LEVELS):
                r = level / (_N_LEVELS - 1)
                pen = QPen(_mix(bg, base, 0.12 + 0.83 * r**0.8), 1.0 + (max_width - 1.0) * r)
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
                self._pens.append(pen)
        self._grey_pen = QPen(_mix(bg, NEUTRAL, 0.45), 0.7)

    def _bucket_edges(self) -> None:
        """Group the edge segments by (sign, magnitude level) for one drawLines call per pen."""
        n = len(self._lines)
        if n == 0:
            self._buckets, self._strength = [], np.zeros(0)
            return
        if self._theta is None:
            self._buckets = [(self._grey_pen, self._lines)]
            self._strength = np.zeros(n)
            return
        w = self._theta[self._e_flat]
        a = np.abs(w)
        scale = float(np.percentile(a, 98.0)) if a.size > 1 else float(a[0])
        if not np.isfinite(scale) or scale <= 0.0:
            scale = float(np.nanmax(a)) if np.isfinite(np.nanmax(a)) else 0.0
        r = np.clip(a / scale, 0.0, 1.0) if scale > 0.0 else np.zeros(n)
        r = np.nan_to_num(r, nan=0.0)
        self._strength = r
        level = np.rint(r**self._e_gamma * (_N_LEVELS - 1)).astype(np.int64)
        bucket = level + _N_LEVELS * (w > 0.0)
        # weak levels first so strong edges are drawn on top, both signs interleaved
        key = (bucket % _N_LEVELS) * 2 + bucket // _N_LEVELS
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        bounds = np.searchsorted(sorted_key, np.arange(2 * _N_LEVELS + 1))
        lines = self._lines
        order_list = order.tolist()
        self._buckets = []
        for kk in range(2 * _N_LEVELS):
            lo, hi = int(bounds[kk]), int(bounds[kk + 1])
            if hi > lo:
                pen = self._pens[(kk % 2) * _N_LEVELS + kk // 2]
                self._buckets.append((pen, [lines[e] for e in order_list[lo:hi]]))

    def _edge_index_at(self, pos: QPointF) -> int | None:
        self._ensure_geometry()
        if self._seg.shape[1] == 0:
            return None
        px, py = pos.x(), pos.y()
        x0, y0, x1, y1 = self._seg
        # quick reject: only segments whose x-range contains the point
        cand = np.nonzero((x0 - _HIT_TOLERANCE <= px) & (px <= x1 + _HIT_TOLERANCE))[0]
        if cand.size == 0:
            return None
        x0, y0, x1, y1 = x0[cand], y0[cand], x1[cand], y1[cand]
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((px - x0) * dx + (py - y0) * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0, 1)
        dist = np.hypot(x0 + t * dx - px, y0 + t * dy - py)
        best = float(dist.min())
        if best > _HIT_TOLERANCE:
            return None
        near = np.nonzero(dist <= best + 0.5)[0]
        if near.size > 1 and self._strength.size:
            near = near[np.argmax(self._strength[cand[near]])]
        else:
            near = near[0]
        return int(cand[near])

    # ---------------------------------------------------------------- Qt events
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        self._geometry_dirty = True
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._font = QFont(self.font())
            self._font.setPointSizeF(max(7.0, self._font.pointSizeF() * 0.85))
            self._geometry_dirty = True  # pens are pre-mixed with the background
            self.update()
        super().changeEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        node = self.node_at(pos)
        edge = None if node is not None else self._edge_index_at(pos)
        if node != self._hover_node or edge != self._hover_edge:
            self._hover_node, self._hover_edge = node, edge
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if self._hover_node is not None or self._hover_edge is not None:
            self._hover_node = self._hover_edge = None
            self.update()
        super().leaveEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        self._ensure_geometry()
        pal = self.palette()
        p = QPainter(self)
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        if not self._sizes:
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for pen, lines in self._buckets:
            p.setPen(pen)
            p.drawLines(lines)
        if self._hover_edge is not None:
            self._draw_hover_edge(p, pal)
        self._draw_nodes(p, pal)
        self._draw_text(p, pal)
        p.end()

    # ---------------------------------------------------------------- painting helpers
    def _draw_hover_edge(self, p: QPainter, pal: QPalette) -> None:
        k = self._hover_edge
        line = self._lines[k]
        w = self._weight(k) if self._theta is not None else 0.0
        color = NEUTRAL if not w or np.isnan(w) else (POSITIVE if w > 0 else NEGATIVE)
        for pen_color, width in ((pal.color(QPalette.ColorRole.Text), 4.5), (color, 2.5)):
            pen = QPen(pen_color, width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(line)

    def _draw_nodes(self, p: QPainter, pal: QPalette) -> None:
        border = QColor(pal.color(QPalette.ColorRole.Text))
        border.setAlphaF(0.45)
        input_fill = pal.color(QPalette.ColorRole.AlternateBase)
        base = pal.color(QPalette.ColorRole.Base)
        plain_fill = _mix(base, pal.color(QPalette.ColorRole.Text), 0.08)
        last = len(self._sizes) - 1
        for c, rects in enumerate(self._node_rects):
            images = self._images[c - 1] if 0 < c <= len(self._images) else None
            small = rects[0].width() < 5.0
            p.setPen(Qt.PenStyle.NoPen if small else QPen(border, 1.0))
            if images is not None:
                for r, img in zip(rects, images, strict=True):
                    p.drawImage(r, img)
                if not small:
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRects(rects)
            else:
                p.setBrush(input_fill if c == 0 else plain_fill)
                if c == last or c == 0:
                    radius = rects[0].width() * (0.5 if c == last else 0.25)
                    for r in rects:
                        p.drawRoundedRect(r, radius, radius)
                else:
                    p.drawRects(rects)
        if self._hover_node is not None:
            c, u = self._hover_node
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2.0))
            p.drawRect(self._node_rects[c][u].adjusted(-2.0, -2.0, 2.0, 2.0))

    def _draw_text(self, p: QPainter, pal: QPalette) -> None:
        p.setFont(self._font)
        text = pal.color(QPalette.ColorRole.Text)
        muted = QColor(text)
        muted.setAlphaF(0.65)
        p.setPen(muted)
        center = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
        for rect, title in self._headers:
            p.drawText(rect, int(center), title)
        p.setPen(text)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for rect, label in self._labels:
            p.drawText(rect, int(right), label)
