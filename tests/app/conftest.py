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


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile every kernel the app calls once, before any test starts a timed wait.

    The tests must not depend on a warm Numba cache, and on a clean machine the first compile
    takes tens of seconds (more on a slow CI runner). Doing it here, without a time limit, keeps
    the waits in the tests about the behaviour they check, not about the compiler.
    """
    import numpy as np

    from app.worker import warm_up_kernels
    from dlopt_core import compare, landscape
    from dlopt_core.engine import TrainConfig
    from dlopt_core.experiment import DataSpec, Experiment, NetworkSpec
    from dlopt_core.network import Network
    from dlopt_core.optimizers import make_optimizer

    warm_up_kernels()  # the Playground's path: one Engine on the CPU backend
    exp = Experiment(data=DataSpec(kind="moons", n_samples=40, seed=0),
                     network=NetworkSpec(hidden=(3,)),
                     optimizer=make_optimizer("sgd", lr=0.1),
                     training=TrainConfig(batch_size=8, eval_every=1), seed=0)
    compare.race(exp, [{"optimizer": "sgd"}, {"optimizer": "adam"}], 4)
    net = Network([2, 3, 1])
    theta = net.init(0, "xavier")
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    y = np.array([0.0, 1.0, 0.0])
    landscape.interpolate(net, theta, 0.5 * theta, X, y, alphas=np.array([0.0, 1.0]))
    landscape.slice_2d(net, theta, X, y, n=3)
    landscape.trajectory("rosenbrock", "adam", steps=3)
