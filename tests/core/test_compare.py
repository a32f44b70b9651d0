"""Races, sweeps, range tests and seed bands against separately trained single models."""

from dataclasses import replace

import numpy as np
import pytest

from dlopt_core.studies import compare
from dlopt_core.train.engine import ModelSpec, TrainConfig
from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec
from dlopt_core.train.optimizers import make_optimizer
from dlopt_core.train.schedules import make_schedule

STEPS = 120


@pytest.fixture(scope="module")
def exp():
    return Experiment(
        data=DataSpec(kind="moons", n_samples=100, noise=0.2, seed=3),
        network=NetworkSpec(hidden=(6,), activation="tanh"),
        optimizer=make_optimizer("adam", lr=0.01),
        training=TrainConfig(batch_size=10, eval_every=5),
        seed=4,
    )


CONFIGS = [
    {"optimizer": "sgd", "lr": 0.2},
    {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9, "schedule": "cosine"},
    {"name": "adam", "lr": 0.01, "label": "Adam"},
]


def _single(exp, spec, steps=STEPS):
    _, _, engine = exp.build(models=[spec])
    engine.run(steps)
    return engine


def test_spec_from_dict_forms():
    spec = compare.spec_from_dict(
        {
            "optimizer": {"name": "rmsprop", "lr": 0.02},
            "alpha": 0.9,
            "schedule": {"name": "step", "step_size": 10},
            "init_seed": 5,
        }
    )
    assert spec.optimizer == make_optimizer("rmsprop", lr=0.02, alpha=0.9)
    assert spec.schedule == make_schedule("step", step_size=10)
    assert spec.init_seed == 5 and spec.order_seed is None
    assert compare.unique_labels([spec, spec]) == ("rmsprop", "rmsprop #2")
    with pytest.raises(ValueError, match="no hyper-parameter"):
        compare.spec_from_dict({"optimizer": "sgd", "betas": (0.9, 0.9)})
    with pytest.raises(ValueError, match="optimizer name"):
        compare.spec_from_dict({"lr": 0.1})


def test_a_long_race_keeps_a_band_around_its_thinned_curves(exp):
    long = replace(exp, training=replace(exp.training, eval_every=1))
    result = compare.race(long, CONFIGS[:2], 9000)
    assert len(result.steps) <= 4000 and result.steps[-1] == 9000
    engine = _single(long, compare.spec_from_dict(CONFIGS[0]), 9000)
    assert np.all(result.steps == engine.history.steps)
    for name in compare.CURVE_FIELDS:
        lo, hi = result.band(name, 0)
        np.testing.assert_array_equal((lo, hi), engine.history.envelope(name, 0))
        curve = result.curve(name, 0)
        assert np.all(lo <= curve) and np.all(curve <= hi) and np.any(lo < hi)
    short = compare.race(exp, CONFIGS[:1], STEPS)
    lo, hi = short.band("val_loss", 0)
    np.testing.assert_array_equal(lo, short.curve("val_loss", 0))


def test_race_same_start_and_equal_to_single_runs(exp):
    reports = []
    result = compare.race(
        exp, CONFIGS, STEPS, target=0.6, callback=lambda f, r: reports.append((f, r.step))
    )
    assert result.labels == ("sgd", "momentum", "Adam")
    assert result.complete and result.step == STEPS
    first = result.val_loss[0]
    assert result.steps[0] == 0 and np.all(first == first[0])
    assert np.all(result.train_loss[0] == result.train_loss[0, 0])
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and 0.0 < fractions[0] < 1.0
    for m, raw in enumerate(CONFIGS):
        alone = _single(exp, compare.spec_from_dict(raw))
        h = alone.history
        np.testing.assert_array_equal(result.steps, h.steps)
        for name in compare.CURVE_FIELDS:
            np.testing.assert_array_equal(result.curve(name, m), h.field(name, 0))
        assert result.best_val_loss[m] == h.best_val_loss[0]
        assert result.best_val_step[m] == h.best_val_step[0]
        last = alone.evaluate()
        assert result.final_train_error[m] == last[2, 0]
        assert result.final_val_error[m] == last[3, 0]
        assert result.steps_to_target[m] == h.steps_to_reach(0.6, "val_loss")[0]
    np.testing.assert_array_equal(result.steps_to(0.6), result.steps_to_target)
    row = result.table()[2]
    assert row["label"] == "Adam" and row["diverged"] is False and row["diverged_step"] == -1


def test_race_limits_and_divergence(exp):
    with pytest.raises(ValueError, match="1 to 8"):
        compare.race(exp, [CONFIGS[0]] * 9, 10)
    with pytest.raises(ValueError, match="steps"):
        compare.race(exp, CONFIGS, 0)
    exp_mse = replace(exp, data=DataSpec(kind="plane", n_samples=60, seed=1))
    blow = compare.race(
        exp_mse, [{"optimizer": "sgd", "lr": 900.0}, {"optimizer": "sgd", "lr": 0.01}], 60
    )
    assert blow.diverged.tolist() == [True, False]
    assert blow.diverged_step[0] > 0 and blow.diverged_step[1] == -1
    assert np.isnan(blow.final_val_error[0]) and np.isfinite(blow.final_val_error[1])
    assert np.all(blow.steps_to_target == -1)


