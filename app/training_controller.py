"""The GUI side of the training worker: starts its thread and forwards commands to it.

:class:`TrainingController` lives in the GUI thread. It owns the ``app.worker.TrainingWorker``
on an ``app.threads.OwnedThread`` (stopped and joined with the window, or at exit) and turns each
command (rebuild, play, step, a new optimizer or schedule, ...) into a queued signal, so that the
worker takes them one at a time between two chunks. ``rebuild`` numbers the engines it asks for:
the worker's answers carry that generation, and the GUI drops those of an older one.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QThread, Signal

from app.threads import OwnedThread
from app.worker import TrainingWorker
from dlopt_core.train.engine import TrainConfig
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule


class TrainingController(QObject):
    """The GUI side of the worker: starts its thread and forwards commands as queued signals."""

    _rebuild = Signal(object, int)
    _play = Signal(bool, int)
    _play_until = Signal(int, int)
    _step = Signal(int, int)
    _reset = Signal(object)
    _optimizer = Signal(object)
    _schedule = Signal(object)
    _layer_lr = Signal(object)
    _training = Signal(object)
    _stops = Signal(int, float)
    _speed = Signal(int)
    _boundary = Signal()
    _sharpness = Signal(bool)
    _backend = Signal(str)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = TrainingWorker()
        self.owned = OwnedThread("dlopt-training", self.worker, self.worker.cancel)
        self.owned.guard(self)
        w = self.worker
        for signal, slot in (
            (self._rebuild, w.rebuild),
            (self._play, w.set_playing),
            (self._play_until, w.play_until),
            (self._step, w.step_once),
            (self._reset, w.reset),
            (self._optimizer, w.set_optimizer),
            (self._schedule, w.set_schedule),
            (self._layer_lr, w.set_layer_lr),
            (self._training, w.set_training),
            (self._stops, w.set_stop_conditions),
            (self._speed, w.set_speed),
            (self._boundary, w.request_boundary),
            (self._sharpness, w.set_sharpness),
            (self._backend, w.set_backend),
            (self._shutdown, w.shutdown),
        ):
            signal.connect(slot)
        # Both threads need the GIL between the worker's compiled calls; hand it over after 1 ms
        # instead of Python's default 5 ms, so that neither waits long for the other.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self.generation = 0
        self.play_serial = 0  # snapshots echo it: which play/pause command they answer
        self.owned.start(quit=self._shutdown.emit)

    @property
    def thread(self) -> QThread:
        return self.owned.thread

    def rebuild(self, exp: Experiment) -> int:
        """Ask for a new engine; returns the generation its snapshots will carry."""
        self.generation += 1
        self._rebuild.emit(exp, self.generation)
        return self.generation

    def play(self, playing: bool = True) -> None:
        self.play_serial += 1
        self._play.emit(bool(playing), self.play_serial)

    def play_until(self, step: int) -> None:
        self.play_serial += 1
        self._play_until.emit(int(step), self.play_serial)

    def step(self, n_steps: int) -> None:
        self.play_serial += 1
        self._step.emit(int(n_steps), self.play_serial)

    def reset(self, seed: int | None = None) -> None:
        self._reset.emit(seed)

    def set_optimizer(self, optimizer: Optimizer) -> None:
        self._optimizer.emit(optimizer)

    def set_schedule(self, schedule: Schedule) -> None:
        self._schedule.emit(schedule)

    def set_layer_lr(self, factors: tuple[float, ...] | None) -> None:
        self._layer_lr.emit(factors)

    def set_training(self, train: TrainConfig) -> None:
        self._training.emit(train)

    def set_stop_conditions(self, max_steps: int, target_loss: float) -> None:
        self._stops.emit(int(max_steps), float(target_loss))

    def set_speed(self, steps_per_frame: int) -> None:
        self._speed.emit(int(steps_per_frame))

    def set_backend(self, name: str) -> None:
        self._backend.emit(name)

    def request_boundary(self) -> None:
        self._boundary.emit()

    def set_sharpness(self, on: bool) -> None:
        """Track the sharpness of the run (slower training) or stop tracking it."""
        self._sharpness.emit(bool(on))

    def stop(self, timeout_ms: int = 5000) -> bool:
        """End the worker thread; returns whether it finished within ``timeout_ms``."""
        return self.owned.stop(timeout_ms)
