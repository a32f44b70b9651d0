"""The training worker: owns the engine in a thread of its own and reports immutable snapshots.

The GUI talks to the worker only through queued signals (``app.training_controller``), and the
worker answers only with frozen dataclasses holding copies (``app.snapshots``: a snapshot carries
only the history rows that changed since the previous one), so no mutable array is ever shared
between the two threads.

While playing, a zero-interval timer in the worker thread runs one chunk per tick; commands queue
up between ticks. At full speed the chunk size adapts so that a chunk takes about
``TARGET_CHUNK_S`` of compute: long enough that per-chunk overhead stays small, short enough that
commands (pause, a new learning rate) take effect at once. Sizing uses the worker thread's CPU
time, so time spent waiting for the GIL does not shrink the chunks.

The optimizer inspector shows one step's update, so a snapshot carries the parameters one step
before the model's when they are known. While playing, a chunk keeps its last step apart for that
every ``PREV_EVERY_S`` (splitting every chunk would cost speed); a chunk known to be the last (a
single step, Step, Step-until, the step budget) always does. When training comes to rest otherwise
(a pause, divergence, early stopping, the target loss), the last chunk is trained again from its
start, which each chunk keeps (``ChunkStart``), up to the step before the model's, and the engine
is put back as it was: the inspector at rest always shows the update that led to the model shown.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.snapshots import BoundaryResult, BuildInfo, HistoryRows, Snapshot
from app.threads import error_message
from app.warmup import WARMER, Cancelled, gradients_item, training_item
from dlopt_core.data import features
from dlopt_core.train.chunks import MAX_CHUNK, next_chunk
from dlopt_core.train.engine import (
    DIVERGED,
    EARLY_STOPPED,
    Engine,
    TrainConfig,
    kernels_release_gil,
)
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.history import History
from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule
from dlopt_core.train.sharpness import SharpnessTracker, edge_of_stability

YIELD_S = 0.002  # pause after a chunk when the kernels hold the GIL (see _tick)
PREV_EVERY_S = 0.08  # how often a chunk keeps its last step apart (for the inspector)
FRAME_S = 1.0 / 30.0
GRID = 80  # decision-boundary grid (GRID x GRID)
THUMB_STRIDE = 2  # neuron thumbnails use every other grid point
MAX_SHOWN_POINTS = 4000  # training points drawn in the output view (validation: a quarter)
SHARPNESS_EVERY = 50  # steps between sharpness measurements (doubling as a long run goes on)

# why training stopped (Snapshot.stop_reason)
STOP_NONE, STOP_DIVERGED, STOP_EARLY = "", "diverged", "early_stopped"
STOP_BUDGET, STOP_TARGET = "max_steps", "target_loss"


KERNELS_RELEASE_GIL = kernels_release_gil()
# Compute per chunk at full speed. Kernels that release the GIL run beside the GUI, so chunks can
# be long (less overhead); kernels that keep it block the GUI for a whole chunk, so keep them short.
TARGET_CHUNK_S = 0.04 if KERNELS_RELEASE_GIL else 0.02


def _chunk_arrays(e: Engine) -> list[np.ndarray]:
    """The engine's arrays that a chunk can change in place: the parameters, the optimizer's
    state and the stop flags; the Polyak average and the best parameters when they are kept
    (the hyper-parameters, schedules and layer factors change only between chunks)."""
    st = e.state
    arrays = [st.theta, st.slots, st.scalars, e.status, e.stop_step, e.best_val, e.bad_evals]
    if e.train.polyak > 0.0:
        arrays.append(st.avg)
    if e.train.early_stopping:
        arrays.append(st.best)
    return arrays


class ChunkStart:
    """An engine's step and copies of the arrays a chunk changes: where a chunk started, so that
    it can be trained again (the engine is deterministic). ``keep`` reuses the copies' memory."""

    def __init__(self) -> None:
        self.step = -1
        self._arrays: list[np.ndarray] = []

    def keep(self, e: Engine) -> None:
        arrays = _chunk_arrays(e)
        if [a.shape for a in arrays] != [a.shape for a in self._arrays]:
            self._arrays = [a.copy() for a in arrays]
        else:
            for mine, theirs in zip(self._arrays, arrays, strict=True):
                np.copyto(mine, theirs)
        self.step = int(e.step)

    def put(self, e: Engine) -> None:
        """Put the engine back where it was kept (its history aside)."""
        for theirs, mine in zip(_chunk_arrays(e), self._arrays, strict=True):
            np.copyto(theirs, mine)
        e.step = self.step