def test_sweep_equals_single_runs_and_best_lr(exp):
    result = compare.lr_sweep(exp, ["sgd", "adam"], 1e-3, 10.0, 5, STEPS)
    assert result.n_models == 10
    np.testing.assert_allclose(result.lrs[:5], np.geomspace(1e-3, 10.0, 5))
    assert result.group.tolist() == [0] * 5 + [1] * 5
    assert result.group_labels == ("SGD", "Adam")
    for m in (1, 4, 7):
        opt = result.optimizer_at(m)
        assert opt.lr == result.lrs[m]
        alone = _single(exp, ModelSpec(opt, exp.schedule))
        last = alone.evaluate()
        assert result.final_val_loss[m] == last[1, 0]
        assert result.final_train_loss[m] == last[0, 0]
        assert result.best_val_loss[m] == alone.history.best_val_loss[0]
    # the experiment's own optimizer keeps its hyper-parameters
    assert result.optimizers[1] == exp.optimizer
    for name in ("sgd", "adam"):
        idx = result.indices(name)
        ok = idx[~result.diverged[idx]]
        assert result.best_lr(name) == result.lrs[ok[np.argmin(result.best_val_loss[ok])]]
    assert result.best_lr(1) == result.best_lr("Adam") == result.best_lr(exp.optimizer)
    with pytest.raises(ValueError, match="not in this sweep"):
        result.group_of("nadam")


def test_best_lr_skips_diverged():
    n = 4
    best = np.array([0.5, 0.1, 0.3, 0.2])
    result = compare.SweepResult(
        optimizers=(make_optimizer("sgd"),),
        group_labels=("SGD",),
        lrs=np.array([0.1, 1.0, 2.0, 3.0]),
        group=np.zeros(n, dtype=int),
        final_train_loss=best,
        final_val_loss=best,
        best_train_loss=best,
        best_val_loss=best,
        best_val_step=np.zeros(n, dtype=int),
        diverged=np.array([False, True, False, True]),
        diverged_step=np.array([-1, 5, -1, 3]),
        initial_train_loss=np.full(n, 0.4),
        step=10,
        total=10,
    )
    assert result.best_index("sgd") == 2 and result.best_lr("sgd") == 2.0
    assert result.divergence_lr("sgd") == 1.0
    assert result.unstable.tolist() == [True, True, False, True]


def test_sweep_rejects_bad_ranges(exp):
    with pytest.raises(ValueError, match="lr_min < lr_max"):
        compare.lr_sweep(exp, ["sgd"], 1.0, 0.1, 4, 10)
    with pytest.raises(ValueError, match="at least one optimizer"):
        compare.lr_sweep(exp, [], 0.1, 1.0, 4, 10)
    with pytest.raises(ValueError, match="at most"):
        compare.lr_sweep(exp, ["sgd", "adam"], 0.1, 1.0, 4000, 10)


def test_range_test_lrs_are_geometric(exp):
    result = compare.lr_range_test(exp, 1e-4, 1.0, 100, optimizer="sgd", stop_factor=0.0)
    assert len(result.lrs) == 100 and result.complete
    ratios = result.lrs[1:] / result.lrs[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-10)
    np.testing.assert_allclose(result.lrs[[0, -1]], [1e-4, 1.0], rtol=1e-10)
    k = int(np.argmin(result.smoothed))
    assert result.min_loss_lr == result.lrs[k]
    assert result.suggested_lr == pytest.approx(result.lrs[k] / 10)
    assert result.optimizer.name == "sgd"
    # the losses are those of a run with that schedule
    alone = _single(
        replace(exp, training=replace(exp.training, eval_every=1)),
        ModelSpec(make_optimizer("sgd", lr=1e-4), compare.growth_schedule(1e-4, 1.0, 100)),
        100,
    )
    np.testing.assert_array_equal(result.losses, alone.history.field("train_loss", 0)[1:])


def test_range_test_stops_when_the_loss_blows_up(exp):
    result = compare.lr_range_test(exp, 1e-3, 1000.0, 300, optimizer="sgd")
    assert result.step < 300 and result.complete


def test_sweep_2d_momentum_grid(exp):
    lrs, mus = [0.01, 0.1, 1.0], [0.0, 0.9]
    result = compare.sweep_2d(exp, "momentum", lrs, "momentum", mus, 60)
    assert result.shape == (2, 3) and result.trained.all()
    alone = _single(exp, ModelSpec(make_optimizer("momentum", lr=0.1, momentum=0.9)), 60)
    assert result.final_val_loss[1, 1] == alone.evaluate()[1, 0]
    assert (np.isnan(result.final_val_loss) == result.diverged).all()
    with pytest.raises(ValueError, match="no momentum"):
        compare.sweep_2d(exp, "adam", lrs, "momentum", mus, 10)
    with pytest.raises(ValueError, match="unknown second"):
        compare.sweep_2d(exp, "adam", lrs, "alpha", mus, 10)


