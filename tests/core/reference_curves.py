"""Reference runs of the engine: what they are, how they were recorded and how they are compared.

``python tests/core/reference_curves.py`` records every case below into
``tests/core/data/reference_curves.npz``; ``test_reference_curves.py`` re-runs them and compares.
The file was recorded with the engine as it was before its kernels were rewritten (model-major
state, one model per ``prange`` iteration, BLAS products), so the test says that a new engine
computes the same numbers as the old one. Re-record only for a change that is meant to change the
numbers, and say so in the commit.

Cases are small (tiny networks, tens of steps) so that round-off, which differs with the order of
summation, stays far below the tolerance even where training amplifies it:

- ``grid_<activation>_<loss>``: every optimizer (with some non-default hyper-parameters) x every
  schedule, 77 models in one engine, for every activation x loss (mse also with two outputs);
  40 training rows in batches of 7 (a smaller last batch), shuffled.
- strategies: clipping, L1, L2 (weight decay), Polyak averaging, early stopping, all together,
  no shuffling, batch sizes 1, full batch and larger than the data.
- races with their own init and order seeds, a learning-rate sweep into divergence, 2-D sweeps
  (momentum and batch size), seed bands, a diverging regression model.

The comparison rule (``compare_arrays``): discrete values (status, stop steps, flags) are equal;
non-finite values are non-finite at the same places with the same sign (NaN where NaN); a finite
value ``x`` of reference ``r`` passes when ``|x - r| <= 1e-12 * max(|r|, s)``, where ``s`` is the
largest finite ``|r|`` of the same quantity of the same model (its parameter vector, or one metric
over the recorded steps). That is 1e-12 relative, and for a value near 0 (a parameter crossing
zero, a loss near 0 late in a run) 1e-12 of the scale of its own model's quantity: such a value is
the difference of larger terms and carries their round-off, not its own.

A diverged model's status, stop step and NaN places are exact too, but its finite values pass at
1e-8 relative (same scale rule): while a model blows up, its parameters grow by tens of orders of
magnitude and every change in the order of a sum shows up amplified (about 1e-10 measured when
only the layer products changed from BLAS to loops). The cases are chosen so that every model
that does not diverge trains smoothly (a model that wanders chaotically without overflowing, as a
tanh net does at a huge rate, amplifies round-off without bound and is left out).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dlopt_core import compare  # noqa: E402
from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig  # noqa: E402
from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec  # noqa: E402
from dlopt_core.train.network import ACTIVATIONS, Network  # noqa: E402
from dlopt_core.train.optimizers import make_optimizer  # noqa: E402
from dlopt_core.train.schedules import make_schedule  # noqa: E402

PATH = Path(__file__).with_name("data") / "reference_curves.npz"
RTOL = 1e-12
DIVERGED_RTOL = 1e-8
GRID_STEPS = 24


class _Data:
    def __init__(self, X, y, n_train):
        self.X_train, self.y_train = X[:n_train], y[:n_train]
        self.X_val, self.y_val = X[n_train:], y[n_train:]


def data(kind: str, n: int = 52, n_train: int = 40, seed: int = 0) -> _Data:
    """Small 2-D data sets made here, so that the references depend on NumPy's generator only."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * np.array([1.5, 0.7]) + np.array([0.3, -0.2])
    if kind == "bce":
        y = ((X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=n)) > 0).astype(float)
    elif kind == "ce":
        angle = np.arctan2(X[:, 1], X[:, 0]) + 0.4 * rng.normal(size=n)
        y = (np.floor((angle + np.pi) / (2 * np.pi) * 3) % 3).astype(float)
    elif kind == "mse":
        y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=n)
    else:  # mse2: two outputs
        y = np.column_stack([np.sin(X[:, 0]), X[:, 0] * X[:, 1]]) + 0.1 * rng.normal(size=(n, 2))
    return _Data(X, y, n_train)


