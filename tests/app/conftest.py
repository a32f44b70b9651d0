"""App tests run offscreen with settings in a temporary folder, never the user's own."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """``DLOPT_SETTINGS`` points at a fresh INI file; native QSettings paths go to tmp too."""
    path = tmp_path / "settings" / "dlopt.ini"
    path.parent.mkdir()
    monkeypatch.setenv("DLOPT_SETTINGS", str(path))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    return path
