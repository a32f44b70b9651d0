"""Trainability maps: which hyper-parameters train a network and which make it diverge.

After J. Sohl-Dickstein, "The boundary of neural network trainability is fractal" (2024,
arXiv 2402.06184). One small network, one data set, one initialisation; a grid of copies that
differ in two hyper-parameters (the two axes), each trained by full-batch gradient descent (or
momentum, or Adam) for ``steps`` steps. Each pixel's value says whether that run converged and how
fast (see :func:`values_from_losses`); the border between the two outcomes is fractal, and its
box-counting dimension (:func:`box_counting`) measures how much.

The network is the paper's "mean-field" one without biases, ``h = tanh(sqrt(2) X W1 / sqrt(d))``,
``out = h W2 / d``, trained on the mean squared error; :class:`Problem` holds its data and initial
weights. The grid is cut into tiles (:meth:`MapSpec.tiles`), each a strided sub-lattice of the
whole map, so that the first finished tile is already a coarse picture of all of it and later ones
refine it. A tile is a pure function of ``(problem, spec, tile index)`` (:func:`compute_tile`):
executors (``dlopt_core.studies.executors``: in this process, or on a Dask cluster) run tiles in any
order, anywhere, and the map comes out the same to the last bit.

``dl.trainability`` gathers the names of its modules: ``problem`` (the network's data and initial
weights), ``spec`` (axes, resolution, tiles), ``tiles`` (one run's value, one tile's values),
``fractal`` (box counting) and ``maps`` (the whole map).
"""

from dlopt_core.studies.trainability.fractal import (
    FractalFit,
    box_counting,
    edge_mask,
)
from dlopt_core.studies.trainability.maps import (
    MapResult,
    Progress,
    StopCheck,
    fill_missing,
    trainability_map,
    warm_up,
)
from dlopt_core.studies.trainability.problem import (
    CAP,
    CONVERGED_LAST,
    MAX_PROBLEM_BYTES,
    MAX_RES,
    MAX_ROWS,
    MAX_STEPS,
    MAX_WIDTH,
    OPTIMIZERS,
    TILE,
    MapError,
    Problem,
)
from dlopt_core.studies.trainability.spec import (
    AXES,
    Axis,
    MapSpec,
    grid_level,
)
from dlopt_core.studies.trainability.tiles import (
    TileResult,
    compute_tile,
    normalised_losses,
    patch_order,
    pixel_hyper,
    pixel_losses,
    tile_task,
    train_losses,
    values_from_losses,
)

__all__ = [
    "AXES",
    "Axis",
    "CAP",
    "CONVERGED_LAST",
    "FractalFit",
    "MAX_PROBLEM_BYTES",
    "MAX_RES",
    "MAX_ROWS",
    "MAX_STEPS",
    "MAX_WIDTH",
    "MapError",
    "MapResult",
    "MapSpec",
    "OPTIMIZERS",
    "Problem",
    "Progress",
    "StopCheck",
    "TILE",
    "TileResult",
    "box_counting",
    "compute_tile",
    "edge_mask",
    "fill_missing",
    "grid_level",
    "normalised_losses",
    "patch_order",
    "pixel_hyper",
    "pixel_losses",
    "tile_task",
    "train_losses",
    "trainability_map",
    "values_from_losses",
    "warm_up",
]