def optimizers() -> list:
    """Every optimizer, several with non-default hyper-parameters, at rates that move tiny nets."""
    return [
        make_optimizer("sgd", lr=0.3),
        make_optimizer("momentum", lr=0.05, dampening=0.1, weight_decay=1e-3),
        make_optimizer("nesterov", lr=0.05, momentum=0.8),
        make_optimizer("adagrad", lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
        make_optimizer("rmsprop", lr=0.01, momentum=0.5, centered=True),
        make_optimizer("adadelta", lr=1.0, rho=0.8, weight_decay=1e-2),
        make_optimizer("adam", lr=0.02, betas=(0.8, 0.99)),
        make_optimizer("adamax", lr=0.03),
        make_optimizer("nadam", lr=0.02, momentum_decay=0.01),
        make_optimizer("amsgrad", lr=0.02, weight_decay=1e-3),
        make_optimizer("adamw", lr=0.02, weight_decay=0.05),
        make_optimizer("rmsprop", lr=0.005),
        make_optimizer("adam", lr=0.01, amsgrad=True),
    ]


def schedules(steps: int) -> list:
    return [
        make_schedule("constant"),
        make_schedule("step", step_size=5, gamma=0.5),
        make_schedule("exponential", gamma=0.97),
        make_schedule("inverse_time", k=0.1),
        make_schedule("cosine", T_max=steps, eta_min=1e-4),
        make_schedule("warmup_cosine", warmup=4, T_max=steps),
        make_schedule("one_cycle", total_steps=steps, pct_start=0.25),
    ]


def grid_specs() -> list[ModelSpec]:
    return [ModelSpec(o, s) for o in optimizers() for s in schedules(GRID_STEPS)]


def grid_network(activation: str, loss: str) -> Network:
    out = {"bce": 1, "ce": 3, "mse": 1, "mse2": 2}[loss]
    return Network([2, 3, 2, out], activation, "mse" if loss == "mse2" else loss)


def engine_record(engine: Engine, metrics, brief: bool = False) -> dict[str, np.ndarray]:
    """What a run is compared on: final parameters, optimizer state, the recorded metrics.

    ``brief`` (the large grids, to keep the file small): the final parameters and the last
    recorded metrics only; any difference along the way shows in the final parameters.
    """
    h = engine.history
    curves = np.stack(
        [
            h.field(f)
            for f in ("train_loss", "val_loss", "train_error", "val_error", "grad_norm", "lr")
        ]
    )
    out = {
        "theta": np.array(engine.theta),
        "status": engine.status.copy(),
        "stop_step": engine.stop_step.copy(),
    }
    if brief:
        out["curves"] = curves[:, -1:, :]
        return out
    out.update(
        {
            "slots": np.array(engine.slots),
            "steps": h.steps,
            "curves": curves,
            "metrics_steps": metrics.steps,
        }
    )
    if engine.train.polyak > 0.0:
        out["avg"] = np.array(engine.avg)
    if engine.train.early_stopping > 0:
        out["best"] = np.array(engine.best)
    return out


def run_engine(net, d, specs, cfg, steps, seed=3, chunks=None, backend="cpu", brief=False):
    engine = Engine(net, d, specs, cfg, seed=seed, backend=backend)
    parts = chunks or [steps]
    assert sum(parts) == steps
    metrics = None
    for n in parts:
        metrics = engine.run(n)
    return engine_record(engine, metrics, brief)


def _grid_case(activation: str, loss: str) -> Callable[..., dict]:
    def case(specs=None, chunks=None, backend="cpu"):
        d = data(loss)
        cfg = TrainConfig(batch_size=7, eval_every=8)
        return run_engine(
            grid_network(activation, loss),
            d,
            specs or grid_specs(),
            cfg,
            GRID_STEPS,
            chunks=chunks,
            backend=backend,
            brief=True,
        )

    return case


MIXED = [
    ModelSpec(make_optimizer("sgd", lr=0.2)),
    ModelSpec(
        make_optimizer("momentum", lr=0.05, weight_decay=1e-3),
        make_schedule("step", step_size=10, gamma=0.5),
    ),
    ModelSpec(make_optimizer("adam", lr=0.02), make_schedule("cosine", T_max=60)),
    ModelSpec(make_optimizer("rmsprop", lr=0.01, centered=True), order_seed=7),
    ModelSpec(make_optimizer("nadam"), init_seed=5),
    ModelSpec(make_optimizer("adamw", lr=0.03), make_schedule("one_cycle", total_steps=60)),
    ModelSpec(make_optimizer("adagrad", lr=0.1), init_seed=9, order_seed=9),
]


def _strategy_case(net_sizes, act, loss, steps=60, specs=None, **train) -> Callable[..., dict]:
    def case(specs_=None, chunks=None, backend="cpu"):
        d = data("mse2" if loss == "mse" and net_sizes[-1] == 2 else loss)
        cfg = TrainConfig(**{"batch_size": 8, "eval_every": 5, **train})
        return run_engine(
            Network(net_sizes, act, loss),
            d,
            specs_ or specs or MIXED,
            cfg,
            steps,
            chunks=chunks,
            backend=backend,
        )

    return case


def experiment(loss: str = "bce", activation: str = "tanh") -> Experiment:
    kind = {"bce": "moons", "ce": "spiral", "mse": "plane"}[loss]
    return Experiment(
        data=DataSpec(kind=kind, n_samples=60, noise=0.15, seed=2, n_classes=3),
        network=NetworkSpec(hidden=(5, 4), activation=activation),
        optimizer=make_optimizer("adam", lr=0.02),
        training=TrainConfig(batch_size=9, eval_every=4),
        seed=6,
    )


def _fields(result, names) -> dict[str, np.ndarray]:
    return {n: np.asarray(getattr(result, n)) for n in names}


def race_case(backend="cpu", **_):
    configs = [
        {"optimizer": "sgd", "lr": 0.3},
        {"optimizer": "momentum", "lr": 0.05, "init_seed": 11},
        {"optimizer": "adam", "lr": 0.02, "order_seed": 12},
        {"optimizer": "adam", "lr": 0.02, "init_seed": 13, "order_seed": 13},
        {"optimizer": "rmsprop", "lr": 0.01, "schedule": "cosine"},
    ]
    r = compare.race(experiment("ce"), configs, 40, target=0.9, backend=backend)
    return _fields(
        r,
        (
            "steps",
            "train_loss",
            "val_loss",
            "train_error",
            "val_error",
            "best_val_loss",
            "best_val_step",
            "final_train_loss",
            "final_val_loss",
            "steps_to_target",
            "diverged_step",
            "theta",
        ),
    )


def sweep_case(backend="cpu", **_):
    r = compare.lr_sweep(
        experiment("mse", "relu"), ["sgd", "adam"], 1e-3, 100.0, 10, 60, backend=backend
    )
    return _fields(
        r,
        (
            "final_train_loss",
            "final_val_loss",
            "best_train_loss",
            "best_val_loss",
            "best_val_step",
            "diverged_step",
            "initial_train_loss",
        ),
    )


def sweep_2d_case(backend="cpu", **_):
    exp = experiment()
    a = compare.sweep_2d(
        experiment("mse", "relu"),
        "momentum",
        [0.003, 0.03, 0.3, 3.0],
        "momentum",
        [0.0, 0.5, 0.9],
        60,
        backend=backend,
    )
    b = compare.sweep_2d(
        exp, "adam", [0.003, 0.03, 0.3], "batch_size", [1, 5, 48], 20, backend=backend
    )
    return {
        "momentum_final": a.final_val_loss,
        "momentum_best": a.best_val_loss,
        "momentum_diverged": a.diverged,
        "batch_final": b.final_val_loss,
        "batch_best": b.best_val_loss,
        "batch_diverged": b.diverged,
    }


def seed_bands_case(backend="cpu", **_):
    r = compare.seed_bands(
        experiment("mse"),
        [{"optimizer": "sgd", "lr": 0.05}, {"optimizer": "adam", "lr": 0.02}],
        3,
        30,
        backend=backend,
    )
    out = {f"runs_{k}": v for k, v in r.runs.items()}
    out["steps"] = r.steps
    out["diverged"] = r.diverged
    return out


def cases() -> dict[str, Callable[..., dict]]:
    out: dict[str, Callable[..., dict]] = {}
    for loss in ("bce", "ce", "mse", "mse2"):
        for act in ACTIVATIONS:
            if loss == "mse2" and act not in ("tanh", "relu"):
                continue
            out[f"grid_{act}_{loss}"] = _grid_case(act, loss)
    small = ([2, 5, 4, 1], "tanh", "bce")
    out["clip"] = _strategy_case(*small, clip_norm=0.3)
    out["l1_l2"] = _strategy_case(*small, l1=3e-3)
    out["polyak"] = _strategy_case(*small, polyak=0.9)
    out["early_stopping"] = _strategy_case(
        [2, 16, 1], "tanh", "bce", steps=150, early_stopping=4, eval_every=3
    )
    out["everything"] = _strategy_case(
        [2, 6, 3], "relu", "ce", clip_norm=1.0, l1=1e-3, polyak=0.8, early_stopping=3, eval_every=4
    )
    out["no_shuffle"] = _strategy_case(*small, shuffle=False, batch_size=6)
    out["batch_1"] = _strategy_case(*small, steps=50, batch_size=1, eval_every=7)
    out["full_batch"] = _strategy_case(*small, batch_size=40)
    out["batch_over_n"] = _strategy_case(*small, batch_size=100, eval_every=6)
    out["wide_single"] = _strategy_case(
        [2, 24, 20, 1],
        "tanh",
        "bce",
        steps=40,
        batch_size=16,
        specs=[ModelSpec(make_optimizer("momentum", lr=0.05))],
    )
    out["wide_ce_single"] = _strategy_case(
        [2, 30, 3],
        "relu",
        "ce",
        steps=40,
        batch_size=16,
        specs=[ModelSpec(make_optimizer("adam", lr=0.01))],
    )
    out["diverging"] = _strategy_case(
        [2, 8, 1],
        "relu",
        "mse",
        steps=80,
        batch_size=10,
        specs=[
            ModelSpec(make_optimizer("sgd", lr=0.001)),
            ModelSpec(make_optimizer("sgd", lr=0.9)),
            ModelSpec(make_optimizer("adam", lr=0.01)),
            ModelSpec(make_optimizer("momentum", lr=0.3)),
        ],
    )
    out["race"] = race_case
    out["sweep"] = sweep_case
    out["sweep_2d"] = sweep_2d_case
    out["seed_bands"] = seed_bands_case
    return out


def record(path: Path = PATH) -> None:
    arrays = {}
    for name, case in cases().items():
        for key, value in case().items():
            arrays[f"{name}/{key}"] = value
    path.parent.mkdir(exist_ok=True)
    np.savez_compressed(path, **arrays)


def load(path: Path = PATH) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as f:
        for key in f.files:
            case, name = key.split("/", 1)
            out.setdefault(case, {})[name] = f[key]
    return out


def _layout(key: str, ref: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(model axes, quantity axes)`` of a recorded array.

    A model's scale is the largest finite |value| over its quantity axes: one parameter vector,
    one optimizer slot, one metric over the recorded steps. Arrays of one value per model (sweep
    results, 2-D grids) have no quantity axis: each value is its own scale.
    """
    if key in ("theta", "avg", "best"):  # (M, P)
        return (0,), (1,)
    if key == "slots":  # (M, 3, P)
        return (0,), (2,)
    if key == "curves":  # (field, R, M)
        return (2,), (1,)
    if key.startswith("runs_"):  # seed bands (C, N, R)
        return (0, 1), (2,)
    if key in ("train_loss", "val_loss", "train_error", "val_error"):  # race curves (R, M)
        return (1,), (0,)
    return tuple(range(ref.ndim)), ()


def _diverged(key: str, ref: dict) -> np.ndarray | None:
    """Which models diverged, over the model axes of ``key``."""
    if "status" in ref:
        return ref["status"] == 1
    if "diverged_step" in ref:
        return ref["diverged_step"] >= 0
    prefix = key.split("_")[0]
    if f"{prefix}_diverged" in ref:
        return ref[f"{prefix}_diverged"]
    return ref.get("diverged")


def compare_arrays(
    name: str,
    got: np.ndarray,
    ref: np.ndarray,
    scale: np.ndarray | None = None,
    rtol: np.ndarray | float = RTOL,
) -> None:
    """Raise AssertionError unless ``got`` matches ``ref`` by the rule of the module docstring.

    ``scale`` (broadcastable, default: the largest finite |ref| of each row) and ``rtol`` may
    differ per element.
    """
    got = np.asarray(got)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    if ref.dtype.kind in "biu":
        np.testing.assert_array_equal(got, ref, err_msg=name)
        return
    fin = np.isfinite(ref)
    same_special = np.array_equal(np.isnan(got), np.isnan(ref)) and np.array_equal(
        np.where(np.isinf(ref), ref, 0.0), np.where(np.isinf(got), got, 0.0)
    )
    assert same_special, f"{name}: non-finite values differ in place"
    if scale is None:
        a = np.where(fin, np.abs(ref), 0.0)
        scale = a.max(axis=-1, keepdims=True) if a.ndim else a
    bound = rtol * np.maximum(np.abs(ref), scale)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(fin, np.abs(got - ref), 0.0)
    bad = err > bound
    if bad.any():
        i = np.unravel_index(
            np.argmax(np.where(fin, err / np.maximum(bound, 1e-300), 0)), ref.shape
        )
        raise AssertionError(
            f"{name}: {int(bad.sum())} of {ref.size} values off; worst at {i}: "
            f"{got[i]!r} vs {ref[i]!r} (bound {bound[i]:.3g})"
        )


def compare_record(case: str, got: dict, ref: dict) -> None:
    """Compare every array of a case by the rule of the module docstring."""
    assert sorted(got) == sorted(ref), f"{case}: keys {sorted(got)} != {sorted(ref)}"
    for key, r in ref.items():
        if r.dtype.kind != "f":
            compare_arrays(f"{case}/{key}", got[key], r)
            continue
        models, quantity = _layout(key, r)
        a = np.where(np.isfinite(r), np.abs(r), 0.0)
        scale = a.max(axis=quantity, keepdims=True) if quantity else a
        rtol = np.full(r.shape, RTOL)
        diverged = _diverged(key, ref)
        if diverged is not None:
            shape = [r.shape[k] if k in models else 1 for k in range(r.ndim)]
            rtol = np.where(np.reshape(diverged, shape), DIVERGED_RTOL, rtol)
        compare_arrays(f"{case}/{key}", got[key], r, scale, rtol)


if __name__ == "__main__":
    record()
    print(f"wrote {PATH} ({PATH.stat().st_size / 1024:.0f} KiB)")
