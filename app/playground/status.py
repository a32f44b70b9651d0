"""What the Playground says about a run: its line in the status bar and its warning texts.

:class:`StatusLine` shows step, epoch, losses, speed, backend and kernel state in the window's
status bar. The banner's warnings come from here too: a divergence (:func:`divergence_text`) and
a run that is not converging, told by :func:`loss_ratio` (the recent training loss over the
initial one) against :data:`NOT_CONVERGING` and :data:`CONVERGING_AGAIN`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

# "not converging": the median of the newest RECENT_POINTS recorded training losses is at least
# NOT_CONVERGING times the initial loss; the message goes when it falls below CONVERGING_AGAIN
NOT_CONVERGING = 2.0
CONVERGING_AGAIN = 1.5
RECENT_POINTS = 20


def divergence_text(step: int) -> str:
    return (
        f"diverged at step {step:,}: loss became infinite; try a smaller learning rate or "
        "gradient clipping"
    )


def loss_ratio(train_loss: np.ndarray) -> float | None:
    """How many times its initial value the training loss has lately been: the median of the
    newest RECENT_POINTS finite values over the first one; None until there are that many."""
    finite = train_loss[np.isfinite(train_loss)]
    if len(finite) <= RECENT_POINTS or not finite[0] > 0.0:
        return None
    return float(np.median(finite[-RECENT_POINTS:]) / finite[0])


def not_converging_text(ratio: float, initial: float, recent: float) -> str:
    times = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}"
    return (
        f"not converging: the loss is {times}\u00d7 its initial value ({initial:.3g} at the "
        f"start, {recent:.3g} lately); try a smaller learning rate"
    )


class StatusLine(QWidget):
    """Step, epoch, losses, speed, backend and kernel state, for the window's status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kernels = QLabel()
        self.step = QLabel()
        self.losses = QLabel()
        self.speed = QLabel()
        self.backend = QLabel()
        self.sample = QLabel()  # shown while the curves are evaluated on a sample of the rows
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(18)
        for label in (self.kernels, self.step, self.losses, self.sample, self.speed, self.backend):
            lay.addWidget(label)
        self.speed.setMinimumWidth(110)
        self.step.setMinimumWidth(170)

    def text(self) -> str:
        parts = (self.kernels, self.step, self.losses, self.sample, self.speed, self.backend)
        return "  ".join(p.text() for p in parts if p.text())
