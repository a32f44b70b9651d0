"""The Playground's worker at rest: the inspector's one-step update is the one that led to the
model shown, however training came to rest (pause, Step, Step-until, a stop condition)."""

import numpy as np
import pytest

from app import worker as worker_module
from app.worker import TrainingWorker
from dlopt_core.train.experiment import Experiment

TIMEOUT = 20_000  # ms; a cold Numba cache on a slow machine


def small(**patch) -> Experiment:
    """The Playground tests' small experiment (the same kernels), with ``patch`` merged in."""
    raw = {
        "data": {"kind": "spiral", "n_samples": 200},
        "network": {"hidden": [6, 6]},
        "optimizer": {"name": "adam", "lr": 0.01},
        "training": {"batch_size": 10, "eval_every": 10},
    }
    for key, value in patch.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return Experiment.from_dict(raw)


def headless(exp: Experiment, step: int) -> tuple[np.ndarray, np.ndarray]:
    """The parameters at ``step - 1`` and at ``step`` of the same run, trained in one go."""
    _, _, engine = exp.build()
    engine.run(step - 1)
    prev = engine.eval_theta()[0].copy()
    engine.run(1)
    return prev, engine.eval_theta()[0].copy()


@pytest.fixture
def worker(qtbot, monkeypatch):
    """A worker in this thread whose chunks never keep their last step apart on the clock (as
    most chunks at full speed), so that only coming to rest can give the one-step update."""
    monkeypatch.setattr(worker_module, "PREV_EVERY_S", 1e9)
    w = TrainingWorker()
    w.snaps = []
    w.snapshotReady.connect(w.snaps.append)
    w.failed.connect(lambda _g, message: pytest.fail(message))
    yield w
    w.set_playing(False)  # (not shutdown: that ends the event loop of the thread it lives in)


def play(worker: TrainingWorker, qtbot, exp: Experiment, rest, until_stopped: bool = False):
    """Build ``exp``, play at full speed past a few chunks, bring training to rest with
    ``rest(worker)`` and return the snapshot that says it is at rest."""
    worker.rebuild(exp, 0)
    worker.set_speed(0)
    worker.set_playing(True, 1)
    if until_stopped:
        qtbot.waitUntil(lambda: not worker.snaps[-1].playing, timeout=TIMEOUT)
    else:
        qtbot.waitUntil(lambda: worker.snaps[-1].step > 150, timeout=TIMEOUT)
        rest(worker)
    snap = worker.snaps[-1]
    assert not snap.playing
    return snap


def check_update(exp: Experiment, snap) -> None:
    assert snap.prev_theta is not None, f"no one-step update at step {snap.step}"
    prev, theta = headless(exp, snap.step)
    np.testing.assert_array_equal(snap.theta, theta)
    np.testing.assert_array_equal(snap.prev_theta, prev)
    assert not np.array_equal(snap.prev_theta, snap.theta)


@pytest.mark.parametrize("training", [{}, {"polyak": 0.9}])
def test_a_pause_at_full_speed_shows_the_last_steps_update(worker, qtbot, training):
    exp = small(training=training)  # with Polyak averaging: the averages' update
    snap = play(worker, qtbot, exp, lambda w: w.set_playing(False, 2))
    check_update(exp, snap)
    at = snap.step
    worker.set_optimizer(exp.optimizer)  # a command at rest: the same model, the same update
    assert worker.snaps[-1].step == at
    np.testing.assert_array_equal(worker.snaps[-1].prev_theta, snap.prev_theta)


def test_play_until_and_step_show_the_last_steps_update(worker, qtbot):
    exp = small()
    worker.rebuild(exp, 0)
    worker.set_speed(0)
    worker.play_until(437, 1)
    qtbot.waitUntil(lambda: not worker.snaps[-1].playing, timeout=TIMEOUT)
    assert worker.snaps[-1].step == 437
    check_update(exp, worker.snaps[-1])
    for _ in range(2):  # one step right after the other
        worker.step_once(25, 2)
        check_update(exp, worker.snaps[-1])
    assert worker.snaps[-1].step == 487


@pytest.mark.parametrize(
    ("patch", "stop"),
    [
        ({"max_steps": 333}, "max_steps"),
        ({"target_loss": 0.62}, "target_loss"),
        (
            {
                "data": {"kind": "circle", "val_fraction": 0.5, "noise": 0.3},
                "network": {"hidden": [16, 16]},
                "optimizer": {"lr": 0.03},
                "training": {"early_stopping": 3, "eval_every": 5},
            },
            "early_stopped",
        ),
        (
            {
                "data": {"kind": "plane"},
                "optimizer": {"name": "sgd", "lr": 10.0},
                "network": {"hidden": [4]},
            },
            "diverged",
        ),
    ],
)
def test_a_stop_shows_the_update_that_led_to_the_stopped_model(worker, qtbot, patch, stop):
    exp = small(**patch)
    worker.set_stop_conditions(exp.max_steps, exp.target_loss)
    snap = play(worker, qtbot, exp, None, until_stopped=True)
    assert stop in (snap.stop_reason, snap.status)
    check_update(exp, snap)
