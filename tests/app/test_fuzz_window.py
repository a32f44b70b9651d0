"""A hypothesis fuzzer for what the window reads: File ▸ Open and the experiment of the last
session. Only a dialog or a start-up message may come of hostile input; a failure leaves the
experiment and the file path as they were. Bounded: few examples, derandomized, no deadline."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.window import MainWindow
from dlopt_core.train.experiment import Experiment, example

TIMEOUT = 20_000
FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 200),
    st.sampled_from(["", "x", "csv", "/dev/zero", "relu", [], {}, [1, "a"], 1e-3, 0.5]),
)
TOKENS = ["1e400", "NaN", "9" * 5000, "[" * 50, '"seed": 1, "seed": 2, ', "\ufeff", "}", ","]


def tiny() -> dict:
    raw = example().to_dict()
    raw["data"].update(n_samples=40)
    raw["network"]["hidden"] = [3]
    raw["training"].update(batch_size=8, eval_every=5)
    return raw


@st.composite
def experiment_text(draw) -> str:
    raw = tiny()
    for _ in range(draw(st.integers(0, 2))):
        section = draw(st.sampled_from(["data", "network", "optimizer", "training"]))
        key = draw(st.sampled_from(sorted(raw[section])))
        raw[section] = {**raw[section], key: draw(LEAVES)}
    text = json.dumps(raw)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
    return text


@pytest.fixture
def dialogs(monkeypatch):
    shown = []
    for kind in ("warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, k=kind, **_: shown.append((k, a[2])))
    return shown


@pytest.fixture
def window(qtbot, dialogs):
    win = MainWindow(Experiment.from_dict(tiny()), persist=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.playground.build_info is not None, timeout=TIMEOUT)
    yield win
    win.close()
    assert win.playground.controller.thread.isFinished()


@settings(FUZZ, max_examples=25)
@given(st.one_of(experiment_text(), st.binary(max_size=60)))
def test_file_open(window, qtbot, dialogs, tmp_path, content):
    path = tmp_path / "fuzzed.json"
    path.write_bytes(
        content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    )
    tab = window.playground
    before, before_path, shown = window.experiment, window.path, len(dialogs)
    if not window.open_file(str(path)):
        assert len(dialogs) == shown + 1 and dialogs[-1][0] == "critical"
        assert window.experiment == before and window.path == before_path
        return
    qtbot.waitUntil(lambda: not tab.building and tab.build_info is not None, timeout=TIMEOUT)
    if window.path == str(path.resolve()):  # opened
        assert window.experiment == Experiment.load(path)
    else:  # its data or network could not be used: a warning, and nothing changed
        assert len(dialogs) == shown + 1 and dialogs[-1][0] == "warning"
        assert window.experiment == before and window.path == before_path


@settings(FUZZ, max_examples=3)
@given(experiment_text())
def test_session_experiment(qtbot, dialogs, isolated_settings, text):
    settings_ = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    settings_.setValue("session/experiment", text)
    settings_.remove("session/experiment_damaged")
    settings_.sync()
    win = MainWindow(persist=True)
    qtbot.addWidget(win)
    try:
        if win.startup_problems:
            assert "could not be restored" in win.startup_problems[0]
            assert win.experiment == example()
        else:
            assert win.experiment == Experiment.from_json(text)
    finally:
        win.persist = False
        win.close()
