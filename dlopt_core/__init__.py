"""dlopt_core: the numerical core of dlopt (NumPy + Numba, no Qt).

The names most scripts and notebooks need are here, loaded on first use::

    import dlopt_core as dl

    data = dl.datasets.generate("spiral", n_samples=500, seed=0)
    engine = dl.Engine(dl.Network([2, 8, 8, 1]), data,
                       [dl.ModelSpec(dl.make_optimizer("adam", lr=0.01))])
    engine.run(2000)

The package has four layers, each importing only the ones before it:

- ``data``: data sets, feature expansion, the bounded reader for every user file;
- ``train``: networks, optimizers, schedules, the engine and its kernels, experiment files;
- ``studies``: optimizer comparisons, 2-D landscapes and trajectories, the trainability map;
- ``course``: lessons, their computed numbers, the quiz;

and ``cli`` holds the command-line tools. The modules most scripts use are reachable as
``dl.<module>`` (``dl.datasets``, ``dl.engine``, ``dl.landscape``, ...; see ``_MODULES``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("dlopt")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

_NAMES = {
    "Network": "train.network",
    "LSTMNetwork": "train.lstm",
    "make_optimizer": "train.optimizers",
    "OPTIMIZERS": "train.optimizers",
    "make_schedule": "train.schedules",
    "SCHEDULES": "train.schedules",
    "Engine": "train.engine",
    "ModelSpec": "train.engine",
    "TrainConfig": "train.engine",
    "Experiment": "train.experiment",
    "example": "train.experiment",
}
# the modules reachable as ``dl.<name>``, and the subpackage that holds each
_MODULES = {
    "backends": "train",
    "engine": "train",
    "experiment": "train",
    "lstm": "train",
    "network": "train",
    "optimizers": "train",
    "schedules": "train",
    "datasets": "data",
    "features": "data",
    "compare": "studies",
    "landscape": "studies",
    "trainability": "studies",
    "lessons": "course",
    "quiz": "course",
}

__all__ = sorted([*_NAMES, *_MODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}.{name}", __name__)
    else:
        raise AttributeError(f"module 'dlopt_core' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
