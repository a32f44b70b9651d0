"""Where the app keeps its settings: QSettings of organization and application "dlopt".

``DLOPT_SETTINGS`` (a file path) redirects them to an INI file, which the tests use so that they
never touch the user's own settings.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

ORGANIZATION = "dlopt"
APPLICATION = "dlopt"
ENV_VAR = "DLOPT_SETTINGS"
MAX_RECENT = 8


def make_settings(path: str | None = None) -> QSettings:
    """The app's settings: the INI file ``path`` or ``$DLOPT_SETTINGS`` if set, else the
    platform's usual place."""
    path = path or os.environ.get(ENV_VAR)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def recent_files(settings: QSettings) -> list[str]:
    """The recent experiment files, newest first; anything else stored there is ignored."""
    value = settings.value("files/recent", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value if isinstance(v, str) and v][:MAX_RECENT]


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    files = [path, *(f for f in recent_files(settings) if f != path)][:MAX_RECENT]
    settings.setValue("files/recent", files)
    return files


def remove_recent_file(settings: QSettings, path: str) -> list[str]:
    files = [f for f in recent_files(settings) if f != path]
    settings.setValue("files/recent", files)
    return files
