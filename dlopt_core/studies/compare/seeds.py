"""Seed bands: each configuration trained from many seeds, and the spread of its curves
(mean, quantiles) per recorded step.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dlopt_core.studies.compare.runs import (
    CURVE_FIELDS,
    MAX_SEEDS,
    MAX_SWEEP_MODELS,
    Callback,
    Driver,
    StopCheck,
    check_steps,
    specs_of,
    unique_labels,
)
from dlopt_core.train.engine import DIVERGED, Engine, ModelSpec
from dlopt_core.train.experiment import Experiment


@dataclass(frozen=True)
class Band:
    """Statistics over seeds, each (C, R): per configuration and recorded step.

    ``std`` is the population standard deviation (ddof 0); runs that stopped (NaN) are left out,
    and ``count`` says how many runs a point is made of.
    """

    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class SeedBandsResult:
    """Each configuration trained once per seed; ``runs[field]`` is (C, N, R), ``bands[field]``
    the statistics over the N seeds, on the common grid ``steps`` (R,)."""

    labels: tuple[str, ...]
    specs: tuple[ModelSpec, ...]
    seeds: tuple[int, ...]
    steps: np.ndarray
    runs: dict[str, np.ndarray]
    bands: dict[str, Band]
    diverged: np.ndarray  # (C, N)
    step: int
    total: int
    cancelled: bool = False
    regression: bool = False  # errors are RMSE (else the misclassified fraction)

    @property
    def complete(self) -> bool:
        return not self.cancelled


def band_stats(runs: np.ndarray) -> Band:
    """Mean, std, min, max and count over axis 1 of (C, N, R) values, ignoring NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return Band(
            mean=np.nanmean(runs, axis=1),
            std=np.nanstd(runs, axis=1),
            low=np.nanmin(runs, axis=1),
            high=np.nanmax(runs, axis=1),
            count=np.isfinite(runs).sum(axis=1),
        )


def _bands_result(
    engine: Engine,
    specs: list[ModelSpec],
    labels: tuple[str, ...],
    seeds: tuple[int, ...],
    total: int,
    cancelled: bool,
) -> SeedBandsResult:
    C, N = len(specs), len(seeds)
    h = engine.history
    runs = {}
    bands = {}
    for name in CURVE_FIELDS:
        values = h.field(name)  # (R, C * N), model m = c * N + k
        cube = np.ascontiguousarray(values.T.reshape(C, N, -1))
        runs[name] = cube
        bands[name] = band_stats(cube)
    return SeedBandsResult(
        labels=labels,
        specs=tuple(specs),
        seeds=seeds,
        steps=h.steps,
        runs=runs,
        bands=bands,
        diverged=(engine.status == DIVERGED).reshape(C, N),
        step=int(engine.step),
        total=int(total),
        cancelled=cancelled,
        regression=engine.network.loss == "mse",
    )


def seed_bands(
    exp: Experiment,
    configs: Sequence[ModelSpec | Mapping[str, Any]],
    n_seeds: int,
    steps: int,
    *,
    seeds: Sequence[int] | None = None,
    backend: str = "cpu",
    chunk: int | None = None,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
) -> SeedBandsResult:
    """Each configuration over ``n_seeds`` seeds, all in one engine.

    Seed ``s`` sets both the initial parameters and the batch order (``init_seed = order_seed =
    s``); the seeds are ``exp.seed, exp.seed + 1, ...`` unless given. Model ``c * N + k`` is
    configuration ``c`` with seed ``k``.
    """
    specs = specs_of(configs)
    if not specs:
        raise ValueError("choose at least one configuration")
    if seeds is None:
        seeds = [exp.seed + k for k in range(int(n_seeds))]
    seeds = tuple(int(s) for s in seeds)
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"seed bands take 1 to {MAX_SEEDS} seeds, got {len(seeds)}")
    if len(specs) * len(seeds) > MAX_SWEEP_MODELS:
        raise ValueError(f"{len(specs)} configurations x {len(seeds)} seeds is too many models")
    steps = check_steps(steps)
    labels = unique_labels(specs)
    models = [replace(spec, init_seed=s, order_seed=s) for spec in specs for s in seeds]
    _, _, engine = exp.build(models=models, backend=backend)
    driver = Driver(steps, chunk, callback, should_stop)
    driver.run(
        engine, steps, None, lambda: _bands_result(engine, specs, labels, seeds, steps, False)
    )
    return _bands_result(engine, specs, labels, seeds, steps, driver.cancelled)
