"""Comparisons of optimizers on one experiment: races, learning-rate sweeps and seed bands.

Every function trains many models in one :class:`~dlopt_core.train.engine.Engine` wherever it can,
so the models share the compiled loop, and, unless told otherwise, the same initial parameters and
the same mini-batches: differences between them are the optimizer's alone.

Long runs go in chunks. Between two chunks ``callback(progress, partial_result)`` is called with
the fraction done (0..1) and a result of the same type as the final one, and ``should_stop()`` is
asked whether to give up; a cancelled run returns what it has, with ``cancelled=True``. Results
are frozen dataclasses holding copies, safe to hand to another thread. Chunk sizes adapt to take
about :data:`TARGET_CHUNK_S` seconds each; they never change the numbers (see ``engine``).

"Final" values are those of the parameters after the last step; a model that diverged has none
(NaN). "Best" values are the lowest recorded ones (every ``training.eval_every`` steps).

``dl.compare`` gathers the names of its modules: ``runs`` (what they share), ``races``,
``lr_sweeps``, ``range_test``, ``sweep_2d``, ``seeds`` and ``boundaries``; the machinery they
share (the chunked ``Driver``, engine building, sweep parts) stays in ``runs``.
"""

from dlopt_core.studies.compare.boundaries import (
    BoundaryGrid,
)
from dlopt_core.studies.compare.lr_sweeps import (
    SweepResult,
    lr_sweep,
)
from dlopt_core.studies.compare.races import (
    RaceResult,
    race,
)
from dlopt_core.studies.compare.range_test import (
    RangeTestResult,
    growth_schedule,
    lr_range_test,
    smooth,
)
from dlopt_core.studies.compare.runs import (
    CURVE_FIELDS,
    MAX_RACE,
    MAX_SEEDS,
    MAX_SWEEP_MODELS,
    PART_FIELDS,
    PART_MODELS,
    SAFE_MARGIN,
    SECOND_PARAMS,
    SWEEP_HISTORY,
    TARGET_CHUNK_S,
    Callback,
    StopCheck,
    base_optimizer,
    spec_from_dict,
    unique_labels,
)
from dlopt_core.studies.compare.seeds import (
    Band,
    SeedBandsResult,
    band_stats,
    seed_bands,
)
from dlopt_core.studies.compare.sweep_2d import (
    Sweep2DResult,
    sweep_2d,
)

__all__ = [
    "Band",
    "BoundaryGrid",
    "CURVE_FIELDS",
    "Callback",
    "MAX_RACE",
    "MAX_SEEDS",
    "MAX_SWEEP_MODELS",
    "PART_FIELDS",
    "PART_MODELS",
    "RaceResult",
    "RangeTestResult",
    "SAFE_MARGIN",
    "SECOND_PARAMS",
    "SWEEP_HISTORY",
    "SeedBandsResult",
    "StopCheck",
    "Sweep2DResult",
    "SweepResult",
    "TARGET_CHUNK_S",
    "band_stats",
    "base_optimizer",
    "growth_schedule",
    "lr_range_test",
    "lr_sweep",
    "race",
    "seed_bands",
    "smooth",
    "spec_from_dict",
    "sweep_2d",
    "unique_labels",
]
