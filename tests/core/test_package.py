"""The package's front door: ``import dlopt_core as dl`` gives the common names, lazily."""

import subprocess
import sys

import pytest

import dlopt_core as dl


def test_every_exported_name_resolves():
    for name in dl.__all__:
        assert getattr(dl, name) is not None, name
    assert dl.Network is dl.network.Network and dl.make_optimizer is dl.optimizers.make_optimizer
    assert dl.LSTMNetwork is dl.lstm.LSTMNetwork
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = dl.nope


def test_the_docstring_example_trains():
    data = dl.datasets.generate("spiral", n_samples=200, seed=0)
    engine = dl.Engine(
        dl.Network([2, 8, 8, 1]), data, [dl.ModelSpec(dl.make_optimizer("adam", lr=0.01))]
    )
    metrics = engine.run(400)
    assert metrics.train_loss[-1, 0] < 0.9 * metrics.train_loss[0, 0]


def test_importing_the_package_alone_loads_no_numba():
    code = "import sys, dlopt_core; print('numba' in sys.modules, dlopt_core.__version__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "False" and out[1]
