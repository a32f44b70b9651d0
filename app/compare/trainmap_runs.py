"""What the Trainability map runs apart from its view: the executor kept between maps, the
clicked pixel's run (on a worker thread) and a pixel's run as a Playground experiment.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths

from app.warmup import WARMER, WarmItem
from dlopt_core.studies import trainability as tm
from dlopt_core.studies.executors import make_executor
from dlopt_core.train.engine import TrainConfig
from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec
from dlopt_core.train.optimizers import make_optimizer

MAP_KERNELS = WarmItem(
    "call", "dlopt_core.studies.trainability:warm_up", "the trainability kernels"
)


class ExecutorCache:
    """One executor kept between maps (a Dask cluster takes seconds to start); used by the
    worker thread, closed with the view."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._where: str | None = None
        self._executor = None

    def get(self, where: str | None):
        with self._lock:
            if self._executor is None or self._where != where:
                self._close()
                self._executor = make_executor(where)
                self._where = where
            return self._executor

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._executor is not None:
            try:
                self._executor.close()
            except Exception:  # a cluster already gone: nothing left to release
                pass
        self._executor = None
        self._where = None


def train_pixel(request, _report, cancelled) -> np.ndarray:
    """The losses of one pixel's run (``request``: problem, spec, i, j), on a worker thread."""
    problem, spec, i, j = request
    WARMER.ensure([MAP_KERNELS], cancelled=cancelled)
    return tm.pixel_losses(problem, spec, i, j)


def pixel_experiment(problem: tm.Problem, spec: tm.MapSpec, i: int, j: int) -> Experiment:
    """Pixel ``(i, j)``'s run of the map ``spec`` on ``problem`` as a Playground experiment
    (what ``app.compare.trainmap_ui.SEND_TIP`` tells the user): the data as a CSV file in the
    app's data folder, all of it for training."""
    hyper = tm.pixel_hyper(spec, i, j)
    folder = (
        Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
        / "trainability"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mean-field-width{problem.width}-{abs(hash(problem.X.tobytes()))}.csv"
    if not path.exists():
        table = np.hstack([problem.X, problem.Y])
        header = ",".join([*(f"x{k + 1}" for k in range(problem.width)), "y"])
        np.savetxt(path, table, delimiter=",", header=header, comments="", fmt="%.17g")
    # the base rate 1 and the two layer rates as its factors: lr * factor is the rate itself
    optimizer = {
        "gd": make_optimizer("sgd", lr=1.0),
        "momentum": make_optimizer("momentum", lr=1.0, momentum=hyper["beta"]),
        "adam": make_optimizer("adam", lr=1.0, betas=(hyper["beta"], 0.999)),
    }[hyper["optimizer"]]
    return Experiment(
        data=DataSpec(
            kind="csv", path=os.fspath(path), val_fraction=0.0, standardize=False, seed=0
        ),
        network=NetworkSpec(
            hidden=(problem.width,),
            activation="tanh",
            bias=False,
            parameterization="mean_field",
        ),
        optimizer=optimizer,
        layer_lr=(hyper["lr1"], hyper["lr2"]),
        training=TrainConfig(batch_size=problem.rows, shuffle=False, eval_every=1),
        max_steps=spec.steps,
        seed=0,
        name="trainability map pixel",
    )
