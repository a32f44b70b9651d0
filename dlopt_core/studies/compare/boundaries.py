"""Decision boundaries for the Compare tab's small pictures: network outputs over a grid of the
raw 2-D inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlopt_core.data import features
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.network import Network


@dataclass
class BoundaryGrid:
    """Network outputs over a grid of the raw 2-D inputs, for small decision-boundary pictures.

    Build it with :meth:`for_experiment` (None when the data are not 2-D); ``values(theta)``
    gives (n, n) outputs (P(class 1), or the value for regression) or (n, n, K) class
    probabilities, row 0 at ``bounds[2]`` (the lowest y).
    """

    network: Network
    bounds: tuple[float, float, float, float]
    n: int
    inputs: np.ndarray
    task: str
    n_classes: int
    points: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    @classmethod
    def for_experiment(cls, exp: Experiment, n: int = 48) -> BoundaryGrid | None:
        loaded = exp.load_data()
        raw, data = loaded.raw, loaded.inputs
        if raw.X_train.shape[1] != 2:
            return None
        net = exp.make_network(data)
        pts = np.concatenate([raw.X_train, raw.X_val])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.06 * np.maximum(hi - lo, 1e-6)
        bounds = (
            float(lo[0] - pad[0]),
            float(hi[0] + pad[0]),
            float(lo[1] - pad[1]),
            float(hi[1] + pad[1]),
        )
        gx, gy = np.meshgrid(
            np.linspace(bounds[0], bounds[1], n), np.linspace(bounds[2], bounds[3], n)
        )
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        inputs = features.expand(grid, exp.network.features)
        return cls(
            net,
            bounds,
            n,
            inputs,
            data.task,
            int(data.n_classes),
            np.array(raw.X_train),
            np.array(raw.y_train),
        )

    def values(self, theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(self.network.predict(np.ascontiguousarray(theta), self.inputs))
        out = np.nan_to_num(out, nan=0.5, posinf=0.0, neginf=0.0)
        return out.reshape(self.n, self.n, -1) if out.ndim == 2 else out.reshape(self.n, self.n)
