"""What the Compare tab offers its sub-views (a Protocol, so the views can be tested alone)."""

from __future__ import annotations

from typing import Protocol

from app.compare.jobs import JobRunner
from dlopt_core.train.experiment import Experiment


class Host(Protocol):
    """The Compare tab as its views see it."""

    runner: JobRunner

    @property
    def backend(self) -> str: ...

    def experiment(self) -> Experiment | None:
        """The Playground's current experiment, or None (after showing why) when it is invalid."""

    def notify(self, kind: str, text: str) -> None:
        """Show a message: kind is error, warning or info."""

    def send(self, exp: Experiment, note: str) -> None:
        """Hand ``exp`` to the Playground and say so with ``note``."""
