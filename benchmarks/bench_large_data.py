"""Training speed on a very large CSV data set: the Playground's example run on 1,000,000 rows.

    python benchmarks/bench_large_data.py [--rows N] [--chunks K] [--steps S]

Writes a CSV of ``rows`` rows of the spiral into the temporary folder, loads it as the Playground
does (``Experiment`` with a ``csv`` data spec), and times ``chunks`` chunks of ``steps`` steps of
the example network (2-8-8-1 tanh, Adam, batches of 10, an evaluation every 10 steps). The live
curves are evaluated on a fixed sample of ``engine.EVAL_SAMPLE_ROWS`` rows of each set; a full
evaluation of both sets (``Engine.evaluate``) is timed beside it for comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlopt_core import datasets  # noqa: E402
from dlopt_core.train.experiment import DataSpec, example  # noqa: E402


def write_csv(path: Path, rows: int) -> None:
    data = datasets.generate("spiral", min(rows, datasets.MAX_SAMPLES), 0.04, 0.0, 0)
    reps = -(-rows // len(data.y_train))
    X = np.tile(data.X_train, (reps, 1))[:rows]
    y = np.tile(data.y_train, reps)[:rows]
    X = X + np.random.default_rng(1).normal(0.0, 0.01, X.shape)
    np.savetxt(
        path,
        np.column_stack([X, y]),
        fmt=["%.6f", "%.6f", "%d"],
        delimiter=",",
        header="x1,x2,label",
        comments="",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.csv"
        t0 = time.perf_counter()
        write_csv(path, args.rows)
        exp = replace(example(), data=DataSpec(kind="csv", path=str(path)))
        _, _, engine = exp.build()
        print(
            f"{args.rows:,} rows written and loaded in {time.perf_counter() - t0:.1f} s "
            f"({len(engine.X):,} training, {len(engine.Xv):,} validation rows)"
        )
    print(engine.sample_note() or "every row is evaluated")
    engine.run(args.steps)  # compiles or loads the kernels
    times = []
    for _ in range(args.chunks):
        t0 = time.perf_counter()
        engine.run(args.steps)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(
        f"chunk of {args.steps} steps: best {best * 1e3:.1f} ms of {args.chunks}: "
        f"{args.steps / best:,.0f} steps/s"
    )
    t0 = time.perf_counter()
    engine.evaluate()
    print(f"one full evaluation of both sets: {(time.perf_counter() - t0) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
