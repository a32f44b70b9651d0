"""The trainability map's problem and its limits: the data and initial weights of the paper's
"mean-field" network without biases, ``h = tanh(sqrt(2) X W1 / sqrt(d))``, ``out = h W2 / d``,
trained on the mean squared error; ``Problem`` reads and writes them as ``.npz`` files.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.data.files import read_bytes

MAX_RES = 4096
MAX_STEPS = 100_000
MAX_WIDTH = 256
MAX_ROWS = 100_000
MAX_PROBLEM_BYTES = 256 * 2**20
TILE = 16  # pixels per tile side: a tile of 256 models is about a second on one core
CAP = 1e6  # a normalised loss above this (or not finite) counts as this
CONVERGED_LAST = 20  # the run converged when the mean of its last 20 normalised losses is below 1
OPTIMIZERS = ("gd", "momentum", "adam")


class MapError(ValueError):
    """A problem or map that cannot be computed; the message names the field and the fix."""


# -- the problem ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Problem:
    """The data ``X`` (n, d), targets ``Y`` (n, 1) and initial weights ``W1`` (d, d), ``W2``
    (d, 1) of the mean-field network; every model of a map starts from these."""

    X: np.ndarray
    Y: np.ndarray
    W1: np.ndarray
    W2: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        arrays = {}
        for key in ("X", "Y", "W1", "W2"):
            try:
                a = np.array(getattr(self, key), dtype=np.float64, order="C")
            except (TypeError, ValueError):
                raise MapError(f"{key} must be an array of numbers") from None
            if not np.all(np.isfinite(a)):
                raise MapError(f"{key} holds a value that is not a finite number")
            a.setflags(write=False)
            arrays[key] = a
        X, Y, W1, W2 = arrays["X"], arrays["Y"], arrays["W1"], arrays["W2"]
        if X.ndim != 2 or X.shape[0] < 1 or not 1 <= X.shape[1] <= MAX_WIDTH:
            raise MapError(f"X must have shape (n, d) with d from 1 to {MAX_WIDTH}, got {X.shape}")
        n, d = X.shape
        if n > MAX_ROWS:
            raise MapError(f"X has {n} rows; at most {MAX_ROWS} are allowed")
        for key, a, shape in (("Y", Y, (n, 1)), ("W1", W1, (d, d)), ("W2", W2, (d, 1))):
            if a.shape != shape:
                raise MapError(f"{key} must have shape {shape} (X is {n} x {d}), got {a.shape}")
        for key, a in arrays.items():
            object.__setattr__(self, key, a)

    @property
    def width(self) -> int:
        return int(self.X.shape[1])

    @property
    def rows(self) -> int:
        return int(self.X.shape[0])

    @classmethod
    def paper(cls, width: int = 16, seed: int = 0) -> Problem:
        """The paper's set-up: as many rows as parameters (``d*d + d``), X, Y, W1 and W2 all
        standard normal, drawn in that order from ``numpy.random.default_rng(seed)``."""
        width = int(width)
        if not 1 <= width <= MAX_WIDTH:
            raise MapError(f"the width must be from 1 to {MAX_WIDTH}, got {width}")
        rng = np.random.default_rng(int(seed))
        n = width * width + width
        X = rng.standard_normal((n, width))
        Y = rng.standard_normal((n, 1))
        W1 = rng.standard_normal((width, width))
        W2 = rng.standard_normal((width, 1))
        return cls(X, Y, W1, W2, f"paper, width {width}, seed {seed}")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Problem:
        """A problem from an ``.npz`` file with the arrays ``X``, ``Y``, ``W1`` and ``W2``."""
        data = read_bytes(path, MAX_PROBLEM_BYTES, MapError)
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                missing = [k for k in ("X", "Y", "W1", "W2") if k not in npz.files]
                if missing:
                    raise MapError(
                        f"{path}: the file has no array {', '.join(missing)} (it "
                        f"needs X, Y, W1 and W2)"
                    )
                arrays = {k: npz[k] for k in ("X", "Y", "W1", "W2")}
        except MapError:
            raise
        except Exception as exc:  # not a zip, a bad member, an object array ...
            raise MapError(f"{path}: not a readable .npz file ({exc})") from None
        try:
            return cls(**arrays, name=os.path.basename(os.fspath(path)))
        except MapError as exc:
            raise MapError(f"{path}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        np.savez(path, X=self.X, Y=self.Y, W1=self.W1, W2=self.W2)

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (
            "Problem",
            self.X.tobytes(),
            self.Y.tobytes(),
            self.W1.tobytes(),
            self.W2.tobytes(),
            self.X.shape,
        )
