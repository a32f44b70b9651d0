"""Data sets: seeded 2-D toy problems, the user's own CSV files and a few small real data sets.

Everything comes back as a ``Dataset``: float64, C-contiguous arrays split into a training and a
validation part by a seeded permutation. Classification labels are class indices stored as floats
(0.0 .. K-1); regression labels are the target values. Any problem the user can cause (a bad
argument, a malformed CSV file, a missing optional dependency) raises ``DatasetError`` with a
message that names it.

The sources live in their own modules, and every name is reachable from here (``dl.datasets``):
``splits`` (``Dataset``, the checks, the split), ``generators`` (``generate``, ``GENERATORS``),
``csv_files`` (``load_csv``); the real data sets (scikit-learn's) are here.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from dlopt_core.data.csv_files import MAX_CSV_BYTES, load_csv
from dlopt_core.data.generators import (
    GENERATORS,
    GeneratorInfo,
    bumps_function,
    gaussian_centres,
    generate,
    plane_function,
)
from dlopt_core.data.splits import (
    MAX_ABS_VALUE,
    MAX_AUTO_CLASSES,
    MAX_CLASSES,
    MAX_SAMPLES,
    MAX_VAL_FRACTION,
    MIN_SAMPLES,
    MIN_TRAIN,
    TASKS,
    Dataset,
    DatasetError,
    DatasetInfo,
    check_seed,
    check_val_fraction,
    make_dataset,
)

__all__ = [
    "GENERATORS",
    "INSTALL_HINT",
    "MAX_ABS_VALUE",
    "MAX_AUTO_CLASSES",
    "MAX_CLASSES",
    "MAX_CSV_BYTES",
    "MAX_SAMPLES",
    "MAX_VAL_FRACTION",
    "MIN_SAMPLES",
    "MIN_TRAIN",
    "REAL_DATASETS",
    "TASKS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "GeneratorInfo",
    "bumps_function",
    "gaussian_centres",
    "generate",
    "list_datasets",
    "load_csv",
    "load_real",
    "plane_function",
    "real_available",
]

REAL_DATASETS = ("digits", "iris", "wine", "breast_cancer")
INSTALL_HINT = "install the optional extra: pip install 'dlopt[datasets]' (scikit-learn)"


# --------------------------------------------------------------------------- real data sets

_REAL_INFO = {
    "digits": "Handwritten digits: 1797 images of 8x8 pixels (64 inputs), 10 classes",
    "iris": "Iris flowers: 150 samples, 4 measurements, 3 species",
    "wine": "Wine cultivars: 178 samples, 13 chemical measurements, 3 classes",
    "breast_cancer": "Breast cancer (Wisconsin): 569 samples, 30 features, benign or malignant",
}


def real_available() -> tuple[bool, str]:
    """(True, "") when scikit-learn can be imported, else (False, how to install it)."""
    try:
        found = importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):
        found = False
    return (True, "") if found else (False, INSTALL_HINT)


def load_real(
    name: str, val_fraction: float = 0.2, seed: int = 0, standardize: bool = True
) -> Dataset:
    """One of scikit-learn's bundled data sets (``REAL_DATASETS``), split and standardised."""
    if name not in REAL_DATASETS:
        raise DatasetError(
            f"unknown real data set {name!r}; choose from {', '.join(REAL_DATASETS)}"
        )
    val_fraction = check_val_fraction(val_fraction)
    seed = check_seed(seed)
    try:
        from sklearn import datasets as skd
    except ImportError:
        raise DatasetError(f"the {name!r} data set needs scikit-learn; {INSTALL_HINT}") from None
    bunch = getattr(skd, f"load_{name}")()
    X = np.asarray(bunch.data, dtype=np.float64)
    codes = np.unique(np.asarray(bunch.target), return_inverse=True)[1].reshape(-1)
    k = int(codes.max()) + 1
    raw_names = getattr(bunch, "feature_names", None)
    if raw_names is not None and len(raw_names) == X.shape[1]:
        names = tuple(str(n) for n in raw_names)
    else:
        names = tuple(f"x{j}" for j in range(1, X.shape[1] + 1))
    task = "binary" if k == 2 else "multiclass"
    rng = np.random.default_rng(seed)
    y = codes.astype(np.float64)
    return make_dataset(name, task, X, y, k, names, val_fraction, rng, standardize)


def list_datasets() -> list[DatasetInfo]:
    """Every generator, then every real data set, with availability and a short description."""
    infos = [DatasetInfo(g.name, g.task_kind, True, "", g.description) for g in GENERATORS.values()]
    ok, note = real_available()
    infos += [DatasetInfo(n, "classification", ok, note, _REAL_INFO[n]) for n in REAL_DATASETS]
    return infos
