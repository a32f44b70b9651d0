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


@pytest.fixture(autouse=True)
def no_tabs_built_in_the_background(monkeypatch):
    """Windows build their tabs only when shown, as the tests ask for them; the background
    build of the other tabs is tested on its own (``test_window.py``)."""
    from app.window import MainWindow

    monkeypatch.setattr(MainWindow, "build_tabs_when_idle", False)


@pytest.fixture(autouse=True)
def unsaved_changes_discarded(monkeypatch):
    """ "Discard changes?" answers Discard, as a user who does not keep the edits would (a
    modal dialog would wait for ever offscreen); the question itself is tested on its own."""
    from PySide6.QtWidgets import QMessageBox

    from app.window import MainWindow

    monkeypatch.setattr(
        MainWindow, "ask_unsaved", lambda self, action: QMessageBox.StandardButton.Discard
    )


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile every kernel the app calls once, before any test starts a timed wait.

    The tests must not depend on a warm Numba cache, and on a clean machine the first compile
    takes tens of seconds (more on a slow CI runner). Doing it here, without a time limit, keeps
    the waits in the tests about the behaviour they check, not about the compiler.
    """
    from dataclasses import replace

    from app.warmup import warm_up, warm_up_landscape
    from dlopt_core.studies import compare
    from dlopt_core.train.engine import TrainConfig
    from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec, example
    from dlopt_core.train.optimizers import make_optimizer

    base = example()
    no_bias = replace(base.network, bias=False)
    # what the Playground trains, and the layer settings its tests switch to (other kernels):
    # the app loads these from here on
    warm_up(
        [
            base,
            replace(base, network=no_bias),
            replace(base, network=replace(no_bias, parameterization="mean_field")),
        ]
    )
    warm_up_landscape()
    exp = Experiment(
        data=DataSpec(kind="moons", n_samples=40, seed=0),
        network=NetworkSpec(hidden=(3,)),
        optimizer=make_optimizer("sgd", lr=0.1),
        training=TrainConfig(batch_size=8, eval_every=1),
        seed=0,
    )
    compare.race(exp, [{"optimizer": "sgd"}, {"optimizer": "adam"}], 4)
