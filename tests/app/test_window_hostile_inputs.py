"""Issue 9's reproducers in the window: damaged user files at start-up, files that fail while
they open, runaway plot ranges, huge data and huge comparisons."""

import json
import shutil

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.compare import CompareTab, jobs
from app.main import main as dlopt_main
from app.playground.curves import CurvesPanel
from app.playground.data_panel import DataPanel
from app.window import MainWindow
from app.worker import MAX_SHOWN_POINTS
from dlopt_core.course import lessons
from dlopt_core.train.engine import FIELDS
from dlopt_core.train.experiment import DataSpec, Experiment

TIMEOUT = 20_000
DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "9" * 5000


def small(**data) -> Experiment:
    return Experiment.from_dict(
        {
            "data": {"kind": "moons", "n_samples": 120, **data},
            "network": {"hidden": [4]},
            "optimizer": {"name": "adam", "lr": 0.02},
            "training": {"batch_size": 10, "eval_every": 10},
        }
    )


@pytest.fixture
def dialogs(monkeypatch):
    """Every message box the window opens: (kind, title, text); none of them blocks."""
    shown = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(
            QMessageBox, kind, lambda *a, k=kind, **_: shown.append((k, a[1], a[2]))
        )
    return shown


@pytest.fixture
def make_window(qtbot):
    windows = []

    def make(exp=None, persist=False, wait=True) -> MainWindow:
        win = MainWindow(exp, persist=persist)
        qtbot.addWidget(win)
        win.show()
        windows.append(win)
        if wait:
            qtbot.waitUntil(lambda: win.playground.build_info is not None, timeout=TIMEOUT)
        return win

    yield make
    for win in windows:
        win.close()
        assert win.playground.controller.thread.isFinished()


# -- 1. the log-scale gradient-norm plot after a divergence and a reset --------------------------
def test_log_scale_after_divergence_and_reset_keeps_a_small_range(qtbot, monkeypatch):
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    steps = np.arange(0.0, 200.0, 10.0)
    data = {f: np.full(len(steps), 0.5) for f in FIELDS}
    data["grad_norm"] = np.geomspace(1.0, 1e21, len(steps))  # the blow-up before divergence
    panel.show_history(steps, data)  # a chunk ending just before the step that diverged
    # Reset: the history is one evaluation at step 0, without a gradient norm
    panel.set_markers({"diverged": None, "early_stopped": None, "stop": None})
    panel.show_history(np.array([0.0]), {f: np.array([np.nan]) for f in FIELDS})
    panel.log_box.setChecked(True)
    spans = {p.getPlotItem().titleLabel.text: p.getViewBox().viewRange()[1] for p in panel.plots}
    runaway = {k: v for k, v in spans.items() if not (np.all(np.isfinite(v)) and v[1] - v[0] < 700)}
    if runaway:  # never paint a runaway range: it would ask for ~1e21 tick marks
        panel.log_box.setChecked(False)
    assert runaway == {}

    asked = []
    tick_values = pg.AxisItem.tickValues

    def record(self, lo, hi, size):
        asked.append(hi - lo)
        return tick_values(self, lo, hi, size)

    monkeypatch.setattr(pg.AxisItem, "tickValues", record)
    panel.show()
    panel.grab()
    assert asked and max(asked) < 1e6


def test_switching_log_scale_converts_the_range_both_ways(qtbot):
    from app.log_axis import finite_range, to_linear_range, to_log_range

    assert to_log_range(1e20, 1e21) == pytest.approx((20.0, 21.0))
    assert to_log_range(-5.0, 100.0) == pytest.approx((-1.0, 2.0))
    assert to_log_range(-5.0, -1.0) == (0.0, 1.0)
    assert to_linear_range(-1.0, 2.0) == pytest.approx((0.1, 100.0))
    assert to_linear_range(1e20, 1e21) == (0.0, 1.0)  # 10^(1e20) is no range
    assert finite_range(float("nan"), 1.0) == (0.0, 1.0)
    assert finite_range(-1e308, 1e308) == (0.0, 1.0)  # the span itself overflows


