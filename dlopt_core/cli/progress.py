"""The one-line progress bar of ``dlopt-train`` and ``dlopt-map``: drawn only on a terminal, with
the speed measured from a chosen step (after the chunk that compiled the kernels), and notes
written above it. Hand-written on purpose (about 40 lines): tqdm would draw the same with a
dependency more and a line of its own.
"""

from __future__ import annotations

import time
from typing import TextIO

BAR_EVERY_S = 0.1  # the progress bar is redrawn at most this often


class Progress:
    """A one-line progress bar with steps per second; drawn only on a terminal (a pipe or a log
    file gets no bar, only the lines of ``note``)."""

    def __init__(self, total: int, stream: TextIO, enabled: bool = True, unit: str = "steps"):
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream
        self.enabled = enabled
        self.bar = enabled and _is_terminal(stream)
        self._drawn = 0.0
        self.restart(0)

    def restart(self, done: int) -> None:
        """Measure steps per second from here (after a chunk that compiled the kernels)."""
        self.start = time.perf_counter()
        self.base = done

    def note(self, text: str) -> None:
        """A line of its own (above the bar on a terminal), e.g. that the kernels compile."""
        if self.enabled:
            self.stream.write(f"\r{text}\n" if self.bar else f"{text}\n")
            self.stream.flush()

    def update(self, done: int) -> None:
        if not self.bar:
            return
        now = time.perf_counter()
        if done < self.total and now - self._drawn < BAR_EVERY_S:
            return
        self._drawn = now
        elapsed = max(now - self.start, 1e-9)
        frac = done / self.total
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        speed = (done - self.base) / elapsed
        rate = f"{speed:,.{0 if speed >= 10 else 1}f} {self.unit}/s" if done > self.base else ""
        self.stream.write(f"\r[{bar}] {frac:6.1%} {done}/{self.total} {self.unit}  {rate}")
        self.stream.flush()

    def close(self) -> None:
        if self.bar:
            self.stream.write("\n")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
