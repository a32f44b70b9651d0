"""What every data set shares: the ``Dataset`` record (float64, C-contiguous training and
validation arrays), the checks of the arguments every source takes, and the seeded split.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

TASKS = ("binary", "multiclass", "regression")

MIN_SAMPLES = 4
MAX_SAMPLES = 100_000
MAX_VAL_FRACTION = 0.9
MIN_TRAIN = 2
MAX_AUTO_CLASSES = 20
MAX_CLASSES = 100
MAX_ABS_VALUE = 1e150


class DatasetError(ValueError):
    """A data set that cannot be made or read; the message names the problem."""


# --------------------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Dataset:
    """A training/validation split; arrays are float64 and C-contiguous."""

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        for field_name in ("X_train", "y_train", "X_val", "y_val"):
            value = np.ascontiguousarray(getattr(self, field_name), dtype=np.float64)
            object.__setattr__(self, field_name, value)
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        if self.task not in TASKS:
            raise DatasetError(f"unknown task {self.task!r}; choose from {', '.join(TASKS)}")
        if self.X_train.ndim != 2 or self.X_val.ndim != 2:
            raise DatasetError("X_train and X_val must be 2-D (samples x features)")
        if self.y_train.shape != (self.X_train.shape[0],) or self.y_val.shape != (
            self.X_val.shape[0],
        ):
            raise DatasetError("each y must be 1-D with one value per row of its X")
        if self.X_val.shape[1] != self.X_train.shape[1]:
            raise DatasetError("X_train and X_val have different numbers of features")
        if len(self.feature_names) != self.X_train.shape[1]:
            raise DatasetError("feature_names must name every feature column")
        k = self.n_classes
        if self.task == "regression":
            if k != 0:
                raise DatasetError(f"n_classes must be 0 for regression, got {k}")
            return
        if (self.task == "binary" and k != 2) or k < 2:
            need = "2" if self.task == "binary" else "at least 2"
            raise DatasetError(f"n_classes must be {need} for task {self.task!r}, got {k}")
        for y in (self.y_train, self.y_val):
            if y.size and not (np.all(y == np.round(y)) and y.min() >= 0 and y.max() < k):
                raise DatasetError(f"class labels must be whole numbers from 0 to {k - 1}")

    @property
    def n_features(self) -> int:
        """Number of input columns."""
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.X_train.shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation samples (may be 0)."""
        return int(self.X_val.shape[0])


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of ``list_datasets()``: what a data set is and whether it can be loaded now."""

    name: str
    task_kind: str  # "classification" or "regression"
    available: bool
    note: str
    description: str


# --------------------------------------------------------------------------- argument checks


def is_int(value: Any) -> bool:
    """An integer of any kind (Python's, NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real_number(value: Any) -> bool:
    """A real number of any kind, not a bool (finite or not: the caller checks)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_val_fraction(val_fraction: Any) -> float:
    """``val_fraction`` as a float from 0 to ``MAX_VAL_FRACTION`` (``DatasetError`` if not)."""
    if not is_real_number(val_fraction) or not 0.0 <= float(val_fraction) <= MAX_VAL_FRACTION:
        raise DatasetError(
            f"val_fraction must be a number between 0 and {MAX_VAL_FRACTION}, got {val_fraction!r}"
        )
    return float(val_fraction)


def check_seed(seed: Any) -> int:
    """``seed`` as an int >= 0 (``DatasetError`` if not)."""
    if not is_int(seed) or int(seed) < 0:
        raise DatasetError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- splitting


def _split_indices(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[Any, Any]:
    """Seeded (train, val) index arrays; validation gets ``round(val_fraction * n)`` samples.

    The validation part is capped so that at least ``MIN_TRAIN`` samples remain for training.
    """
    n_val = min(int(round(val_fraction * n)), max(n - MIN_TRAIN, 0))
    perm = rng.permutation(n)
    return perm[n_val:], perm[:n_val]


def _standardize(X_train: np.ndarray, X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both parts scaled with the training part's mean and std (std 1 for a constant column)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0.0, std, 1.0)
    return (X_train - mean) / std, (X_val - mean) / std


def make_dataset(
    name: str,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    feature_names: tuple[str, ...],
    val_fraction: float,
    rng: np.random.Generator,
    standardize: bool = False,
) -> Dataset:
    """The ``Dataset`` of all the points ``(X, y)``, split by a permutation drawn from ``rng``
    (inputs standardised by the training part's statistics when asked)."""
    train, val = _split_indices(X.shape[0], val_fraction, rng)
    X_train, X_val = X[train], X[val]
    if standardize:
        X_train, X_val = _standardize(X_train, X_val)
    return Dataset(name, task, X_train, y[train], X_val, y[val], n_classes, feature_names)