def test_a_real_divergence_then_reset_then_log_scale(make_window, qtbot):
    exp = Experiment.from_dict(
        {
            "data": {"kind": "plane", "n_samples": 200},
            "network": {"hidden": [8, 8], "activation": "relu"},
            "optimizer": {"name": "momentum", "lr": 10.0, "momentum": 0.9},
            "training": {"batch_size": 10, "eval_every": 10},
        }
    )
    win = make_window(exp)
    tab = win.playground
    tab.play(True)
    qtbot.waitUntil(
        lambda: tab.snapshot is not None and tab.snapshot.status == "diverged", timeout=TIMEOUT
    )
    tab.reset()
    qtbot.waitUntil(lambda: tab.snapshot is not None and tab.snapshot.step == 0, timeout=TIMEOUT)
    tab.curves.log_box.setChecked(True)
    ranges = [p.getViewBox().viewRange()[1] for p in tab.curves.plots]
    runaway = [r for r in ranges if not (np.all(np.isfinite(r)) and r[1] - r[0] < 700)]
    if runaway:
        tab.curves.log_box.setChecked(False)
    assert runaway == []
    qtbot.wait(100)  # paints with the log axis


# -- 2. start-up survives damaged user files ------------------------------------------------------
@pytest.mark.parametrize(
    "progress",
    [
        '{"version": 1, "topics": {"challenges": {"right": 1e400, "wrong": 0}}}',
        '{"version": 1, "topics": {"challenges": {"right": Infinity}}}',
        '{"version": 1, "topics": ' + DEEP + "}",
        '{"version": 1, "questions": {"sgd-one-step": {"right": "x"}}}',
    ],
)
@pytest.mark.parametrize("session", ['{"name": ' + DEEP + "}", '{"seed": ' + HUGE_INT + "}"])
def test_start_up_moves_damaged_files_aside_and_says_so_once(
    make_window, qtbot, dialogs, isolated_settings, progress, session
):
    progress_path = isolated_settings.with_name("quiz-progress.json")
    progress_path.write_text(progress)
    settings = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    settings.setValue("session/experiment", session)
    settings.setValue("session/path", "/somewhere/else.json")
    settings.sync()

    win = make_window(persist=True)
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=TIMEOUT)
    kind, title, text = dialogs[0]
    assert kind == "warning" and "set aside" in title
    assert "the saved session" in text and "moved aside to quiz-progress.json.damaged" in text
    assert win.experiment.name == "spiral with Adam" and win.path is None  # the example
    assert progress_path.with_name("quiz-progress.json.damaged").read_text() == progress
    assert win.quiz.progress.topics == {} and "damaged" in win.quiz.progress_banner.text()
    question = win.quiz.bank.by_id("sgd-one-step")
    win.quiz.progress.record(question, True)  # recording works (it raised before)
    win.close()

    again = make_window(persist=True)
    qtbot.wait(50)
    assert len(dialogs) == 1  # shown once: the damaged files are out of the way
    assert again.quiz.progress.load_error is None
    stored = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    assert stored.value("session/experiment_damaged") == session


def test_damaged_teaching_files_are_reported_and_the_rest_loads(
    make_window, tmp_path, monkeypatch, dialogs
):
    resources = tmp_path / "resources"
    shutil.copytree(lessons.resources_dir(), resources)
    presets = resources / "lessons" / "presets.json"
    raw = json.loads(presets.read_text(encoding="utf-8"))
    pid = next(k for k, v in raw["presets"].items() if v["tab"] == "landscape")
    raw["presets"][pid]["start"] = 5
    presets.write_text(json.dumps(raw))
    quiz_file = resources / "quiz" / "challenges.json"
    bank = json.loads(quiz_file.read_text(encoding="utf-8"))
    bank["questions"][0]["topic"] = ["challenges"]
    quiz_file.write_text(json.dumps(bank))
    monkeypatch.setenv("DLOPT_RESOURCES", str(resources))

    win = make_window()
    assert win.learn.presets == {} and "start must be a list" in win.learn.banner.text()
    assert len(win.quiz.bank.errors) == 1 and "topic" in win.quiz.bank.errors[0]
    assert len(win.quiz.bank.questions) > 50

    presets.write_text('{"version": 1, "presets": ' + DEEP + "}")
    win.learn.reload()
    assert "nested more than" in win.learn.banner.text()


