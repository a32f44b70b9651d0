"""The Playground's worker reads a CSV data set once per build (it read it twice).

(The first build of a kind of network also readies its kernels, which reads the file for the
network's shape: in this process when the cache is warm, else in the warm-up process.)
"""

import numpy as np

from app.worker import TrainingWorker
from dlopt_core.data import datasets
from dlopt_core.train.experiment import Experiment


def test_a_build_reads_the_csv_once(qtbot, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = "".join(f"{p},{q},{int(p * q > 0)}\n" for p, q in X)
    path = tmp_path / "points.csv"
    path.write_text("a,b,label\n" + rows)
    reads = []
    real = datasets.load_csv
    monkeypatch.setattr(datasets, "load_csv", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    exp = Experiment.from_dict(
        {
            "data": {"kind": "csv", "path": str(path)},
            "network": {"hidden": [4], "features": ["x1", "x2", "x1*x2"]},
            "training": {"batch_size": 10},
        }
    )
    worker = TrainingWorker()
    built = []
    worker.built.connect(built.append)
    worker.rebuild(exp, 0)  # kernels readied for this network
    reads.clear()
    worker.rebuild(exp, 1)
    assert len(built) == 2 and built[1].n_inputs == 2  # the plots get the raw points
    assert worker._engine.X.shape[1] == 3  # the network the derived features
    assert len(reads) == 1
