"""Remake the README's pictures: ``python docs/screenshots.py`` (works without a display).

Each tab is driven as a user would drive it (a Playground run, a race, a challenge, a lesson, an
answered question), then the whole window is saved as a PNG in this folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DLOPT_SETTINGS", str(Path(tempfile.mkdtemp()) / "settings.ini"))
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.window import MainWindow  # noqa: E402
from dlopt_core.train.experiment import Experiment, example  # noqa: E402


def wait(app: QApplication, condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    wait(app, lambda: time.monotonic() > end)


def trainability_map(app: QApplication, win: MainWindow) -> None:
    """The Compare tab's Trainability map: the paper's 64 x 64 map at 200 steps, a pixel on the
    edge clicked for its run."""
    win.select_tab("Compare")
    view = win.compare.trainmap
    win.compare.pages.setCurrentWidget(view)
    view.apply_preset(0)
    view.res.setValue(64)
    view.steps.setValue(200)
    view.compute()
    wait(app, lambda: not win.compare.busy, timeout=600.0)
    edge = view.result.converged
    i, j = next(
        (i, j) for j in range(63, 0, -1) for i in range(20, 64) if edge[i, j] != edge[i, j - 1]
    )
    view.select(i, j)
    wait(app, lambda: not view.curve_runner.busy)
    settle(app, 0.5)
    win.grab().save(str(HERE / "trainability_map.png"))


# the four interpolation plots of the course's slide: (situation, log scale, picture)
SHAPE_SHOTS = (
    ("lstm", True, "landscape_lstm.png"),
    ("adversarial", False, "landscape_adversarial.png"),
    ("relu_net", False, "landscape_relu.png"),
    ("deep_linear", False, "landscape_linear.png"),
)


def shape_shot(app: QApplication, win: MainWindow, key: str, log: bool, name: str) -> None:
    """Train one situation of the loss-shape view and save the tab's picture."""
    shape = win.landscape.shape
    shape.select_situation(key)
    shape.log_box.setChecked(log)
    before = shape.result
    shape.train_button.click()
    wait(
        app,
        lambda: shape.result is not None and shape.result is not before and not shape.busy,
        timeout=600.0,
    )
    settle(app, 0.5)
    win.grab().save(str(HERE / name))


def main() -> None:
    app = QApplication([])
    win = MainWindow(example(), persist=False)
    win.show_dialogs = False
    win.resize(1400, 900)
    win.show()
    pg = win.playground
    wait(app, lambda: pg.snapshot is not None)
    pg.controller.play_until(12_000)
    wait(app, lambda: pg.snapshot.step >= 12_000)
    settle(app, 1.0)
    win.grab().save(str(HERE / "playground.png"))

    from dlopt_core.course.lessons import load_presets

    win.open_preset(load_presets()["edge_of_stability"])  # the lesson's Try-it
    wait(
        app,
        lambda: (
            pg.snapshot is not None
            and pg.snapshot.step == 4000
            and not pg.snapshot.playing
            and pg.snapshot.sharpness is not None
            and pg.snapshot.sharpness[0][-1] == 4000
        ),
    )
    settle(app, 1.0)
    win.grab().save(str(HERE / "playground_sharpness.png"))

    win.open_in_playground(
        Experiment.from_dict(
            {
                "data": {"kind": "moons", "n_samples": 400, "noise": 0.1},
                "network": {"hidden": [8, 8]},
                "training": {"batch_size": 10},
            }
        )
    )
    win.select_tab("Compare")
    win.compare.race.apply_preset(win.compare.race.preset.itemText(1))
    win.compare.race.steps.setValue(1500)
    win.compare.race.run()
    wait(app, lambda: not win.compare.busy)
    settle(app, 0.5)
    win.grab().save(str(HERE / "compare.png"))
    trainability_map(app, win)

    win.select_tab("Landscape")
    win.landscape.load_challenge("saddle")
    wait(app, lambda: win.landscape.functions.paths_ready)
    settle(app, 4.0)
    win.grab().save(str(HERE / "landscape.png"))

    win.landscape.views.setCurrentWidget(win.landscape.shape)
    for key, log, name in SHAPE_SHOTS:
        shape_shot(app, win, key, log, name)

    win.select_tab("Learn")
    win.learn.show_lesson(win.learn.lesson_ids()[1])
    search = win.learn.search_panel  # its comparison arrives from a thread
    wait(app, lambda: search.comparison is not None and not search.busy)
    settle(app, 0.5)
    win.grab().save(str(HERE / "learn.png"))

    win.select_tab("Quiz")
    quiz = win.quiz
    quiz.start("mixed", ids=["real-neuron-inputs-outputs", "line-is-a-neuron"])
    quiz.choose(quiz.current_question.answer)  # the right option, wherever the seed put it
    quiz.submit()
    settle(app, 0.5)
    win.grab().save(str(HERE / "quiz.png"))
    win.close()
    print("saved", ", ".join(p.name for p in sorted(HERE.glob("*.png"))))


if __name__ == "__main__":
    main()
