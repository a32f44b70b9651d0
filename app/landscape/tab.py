"""The Landscape tab: pure optimization on 2-D functions, the challenges, and the shape of a
network's loss, as three views of one tab.

The window connects ``open_in_playground(Experiment)``, ``open_in_compare(Experiment, list of
optimizer dicts)`` and ``status_message(str)``, calls ``set_trained_network`` after a Playground
run and ``shutdown`` before it closes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.landscape.challenges_view import ChallengesView
from app.landscape.functions_view import FunctionView
from app.landscape.shape_view import ShapeView
from dlopt_core.studies import landscape as ls
from dlopt_core.train.network import Network

FUNCTIONS_PAGE, CHALLENGES_PAGE, SHAPE_PAGE = 0, 1, 2


class LandscapeTab(QWidget):
    """Three views: 2-D functions (with the quadratic's theory), challenges, loss shape."""

    open_in_playground = Signal(object)  # Experiment
    open_in_compare = Signal(object, object)  # Experiment, list of optimizer dicts
    status_message = Signal(str)

    title = "Landscape"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.functions = FunctionView()
        self.challenges = ChallengesView()
        self.shape = ShapeView()
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.functions, "2-D functions")
        self.views.addTab(self.challenges, "Challenges")
        self.views.addTab(self.shape, "Shape of a network's loss")
        self.views.setTabToolTip(
            FUNCTIONS_PAGE,
            "Optimizers racing on 2-D test functions; click the map to choose the start",
        )
        self.views.setTabToolTip(
            CHALLENGES_PAGE, "Ready-made races and network situations, one click each"
        )
        self.views.setTabToolTip(
            SHAPE_PAGE, "The loss of a trained network along a line and on a plane"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.views)
        self.challenges.challenge_requested.connect(self.load_challenge)
        self.challenges.open_in_playground.connect(self.open_in_playground)
        self.challenges.open_in_compare.connect(self.open_in_compare)
        for view in (self.functions, self.challenges, self.shape):
            view.status_message.connect(self.status_message)

    def load_challenge(self, name: str) -> None:
        """Show the 2-D functions view with challenge ``name`` loaded and running."""
        self.functions.load_challenge(name)
        self.views.setCurrentIndex(FUNCTIONS_PAGE)

    def load_preset(self, preset) -> None:
        """Race a lesson preset's optimizers on its 2-D function, or train its paper situation
        and draw the shape of its loss (a ``lessons.Preset``)."""
        if preset.situation:
            self.shape.select_situation(preset.situation)
            self.views.setCurrentIndex(SHAPE_PAGE)
            self.shape.train()
            return
        runs = []
        for entry in preset.optimizers:
            entry = dict(entry)
            sched = entry.pop("schedule", None)
            runs.append(
                ls.ChallengeRun(
                    optimizer=entry.pop("name"),
                    clip_norm=entry.pop("clip_norm", None),
                    noise=entry.pop("noise", None),
                    label=entry.pop("label", ""),
                    schedule=None if not sched else (sched.pop("name"), sched),
                    hyper=entry,
                )
            )
        fn = ls.get_function(preset.function, **dict(preset.function_params))
        challenge = ls.Challenge(
            name=preset.id,
            title=preset.title,
            explanation=preset.description or fn.note,
            function=preset.function,
            params=dict(preset.function_params),
            start=preset.start or fn.default_start,
            runs=tuple(runs),
            steps=preset.steps or 200,
        )
        self.functions.load_challenge(challenge)
        self.views.setCurrentIndex(FUNCTIONS_PAGE)

    def set_trained_network(
        self,
        network: Network,
        theta_init: np.ndarray,
        theta_final: np.ndarray,
        thetas_path: np.ndarray | None,
        X: np.ndarray,
        y: np.ndarray,
        Xv: np.ndarray | None = None,
        yv: np.ndarray | None = None,
    ) -> None:
        """Compute line and slice for a network trained elsewhere (the Playground's)."""
        self.shape.set_trained_network(network, theta_init, theta_final, thetas_path, X, y, Xv, yv)

    def shutdown(self) -> None:
        """Stop the animation and the worker thread (within about a second)."""
        self.functions.shutdown()
        self.shape.shutdown()