def test_sweep_2d_beta1_and_batch_size(exp):
    beta = compare.sweep_2d(exp, "adam", [0.01, 0.05], "beta1", [0.5, 0.9], 40)
    alone = _single(exp, ModelSpec(make_optimizer("adam", lr=0.05, betas=(0.5, 0.999))), 40)
    assert beta.final_val_loss[0, 1] == alone.evaluate()[1, 0]
    reports = []
    result = compare.sweep_2d(
        exp,
        "adam",
        [0.01, 0.05],
        "batch_size",
        [5, 40],
        40,
        callback=lambda f, r: reports.append((f, r.trained.copy())),
    )
    assert result.shape == (2, 2) and result.trained.all()
    small = replace(exp, training=replace(exp.training, batch_size=40))
    alone = _single(small, ModelSpec(exp.optimizer.replace(lr=0.05)), 40)
    assert result.final_val_loss[1, 1] == alone.evaluate()[1, 0]
    # the first batch size is done before the second starts
    assert any(t[0].all() and not t[1].any() for _, t in reports)
    with pytest.raises(ValueError, match="whole numbers"):
        compare.sweep_2d(exp, "adam", [0.01], "batch_size", [2.5], 10)


def test_seed_bands_equal_numpy_over_separate_runs(exp):
    configs = CONFIGS[:2]
    result = compare.seed_bands(exp, configs, 3, 80)
    assert result.seeds == (4, 5, 6)
    for c, raw in enumerate(configs):
        spec = compare.spec_from_dict(raw)
        runs = []
        for s in result.seeds:
            alone = _single(exp, replace(spec, init_seed=s, order_seed=s), 80)
            np.testing.assert_array_equal(alone.history.steps, result.steps)
            runs.append(alone.history.field("val_loss", 0))
        runs = np.array(runs)
        band = result.bands["val_loss"]
        np.testing.assert_allclose(band.mean[c], runs.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(band.std[c], runs.std(axis=0), rtol=1e-9, atol=1e-15)
        np.testing.assert_array_equal(band.low[c], runs.min(axis=0))
        np.testing.assert_array_equal(band.high[c], runs.max(axis=0))
        assert (band.count[c] == 3).all()
    # different seeds give different starting points
    assert np.ptp(result.runs["val_loss"][0, :, 0]) > 0


def test_band_stats_leave_out_stopped_runs():
    runs = np.array([[[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]]])
    band = compare.band_stats(runs)
    np.testing.assert_array_equal(band.mean, [[2.0, 3.0, 5.0]])
    np.testing.assert_array_equal(band.count, [[2, 2, 1]])
    np.testing.assert_array_equal(band.std[0, 2], 0.0)


@pytest.mark.parametrize("kind", ["race", "sweep", "bands", "2d", "range"])
def test_should_stop_keeps_partial_results(exp, kind):
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 3

    common = {"chunk": 10, "should_stop": stop}
    if kind == "race":
        result = compare.race(exp, CONFIGS, 500, **common)
        assert len(result.steps) == 7 and result.steps[-1] == 30
        assert np.isfinite(result.final_val_error).all()
    elif kind == "sweep":
        result = compare.lr_sweep(exp, ["adam"], 1e-3, 1e-1, 8, 500, **common)
        assert np.isfinite(result.best_val_loss).all()
    elif kind == "bands":
        result = compare.seed_bands(exp, CONFIGS[:1], 2, 500, **common)
        assert result.bands["val_loss"].mean.shape == (1, 7)
    elif kind == "2d":
        calls["n"] = -1  # the sweep asks once more, before it builds an engine
        result = compare.sweep_2d(exp, "adam", [0.01], "batch_size", [5, 10], 500, **common)
        assert result.trained[:, 0].tolist() == [True, False]
    else:
        result = compare.lr_range_test(exp, 1e-4, 1e-2, 500, **common)
        assert len(result.lrs) == 30
    assert result.cancelled and not result.complete
    assert result.step == 30 and result.total == 500


def test_race_on_the_cuda_backend_matches_the_cpu(exp):
    from dlopt_core.train.backends import cuda_status

    ok, why = cuda_status(allow_simulator=True)
    assert ok, f"the CUDA backend (device or simulator) should be there for the tests: {why}"
    small = replace(exp, data=replace(exp.data, n_samples=40), network=NetworkSpec(hidden=(3,)))
    gpu = compare.race(small, CONFIGS, 10, backend="cuda")
    cpu = compare.race(small, CONFIGS, 10, backend="cpu")
    np.testing.assert_allclose(gpu.val_loss, cpu.val_loss, rtol=1e-9, atol=1e-12)


def test_the_status_constants_name_the_engine_status_values():
    """RUNNING, DIVERGED and EARLY_STOPPED are the values of Engine.status that STATUS_NAMES
    names, so the studies compare against names, not numbers."""
    from dlopt_core.train.engine import DIVERGED, EARLY_STOPPED, RUNNING, STATUS_NAMES

    assert STATUS_NAMES[RUNNING] == "running"
    assert STATUS_NAMES[DIVERGED] == "diverged"
    assert STATUS_NAMES[EARLY_STOPPED] == "early_stopped"
