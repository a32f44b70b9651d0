"""The app's colour conventions, in one place.

Classes: class 0 orange, class 1 blue, then green, purple, ... in every tab (the Playground's
boundary and points, the network diagram's sign colours, the Compare tab's boundary pictures),
always with a legend. Configurations of a race, sweep or seed band: a palette of their own that
avoids the two class colours, so that a blue region never reads as "the blue configuration".
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

# class colours (RGB); 0 and 1 are the network diagram's negative and positive
CLASS_COLORS = np.array(
    [
        (232, 118, 28),
        (36, 110, 196),
        (46, 160, 80),
        (150, 80, 180),
        (214, 48, 64),
        (140, 100, 60),
        (220, 100, 170),
        (30, 160, 170),
    ],
    dtype=np.float64,
)

# one colour per configuration: distinct from each other and from class 0 and 1 (no orange, no
# blue), dark enough for a line on white
CONFIG_COLORS = (
    QColor(0, 150, 100),
    QColor(200, 30, 100),
    QColor(130, 50, 170),
    QColor(60, 60, 60),
    QColor(130, 120, 0),
    QColor(140, 86, 75),
    QColor(225, 100, 200),
    QColor(150, 190, 40),
)


def class_color(k: int) -> QColor:
    r, g, b = CLASS_COLORS[k % len(CLASS_COLORS)].astype(int)
    return QColor(int(r), int(g), int(b))


def class_legend_html(n_classes: int, size_pt: int = 12) -> str:
    """Coloured squares with the class numbers: "■ 0  ■ 1 ..."."""
    return "&nbsp;&nbsp;".join(
        f"<span style='color:{class_color(k).name()}; font-size:{size_pt}pt'>\u25a0</span>"
        f"<span style='color:#444'> {k}</span>"
        for k in range(n_classes)
    )