# -- 3. a file that fails while it opens leaves the experiment and the path as they were --------
def huge_csv_experiment(tmp_path) -> str:
    rows = ["a,b,label"] + [f"{i % 7},{i % 5},{i % 2}" for i in range(60)]
    rows[3] = "1e308,1,0"
    (tmp_path / "huge.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "B.json"
    raw = small().to_dict()
    raw["data"] = {**raw["data"], "kind": "csv", "path": "huge.csv"}
    path.write_text(json.dumps(raw))
    return str(path)


def test_a_file_whose_data_fail_never_takes_over_the_previous_file(
    make_window, qtbot, tmp_path, dialogs
):
    a = tmp_path / "A.json"
    small().save(a)
    text_a = a.read_text()
    win = make_window(small(noise=0.3))
    assert win.open_file(str(a))
    qtbot.waitUntil(lambda: win.path == str(a.resolve()), timeout=TIMEOUT)
    assert win.open_file(huge_csv_experiment(tmp_path))
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=TIMEOUT)
    assert "too large" in dialogs[0][2]
    qtbot.waitUntil(
        lambda: win.playground.build_info is not None and not win.playground.building,
        timeout=TIMEOUT,
    )
    assert win.path == str(a.resolve()) and win.experiment == Experiment.load(a)
    assert win.save()
    assert a.read_text() == text_a


def test_an_exception_in_the_views_is_a_failed_open(
    make_window, qtbot, tmp_path, dialogs, monkeypatch
):
    a = tmp_path / "A.json"
    small().save(a)
    c = tmp_path / "C.json"
    small(kind="xor").save(c)
    win = make_window()
    assert win.open_file(str(a))
    qtbot.waitUntil(lambda: win.path == str(a.resolve()), timeout=TIMEOUT)
    output = win.playground.output
    set_build = output.set_build

    def refuse_xor(info):
        if win.playground.experiment.data.kind == "xor":
            raise ValueError("Cannot set range [nan, nan]")
        set_build(info)

    monkeypatch.setattr(output, "set_build", refuse_xor)
    assert win.open_file(str(c))
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=TIMEOUT)
    assert "Cannot set range" in dialogs[0][2]
    qtbot.waitUntil(
        lambda: win.playground.build_info is not None and not win.playground.building,
        timeout=TIMEOUT,
    )
    assert win.path == str(a.resolve())
    assert win.experiment == Experiment.load(a)
    assert win.playground.build_info.generation == win.playground.controller.generation


def test_save_while_an_opened_file_builds_asks_for_a_name(
    make_window, qtbot, tmp_path, monkeypatch
):
    a = tmp_path / "A.json"
    small().save(a)
    text_a = a.read_text()
    b = tmp_path / "B.json"
    small(kind="xor").save(b)
    win = make_window()
    assert win.open_file(str(a))
    qtbot.waitUntil(lambda: win.path == str(a.resolve()), timeout=TIMEOUT)
    asked = []
    monkeypatch.setattr(
        "app.window_files.QFileDialog.getSaveFileName", lambda *a, **k: asked.append(1) or ("", "")
    )
    assert win.open_file(str(b))
    assert not win.save()  # B is not built yet: the window's file is still A
    assert asked and a.read_text() == text_a
    qtbot.waitUntil(lambda: win.path == str(b.resolve()), timeout=TIMEOUT)


# -- 4. a million rows do not freeze the window ---------------------------------------------------
def test_a_large_csv_is_read_in_the_worker_and_drawn_as_a_sample(make_window, qtbot, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 2))
    rows = ["a,b,label"] + [f"{x:.4f},{y:.4f},{int(x * y > 0)}" for x, y in X]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows) + "\n")
    win = make_window()
    tab = win.playground
    tab.data_panel.set_csv_path(str(path))
    assert tab.building
    qtbot.waitUntil(
        lambda: tab.build_info is not None and tab.build_info.n_train == 16_000, timeout=TIMEOUT
    )
    info = tab.build_info
    assert len(info.points_train) == MAX_SHOWN_POINTS
    assert len(info.points_val) == MAX_SHOWN_POINTS // 4
    assert set(np.unique(info.labels_train)) == {0.0, 1.0}
    lo, hi = info.points_train.min(axis=0), info.points_train.max(axis=0)
    assert np.all(lo < -2.5) and np.all(hi > 2.5)  # a sample of the whole cloud


