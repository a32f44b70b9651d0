"""Worker threads still running when the interpreter exits are stopped and joined first.

A ``QThread`` destroyed while it runs aborts the process; a window that was never closed (a
script, a test, an exception) would leave one behind. Each object that owns a thread registers
itself with :func:`stop_at_exit`; at exit every one still alive has its ``stop()`` called.
"""

from __future__ import annotations

import atexit
import weakref
from typing import Protocol


class Stoppable(Protocol):
    def stop(self) -> object: ...


_LIVE: weakref.WeakSet[Stoppable] = weakref.WeakSet()


def stop_at_exit(owner: Stoppable) -> None:
    """Call ``owner.stop()`` at interpreter exit if it is still alive then."""
    _LIVE.add(owner)


@atexit.register
def _stop_all() -> None:
    for owner in list(_LIVE):
        try:
            owner.stop()
        except RuntimeError:  # its Qt objects are already gone
            pass
