"""dlopt_core: the numerical core of dlopt (NumPy + Numba, no Qt).

The names most scripts and notebooks need are here, loaded on first use::

    import dlopt_core as dl

    data = dl.datasets.generate("spiral", n_samples=500, seed=0)
    engine = dl.Engine(dl.Network([2, 8, 8, 1]), data,
                       [dl.ModelSpec(dl.make_optimizer("adam", lr=0.01))])
    engine.run(2000)

The modules (``network``, ``lstm``, ``optimizers``, ``schedules``, ``datasets``, ``engine``,
``experiment``, ``compare``, ``landscape``, ``lessons``, ``quiz``, ``backends``) hold the rest.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dlopt")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

_NAMES = {
    "Network": "network",
    "LSTMNetwork": "lstm",
    "make_optimizer": "optimizers",
    "OPTIMIZERS": "optimizers",
    "make_schedule": "schedules",
    "SCHEDULES": "schedules",
    "Engine": "engine",
    "ModelSpec": "engine",
    "TrainConfig": "engine",
    "Experiment": "experiment",
    "example": "experiment",
}
_MODULES = (
    "backends",
    "compare",
    "datasets",
    "engine",
    "experiment",
    "features",
    "landscape",
    "lessons",
    "lstm",
    "network",
    "optimizers",
    "quiz",
    "schedules",
)

__all__ = sorted([*_NAMES, *_MODULES, "__version__"])


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'dlopt_core' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
