"""The trainability map: dlopt against JAX on the same map, the same map on a Dask LocalCluster,
and how soon the app shows its first coarse picture.

    python benchmarks/bench_map.py [--res 64] [--steps 200] [--part all|speed|cluster|gui]

(a) speed: the paper's default map (per-layer learning rates 10^-3 .. 10^6, width 16, 272
    points, full-batch gradient descent) in this process against the same map in JAX
    (``trainability_jax.py``: vmap + scan, float64), in one run; both warm (compiled before the
    clock starts; JAX's compile time is reported beside), and the share of pixels whose sign
    (trains or diverges) agrees.
(b) cluster: the same map on a Dask LocalCluster of 2 worker processes (the start of the cluster
    reported apart), and whether it is bit-identical to the in-process map.
(c) gui: seconds from pressing Compute map (offscreen window, kernels cached) to the first coarse
    picture and to the finished map, and how late a 10 ms timer fires in the GUI thread meanwhile.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dlopt_core.studies import trainability as tm  # noqa: E402


def spec_for(res: int, steps: int) -> tm.MapSpec:
    return tm.MapSpec(
        axes=("lr1", "lr2"), ranges=((-3.0, 6.0), (-3.0, 6.0)), res=(res, res), steps=steps
    )


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def speed(problem: tm.Problem, spec: tm.MapSpec, repeat: int) -> tm.MapResult:
    tm.warm_up()
    ours_s, ours = best_of(lambda: tm.trainability_map(problem, spec), repeat)
    print(f"dlopt (Numba, in-process): {ours_s:.2f} s")
    try:
        import trainability_jax as tj
    except ImportError:
        print("JAX is not installed (pip install jax): no comparison")
        return ours
    import jax

    f = tj.make_map(problem.X, problem.Y, problem.W1, problem.W2, spec.steps)
    ii, jj = np.meshgrid(ours.values0, ours.values1, indexing="ij")
    lr1, lr2 = ii.ravel(), jj.ravel()
    t0 = time.perf_counter()
    f(lr1, lr2).block_until_ready()
    first = time.perf_counter() - t0
    jax_s, value = best_of(lambda: np.asarray(f(lr1, lr2).block_until_ready()), repeat)
    value = value.reshape(spec.res)
    agree = np.mean(np.sign(value) == np.sign(ours.value))
    edge = tm.edge_mask(ours.value)
    off_edge = ~np.pad(edge, ((0, 1), (0, 1))) & ~np.pad(edge, ((1, 0), (1, 0)))
    disagree_off_edge = int(np.sum((np.sign(value) != np.sign(ours.value)) & off_edge))
    print(
        f"JAX {jax.__version__} (vmap + scan, float64): {jax_s:.2f} s warm, first call "
        f"{first:.2f} s (with compile)"
    )
    print(
        f"dlopt / JAX time-to-map: {jax_s / ours_s:.2f}x faster (warm); "
        f"{first / ours_s:.2f}x against JAX's first call"
    )
    print(
        f"sign agreement: {agree:.2%} of {value.size} pixels; disagreements away from the "
        f"edge: {disagree_off_edge}"
    )
    print(
        f"fractal dimension: dlopt {ours.fractal.describe()}; JAX's map "
        f"{tm.box_counting(tm.edge_mask(value)).describe()}"
    )
    return ours


def cluster(problem: tm.Problem, spec: tm.MapSpec, ours: tm.MapResult) -> None:
    from dlopt_core.studies.executors import DaskExecutor

    t0 = time.perf_counter()
    with DaskExecutor(n_workers=2) as executor:
        started = time.perf_counter() - t0
        tm.trainability_map(problem, tm.MapSpec(res=(8, 8), steps=2), executor)  # workers load
        t1 = time.perf_counter()
        result = tm.trainability_map(problem, spec, executor)
        took = time.perf_counter() - t1
    same = result.value.tobytes() == ours.value.tobytes()
    print(
        f"Dask LocalCluster of 2 workers: started in {started:.1f} s; map {took:.2f} s; "
        f"bit-identical to in-process: {same}"
    )


def gui(spec: tm.MapSpec) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from app.compare import CompareTab
    from dlopt_core.train.experiment import example

    tm.warm_up()
    tab = CompareTab(lambda: example())
    tab.resize(1400, 850)
    tab.show()
    view = tab.trainmap
    view.res.setValue(spec.res[0])
    view.steps.setValue(spec.steps)
    shown: list[float] = []
    real = view._show
    view._show = lambda r: (shown.append(time.perf_counter()), real(r))
    lags: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lags.append(now - last[0] - 0.010)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    t0 = time.perf_counter()
    view.compute()
    while tab.busy:
        app.processEvents()
        time.sleep(0.002)
    total = time.perf_counter() - t0
    timer.stop()
    tab.shutdown()
    lag = np.array(lags) * 1000
    print(
        f"app, {spec.res[0]} x {spec.res[1]} map, {spec.steps} steps: first coarse picture "
        f"after {shown[0] - t0:.2f} s, complete after {total:.1f} s ({len(shown)} pictures); "
        f"10 ms timer late by p50 {np.median(lag):.0f} ms, p95 {np.percentile(lag, 95):.0f} "
        f"ms, max {lag.max():.0f} ms"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--part", choices=("all", "speed", "cluster", "gui"), default="all")
    args = p.parse_args()
    problem = tm.Problem.paper(16, 0)
    spec = spec_for(args.res, args.steps)
    import numba

    print(
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}"
    )
    ours = None
    if args.part in ("all", "speed", "cluster"):
        ours = speed(problem, spec, args.repeat) if args.part != "cluster" else None
    if args.part in ("all", "cluster"):
        if ours is None:
            tm.warm_up()
            ours = tm.trainability_map(problem, spec)
        cluster(problem, spec, ours)
    if args.part in ("all", "gui"):
        gui(spec)


if __name__ == "__main__":
    main()
