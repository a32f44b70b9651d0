"""Snapshots carry only the history rows that changed; the GUI puts the whole history together."""

import numpy as np
import pytest

from app.snapshots import HistoryMerge, HistoryRows, Snapshot
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.history import ENVELOPE_FIELDS, FIELDS, History
from dlopt_core.train.optimizers import make_optimizer

TIMEOUT = 15_000


def _snapshot(generation: int, rows) -> Snapshot:
    """A snapshot around ``HistoryRows.take`` output (the other fields do not matter here)."""
    rows_from, steps, fields, bands = rows
    return Snapshot(
        generation=generation,
        step=int(steps[-1]) if len(steps) else 0,
        epoch=0.0,
        history_steps=steps,
        history=fields,
        history_bands=bands,
        theta=np.zeros(1),
        prev_theta=None,
        slots=np.zeros((3, 1)),
        optimizer=make_optimizer("sgd"),
        lr=0.1,
        opt_steps=0,
        playing=False,
        play_serial=0,
        status="running",
        stop_step=-1,
        stop_reason="",
        steps_per_second=0.0,
        best_val_loss=np.inf,
        best_val_step=-1,
        rows_from=rows_from,
    )


def _assert_whole(snap: Snapshot, history: History) -> None:
    np.testing.assert_array_equal(snap.history_steps, history.steps)
    for name in FIELDS:
        np.testing.assert_array_equal(snap.history[name], history.field(name, 0))
    for name in ENVELOPE_FIELDS:
        lo, hi = history.envelope(name, 0)
        np.testing.assert_array_equal(snap.history_bands[name][0], lo)
        np.testing.assert_array_equal(snap.history_bands[name][1], hi)


def test_each_snapshot_carries_the_rows_since_the_previous_one_even_as_the_history_halves():
    rng = np.random.default_rng(0)
    history = History(1, limit=16)
    rows, merge = HistoryRows(), HistoryMerge()
    step, before, halvings, previous_stride = 0, 0, 0, 1
    for chunk in range(60):
        n = int(rng.integers(1, 9))
        steps = np.arange(step + 1, step + n + 1)
        step += n
        history.append(steps, rng.normal(size=(n, len(FIELDS), 1)))
        stride = history.stride
        sent = rows.take(history)
        if chunk and stride == previous_stride:
            # the newest row sent last time (its bucket may have taken new rows) and the new ones
            assert sent[0] == before - 1
            assert len(sent[1]) == len(history) - before + 1
        else:
            assert sent[0] == 0 and len(sent[1]) == len(history)
            halvings += chunk > 0
        _assert_whole(merge.merge(_snapshot(1, sent)), history)
        before, previous_stride = len(history), stride
    assert halvings >= 3  # the run went through several halvings


def test_a_new_history_starts_whole_and_a_gap_is_refused():
    rows, merge = HistoryRows(), HistoryMerge()
    first = History(1)
    first.append(np.arange(5), np.ones((5, len(FIELDS), 1)))
    merge.merge(_snapshot(1, rows.take(first)))
    first.append(np.arange(5, 9), np.ones((4, len(FIELDS), 1)))
    assert rows.take(first)[0] == 4
    second = History(1)  # a reset or a rebuild: a new history
    second.append(np.arange(3), np.zeros((3, len(FIELDS), 1)))
    sent = rows.take(second)
    assert sent[0] == 0
    _assert_whole(merge.merge(_snapshot(2, sent)), second)
    second.append(np.arange(3, 6), np.zeros((3, len(FIELDS), 1)))
    with pytest.raises(ValueError, match="continue no earlier snapshot"):
        HistoryMerge().merge(_snapshot(2, rows.take(second)))


def test_the_playground_receives_new_rows_and_draws_the_engines_history(qtbot):
    from app.playground.tab import PlaygroundTab

    exp = Experiment.from_dict(
        {
            "data": {"kind": "spiral", "n_samples": 200},
            "network": {"hidden": [6]},
            "training": {"batch_size": 10, "eval_every": 1},
        }
    )
    tab = PlaygroundTab(exp)
    qtbot.addWidget(tab)
    received: list[Snapshot] = []
    tab.controller.worker.snapshotReady.connect(received.append)
    qtbot.waitUntil(lambda: tab.snapshot is not None, timeout=TIMEOUT)
    engine = tab.controller.worker._engine
    engine.history.limit = 64  # many halvings in a short run
    for k in range(1, 41):
        tab.controller.step(25)
        qtbot.waitUntil(lambda k=k: tab.snapshot.step == 25 * k, timeout=TIMEOUT)
    ours = [s for s in received if s.generation == tab.controller.generation]
    partial = 0
    for before, after in zip(ours, ours[1:], strict=False):
        total = after.rows_from + len(after.history_steps)
        if after.rows_from:  # only the rows since the previous snapshot: its newest and after
            assert after.rows_from == before.rows_from + len(before.history_steps) - 1
            assert len(after.history_steps) < total
            partial += 1
    assert partial >= 20
    h = engine.history
    assert h.stride > 1  # the history halved on the way
    _assert_whole(tab.snapshot, h)
    tab._refresh()  # draw now
    np.testing.assert_array_equal(tab.curves._steps, h.steps)
    for name in FIELDS:
        np.testing.assert_array_equal(tab.curves._data[name], h.field(name, 0))
    tab.shutdown()
    assert tab.controller.thread.isFinished()
