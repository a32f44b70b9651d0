"""The bounded run history: even resolution in steps, spikes kept, best values exact.

The reference is a direct computation: for the stride the history ended with, cut all recorded
rows into buckets ((k-1)*stride, k*stride] and take each bucket's newest row and its minimum and
maximum.
"""

import numpy as np
import pytest

from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.history import ENVELOPE_FIELDS, FIELDS, History
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer


def _rows(n, n_models=2, seed=0, start=1, every=1):
    rng = np.random.default_rng(seed)
    steps = np.arange(start, start + n * every, every, dtype=np.int64)
    data = rng.uniform(1.0, 2.0, size=(n, len(FIELDS), n_models))
    return steps, data


def _feed(h, steps, data, seed=1):
    """Append in chunks of random sizes (1 to 3000 rows), as training chunks would."""
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(steps):
        k = int(rng.integers(1, 3000))
        h.append(steps[i : i + k], data[i : i + k])
        i += k


def _reference(steps, data, stride):
    ids = -(-steps // stride)
    kept, lo, hi = [], [], []
    env = [FIELDS.index(f) for f in ENVELOPE_FIELDS]
    for b in np.unique(ids):
        rows = np.flatnonzero(ids == b)
        kept.append(rows[-1])
        with (
            np.errstate(invalid="ignore"),
            pytest.warns(RuntimeWarning)
            if np.isnan(data[rows][:, env]).all(axis=0).any()
            else _nothing(),
        ):
            lo.append(np.nanmin(data[rows][:, env], axis=0))
            hi.append(np.nanmax(data[rows][:, env], axis=0))
    return np.array(kept), np.array(lo), np.array(hi)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("every", [1, 7, 10])
def test_history_matches_a_direct_bucketing_of_all_rows(every):
    steps, data = _rows(30_000, every=every)
    steps = np.r_[0, steps]
    data = np.concatenate([data[:1], data])
    data[1234, 0, 1] = np.nan  # a missing value is skipped by the envelope
    data[5000:5003, 1, 0] = 50.0  # a spike
    h = History(2, limit=500)
    _feed(h, steps, data)
    assert len(h) <= 500
    s = h.stride
    assert s & (s - 1) == 0  # a power of two
    # the stride doubled only when it had to: one stride less needs more than `limit` rows
    assert len(np.unique(-(-steps // (s // 2)))) > 500
    kept, lo, hi = _reference(steps, data, s)
    np.testing.assert_array_equal(h.steps, steps[kept])
    np.testing.assert_array_equal(h.field("lr"), data[kept, FIELDS.index("lr")])
    for i, name in enumerate(ENVELOPE_FIELDS):
        np.testing.assert_array_equal(h.field(name), data[kept, FIELDS.index(name)])
        low, high = h.envelope(name)
        np.testing.assert_array_equal(low, lo[:, i])
        np.testing.assert_array_equal(high, hi[:, i])
    assert h.envelope("val_loss", 0)[1].max() == 50.0  # the spike survives the thinning
    assert h.steps[0] == 0  # the initial values stay


def test_the_whole_run_is_kept_at_even_resolution_and_the_newest_row_is_last():
    steps, data = _rows(1_000_000, n_models=1)
    h = History(1, limit=1000)
    h.append(np.array([0]), data[:1])
    _feed(h, steps, data)
    assert h.steps[-1] == 1_000_000
    np.testing.assert_array_equal(h.field("train_loss", 0)[-1], data[-1, 0, 0])
    # every tenth of the run holds about a tenth of the kept rows: the start is not thinned more
    counts = np.histogram(h.steps[1:], bins=10, range=(0, 1_000_000))[0]
    assert counts.max() - counts.min() <= 2
    gaps = np.diff(h.steps)
    assert np.all(gaps[:-1] == h.stride) and 0 < gaps[-1] <= h.stride  # the newest is partial
    assert 500 <= len(h) <= 1000
    # memory stays flat: at most `limit` rows are held, whatever the length of the run
    n_bytes = h.nbytes
    _feed(h, steps + 1_000_000, data)
    assert h.nbytes == n_bytes


def test_best_values_are_exact_after_thinning():
    steps, data = _rows(10_000)
    data[4321, 1, 1] = 0.5
    data[777, 0, 0] = 0.25
    h = History(2, limit=50)
    _feed(h, steps, data)
    assert len(h) <= 50
    assert h.best_val_loss[1] == 0.5 and h.best_val_step[1] == 4322
    assert h.min_train_loss[0] == 0.25
    # a value reached between two kept rows is found through the envelope, at the bucket's end
    reach = h.steps_to_reach(0.5, "val_loss")
    assert reach[0] == -1
    assert 4322 <= reach[1] < 4322 + h.stride
    assert h.steps_to_reach(0.25, "train_loss")[0] >= 778


def test_steps_to_reach_is_exact_without_thinning_and_bad_names_are_refused():
    steps, data = _rows(100, every=10, start=10)
    data[:, 1, 0] = np.linspace(1.0, 0.0, 100)
    h = History(2)
    h.append(steps, data)
    assert h.stride == 1
    assert h.steps_to_reach(0.5, "val_loss")[0] == steps[np.argmax(data[:, 1, 0] <= 0.5)]
    assert h.steps_to_reach(0.5, "lr")[0] == -1
    with pytest.raises(ValueError, match="no envelope"):
        h.envelope("lr")
    with pytest.raises(ValueError, match="unknown metric"):
        h.field("loss")
    with pytest.raises(ValueError, match="step order"):
        h.append(np.array([5]), data[:1])


def test_a_long_engine_run_keeps_its_start_and_the_step_of_a_rate_change():
    """300,000 steps of a one-neuron network with a change of rate at step 200,000 (long epochs
    and a sparse evaluation keep it under a second)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(512, 2))
    y = (X[:, 0] > 0).astype(float)

    class Data:
        X_train, y_train, X_val, y_val = X, y, X[:4], y[:4]

    engine = Engine(
        Network([2, 1], "linear", "bce"),
        Data,
        [ModelSpec(make_optimizer("sgd", lr=0.01))],
        TrainConfig(batch_size=1, eval_every=64),
        history_limit=1000,
    )
    engine.run(200_000)
    engine.set_optimizer(0, make_optimizer("sgd", lr=0.5))
    engine.run(100_000)
    h = engine.history
    assert len(h) <= 1000 and h.steps[-1] == 300_000 // 64 * 64
    steps, lr = h.steps, h.field("lr", 0)
    assert np.all(lr[steps <= 200_000] == 0.01) and np.all(lr[steps > 200_000] == 0.5)
    assert np.all(np.diff(steps)[:-1] == h.stride)  # even in steps
    assert np.count_nonzero(steps[1:] <= 5_000) >= 5_000 // h.stride  # the start is resolved
