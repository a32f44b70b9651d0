"""Where the course and study content lives, and how it is read.

``resources/`` holds the lessons, the quiz bank, the presets and the content that is data (the
Landscape tab's challenges and paper situations, the Compare tab's network presets). It is found
next to the package in a checkout, or under ``<prefix>/share/dlopt`` once installed;
``$DLOPT_RESOURCES`` points elsewhere. Every file is read through the bounded JSON reader of
``files``, so a damaged or hostile file gives a clear error, never a hang.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from dlopt_core.data import files

RESOURCES_ENV = "DLOPT_RESOURCES"


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


def load_resource(relative: str, error: files.ErrorType = ValueError) -> Any:
    """The JSON value of ``resources_dir() / relative``, read by the bounded reader; problems
    raise ``error`` with a message that starts with the file's name."""
    return files.load_json(resources_dir() / relative, error, source=relative)


def load_entries(relative: str) -> dict[str, dict[str, Any]]:
    """The named entries of a content file, ``{"name": {...}, ...}``: ``ValueError`` naming the
    file when it cannot be read or is not an object of objects."""
    raw = load_resource(relative)
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError(f'{relative}: expected {{"name": {{...}}, ...}}')
    return raw


def entry_error(relative: str, name: str, exc: Exception) -> ValueError:
    """The error of an entry that cannot be built: the file, the entry and what is wrong."""
    problem = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
    return ValueError(f"{relative}: {name}: {problem}")
