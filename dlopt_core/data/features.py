"""Derived input features for 2-D data: a good feature makes a small network enough."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FEATURES = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}
RAW = ("x1", "x2")


def check(names: Sequence[str], n_inputs: int) -> tuple[str, ...]:
    """Validate a feature list for data with ``n_inputs`` columns; returns it as a tuple."""
    names = tuple(names)
    if not names:
        raise ValueError("choose at least one input feature")
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; choose from {', '.join(FEATURES)}")
    if len(set(names)) != len(names):
        raise ValueError("a feature is listed twice")
    if n_inputs != 2 and names != RAW:
        raise ValueError(f"derived features need 2-D data; this data set has {n_inputs} inputs")
    return names


def expand(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` computed from 2-D inputs ``X`` (n, 2); other data pass unchanged."""
    if X.shape[1] != 2 or tuple(names) == RAW:
        return np.ascontiguousarray(X, dtype=np.float64)
    return np.ascontiguousarray(np.column_stack([FEATURES[n](X) for n in names]), dtype=np.float64)
