"""Large data sets: training evaluates a fixed, seeded sample of each set's rows.

Independent reference: ``Network.loss_and_grad`` (its own kernel, not the training loop) on the
sampled rows, taken directly with NumPy indexing.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.data import datasets
from dlopt_core.train.engine import EVAL_SAMPLE_ROWS, Engine, ModelSpec, TrainConfig, sample_rows
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer

NET = Network([2, 5, 1], "tanh", "bce")


def _data(n_train: int, n_val: int, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_train + n_val, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    return SimpleNamespace(
        X_train=X[:n_train], y_train=y[:n_train], X_val=X[n_train:], y_val=y[n_train:]
    )


def _engine(data, n_models: int = 1, seed: int = 0, **kwargs) -> Engine:
    specs = [ModelSpec(make_optimizer("adam", lr=0.02 * (m + 1))) for m in range(n_models)]
    cfg = kwargs.pop("train", TrainConfig(batch_size=16, eval_every=5))
    return Engine(NET, data, specs, cfg, seed=seed, **kwargs)


def _direct(engine: Engine, theta: np.ndarray, X, Y) -> tuple[float, float]:
    loss, _ = engine.network.loss_and_grad(theta, X, Y)
    p = engine.network.predict(theta, X).reshape(-1)
    return loss, float(np.mean((p > 0.5) != (Y.reshape(-1) > 0.5)))


def test_sample_rows_is_seeded_sorted_and_distinct():
    assert sample_rows(100, 100) is None
    rows = sample_rows(1000, 50)
    assert len(rows) == 50 and len(np.unique(rows)) == 50
    assert np.all(np.diff(rows) > 0) and 0 <= rows[0] and rows[-1] < 1000
    np.testing.assert_array_equal(rows, sample_rows(1000, 50))
    assert not np.array_equal(rows, sample_rows(1000, 50, which=1))
    with pytest.raises(ValueError, match="at least 1 row"):
        sample_rows(10, 0)


def test_a_small_set_is_evaluated_whole_and_unchanged():
    data = _data(120, 40)
    engine = _engine(data)
    assert engine.train_sample is None and engine.val_sample is None and not engine.sampled
    assert engine.sample_note() == ""
    for a, b in zip(engine.eval_sets(), engine.eval_sets(sample=False), strict=True):
        assert a is b
    # a bound of exactly the set's size changes nothing, to the bit
    same = _engine(data, eval_rows=120)
    a, b = engine.run(40), same.run(40)
    for field in ("train_loss", "val_loss", "train_error", "val_error", "grad_norm"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("n_models", [1, 3])
def test_a_large_sets_curves_are_evaluated_on_the_sample(n_models):
    data = _data(300, 90)
    engine = _engine(data, n_models, eval_rows=40)
    assert engine.sampled and len(engine.train_sample) == 40 and len(engine.val_sample) == 40
    assert engine.sample_note() == (
        "evaluated on a sample of 40 of 300 training rows and 40 of 90 validation rows"
    )
    metrics = engine.run(30)
    X, Y, Xv, Yv = engine.X, engine.Y, engine.Xv, engine.Yv
    rows, vrows = engine.train_sample, engine.val_sample
    full = engine.evaluate()
    sampled = engine.evaluate(sample=True)
    for m in range(n_models):
        theta = engine.theta[m]
        train = _direct(engine, theta, X[rows], Y[rows])
        val = _direct(engine, theta, Xv[vrows], Yv[vrows])
        got = (
            metrics.train_loss[-1, m],
            metrics.train_error[-1, m],
            metrics.val_loss[-1, m],
            metrics.val_error[-1, m],
        )
        np.testing.assert_allclose(got, (*train, *val), rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(sampled[[0, 2, 1, 3], m], got)
        # the full evaluation, for reported numbers, uses every row
        whole = (*_direct(engine, theta, X, Y), *_direct(engine, theta, Xv, Yv))
        np.testing.assert_allclose(full[[0, 2, 1, 3], m], whole, rtol=1e-12, atol=1e-15)
        assert full[0, m] != sampled[0, m]
    # the first row of the history (step 0) is on the sample too
    assert engine.history.steps[0] == 0


def test_the_sample_is_fixed_across_chunks_resets_and_seeds():
    data = _data(300, 90)
    cfg = TrainConfig(batch_size=32, eval_every=5, early_stopping=3)
    whole = _engine(data, 2, train=cfg, eval_rows=50)
    rows = whole.train_sample.copy()
    chunked = _engine(data, 2, train=cfg, eval_rows=50)
    a = whole.run(60)  # several epochs of 10 steps: chunks start inside and across them
    parts = [chunked.run(n) for n in (7, 13, 1, 25, 14)]
    for field in ("train_loss", "val_loss", "train_error", "val_error", "grad_norm"):
        got = np.concatenate([getattr(p, field) for p in parts])
        np.testing.assert_array_equal(getattr(a, field), got)
    np.testing.assert_array_equal(whole.theta, chunked.theta)
    whole.reset(seed=7)
    np.testing.assert_array_equal(whole.train_sample, rows)
    np.testing.assert_array_equal(_engine(data, seed=5, eval_rows=50).train_sample, rows)


def test_early_stopping_decides_on_the_sampled_validation_loss():
    data = _data(300, 90)
    cfg = TrainConfig(batch_size=16, eval_every=5, early_stopping=2)
    engine = _engine(data, train=cfg, eval_rows=30)
    metrics = engine.run(400)
    assert engine.status_name(0) == "early_stopped"
    val = metrics.val_loss[:, 0]
    kept = val[np.isfinite(val)]
    first = engine.history.field("val_loss", 0)[0]
    assert engine.best_val[0] == min(first, kept.min())
    rows = engine.val_sample
    best_loss, _ = _direct(engine, engine.best[0], engine.Xv[rows], engine.Yv[rows])
    assert best_loss == pytest.approx(engine.best_val[0], rel=1e-12)


def test_the_default_bound_samples_a_generated_set_of_30000_rows():
    data = datasets.generate("spiral", 30_000, 0.04, 0.2, 0)
    engine = _engine(data, train=TrainConfig(batch_size=32, eval_every=10))
    n_train = len(data.y_train)
    assert n_train > EVAL_SAMPLE_ROWS >= len(data.y_val)
    assert len(engine.train_sample) == EVAL_SAMPLE_ROWS and engine.val_sample is None
    assert engine.sample_note() == (
        f"evaluated on a sample of {EVAL_SAMPLE_ROWS:,} of {n_train:,} training rows"
    )
    metrics = engine.run(10)
    rows = engine.train_sample
    loss, _ = engine.network.loss_and_grad(engine.theta[0], engine.X[rows], engine.Y[rows])
    assert metrics.train_loss[-1, 0] == pytest.approx(loss, rel=1e-12)
    assert metrics.val_loss[-1, 0] == engine.evaluate()[1, 0]  # every validation row
