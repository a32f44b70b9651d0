"""Drawing a Playground run into the tab's widgets.

The refresh's drawing jobs (curves, small plots, decision boundary, network diagram and optimizer
inspector, each at its own pace while training), the status line, the banner (divergence, early
stop, stop conditions, a loss that does not converge) and the notes shown while the kernels compile
or an experiment is built. :class:`RunDrawing` is a part of
:class:`app.playground.tab.PlaygroundTab`, which receives the worker's snapshots.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from app.playground.data_panel import CSV
from app.playground.status import (
    CONVERGING_AGAIN,
    NOT_CONVERGING,
    RECENT_POINTS,
    divergence_text,
    loss_ratio,
    not_converging_text,
)
from app.snapshots import BoundaryResult, Snapshot
from app.warmup import WARMER
from app.worker import KERNELS_RELEASE_GIL, STOP_BUDGET, STOP_TARGET

# While training, the loss and error curves are redrawn at most every CURVE_S seconds, and the
# boundary, network, inspector and small plots every DETAIL_S. Kernels that keep the GIL during a
# chunk share the interpreter with the GUI, so then the GUI draws less often.
CURVE_S = 0.05 if KERNELS_RELEASE_GIL else 0.1
DETAIL_S = 0.1 if KERNELS_RELEASE_GIL else 0.2


class RunDrawing:
    """What the tab draws of the run, and the notes it shows while it waits for the worker."""

    def _show_preparing(self) -> None:
        """The compile's elapsed seconds and what it compiles, so that a first start visibly
        makes progress."""
        seconds = int(time.monotonic() - self._prep_started)
        clock = f" {seconds} s" if seconds else ""
        status = WARMER.status()
        self.status.kernels.setText(f"preparing kernels\u2026{clock}")
        self.status.kernels.setToolTip(status.describe())
        if self._info is None:
            now = (
                f"\nNow: {status.function} ({status.compiled} functions so far)"
                if status.function
                else ""
            )
            where = (
                "in a separate process, while this window stays usable"
                if status.where != "here"
                else "in this process, as Numba's cache cannot be "
                "used here (the window may be slow meanwhile)"
            )
            self.output.show_message(
                f"Preparing the training kernels\u2026{clock}{now}\n\nThe first start after "
                f"installing compiles them with Numba, {where}; later starts load them from "
                "its cache at once."
            )

    def _show_busy(self) -> None:
        """The worker is still reading the data file, or building a large data set or network
        and evaluating its first step: say so where the plot will be (the views below would
        otherwise go on showing the previous experiment under the new settings)."""
        if not self._pending or not self.kernels_ready:
            return
        if self._exp.data.kind == CSV:
            name = Path(self._exp.data.path).name
            self.output.show_message(
                f"Reading {name}\u2026\n\nLarge files take a few seconds; "
                "the window stays responsive and shows the data once it "
                "is read."
            )
            self.statusMessage.emit(f"reading {name}\u2026")
            return
        self.output.show_message(
            "Preparing the experiment\u2026\n\nA large data set or "
            "network takes a while to build and to evaluate; the window "
            "stays responsive and shows the run once it is ready."
        )
        self.statusMessage.emit("preparing the experiment\u2026")

    def _show_eval_note(self, note: str) -> None:
        """Say where a large data set's curves come from: a fixed sample of its rows."""
        self.curves.set_eval_note(note)
        self.status.sample.setVisible(bool(note))
        self.status.sample.setText("curves on a sample of rows" if note else "")
        self.status.sample.setToolTip(
            f"The loss and error curves and early stopping are {note}: a fixed sample, the same "
            "for the whole run, so that training stays fast on a large data set"
            if note
            else ""
        )

    # -- drawing ----------------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Draw what is due. While training, one kind of work per tick keeps each tick short,
        and of the jobs that are due the one that waited longest goes first: curves that take
        longer to draw than their interval cannot starve the boundary, the small plots and the
        inspector."""
        snap = self._latest
        if snap is None:
            return
        now = time.monotonic()
        live = snap.playing
        for name in sorted(self._job_ran_at, key=self._job_ran_at.__getitem__):
            if getattr(self, name)(snap, now, live):
                self._job_ran_at[name] = now
                if live:
                    return

    def _job_curves(self, snap: Snapshot, now: float, live: bool) -> bool:
        if snap is self._drawn or (live and now - self._curves_at < CURVE_S):
            return False
        self._curves_at = now
        self._drawn = snap
        self.curves.show_history(
            snap.history_steps, snap.history, small=False, bands=snap.history_bands
        )
        if snap.play_serial == self.controller.play_serial:  # answers the newest command
            self.transport.set_playing(snap.playing)
        self.transport.set_counter(snap.step, snap.epoch)
        self._update_status(snap)
        self._update_banner(snap)
        return True

    def _job_small(self, snap: Snapshot, now: float, live: bool) -> bool:
        drawn = self._drawn
        if drawn is None or drawn is self._small_drawn:
            return False
        if live and now - self._small_at < DETAIL_S:
            return False
        self._small_at = now
        self._small_drawn = drawn
        self.curves.show_small(drawn.history_steps, drawn.history, drawn.history_bands)
        self.curves.show_sharpness(drawn.sharpness)
        return True

    def _job_boundary(self, snap: Snapshot, now: float, live: bool) -> bool:
        result = self._boundary_new
        if result is None:
            return False
        self._boundary_new = None
        if result.generation != self.controller.generation:
            return False
        self._boundary = result
        self.output.set_boundary(result)
        self.output_section.title_label.setText(f"Output \u00b7 step {result.step:,}")
        self._call_diagram(result)
        return True

    def _job_details(self, snap: Snapshot, now: float, live: bool) -> bool:
        """Ask for a new boundary; refresh the inspector (and the diagram without a boundary)."""
        info = self._info
        if info is None or (live and now - self._detail_at < DETAIL_S):
            return False
        if info.bounds is not None:
            if self._boundary_pending and now - self._boundary_asked_at > 2.0:
                self._boundary_pending = False  # lost (a rebuild came in between): ask again
            if not self._boundary_pending and (
                self._boundary is None or self._boundary.step != snap.step
            ):
                self._boundary_pending = True
                self._boundary_asked_at = now
                self.controller.request_boundary()
        # while playing, the newest snapshot with one step's update; at rest the model shown,
        # whose update the worker works out (none rather than that of an earlier step)
        full = self._latest_full
        if full is None or full.step > snap.step or not snap.playing:
            full = snap
        if snap is self._inspected_for:
            return False
        self._detail_at = now
        self._inspected_for = snap
        if info.bounds is None:
            self._call_diagram(None)
        self._call_inspector(full)
        return True

    def _update_status(self, snap: Snapshot) -> None:
        s = self.status
        s.step.setText(f"step {snap.step:,} \u00b7 epoch {snap.epoch:,.1f}")
        train, val = snap.last("train_loss"), snap.last("val_loss")
        text = f"train loss {train:.4g}"
        if math.isfinite(val):
            text += f" \u00b7 val loss {val:.4g}"
        s.losses.setText(text)
        s.speed.setText(f"{snap.steps_per_second:,.0f} steps/s" if snap.playing else "paused")

    def _update_banner(self, snap: Snapshot) -> None:
        markers: dict[str, tuple[float, str] | None] = {
            "diverged": None,
            "early_stopped": None,
            "stop": None,
        }
        key: object = None
        kind = text = ""
        if snap.status == "diverged":
            key = ("diverged", snap.stop_step)
            kind, text = "error", divergence_text(snap.stop_step)
            markers["diverged"] = (snap.stop_step, "diverged")
        elif snap.status == "early_stopped":
            key = ("early", snap.stop_step)
            kind = "success"
            text = (
                f"early stopping at step {snap.stop_step:,}: the validation loss stopped "
                f"improving; best {snap.best_val_loss:.4g} at step {snap.best_val_step:,} "
                "(those parameters are kept)"
            )
            markers["early_stopped"] = (snap.stop_step, "early stop")
        elif snap.stop_reason == STOP_BUDGET:
            key = ("budget", snap.step)
            kind = "info"
            text = (
                f"reached the step budget of {self._exp.max_steps:,} steps; raise "
                "\u201cStop at step\u201d or reset to train on"
            )
            markers["stop"] = (snap.step, "budget")
        elif snap.stop_reason == STOP_TARGET:
            key = ("target", snap.step)
            kind = "success"
            text = (
                f"reached the target loss {self._exp.target_loss:g} at step {snap.step:,} "
                f"(train loss {snap.last('train_loss'):.4g})"
            )
            markers["stop"] = (snap.step, "target")
        elif self._check_convergence(snap):
            key = ("not_converging",)
            kind = "warning"
            train = snap.history["train_loss"]
            finite = train[np.isfinite(train)]
            recent = float(np.median(finite[-RECENT_POINTS:]))
            text = not_converging_text(recent / finite[0], float(finite[0]), recent)
        self.curves.set_markers(markers)
        self.curves.show_diverged(snap.status == "diverged")
        if key != self._banner_key:
            self._banner_key = key
            if key is None:
                self.banner.clear()
            else:
                self.banner.show_message(kind, text)
        elif key is not None and self.banner.isVisible() and text != self.banner.text():
            self.banner.show_message(kind, text)  # the same state, newer numbers

    def _check_convergence(self, snap: Snapshot) -> bool:
        """Whether the loss stays far above its start (with hysteresis, so that the message
        does not flicker with a noisy loss)."""
        ratio = loss_ratio(snap.history["train_loss"])
        if ratio is None:
            self._not_converging = False
        elif self._not_converging:
            self._not_converging = ratio >= CONVERGING_AGAIN
        else:
            self._not_converging = ratio >= NOT_CONVERGING
        return self._not_converging

    # -- optional widgets -------------------------------------------------------------------------
    def _call_diagram(self, result: BoundaryResult | None) -> None:
        info = self._info
        if info is None or not hasattr(self.diagram, "set_network"):
            return
        theta = (
            result.theta
            if result is not None
            else (self._drawn.theta if self._drawn is not None else None)
        )
        thumbs = list(result.thumbnails) if result is not None else None
        names = list(info.feature_names) if len(info.feature_names) == info.layer_sizes[0] else None
        try:
            with np.errstate(all="ignore"):  # diverged weights may overflow a norm
                self.diagram.set_network(
                    list(info.layer_sizes),
                    theta,
                    thumbs,
                    input_names=names,
                    bias=info.network.bias,
                )
        except TypeError:
            self._guard("diagram", self.diagram.set_network, list(info.layer_sizes), theta, thumbs)
        except Exception as exc:
            self._warn_once("diagram", exc)

    def _call_inspector(self, snap: Snapshot) -> None:
        if self._net is None or not hasattr(self.inspector, "update_from"):
            return
        args = (self._net, snap.optimizer.name, snap.theta, snap.prev_theta, snap.slots, snap.lr)
        try:
            with np.errstate(all="ignore"):  # diverged weights may overflow a norm
                self.inspector.update_from(*args, hyper=snap.optimizer.hyper, step=snap.opt_steps)
        except TypeError:
            self._guard("inspector", self.inspector.update_from, *args)
        except Exception as exc:
            self._warn_once("inspector", exc)

    def _guard(self, what: str, fn, *args) -> None:
        try:
            with np.errstate(all="ignore"):
                fn(*args)
        except Exception as exc:
            self._warn_once(what, exc)

    def _warn_once(self, what: str, exc: Exception) -> None:
        if what not in self._warned:
            self._warned.add(what)
            print(
                f"dlopt: the {what} failed to update: {type(exc).__name__}: {exc}", file=sys.stderr
            )
