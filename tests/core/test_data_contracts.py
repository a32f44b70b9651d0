"""What the core hands the app: one read of a data set, the live training fields, public read-outs.

A CSV data set used to be read up to three times for one Playground build (the engine's data,
the raw points for the plots, and once more in the GUI thread); ``Experiment.load_data`` reads it
once and ``build`` takes what it read.
"""

from dataclasses import fields, replace
from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.data import datasets
from dlopt_core.studies.compare import BoundaryGrid
from dlopt_core.train.engine import LIVE_TRAINING_FIELDS, Engine, ModelSpec, TrainConfig
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer


@pytest.fixture
def counted_csv(tmp_path, monkeypatch):
    """A two-column CSV data set and a list that grows by one per read of it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    path = tmp_path / "points.csv"
    path.write_text(
        "a,b,label\n" + "".join(f"{p},{q},{c}\n" for (p, q), c in zip(X, y, strict=True))
    )
    reads = []
    real = datasets.load_csv

    def load_csv(*args, **kwargs):
        reads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(datasets, "load_csv", load_csv)
    exp = Experiment.from_dict(
        {
            "data": {"kind": "csv", "path": str(path)},
            "network": {"hidden": [4], "features": ["x1", "x2", "x1*x2", "sin(x1)"]},
        }
    )
    return exp, reads


def test_one_read_gives_the_raw_and_the_expanded_data(counted_csv):
    exp, reads = counted_csv
    loaded = exp.load_data()
    data, net, engine = exp.build(data=loaded)
    assert len(reads) == 1
    assert loaded.raw.X_train.shape[1] == 2
    assert data is loaded.inputs and data.X_train.shape[1] == 4 == net.layer_sizes[0]
    np.testing.assert_array_equal(data.X_train[:, 2], np.prod(loaded.raw.X_train, axis=1))
    assert engine.X.shape == data.X_train.shape


def test_the_boundary_grid_reads_the_data_once(counted_csv):
    exp, reads = counted_csv
    grid = BoundaryGrid.for_experiment(exp, 8)
    assert grid is not None and grid.inputs.shape[1] == 4
    assert len(reads) == 1


def test_without_derived_features_raw_and_inputs_are_one(counted_csv):
    exp, reads = counted_csv
    exp = replace(exp, network=replace(exp.network, features=("x1", "x2")))
    loaded = exp.load_data()
    assert loaded.raw is loaded.inputs and len(reads) == 1


def _engine(train: TrainConfig) -> Engine:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    y = (X[:, 0] > 0) * 1.0
    data = SimpleNamespace(X_train=X[:15], y_train=y[:15], X_val=X[15:], y_val=y[15:])
    net = Network([2, 3, 1], "tanh", "bce")
    return Engine(net, data, [ModelSpec(make_optimizer("adam"))], train)


def test_set_training_takes_the_live_fields_only():
    engine = _engine(TrainConfig(batch_size=4, polyak=0.5))
    new = TrainConfig(
        batch_size=8,
        shuffle=False,
        clip_norm=1.0,
        l1=1e-3,
        early_stopping=3,
        polyak=0.0,
        eval_every=2,
        adversarial_eps=0.1,
        adversarial_clean_weight=0.2,
    )
    engine.set_training(new)
    old = TrainConfig(batch_size=4, polyak=0.5)
    for f in fields(TrainConfig):
        source = new if f.name in LIVE_TRAINING_FIELDS else old
        assert getattr(engine.train, f.name) == getattr(source, f.name), f.name
    assert old.restart_key() != new.restart_key()
    assert TrainConfig(4).restart_key() == replace(TrainConfig(4), l1=0.1).restart_key()


def test_the_optimizer_step_count_is_a_public_read_out():
    engine = _engine(TrainConfig(batch_size=4))
    engine.run(7)
    assert engine.optimizer_steps(0) == 7
    engine.set_optimizer(0, make_optimizer("lion"))
    assert engine.optimizer_steps(0) == 0