def _single_thread_kernels() -> None:
    """One Numba thread for this (worker) thread's parallel regions.

    The playground trains one model, so the engine's loop over models has nothing to share out;
    idle OpenMP helpers would only spin on the core the GUI needs.
    """
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # an old Numba or no parallel backend: nothing to tune
        pass


def _grid(bounds: tuple[float, float, float, float], n: int) -> np.ndarray:
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.column_stack([gx.ravel(), gy.ravel()])


def _bounds(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    pts = np.concatenate([a for a in arrays if len(a)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.06 * np.maximum(hi - lo, 1e-6)
    x0, y0 = lo - pad
    x1, y1 = hi + pad
    bounds = (float(x0), float(x1), float(y0), float(y1))
    if not all(math.isfinite(b) for b in bounds):  # the output view's range must be finite
        raise ValueError("the data's inputs are not finite numbers; there is no plane to draw")
    return bounds


def shown_points(
    points: np.ndarray | None, labels: np.ndarray | None, limit: int, seed: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Copies of at most ``limit`` points and their labels, an even random sample of a larger
    set: the output view draws every point it gets, and a million would freeze the window."""
    if points is None or labels is None:
        return None, None
    labels = np.ravel(labels)
    if len(points) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(points), limit, replace=False))
        points, labels = points[keep], labels[keep]
    return np.array(points, dtype=np.float64), np.array(labels, dtype=np.float64)


class TrainingWorker(QObject):
    """Owns one :class:`Engine`; lives in a worker thread and is driven by queued slots."""

    built = Signal(object)  # BuildInfo
    snapshotReady = Signal(object)  # Snapshot
    boundaryReady = Signal(object)  # BoundaryResult
    failed = Signal(int, str)  # generation, message
    kernelsPreparing = Signal()  # the kernels are not in Numba's cache: compiling them first
    kernelsReady = Signal(float)  # seconds it took

    def __init__(self) -> None:
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        self._engine: Engine | None = None
        self._generation = -1
        self._warm = False
        self._exp: Experiment | None = None  # what the engine trains (for the kernels it needs)
        self.cancel = threading.Event()  # set by the GUI thread: stop waiting for kernels
        self._playing = False
        self._play_serial = 0
        self._until = 0  # play until this step, then pause silently (0: no limit)
        self._steps_per_frame = 0  # 0: as fast as possible
        self._chunk = 10
        self._max_steps = 0
        self._target_loss = 0.0
        self._stop_reason = STOP_NONE
        self._rate = 0.0
        self._last_end = 0.0
        self._prev_theta: np.ndarray | None = None
        self._prev_step = -1  # the step at which _prev_theta is one step old
        self._split_at = 0.0
        self._chunk_start = ChunkStart()  # where the last chunk started
        self._replayable = False  # whether _chunk_start can be trained again to the model's step
        self._grid: np.ndarray | None = None
        self._thumb_grid: np.ndarray | None = None
        self._feature_names: tuple[str, ...] = features.RAW
        self._target_range: tuple[float, float] | None = None
        self._backend = "cpu"
        self._track_sharpness = False
        self._sharpness: SharpnessTracker | None = None
        self._rows = HistoryRows()  # which history rows the next snapshot carries

    # -- commands (queued slots) ----------------------------------------------------------------
    @Slot(str)
    def set_backend(self, name: str) -> None:
        """Where the next engine trains: "auto", "cpu" or "cuda" (applied by the next rebuild)."""
        self._backend = name

    @Slot(object, int)
    def rebuild(self, exp: Experiment, generation: int) -> None:
        """Build a new engine from ``exp``; keeps the playing state."""
        self._generation = generation
        try:
            self._prepare_kernels(exp)
            info = self._build(exp, generation)
        except Cancelled:  # the window is closing
            return
        except Exception as exc:  # any problem with the data or the config: a message, no crash
            self._engine = None
            self._set_playing(False)
            self.failed.emit(generation, error_message(exc))
            return
        self.built.emit(info)
        self._emit_snapshot()
        if self._playing:
            self._restart_timer()

    def _prepare_kernels(self, exp: Experiment) -> None:
        """Have the kernels ``exp`` trains with ready, compiled elsewhere when the cache is cold
        (``app.warmup``); says so with ``kernelsPreparing`` and ``kernelsReady``."""
        if not self._warm:
            _single_thread_kernels()
        t0 = time.perf_counter()
        waited = WARMER.ensure(
            [training_item([exp])], cancelled=self.cancel.is_set, on_wait=self.kernelsPreparing.emit
        )
        self._exp = exp
        if waited or not self._warm:
            self._warm = True
            self.kernelsReady.emit(time.perf_counter() - t0)

    def _kernels_for(self, **changes) -> bool:
        """Ready the kernels for the current experiment with ``changes`` (a new optimizer,
        schedule or training settings) before the engine uses them; False if that failed."""
        try:
            self._prepare_kernels(replace(self._exp, **changes))
        except Cancelled:
            return False
        except Exception as exc:  # the engine would fail the same way: say so, no crash
            self._set_playing(False)
            self.failed.emit(self._generation, error_message(exc))
            return False
        return True

    @Slot(bool, int)
    def set_playing(self, playing: bool, serial: int = 0) -> None:
        self._play_serial = serial
        self._until = 0
        if playing and self._engine is not None:
            if not self._engine.running[0] or self._budget_left() == 0:
                self._emit_snapshot()  # nothing to do: say so again
                return
            self._stop_reason = STOP_NONE
        self._set_playing(playing)
        self._emit_snapshot()

    @Slot(int, int)
    def play_until(self, step: int, serial: int = 0) -> None:
        """Play until ``step`` is reached, then pause without a stop banner."""
        self._play_serial = serial
        if self._engine is None:
            return
        self._until = int(step)
        self._set_playing(self._engine.step < self._until)
        self._emit_snapshot()

    @Slot(int, int)
    def step_once(self, n_steps: int, serial: int = 0) -> None:
        """Pause and advance by ``n_steps`` steps (one chunk)."""
        self._play_serial = serial
        self._until = 0
        self._set_playing(False)
        if self._engine is not None and self._engine.running[0]:
            self._stop_reason = STOP_NONE
            self._advance(max(1, int(n_steps)))
        self._emit_snapshot()

    @Slot(object)
    def reset(self, seed: int | None) -> None:
        """Back to step 0: fresh parameters (from ``seed`` when given) and history."""
        if self._engine is None:
            return
        self._engine.reset(seed)
        self._after_reset()
        self._emit_snapshot()
        if self._playing:
            self._restart_timer()

    @Slot(object)
    def set_optimizer(self, optimizer: Optimizer) -> None:
        """Switch optimizer or hyper-parameters from the next chunk, keeping state if same rule."""
        self._replayable = False  # the last chunk ran with the settings before
        if self._engine is not None and self._kernels_for(optimizer=optimizer):
            self._engine.set_optimizer(0, optimizer)
            self._emit_snapshot()

    @Slot(object)
    def set_layer_lr(self, factors: tuple[float, ...] | None) -> None:
        """Per-layer learning-rate factors from the next chunk (None: all 1)."""
        self._replayable = False  # the last chunk ran with the settings before
        if self._engine is not None and self._kernels_for(layer_lr=factors):
            self._engine.set_layer_lr(0, factors)
            self._emit_snapshot()

    @Slot(object)
    def set_schedule(self, schedule: Schedule) -> None:
        self._replayable = False  # the last chunk ran with the settings before
        if self._engine is not None and self._kernels_for(schedule=schedule):
            self._engine.set_schedule(0, schedule)
            self._emit_snapshot()

    @Slot(object)
    def set_training(self, train: TrainConfig) -> None:
        """Live changes of clipping, L1, early stopping, evaluation interval and adversarial
        training (the step kernels read them every chunk)."""
        self._replayable = False  # the last chunk ran with the settings before
        if self._engine is not None and self._kernels_for(training=train):
            self._engine.set_training(train)

    @Slot(int, float)
    def set_stop_conditions(self, max_steps: int, target_loss: float) -> None:
        self._max_steps = max(0, int(max_steps))
        self._target_loss = max(0.0, float(target_loss))

    @Slot(int)
    def set_speed(self, steps_per_frame: int) -> None:
        """Steps per frame (about 30 frames a second), or 0 for as fast as possible."""
        self._steps_per_frame = max(0, int(steps_per_frame))
        self._timer.setInterval(0 if self._steps_per_frame == 0 else int(FRAME_S * 1000))

    @Slot(bool)
    def set_sharpness(self, on: bool) -> None:
        """Track the sharpness (lambda_max of the training loss, ``SharpnessTracker``) from now
        on, every ``SHARPNESS_EVERY`` steps at first, or stop tracking it."""
        self._track_sharpness = bool(on)
        self._sharpness = None
        if on and self._engine is not None:
            self._new_sharpness_track()
            self._measure_sharpness()
        self._emit_snapshot()

    @Slot()
    def request_boundary(self) -> None:
        """Compute the network's output over the input grid and the neuron thumbnails."""
        e = self._engine
        if e is None or self._grid is None:
            return
        theta = e.eval_theta()[0]
        with np.errstate(all="ignore"):
            values = e.network.predict(theta, self._grid)
            hidden = e.network.hidden_outputs(theta, self._thumb_grid)
        values = np.nan_to_num(
            np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0
        )
        values = values.reshape(GRID, GRID, -1)
        if values.shape[2] == 1:
            values = values[:, :, 0]
        n = len(np.arange(0, GRID, THUMB_STRIDE))
        thumbs = []
        for a in hidden:
            a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
            scale = np.max(np.abs(a), axis=0)
            a = a / np.where(scale > 0.0, scale, 1.0)
            thumbs.append(np.ascontiguousarray(a.T.reshape(-1, n, n)[:, ::-1, :]))
        out = values[::THUMB_STRIDE, ::THUMB_STRIDE]
        if self._target_range is not None:  # regression: the value over the label range
            lo, hi = self._target_range
            out = np.clip((out - 0.5 * (lo + hi)) / max(0.5 * (hi - lo), 1e-12), -1.0, 1.0)
            out = out[None]
        else:  # probabilities, per output unit
            out = 2.0 * out - 1.0
            out = out[None] if out.ndim == 2 else out.transpose(2, 0, 1)
        thumbs.append(np.ascontiguousarray(out[:, ::-1, :]))
        self.boundaryReady.emit(
            BoundaryResult(self._generation, _shown_step(e), values, theta.copy(), tuple(thumbs))
        )

    @Slot()
    def shutdown(self) -> None:
        """Stop the timer and end the thread's event loop (called before the thread is joined)."""
        self._timer.stop()
        self._playing = False
        self._engine = None
        thread = self.thread()
        if thread is not None:
            thread.quit()

    # -- training loop ----------------------------------------------------------------------------
    def _set_playing(self, playing: bool) -> None:
        self._playing = bool(playing) and self._engine is not None
        if self._playing:
            self._restart_timer()
        else:
            self._timer.stop()
            self._rate = 0.0

    def _restart_timer(self) -> None:
        self._last_end = time.perf_counter()
        self._rate = 0.0
        if not self._timer.isActive():
            self._timer.start()

    def _tick(self) -> None:
        if not self._playing or self._engine is None:
            self._timer.stop()
            return
        n = self._steps_per_frame or self._chunk
        if self._until:
            n = min(n, self._until - self._engine.step)
        if n > 0:
            self._advance(n)
        if self._until and self._engine.step >= self._until:
            self._until = 0
            self._set_playing(False)
        self._emit_snapshot()
        # Hand the GIL to the GUI thread between two chunks. Kernels compiled without
        # ``nogil`` keep it for a whole chunk, so then the GUI gets a short window of its own.
        time.sleep(0.0 if KERNELS_RELEASE_GIL else YIELD_S)

    def _budget_left(self) -> int:
        if self._engine is None:
            return 0
        if self._max_steps <= 0:
            return MAX_CHUNK
        return max(0, self._max_steps - self._engine.step)

    def _advance(self, n: int) -> None:
        e = self._engine
        n = min(n, self._budget_left())
        if n <= 0:
            self._stop(STOP_BUDGET)
            return
        c0 = time.thread_time()
        if n > 1:  # (a single step is kept apart below)
            self._chunk_start.keep(e)
        self._replayable = n > 1
        last = not self._playing or self._ends_play(n)
        if last or n == 1 or time.perf_counter() - self._split_at >= PREV_EVERY_S:
            # the last step apart, so that the inspector can show one step's update
            if n > 1:
                self._run(n - 1)
            self._prev_theta = e.eval_theta()[0].copy()
            self._run(1)
            self._prev_step = e.step
            self._split_at = time.perf_counter()
        else:
            self._run(n)
        t1 = time.perf_counter()
        if self._steps_per_frame == 0 and self._playing:
            # CPU time of this thread: waiting for the GIL must not shrink the chunks
            seconds = time.thread_time() - c0
            self._chunk = next_chunk(n, seconds, TARGET_CHUNK_S, e.train.eval_every)
        wall = t1 - self._last_end
        self._last_end = t1
        if self._playing and wall > 0.0:
            rate = n / wall
            self._rate = rate if self._rate == 0.0 else 0.8 * self._rate + 0.2 * rate
        self._check_stop()

    def _ends_play(self, n: int) -> bool:
        """Whether ``n`` more steps reach the step to play until or the step budget."""
        step = self._engine.step + n
        return bool(self._until and step >= self._until) or bool(
            self._max_steps and step >= self._max_steps
        )

    def _settle(self) -> None:
        """At rest: the parameters one step before the model's (``_prev_theta``) when the last
        chunk did not keep them (a pause, or a stop within the chunk): the chunk is trained again
        from its start to that step, with a history aside, and the engine put back as it was."""
        e, start = self._engine, self._chunk_start
        step = _shown_step(e)
        if self._prev_theta is not None and self._prev_step == step:
            return
        if not self._replayable or not start.step < step <= e.step:
            self._prev_theta = None  # not known: better none than another step's
            return
        end = ChunkStart()
        end.keep(e)
        theta = e.eval_theta()[0].copy()
        history = e.history
        e.history = History(e.n_models, 16)
        try:
            start.put(e)
            e.run(step - 1 - start.step)
            prev = e.eval_theta()[0].copy()
            e.run(1)  # the step itself again: the model's parameters, or the replay is not exact
            same = np.array_equal(e.eval_theta()[0], theta, equal_nan=True)
        finally:
            e.history = history
            end.put(e)
        self._prev_theta = prev if same else None
        self._prev_step = step
        self._replayable = False  # done: once is enough

    def _run(self, n: int) -> None:
        """Train ``n`` steps; while the sharpness is tracked, in pieces that end on the steps
        where a measurement is due."""
        e = self._engine
        track = self._sharpness
        end = e.step + n
        while e.step < end:
            k = end - e.step
            if track is not None and not track.stopped and track.next_step > e.step:
                k = min(k, track.next_step - e.step)
            e.run(k)
            self._measure_sharpness()
            if not e.running[0]:  # diverged or stopped early: the rest of the chunk is idle
                e.run(end - e.step)
                break

    def _new_sharpness_track(self) -> None:
        """A new tracker, once the loss-gradient kernels it calls are ready (compiled in the
        warm-up process on a cold cache, as the training kernels are: not in this one)."""
        t0 = time.perf_counter()
        try:
            waited = WARMER.ensure(
                [gradients_item([self._exp])],
                cancelled=self.cancel.is_set,
                on_wait=self.kernelsPreparing.emit,
            )
        except Cancelled:
            return
        if waited:
            self.kernelsReady.emit(time.perf_counter() - t0)
        e = self._engine
        self._sharpness = SharpnessTracker(e.network, e.X, e.Y, every=SHARPNESS_EVERY)

    def _measure_sharpness(self) -> None:
        e, track = self._engine, self._sharpness
        if track is None or not e.running[0] or not track.due(e.step):
            return
        spec = e.specs[0]
        edge = edge_of_stability(spec.optimizer, spec.schedule(spec.optimizer.lr, e.step))
        track.measure(e.step, e.theta[0], edge)

    def _check_stop(self) -> None:
        e = self._engine
        status = int(e.status[0])
        if status == DIVERGED:
            self._stop(STOP_DIVERGED)
        elif status == EARLY_STOPPED:
            self._stop(STOP_EARLY)
        elif self._max_steps and e.step >= self._max_steps:
            self._stop(STOP_BUDGET)
        elif self._target_loss > 0.0:
            train = e.history.field("train_loss", 0)
            if len(train) and np.isfinite(train[-1]) and train[-1] <= self._target_loss:
                self._stop(STOP_TARGET)

    def _stop(self, reason: str) -> None:
        self._stop_reason = reason
        self._until = 0
        self._set_playing(False)

    # -- building ---------------------------------------------------------------------------------
    def _build(self, exp: Experiment, generation: int) -> BuildInfo:
        loaded = exp.load_data()  # one read of the data set, also for the plots' raw points
        data, net, engine = exp.build(backend=self._backend, data=loaded)
        self._engine = engine
        self._after_reset()
        raw_train = raw_val = None
        two_d = False
        names = tuple(exp.network.features)
        if data.X_train.shape[1] == 2 and names == features.RAW:
            raw_train, raw_val, two_d = data.X_train, data.X_val, True
        elif names != features.RAW:  # derived features exist only for 2-D data
            raw_train, raw_val, two_d = loaded.raw.X_train, loaded.raw.X_val, True
        n_inputs = 2 if two_d else data.X_train.shape[1]
        bounds = target_range = None
        self._grid = self._thumb_grid = None
        if two_d:
            bounds = _bounds(raw_train, raw_val)
            grid = _grid(bounds, GRID)
            self._grid = features.expand(grid, names)
            sub = grid.reshape(GRID, GRID, 2)[::THUMB_STRIDE, ::THUMB_STRIDE].reshape(-1, 2)
            self._thumb_grid = features.expand(np.ascontiguousarray(sub), names)
        if data.task == "regression":
            y = np.concatenate([np.ravel(data.y_train), np.ravel(data.y_val)])
            target_range = (float(np.min(y)), float(np.max(y)))
        self._feature_names = names
        self._target_range = target_range
        train_pts, train_labels = shown_points(
            raw_train, data.y_train, MAX_SHOWN_POINTS, exp.data.seed
        )
        val_pts, val_labels = shown_points(
            raw_val, data.y_val, MAX_SHOWN_POINTS // 4, exp.data.seed + 1
        )
        return BuildInfo(
            generation=generation,
            task=data.task,
            n_classes=int(data.n_classes),
            n_inputs=int(n_inputs),
            n_train=int(len(data.y_train)),
            n_val=int(len(data.y_val)),
            network=net,
            layer_sizes=tuple(net.layer_sizes),
            activation=net.activation,
            loss=net.loss,
            feature_names=tuple(getattr(data, "feature_names", ()) or names),
            steps_per_epoch=engine.steps_per_epoch,
            backend=engine.backend.name,
            backend_note=getattr(engine.backend, "note", engine.backend.name),
            points_train=train_pts,
            labels_train=train_labels,
            points_val=val_pts,
            labels_val=val_labels,
            bounds=bounds,
            target_range=target_range,
            dataset=data,
            eval_note=engine.sample_note(),
        )

    def _after_reset(self) -> None:
        self._stop_reason = STOP_NONE
        self._prev_theta = None
        self._prev_step = -1
        self._replayable = False
        self._rate = 0.0
        self._chunk = max(10, self._engine.train.eval_every)
        self._last_end = time.perf_counter()
        self._sharpness = None
        if self._track_sharpness:
            self._new_sharpness_track()
            self._measure_sharpness()

    # -- snapshots --------------------------------------------------------------------------------
    def _emit_snapshot(self) -> None:
        e = self._engine
        if e is None:
            return
        if not self._playing:
            self._settle()
        h = e.history
        spec = e.specs[0]
        theta = e.eval_theta()[0].copy()
        fresh = self._prev_theta is not None and self._prev_step == _shown_step(e)
        rows_from, steps, fields, bands = self._rows.take(h)
        snap = Snapshot(
            generation=self._generation,
            step=_shown_step(e),
            epoch=_shown_step(e) / e.steps_per_epoch,
            history_steps=steps,
            history=fields,
            history_bands=bands,
            rows_from=rows_from,
            theta=theta,
            prev_theta=self._prev_theta.copy() if fresh else None,
            slots=e.slots[0].copy(),
            optimizer=spec.optimizer,
            lr=float(spec.schedule(spec.optimizer.lr, e.step)),
            opt_steps=e.optimizer_steps(0),
            playing=self._playing,
            play_serial=self._play_serial,
            status=e.status_name(0),
            stop_step=int(e.stop_step[0]),
            stop_reason=self._stop_reason,
            steps_per_second=float(self._rate) if self._playing else 0.0,
            best_val_loss=float(h.best_val_loss[0]),
            best_val_step=int(h.best_val_step[0]),
            sharpness=self._sharpness.rows() if self._sharpness is not None else None,
        )
        self.snapshotReady.emit(snap)


def _shown_step(e: Engine) -> int:
    """The model's step: where it stopped if it diverged or stopped early (the engine's own
    counter runs on to the end of the chunk)."""
    stop = int(e.stop_step[0])
    return stop if e.status[0] != 0 and 0 <= stop < e.step else int(e.step)