def test_reading_a_csv_that_takes_a_while_says_so(make_window, qtbot, tmp_path, monkeypatch):
    win = make_window()
    tab = win.playground
    path = tmp_path / "slow.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(50)))
    tab.data_panel.set_csv_path(str(path))
    tab._show_busy()  # as the timer does when the worker has not answered yet
    assert "Reading slow.csv" in tab.output.message.text()
    qtbot.waitUntil(lambda: not tab.building, timeout=TIMEOUT)
    assert tab.output.pages.currentWidget() is tab.output.plot


def test_building_a_large_experiment_says_so(make_window, qtbot):
    """Not only a CSV file: any experiment whose build outlasts BUSY_AFTER_MS (100,000 points,
    six layers of 256) says that it is being prepared, instead of showing the previous
    experiment's output under the new settings for as long as the build takes."""
    win = make_window()
    tab = win.playground
    tab.set_experiment(Experiment.from_dict({"data": {"kind": "moons", "n_samples": 120}}))
    assert tab.building and tab._busy_timer.isActive()  # fires unless the build is quicker
    tab._show_busy()  # as the timer does when the worker has not answered yet
    assert "Preparing the experiment" in tab.output.message.text()
    assert tab.output.pages.currentWidget() is not tab.output.plot
    qtbot.waitUntil(lambda: not tab.building, timeout=TIMEOUT)
    assert tab.output.pages.currentWidget() is tab.output.plot
    assert not tab._busy_timer.isActive()


# -- 5. hostile experiment files: a dialog, one line on the command line ---------------------------
@pytest.mark.parametrize("value", [DEEP, HUGE_INT, "1e400"])
def test_file_open_shows_a_dialog_for_hostile_files(make_window, tmp_path, dialogs, value):
    win = make_window()
    before = win.experiment
    path = tmp_path / "hostile.json"
    path.write_text('{"seed": ' + value + "}")
    assert not win.open_file(str(path))
    assert len(dialogs) == 1 and dialogs[0][0] == "critical" and "line 1" in dialogs[0][2]
    assert win.experiment == before and win.path is None


@pytest.mark.parametrize("value", [DEEP, HUGE_INT])
def test_dlopt_experiment_with_a_hostile_file_is_one_line_and_exit_2(tmp_path, capsys, value):
    path = tmp_path / "hostile.json"
    path.write_text('{"seed": ' + value + "}")
    assert dlopt_main(["--experiment", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dlopt: error:") and "Traceback" not in err


# -- 4. comparisons too large for memory are refused with the estimate -----------------------------
def test_a_huge_sweep_in_the_compare_tab_is_refused_with_the_estimate(qtbot, monkeypatch):
    monkeypatch.setattr(jobs, "MIN_REPORT_S", 0.0)
    big = Experiment.from_dict(
        {"data": {"kind": "moons", "n_samples": 100}, "network": {"hidden": [256] * 6}}
    )
    tab = CompareTab(lambda: big)
    qtbot.addWidget(tab)
    failures = []
    tab.runner.failed.connect(lambda name, message: failures.append(message))
    tab.sweep.set_checked_optimizers(["sgd", "adam"])
    tab.sweep.models.setValue(1024)
    assert tab.sweep.run_sweep()
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=TIMEOUT)
    assert "1024 models of a 2-256-256-256-256-256-256-1 network" in failures[0]
    assert "the limit is 4 GB" in failures[0] and "need about" in failures[0]
    assert "the limit is 4 GB" in tab.message.text()
    assert tab.shutdown(2000)


# -- 8. a data seed above 2^31 - 1 stays what the file says ----------------------------------------
def test_a_large_data_seed_is_kept_by_the_panel(qtbot):
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.set_spec(DataSpec(kind="moons", seed=4_000_000_000))
    assert panel.spec().seed == 4_000_000_000
    panel.n_samples.setValue(300)  # another edit: the seed is untouched
    assert panel.spec().seed == 4_000_000_000
    panel.set_spec(DataSpec(kind="moons", seed=2**32 - 1))
    assert panel.spec().seed == 2**32 - 1 and panel.seed.text() == "4294967295"
