"""The Trainability-map view: which pairs of hyper-parameters train a network, and the fractal
edge between training and diverging (Sohl-Dickstein 2024).

The map is computed tile by tile in the Compare tab's worker thread
(``dlopt_core.studies.trainability``),
in this process or on a Dask cluster; the first tile is a coarse picture of the whole map and
each later one sharpens it. Drag a rectangle on the map to zoom in (the zoom is computed anew at
full resolution), Back and Forward walk through the zooms, hovering reads a pixel out, and a
click trains that pixel's run again and plots its loss. When the map is complete the side plot
shows the box counts of its edge and the fitted fractal dimension. The widgets and their layout
are in ``app.compare.trainmap_ui``, the executor and the pixel's run in
``app.compare.trainmap_runs``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QFileDialog, QWidget

from app.compare.host import Host
from app.compare.trainmap_runs import MAP_KERNELS, ExecutorCache, pixel_experiment, train_pixel
from app.compare.trainmap_ui import PRESETS, build_ui
from app.plots import configure_pyqtgraph
from app.settings import make_settings
from app.threads import WorkerThread
from app.warmup import WARMER
from dlopt_core.studies import trainability as tm
from dlopt_core.studies.map_image import map_colors, picture, write_png
from dlopt_core.train import backends
from dlopt_core.train.experiment import Experiment

APP_TILE = 8  # 64 runs a tile: the first coarse picture comes within about a second


class TrainabilityMapView(QWidget):
    """The page: controls on the left, the map in the middle, fractal fit and run on the right."""

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.host = host
        self.settings = make_settings()
        self.result: tm.MapResult | None = None
        self.problem: tm.Problem | None = None
        self.history: list[tm.MapSpec] = []
        self.position = -1
        self.selected: tuple[int, int] | None = None
        self.executors = ExecutorCache()
        self.curve_runner = WorkerThread(train_pixel, "dlopt-map-pixel", self)
        self.curve_runner.finished.connect(self._show_curve)
        self.curve_runner.failed.connect(lambda _req, msg: self.host.notify("error", msg))
        build_ui(self)  # the widgets: app.compare.trainmap_ui
        self.apply_preset(0)
        self._update_buttons()

    # -- fields -----------------------------------------------------------------------------------
    def _axis_changed(self, k: int) -> None:
        axis = tm.AXES[self.axis_boxes[k].currentData()]
        for box, value in (
            (self.lo_boxes[k], axis.default[0]),
            (self.hi_boxes[k], axis.default[1]),
        ):
            box.setRange(axis.lo, axis.hi)
            box.setSingleStep(0.5 if axis.log else 0.05)
            box.setValue(value)
        self.axes_items[k].log = axis.log

    def apply_preset(self, index: int) -> None:
        """Fill the fields with preset ``index`` of :data:`PRESETS`."""
        _, _, fields = PRESETS[index]
        self.preset.setCurrentIndex(index)
        for k in range(2):
            self.axis_boxes[k].setCurrentIndex(self.axis_boxes[k].findData(fields["axes"][k]))
            self._axis_changed(k)
            self.lo_boxes[k].setValue(fields["ranges"][k][0])
            self.hi_boxes[k].setValue(fields["ranges"][k][1])
        self.optimizer.setCurrentIndex(self.optimizer.findData(fields["optimizer"]))

    def spec(self) -> tm.MapSpec:
        """The map the fields describe (MapError when they do not make one)."""
        return tm.MapSpec(
            axes=(self.axis_boxes[0].currentData(), self.axis_boxes[1].currentData()),
            ranges=(
                (self.lo_boxes[0].value(), self.hi_boxes[0].value()),
                (self.lo_boxes[1].value(), self.hi_boxes[1].value()),
            ),
            res=(self.res.value(), self.res.value()),
            steps=self.steps.value(),
            optimizer=self.optimizer.currentData(),
            beta=self.beta.value(),
            tile=APP_TILE,
            batch=self.batch.value(),
        )

    def _show_spec(self, spec: tm.MapSpec) -> None:
        for k in range(2):
            self.axis_boxes[k].blockSignals(True)
            self.axis_boxes[k].setCurrentIndex(self.axis_boxes[k].findData(spec.axes[k]))
            self.axis_boxes[k].blockSignals(False)
            axis = tm.AXES[spec.axes[k]]
            self.axes_items[k].log = axis.log
            for box, value in (
                (self.lo_boxes[k], spec.ranges[k][0]),
                (self.hi_boxes[k], spec.ranges[k][1]),
            ):
                box.setRange(axis.lo, axis.hi)
                box.setValue(value)

    def map_backend(self) -> str:
        """``cuda`` when the tab's backend (the window's setting) resolves to a GPU, else
        ``cpu``."""
        try:
            return "cuda" if backends.resolve(self.host.backend).name == "cuda" else "cpu"
        except backends.BackendError:
            return "cpu"

    def where(self) -> str | None:
        """The executor the "Run on" field names (see
        ``dlopt_core.studies.executors.make_executor``).
        """
        key = self.run_on.currentData()
        if key == "inprocess":
            return None
        if key == "local":
            return "local"
        address = self.address.text().strip()
        if not address:
            raise tm.MapError(
                "type the Dask scheduler's address (e.g. tcp://host:8786) or run in this process"
            )
        return address

    # -- computing --------------------------------------------------------------------------------
    def compute(self) -> bool:
        """Compute the map the fields describe (a new entry in the zoom history)."""
        try:
            spec = self.spec()
        except tm.MapError as exc:
            self.host.notify("error", f"The map cannot be computed: {exc}")
            return False
        return self._start(spec, new_entry=True)

    def zoom(self, rect: QRectF) -> None:
        """Compute the part of the map inside ``rect`` (map coordinates) at full resolution."""
        if self.result is None or self.host.runner.busy:
            return
        spec = self.result.spec
        steps = [(hi - lo) / (n - 1) for (lo, hi), n in zip(spec.ranges, spec.res, strict=True)]
        if rect.width() < 2 * steps[0] or rect.height() < 2 * steps[1]:
            return  # a click or a sliver: not a zoom
        ranges = ((rect.left(), rect.right()), (rect.top(), rect.bottom()))
        ranges = tuple(
            (max(lo, tm.AXES[a].lo), min(hi, tm.AXES[a].hi))
            for (lo, hi), a in zip(ranges, spec.axes, strict=True)
        )
        try:
            new = spec.zoomed(ranges)
        except tm.MapError as exc:
            self.host.notify("warning", f"This zoom cannot be computed: {exc}")
            return
        self._show_spec(new)
        self._start(new, new_entry=True)

    def go(self, delta: int) -> None:
        """Back (-1) or forward (+1) through the zooms; the map is computed again."""
        k = self.position + delta
        if not 0 <= k < len(self.history) or self.host.runner.busy:
            return
        self.position = k
        self._show_spec(self.history[k])
        self._start(self.history[k], new_entry=False)

    def _start(self, spec: tm.MapSpec, new_entry: bool) -> bool:
        if self.host.runner.busy:
            self.host.notify("warning", "Another comparison is running; cancel it first.")
            return False
        try:
            where = self.where()
            problem = tm.Problem.paper(self.width.value(), self.seed.value())
        except tm.MapError as exc:
            self.host.notify("error", str(exc))
            return False
        if new_entry:
            del self.history[self.position + 1 :]
            self.history.append(spec)
            self.position = len(self.history) - 1
        backend = self.map_backend()
        self.problem = problem
        self.result = None
        self.selected = None
        self.marker.setData([], [])
        self._clear_fractal()
        executors = self.executors

        def job(report, should_stop):
            WARMER.ensure([MAP_KERNELS], cancelled=should_stop)
            executor = executors.get(where)
            return tm.trainability_map(
                problem, spec, executor, progress=report, should_stop=should_stop, backend=backend
            )

        started = self.host.runner.start("trainability map", job, self._show, self._finished)
        self._update_buttons()
        return started

    def _finished(self, result: tm.MapResult) -> None:
        self._show(result)
        self._update_buttons()
        if result.complete:
            self._show_fractal(result.fractal)

    def _update_buttons(self) -> None:
        busy = self.host.runner.busy
        self.back_button.setEnabled(self.position > 0 and not busy)
        self.forward_button.setEnabled(self.position < len(self.history) - 1 and not busy)
        done = self.result is not None
        self.png_button.setEnabled(done)
        self.npz_button.setEnabled(done)
        self.send_button.setEnabled(self.selected is not None)

    # -- drawing ----------------------------------------------------------------------------------
    def _show(self, result: tm.MapResult) -> None:
        """Draw a partial or complete map (pixels not computed show their computed neighbour)."""
        self.result = result
        spec = result.spec
        self.image.setImage(map_colors(result.filled()), autoLevels=False, levels=(0, 255))
        (lo0, hi0), (lo1, hi1) = spec.ranges
        d0, d1 = (hi0 - lo0) / (spec.res[0] - 1), (hi1 - lo1) / (spec.res[1] - 1)
        self.image.setRect(QRectF(lo0 - d0 / 2, lo1 - d1 / 2, spec.res[0] * d0, spec.res[1] * d1))
        self.view.setRange(
            xRange=(lo0 - d0 / 2, hi0 + d0 / 2), yRange=(lo1 - d1 / 2, hi1 + d1 / 2), padding=0.0
        )
        for k, pos in enumerate(("bottom", "left")):
            axis = tm.AXES[spec.axes[k]]
            self.map_plot.setLabel(pos, axis.label + (" (log scale)" if axis.log else ""))
        self.map_note.show(False)
        share = result.converged[result.done].mean() if result.done.any() else 0.0
        state = (
            "complete" if result.complete else f"{result.tiles_done} of {result.tiles_total} tiles"
        )
        self.map_plot.setTitle(
            f"<span style='font-size:10pt;font-weight:600'>{spec.res[0]} \u00d7 {spec.res[1]} "
            f"runs, {spec.steps} steps: {share:.0%} train ({state})</span>"
        )

    def _clear_fractal(self) -> None:
        self.fractal_points.setData([], [])
        self.fractal_line.setData([], [])
        self.fractal_note.set_text("Box counts of the finished map")
        self.fractal_note.show(True)

    def _show_fractal(self, fit: tm.FractalFit) -> None:
        use = fit.counts > 0
        if not use.any():
            self.fractal_note.set_text("No edge in this map: every run trains, or none")
            return
        self.fractal_points.setData(fit.sizes[use].astype(float), fit.counts[use].astype(float))
        if fit.ok:
            lo, hi = fit.fit_range
            sizes = np.array([lo, hi], dtype=float)
            self.fractal_line.setData(sizes, np.exp(fit.intercept) * sizes**-fit.dimension)
            title = f"Fractal dimension {fit.dimension:.2f} (boxes of {lo} to {hi} pixels)"
        else:
            title = "Too few box sizes for a fractal dimension"
        self.fractal_plot.setTitle(f"<span style='font-size:10pt;font-weight:600'>{title}</span>")
        self.fractal_note.show(False)

    def pixel_at(self, point: QPointF) -> tuple[int, int] | None:
        """The map pixel under ``point`` (map coordinates), or None outside the map."""
        if self.result is None:
            return None
        spec = self.result.spec
        out = []
        for k, x in enumerate((point.x(), point.y())):
            lo, hi = spec.ranges[k]
            i = int(round((x - lo) / (hi - lo) * (spec.res[k] - 1)))
            if not 0 <= i < spec.res[k]:
                return None
            out.append(i)
        return out[0], out[1]

    def describe_pixel(self, i: int, j: int) -> str:
        result = self.result
        assert result is not None
        spec = result.spec
        names = [
            f"{spec.axes[k]} = {v[n]:.4g}"
            for k, (v, n) in enumerate(((result.values0, i), (result.values1, j)))
        ]
        if not result.done[i, j]:
            return f"{', '.join(names)}: not computed yet"
        value = result.value[i, j]
        outcome = "trains" if result.converged[i, j] else "diverges"
        return f"{', '.join(names)}: {outcome} (value {value:.4g})"

    def _hover(self, pos) -> None:
        if not self.map_plot.sceneBoundingRect().contains(pos):
            return
        pixel = self.pixel_at(self.view.mapSceneToView(pos))
        if pixel is not None:
            self.readout.setText(self.describe_pixel(*pixel))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pixel = self.pixel_at(self.view.mapSceneToView(ev.scenePos()))
        if pixel is not None:
            self.select(*pixel)

    def select(self, i: int, j: int) -> None:
        """Train pixel (i, j)'s run again (in a thread) and plot its loss."""
        if self.result is None or self.problem is None:
            return
        self.selected = (i, j)
        spec = self.result.spec
        x = np.linspace(*spec.ranges[0], spec.res[0])[i]
        y = np.linspace(*spec.ranges[1], spec.res[1])[j]
        self.marker.setData([x], [y])
        self.readout.setText(self.describe_pixel(i, j))
        self._update_buttons()
        self.curve_runner.submit((self.problem, spec, i, j))

    def _show_curve(self, request, losses: np.ndarray) -> None:
        _, spec, i, j = request
        v = tm.normalised_losses(losses)
        steps = np.arange(len(v), dtype=float)
        self.curve.setData(steps, v)
        value, conv = tm.values_from_losses(losses[:, None])
        outcome = "trains" if conv[0] else "diverges"
        hyper = tm.pixel_hyper(spec, i, j)
        names = ", ".join(
            f"{a} = {hyper[a] if a in hyper else hyper['beta']:.4g}" for a in spec.axes
        )
        self.curve_plot.setTitle(
            f"<span style='font-size:10pt;font-weight:600'>{names}: {outcome}</span>"
        )
        self.curve_note.show(False)

    # -- export and hand-over ---------------------------------------------------------------------
    def _save_path(self, title: str, suffix: str, filter_text: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, f"trainability-map{suffix}", filter_text)
        if not path:
            return None
        return path if path.endswith(suffix) else path + suffix

    def export_png(self, path: str | None = None) -> bool:
        """Save the map as a PNG (asks where when ``path`` is None)."""
        if self.result is None:
            return False
        path = path or self._save_path("Export the map as PNG", ".png", "PNG pictures (*.png)")
        if not path:
            return False
        try:
            write_png(path, picture(self.result.filled()), max(1, 512 // max(self.result.spec.res)))
        except OSError as exc:
            self.host.notify("error", f"The picture cannot be written: {exc.strerror or exc}")
            return False
        self.host.notify("info", f"Map written to {path}")
        return True

    def export_npz(self, path: str | None = None) -> bool:
        """Save the map's arrays as .npz (asks where when ``path`` is None)."""
        if self.result is None:
            return False
        path = path or self._save_path("Export the map as npz", ".npz", "NumPy arrays (*.npz)")
        if not path:
            return False
        try:
            self.result.save_npz(path)
        except OSError as exc:
            self.host.notify("error", f"The file cannot be written: {exc.strerror or exc}")
            return False
        self.host.notify("info", f"Map written to {path}")
        return True

    def playground_experiment(self) -> Experiment | None:
        """The selected pixel's run as a Playground experiment (``pixel_experiment``); None when
        no pixel is selected."""
        if self.selected is None or self.problem is None or self.result is None:
            return None
        return pixel_experiment(self.problem, self.result.spec, *self.selected)

    def send_to_playground(self) -> None:
        try:
            exp = self.playground_experiment()
        except (OSError, ValueError) as exc:
            self.host.notify("error", f"The run cannot be sent: {exc}")
            return
        if exp is not None:
            lr1, lr2 = exp.layer_lr or (1.0, 1.0)
            self.host.send(
                exp,
                f"The pixel's run is in the Playground: learning rates {lr1:g} "
                f"(W1) and {lr2:g} (W2); its initial weights are drawn anew "
                f"(see the button's tooltip)",
            )

    def shutdown(self) -> None:
        """Stop the pixel runner and close a Dask cluster started for the maps."""
        self.curve_runner.stop()
        self.executors.close()
