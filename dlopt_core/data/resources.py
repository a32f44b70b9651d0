"""Where the course and study content lives, and how it is read.

``resources/`` holds the lessons, the quiz bank, the presets and the content that is data (the
Landscape tab's challenges and paper situations, the Compare tab's network presets). It is found
next to the package in a checkout, or under ``<prefix>/share/dlopt`` once installed;
``$DLOPT_RESOURCES`` points elsewhere. Every file is read through the bounded JSON reader of
``files``, so a damaged or hostile file gives a clear error, never a hang.

Content is read when first used, never at import: a damaged file must not stop ``import
dlopt_core`` (and with it the whole application); the part that needs it says what is wrong
with a :class:`ResourceError` instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from dlopt_core.data import files

RESOURCES_ENV = "DLOPT_RESOURCES"


class ResourceError(ValueError):
    """A content file of ``resources/`` cannot be read or one of its entries cannot be built;
    the message starts with the file's name (and the entry's, when one is at fault)."""


def resources_dir() -> Path:
    """The folder holding ``quiz/``, ``lessons/`` and the other content.

    In order: ``$DLOPT_RESOURCES``; ``dlopt_core/resources`` (if the folder is ever moved into
    the package); ``resources/`` next to the package (a source checkout or an editable install);
    ``<sys.prefix>/share/dlopt/resources`` (installed as data files). The first that exists wins;
    the checkout's path is returned when none does.
    """
    env = os.environ.get(RESOURCES_ENV)
    here = Path(__file__).resolve().parents[1]  # the dlopt_core package
    candidates = [
        Path(env) if env else None,
        here / "resources",
        here.parent / "resources",
        Path(sys.prefix) / "share" / "dlopt" / "resources",
    ]
    for path in candidates:
        if path is not None and path.is_dir():
            return path
    return here.parent / "resources"


def load_resource(relative: str, error: files.ErrorType = ResourceError) -> Any:
    """The JSON value of ``resources_dir() / relative``, read by the bounded reader; problems
    raise ``error`` with a message that starts with the file's name."""
    return files.load_json(resources_dir() / relative, error, source=relative)


def load_entries(relative: str) -> dict[str, dict[str, Any]]:
    """The named entries of a content file, ``{"name": {...}, ...}``: ``ResourceError`` naming
    the file when it cannot be read or is not an object of objects."""
    raw = load_resource(relative)
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ResourceError(f'{relative}: expected {{"name": {{...}}, ...}}')
    return raw


def entry_error(relative: str, name: str, exc: Exception) -> ResourceError:
    """The error of an entry that cannot be built: the file, the entry and what is wrong."""
    problem = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
    return ResourceError(f"{relative}: {name}: {problem}")
