"""The Compare tab: optimizer races, learning-rate sweeps and seed bands on the Playground's data.

Embedding::

    tab = CompareTab(lambda: playground.experiment)  # any callable returning an Experiment
    tab.send_to_playground.connect(playground.set_experiment)  # an Experiment to adopt
    tab.status_message.connect(lambda text: status_bar.showMessage(text, 6000))
    tab.set_backend("auto")  # "cpu", "cuda" or "auto"; used from the next run
    ...
    tab.shutdown()  # before the window closes: cancels the running job and joins its thread

Only one comparison runs at a time, in a worker thread; the progress row at the bottom shows it
and can cancel it (the partial result stays on screen).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.compare.jobs import JobRunner
from app.compare.race import RaceView
from app.compare.seeds import SeedView
from app.compare.sweep import CPU_MODELS, SweepView
from app.compare.trainmap import TrainabilityMapView
from app.threads import error_message
from app.widgets.banner import Banner
from dlopt_core.studies import compare
from dlopt_core.train import backends
from dlopt_core.train.engine import training_kernels_ready
from dlopt_core.train.experiment import Experiment

JOB_TITLES = {
    "race": "Race",
    "sweep": "Sweep",
    "range test": "Range test",
    "2-D sweep": "2-D sweep",
    "seed bands": "Seed bands",
    "trainability map": "Trainability map",
}


class CompareTab(QWidget):
    """Race, Learning rate and Seed bands pages sharing one worker thread.

    ``get_experiment`` is called whenever a run starts (and by "From Playground" / "Send to
    Playground") for the data, network, training settings and seed to compare on; it may raise,
    and the message is shown. Signals: ``send_to_playground(Experiment)``, the current experiment
    with the chosen optimizer, learning rate, schedule or batch size; ``status_message(str)``, a
    short note for the status bar.
    """

    title = "Compare"
    send_to_playground = Signal(object)
    status_message = Signal(str)

    def __init__(
        self, get_experiment: Callable[[], Experiment], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.get_experiment = get_experiment
        self._backend = "cpu"
        self._started = 0.0
        self._race_next = False
        self.runner = JobRunner(self)
        self.message = Banner()
        self.race = RaceView(self)
        self.sweep = SweepView(self)
        self.seeds = SeedView(self, self.race.configs)
        self.trainmap = TrainabilityMapView(self)
        self.race.editor.changed.connect(self.seeds.refresh_source)
        self.pages = QTabWidget()
        self.pages.addTab(self.race, "Race")
        self.pages.addTab(self.sweep, "Learning rate")
        self.pages.addTab(self.seeds, "Seed bands")
        self.pages.addTab(self.trainmap, "Trainability map")
        self.pages.setTabToolTip(0, "Up to eight optimizer configurations trained side by side")
        self.pages.setTabToolTip(1, "Loss against learning rate: sweeps, range test, 2-D sweep")
        self.pages.setTabToolTip(2, "Mean and spread of each configuration over several seeds")
        self.pages.setTabToolTip(
            3,
            "Which pairs of hyper-parameters train and which diverge: "
            "the fractal edge between them",
        )
        self._job_page = {
            "race": self.race,
            "sweep": self.sweep,
            "range test": self.sweep,
            "2-D sweep": self.sweep,
            "seed bands": self.seeds,
            "trainability map": self.trainmap,
        }
        # what the progress row said when each page's last job ended: (text, percent)
        self._page_status: dict[QWidget, tuple[str, float]] = {}
        self.pages.currentChanged.connect(self._show_page_status)

        self.job_label = QLabel("Ready")
        self.job_label.setToolTip("What the worker thread is doing")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setToolTip("Progress of the running comparison")
        self.progress.setMaximumWidth(360)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            "Stop the running comparison after its current chunk; "
            "what it has computed stays on screen"
        )
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.setContentsMargins(6, 0, 6, 2)
        row.addWidget(self.job_label, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addWidget(self.message)
        lay.addWidget(self.pages, 1)
        lay.addLayout(row)

        self.runner.busy_changed.connect(self._busy_changed)
        self.runner.progress.connect(self._progress)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(self._finished)

    # -- public API -------------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return self._backend

    def set_backend(self, name: str) -> bool:
        """Train with backend ``name`` ("cpu", "cuda" or "auto") from the next run on.

        Returns False, keeping the current backend and showing why, when it cannot be used.
        """
        try:
            resolved = backends.resolve(name)
        except backends.BackendError as exc:
            self.notify("error", str(exc))
            return False
        self._backend = name
        on_gpu = resolved.name == "cuda"
        self.sweep.set_model_limit(compare.MAX_SWEEP_MODELS if on_gpu else CPU_MODELS)
        return True

    def show_race(self, configs: list, steps: int = 0, target: float | None = None) -> None:
        """Show the Race page with ``configs`` and run them at once: the race on screen goes,
        a running comparison is cancelled first. ``steps`` (0: keep) and ``target`` (None:
        keep) set the run length and the target validation loss."""
        race = self.race
        self.pages.setCurrentWidget(race)
        race.set_configs(configs)
        if steps:
            race.steps.setValue(int(steps))
        if target is not None:
            race.target.setValue(float(target))
        race.clear_results()
        if self.runner.busy:
            self._race_next = True  # started when the running job has ended
            self.cancel()
        else:
            race.run()

    @property
    def busy(self) -> bool:
        """Whether a comparison is running."""
        return self.runner.busy

    def cancel(self) -> None:
        """Stop the running comparison after its current chunk (partial results are kept)."""
        if self.runner.busy:
            self.job_label.setText("Cancelling\u2026")
            self.runner.cancel()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Cancel the running comparison and join its thread; True if it ended in time.

        A chunk in compiled code ends within about 0.2 s; kernels still compiling cannot be
        interrupted and are waited for.
        """
        ok = self.runner.shutdown(timeout_ms)
        self.trainmap.shutdown()
        return ok

    # -- services for the pages (see app.compare.host.Host) ---------------------------------------
    def experiment(self) -> Experiment | None:
        try:
            exp = self.get_experiment()
        except Exception as exc:  # an invalid Playground setting: say so, do not crash
            self.notify("error", f"The Playground's settings cannot be used: {error_message(exc)}")
            return None
        if not isinstance(exp, Experiment):
            self.notify("error", "The Playground has no experiment to compare on.")
            return None
        return exp

    def notify(self, kind: str, text: str) -> None:
        self.message.show_message(kind, text)
        self.status_message.emit(text)

    def send(self, exp: Experiment, note: str) -> None:
        self.send_to_playground.emit(exp)
        self.status_message.emit(note)

    # -- job feedback -----------------------------------------------------------------------------
    def _busy_changed(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        if busy:
            self._started = time.perf_counter()
            self.message.clear()

    def _progress(self, fraction: float, name: str) -> None:
        self.progress.setValue(int(round(1000 * fraction)))
        self.progress.setFormat(f"{100 * fraction:.0f}%")
        if self.runner.busy and not self.job_label.text().startswith("Cancelling"):
            text = f"{JOB_TITLES.get(name, name)} running\u2026"
            if fraction == 0.0 and not training_kernels_ready():
                text += (
                    " (first run: compiling the training kernels, up to a minute; "
                    "later runs start at once)"
                )
            self.job_label.setText(text)

    def _failed(self, name: str, message: str) -> None:
        self._reset_progress()
        self._remember(name, f"{JOB_TITLES.get(name, name)} failed", 0.0)
        self.notify("error", f"{JOB_TITLES.get(name, name)} failed: {message}")
        self._start_waiting_race()

    def _finished(self, name: str, cancelled: bool) -> None:
        title = JOB_TITLES.get(name, name)
        seconds = time.perf_counter() - self._started
        self._reset_progress(100.0 if not cancelled else None)
        if cancelled:
            text = f"{title} cancelled after {seconds:.1f} s; the partial results are shown"
        else:
            text = f"{title} finished in {seconds:.1f} s"
        self.job_label.setText(text)
        self._remember(name, text, self.progress.value() / 10.0)
        if not self.isVisible():  # shown, the tab's own progress row says it already
            self.status_message.emit(text)
        self._start_waiting_race()

    def _start_waiting_race(self) -> None:
        """The race :meth:`show_race` asked for while another job ran."""
        if self._race_next:
            self._race_next = False
            self.race.clear_results()  # the cancelled job may have drawn its partial result
            self.race.run()

    def _remember(self, name: str, text: str, percent: float) -> None:
        page = self._job_page.get(name)
        if page is not None:
            self._page_status[page] = (text, percent)

    def _show_page_status(self, _index: int = 0) -> None:
        """The progress row speaks of the page on show: its last job, or "Ready" (a running
        job, whichever page it belongs to, keeps the row)."""
        if self.runner.busy:
            return
        text, percent = self._page_status.get(self.pages.currentWidget(), ("Ready", 0.0))
        self.job_label.setText(text)
        self.progress.setValue(int(10 * percent))
        self.progress.setFormat(f"{percent:.0f}%" if text != "Ready" else "")

    def _reset_progress(self, percent: float | None = None) -> None:
        """Back to "Ready"; the bar shows ``percent``, or stays where a cancelled job left it."""
        if percent is not None:
            self.progress.setValue(int(10 * percent))
            self.progress.setFormat(f"{percent:.0f}%")
        self.job_label.setText("Ready")
