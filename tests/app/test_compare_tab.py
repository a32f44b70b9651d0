"""The Compare tab, offscreen: races, sweeps, cancelling, sending to the Playground, shutdown."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from app.compare import CompareTab, jobs  # noqa: E402
from app.compare.configs import PRESETS, RaceConfig  # noqa: E402
from dlopt_core import compare  # noqa: E402
from dlopt_core.train.engine import TrainConfig  # noqa: E402
from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec  # noqa: E402
from dlopt_core.train.optimizers import make_optimizer  # noqa: E402

EXP = Experiment(
    data=DataSpec(kind="moons", n_samples=100, noise=0.2, seed=1),
    network=NetworkSpec(hidden=(6,)),
    optimizer=make_optimizer("adam", lr=0.01),
    training=TrainConfig(batch_size=10, eval_every=5),
    seed=2,
)


@pytest.fixture
def tab(qtbot, monkeypatch):
    monkeypatch.setattr(jobs, "MIN_REPORT_S", 0.0)  # every chunk reaches the GUI
    widget = CompareTab(lambda: EXP)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    yield widget
    assert widget.shutdown(2000)


def _wait(qtbot, tab, timeout=20000):
    qtbot.waitUntil(lambda: not tab.busy, timeout=timeout)


def test_empty_plots_say_what_fills_them_instead_of_placeholder_axes(qtbot, tab):
    race = tab.race
    notes = [*race._empty_notes, *tab.sweep._notes.values(), tab.seeds.empty]
    assert all(n.shown for n in notes)
    axis = race.val_plot.getPlotItem().getAxis("left")
    assert not axis.style["showValues"]  # no 0-to-1 placeholder numbers
    race.steps.setValue(50)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        race.run()
    assert not race._empty_notes[1].shown and axis.style["showValues"]
    race.clear_results()
    assert race._empty_notes[1].shown


def test_race_draws_three_curves_from_the_same_first_loss(qtbot, tab):
    race = tab.race
    assert len(race.configs()) == 3
    race.steps.setValue(400)
    lengths = []
    tab.runner.progress.connect(lambda *_: lengths.append(len(race.curve_data(0)[0])))
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert race.run()
    result = race.snapshot.result
    assert result.complete and result.step == 400
    firsts = []
    for m in range(3):
        x, y = race.curve_data(m, "val")
        assert len(x) == 81 and x[0] == 0 and x[-1] == 400
        firsts.append(y[0])
        assert len(race.curve_data(m, "train")[0]) == 81
    assert firsts[0] == firsts[1] == firsts[2]
    assert len(set(lengths)) > 1 and lengths == sorted(lengths)  # the curves grew
    assert race.results.rowCount() == 3
    assert race.boundaries.isVisible() or not race.isVisible()
    assert len(race.boundaries.images) == 3 and race.snapshot.boundaries is not None
    legend = race.boundaries.legend.text()  # the class colours are named under the pictures
    assert "class" in legend and legend.count("\u25a0") == 2
    # errors read in per cent, as in the Playground, under plain column names
    headers = [race.results.horizontalHeaderItem(c).text().replace("\n", " ") for c in range(7)]
    assert headers[1:6] == [
        "Best val loss",
        "Best at step",
        "Final train error",
        "Final val error",
        "Steps to target",
    ]
    assert race.results.item(0, 4).text().endswith("%")
    assert race.results.item(0, 4).text() == f"{100 * result.final_val_error[0]:.3g}%"
    race.metric.setCurrentIndex(1)
    _, y = race.curve_data(0)
    np.testing.assert_allclose(y, 100 * result.val_error[:, 0])
    assert race.val_plot.getPlotItem().getAxis("left").labelText == "error (%)"
    # the log scale redraws the same models
    race.log_y.setChecked(True)
    assert len(race.curve_data(2)[0]) == 81


def test_a_long_race_draws_bands_where_its_history_was_thinned(qtbot, monkeypatch):
    exp = replace(EXP, training=replace(EXP.training, eval_every=1))
    widget = CompareTab(lambda: exp)
    qtbot.addWidget(widget)
    race = widget.race
    race.set_configs(race.configs()[:1])
    race.steps.setValue(9000)
    with qtbot.waitSignal(widget.runner.finished, timeout=30000):
        race.run()
    train_band, val_band = race._bands
    assert train_band.visible and val_band.visible
    x, lo, hi = val_band.data()
    assert x[0] == 0 and x[-1] == 9000 and np.all(lo <= hi)
    race.toggle_boxes()[0].setChecked(False)  # hidden with its curve
    assert not val_band.visible
    race.toggle_boxes()[0].setChecked(True)
    assert val_band.visible
    assert widget.shutdown(2000)


def test_the_progress_row_speaks_of_the_page_on_show(qtbot, tab):
    tab.race.steps.setValue(100)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        tab.race.run()
    assert tab.job_label.text().startswith("Race finished")
    tab.pages.setCurrentWidget(tab.sweep)
    assert tab.job_label.text() == "Ready" and tab.progress.value() == 0
    tab.pages.setCurrentWidget(tab.race)
    assert tab.job_label.text().startswith("Race finished") and tab.progress.value() == 1000


def test_race_table_sorts_and_sends_the_selected_row(qtbot, tab):
    race = tab.race
    race.apply_preset("SGD with and without a decaying learning rate")
    race.steps.setValue(100)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        race.run()
    race.results.sortItems(1)
    keys = [race.results.item(r, 1).key for r in range(3)]
    assert keys == sorted(keys)
    race.select_model(2)
    assert race.send_button.isEnabled()
    with qtbot.waitSignal(tab.send_to_playground) as blocker:
        race.send_button.click()
    sent = blocker.args[0]
    assert isinstance(sent, Experiment)
    assert sent.optimizer == race.snapshot.result.specs[2].optimizer
    assert sent.schedule.name == "cosine"
    assert sent.data == EXP.data


def test_sweep_plots_one_point_per_model_and_sends_the_chosen_rate(qtbot, tab):
    sweep = tab.sweep
    sweep.set_checked_optimizers(["adam"])
    sweep.models.setValue(8)
    sweep.steps.setValue(100)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert sweep.run_sweep()
    result = sweep.result
    assert result.n_models == 8 and result.complete
    assert sweep.plotted_points("final_val_loss") == 8
    suggested = result.suggested_index("adam")
    assert sweep.choice is not None and sweep.choice.optimizer.lr == result.lrs[suggested]
    assert sweep.choice.text.startswith("Suggested: ")  # with the reason for the rate
    with qtbot.waitSignal(tab.send_to_playground) as blocker:
        sweep.use_button.click()
    sent = blocker.args[0]
    assert sent.optimizer.name == "adam"
    assert sent.optimizer.lr == pytest.approx(result.lrs[suggested])
    assert sent.training == EXP.training


def test_the_sweep_marks_each_best_rate_on_a_drawn_curve_with_its_label(qtbot, tab):
    sweep = tab.sweep
    sweep.set_checked_optimizers(["sgd", "adam"])
    sweep.models.setValue(8)
    sweep.steps.setValue(60)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert sweep.run_sweep()
    r = sweep.result
    best = [r.best_index(g) for g in range(2)]
    for hidden in (False, True):
        sweep.series_boxes["best_val_loss"].setChecked(not hidden)
        assert len(sweep._best_lines) == len(sweep._best_stars) == 2
        for g, (line, star) in enumerate(zip(sweep._best_lines, sweep._best_stars, strict=True)):
            lr = r.lrs[best[g]]
            assert 10 ** line.value() == pytest.approx(lr)
            assert line.label.textItem.toPlainText() == f"best {r.group_labels[g]}: {lr:.3g}"
            x, y = star.getOriginalDataset()
            drawn = r.final_val_loss if hidden else r.best_val_loss  # the star is on a curve
            assert x[0] == pytest.approx(lr) and y[0] == pytest.approx(drawn[best[g]])


def test_the_suggested_rate_keeps_a_margin_from_the_unstable_region_and_says_why():
    from app.compare.sweep import sweep_choice_text

    lrs = np.array([0.01, 0.03, 0.1, 0.3, 0.6, 1.0])
    n = len(lrs)
    result = compare.SweepResult(
        optimizers=(make_optimizer("sgd"),),
        group_labels=("SGD",),
        lrs=lrs,
        group=np.zeros(n, dtype=np.int64),
        final_train_loss=np.array([0.6, 0.5, 0.4, 0.3, 0.2, np.nan]),
        final_val_loss=np.array([0.6, 0.5, 0.4, 0.3, 0.2, np.nan]),
        best_train_loss=np.array([0.6, 0.5, 0.4, 0.3, 0.2, np.nan]),
        best_val_loss=np.array([0.6, 0.5, 0.4, 0.3, 0.2, np.nan]),
        best_val_step=np.full(n, 10),
        diverged=np.array([False] * 5 + [True]),
        diverged_step=np.array([-1] * 5 + [7]),
        initial_train_loss=np.full(n, 0.7),
        step=100,
        total=100,
    )
    assert result.best_index("sgd") == 4  # 0.6: right at the edge (unstable from 1.0)
    assert result.unstable_lr("sgd") == 1.0
    assert result.suggested_index("sgd") == 3  # 0.3: the best at least 3x below 1.0
    text = sweep_choice_text(result, 3)
    assert text.startswith("Suggested: SGD at lr = 0.3") and "lowest loss was at 0.6" in text
    assert "risky" in sweep_choice_text(result, 4)
    # the lowest loss inside the unstable region (a run that ended worse than it started): said
    # so, not "1.0x below" it
    inside = replace(
        result,
        final_train_loss=np.array([0.6, 0.5, 0.4, 0.3, 0.9, np.nan]),
        best_val_loss=np.array([0.6, 0.5, 0.4, 0.3, 0.1, np.nan]),
    )
    assert inside.best_index("sgd") == 4 and inside.unstable_lr("sgd") == 0.6
    assert inside.suggested_index("sgd") == 2  # 0.1, at least 3x below 0.6
    text = sweep_choice_text(inside, 2)
    assert "lowest loss was at 0.6, in the unstable region (from 0.6)" in text
    assert "\u00d7 below the unstable" not in text
    near = replace(result, lrs=np.array([0.01, 0.03, 0.1, 0.3, 0.8, 1.0]))
    assert "just below the unstable region (from 1)" in sweep_choice_text(near, 3)
    safe = replace(result, diverged=np.zeros(n, dtype=bool), final_train_loss=np.full(n, 0.1))
    assert safe.suggested_index("sgd") == safe.best_index("sgd")  # nothing unstable


def test_cancelled_sweep_keeps_its_partial_results(qtbot, tab):
    sweep = tab.sweep
    sweep.set_checked_optimizers(["sgd", "adam"])
    sweep.models.setValue(64)
    sweep.steps.setValue(1_000_000)
    tab.runner.progress.connect(lambda fraction, _name: fraction > 0 and tab.cancel())
    with qtbot.waitSignal(tab.runner.finished, timeout=20000) as blocker:
        assert sweep.run_sweep()
    assert blocker.args == ["sweep", True]
    result = sweep.result
    assert result.cancelled and 0 < result.step < 1_000_000
    assert sweep.plotted_points() == 64
    assert "cancelled" in tab.job_label.text()
    assert not tab.busy and not tab.cancel_button.isEnabled()


def test_range_test_and_2d_batch_size_sweep(qtbot, tab):
    sweep = tab.sweep
    sweep.steps.setValue(60)
    sweep.lr_min.setValue(1e-4)
    sweep.lr_max.setValue(1.0)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert sweep.run_range_test()
    r = sweep.range_result
    np.testing.assert_allclose(r.lrs[1:] / r.lrs[:-1], r.lrs[1] / r.lrs[0])
    assert sweep.choice is not None and sweep.choice.text.startswith("Range test")
    sweep.second.setCurrentIndex(2)  # batch size
    sweep.second_values.setText("5, 20")
    sweep.grid_lrs.setValue(3)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert sweep.run_grid()
    g = sweep.grid_result
    assert g.shape == (2, 3) and g.second_name == "batch_size"
    assert sweep.grid_image.image.shape == (2, 3)
    with qtbot.waitSignal(tab.send_to_playground) as blocker:
        sweep.use_button.click()
    sent = blocker.args[0]
    i, j = g.best()
    assert sent.training.batch_size == int(g.second_values[i])
    assert sent.optimizer.lr == pytest.approx(g.lr_values[j])


def test_seed_bands_use_the_race_configurations(qtbot, tab):
    tab.race.set_configs([RaceConfig.default("sgd"), RaceConfig.default("adam")])
    seeds = tab.seeds
    seeds.seeds.setValue(3)
    seeds.steps.setValue(100)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert seeds.run()
    result = seeds.result
    assert result.runs["val_loss"].shape == (2, 3, 21)
    assert len(seeds.mean_items) == 2 and len(seeds.fills) == 2
    seeds.band.setCurrentIndex(1)
    seeds.log_y.setChecked(True)
    assert len(seeds.fills) == 2


def test_problems_are_messages_not_exceptions(qtbot):
    def broken():
        raise ValueError("data.kind: 'nope' is not a data set")

    widget = CompareTab(broken)
    qtbot.addWidget(widget)
    messages = []
    widget.status_message.connect(messages.append)
    assert not widget.race.run()
    assert "nope" in widget.message.text() and widget.message.kind == "error"
    widget.tab_ok = CompareTab(lambda: EXP)
    qtbot.addWidget(widget.tab_ok)
    sweep = widget.tab_ok.sweep
    sweep.lr_min.setValue(1.0)
    sweep.lr_max.setValue(0.1)
    assert not sweep.run_sweep()
    assert "range is empty" in widget.tab_ok.message.text()
    sweep.set_checked_optimizers([])
    assert not sweep.run_sweep()
    widget.tab_ok.race.set_configs([RaceConfig.default("nesterov", second=0.0)])
    assert not widget.tab_ok.race.run()
    assert "momentum" in widget.tab_ok.message.text()
    assert widget.set_backend("cpu") and widget.backend == "cpu"
    assert not widget.set_backend("quantum")
    assert messages


def test_presets_and_editor_limits(qtbot, tab):
    race = tab.race
    for name, (_, configs) in PRESETS.items():
        race.apply_preset(name)
        assert race.configs() == list(configs)
    race.set_configs([RaceConfig.default("sgd")] * 8)
    race.add_button.click()
    assert len(race.configs()) == 8 and tab.message.kind == "warning"
    race.from_playground.click()
    race.editor.table.selectRow(0)
    race.remove_button.click()
    race.from_playground.click()
    assert race.configs()[-1].base == EXP.optimizer


def test_shutdown_stops_a_long_race(qtbot, tab):
    tab.race.steps.setValue(1_000_000)  # hours of training: only a cancel ends it
    with qtbot.waitSignal(tab.runner.progress, timeout=20000):
        assert tab.race.run()
    assert tab.shutdown(10_000)  # cancelled between chunks and joined, long before the end
    assert not tab.busy
    assert not tab.runner.worker.thread.isRunning()


def test_destroying_the_tab_stops_its_thread(qtbot, monkeypatch):
    monkeypatch.setattr(jobs, "MIN_REPORT_S", 0.0)
    widget = CompareTab(lambda: EXP)
    widget.race.steps.setValue(1_000_000)
    with qtbot.waitSignal(widget.runner.progress, timeout=20000):
        widget.race.run()
    thread = widget.runner.worker.thread
    assert thread.isRunning()
    widget.deleteLater()
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=3000)


def test_every_control_has_a_tooltip(qtbot, tab):
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QProgressBar,
        QTabBar,
    )

    def internal(widget):  # parts of another control: a combo's popup, a table's header
        if isinstance(widget.parent(), QAbstractItemView):
            return True
        parent = widget.parent()
        while parent is not None and parent is not tab:
            if isinstance(parent, QComboBox | QTabBar | QAbstractSpinBox):
                return True
            parent = parent.parent()
        return False

    kinds = (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QAbstractItemView,
        QProgressBar,
    )
    missing = [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()}"
        for kind in kinds
        for w in tab.findChildren(kind)
        if not w.toolTip() and not internal(w)
    ]
    assert not missing, missing


def test_a_first_run_says_it_compiles_the_kernels(qtbot, tab, monkeypatch):
    from app.compare import tab as tab_module
    from dlopt_core.train.kernels import training_kernels_ready

    assert training_kernels_ready()  # the session fixture compiled them
    monkeypatch.setattr(tab_module, "training_kernels_ready", lambda: False)
    tab.race.steps.setValue(50)
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        assert tab.race.run()
        assert "compiling the training kernels" in tab.job_label.text()
    assert tab.job_label.text().startswith("Race finished")


def test_weight_decay_arrows_start_from_zero(tab):
    race = tab.race
    adam = [c.optimizer for c in race.configs()].index("adam")
    box = race.editor.table.cellWidget(adam, 4)
    assert box.value() == 0.0
    box.stepBy(1)  # up from "none": the first step, then doubling
    box.stepBy(1)
    assert race.configs()[adam].weight_decay == pytest.approx(2e-4)
    lr_box = race.editor.table.cellWidget(adam, 2)
    lr = race.configs()[adam].lr
    lr_box.stepBy(-1)
    assert race.configs()[adam].lr == pytest.approx(lr / 2)


def test_a_gpu_backend_allows_larger_sweeps(tab, monkeypatch):
    from types import SimpleNamespace

    from app.compare import tab as tab_module

    models = tab.sweep.models
    assert models.maximum() == 1024
    monkeypatch.setattr(tab_module.backends, "resolve", lambda name: SimpleNamespace(name="cuda"))
    assert tab.set_backend("cuda")
    assert models.maximum() == compare.MAX_SWEEP_MODELS and "4096 on a GPU" in models.toolTip()
    monkeypatch.setattr(tab_module.backends, "resolve", lambda name: SimpleNamespace(name="cpu"))
    models.setValue(3000)
    assert tab.set_backend("auto")  # auto fell back to the CPU: back to 1024
    assert models.maximum() == 1024 and models.value() == 1024


def test_every_result_is_wholly_in_view(qtbot):
    """The numbers of the results table are never cut to "0.002…": the bold best value and a
    divergence's "at step N" fit their columns (the configurations' names, elided when room
    is short, are whole in their tooltips)."""
    from PySide6.QtGui import QFontMetrics

    plane = replace(EXP, data=DataSpec(kind="plane", n_samples=100, noise=0.1, seed=1))
    tab = CompareTab(lambda: plane)
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    race = tab.race
    race.set_configs(
        [
            RaceConfig.from_experiment(replace(plane, optimizer=o))
            for o in (make_optimizer("sgd", lr=0.05), make_optimizer("sgd", lr=5.0))
        ]
    )
    race.steps.setValue(200)
    tab.show()
    with qtbot.waitSignal(tab.runner.finished, timeout=20000):
        race.run()
    table = race.results
    assert any(table.item(r, 6).text().startswith("at step") for r in range(2))
    for row in range(table.rowCount()):
        for col in range(1, table.columnCount()):
            item = table.item(row, col)
            need = QFontMetrics(item.font()).horizontalAdvance(item.text())
            assert need <= table.visualItemRect(item).width() - 4, (row, col, item.text())
        assert table.item(row, 0).toolTip() == table.item(row, 0).text()
    assert tab.shutdown(2000)
