"""Training speed of the engine against JAX, plain NumPy and PyTorch, in one run.

    python benchmarks/bench_core.py [--quick] [--repeat 3] [--write]

Workloads (steps per second; W4 in model-steps per second):
  W1  2-8-8-1 tanh, sigmoid/BCE, 500 spiral points, batch 10, Adam lr 0.01
  W2  2-64-64-1 tanh, 2000 points, batch 32, SGD momentum 0.9
  W3  64-128-10 tanh, softmax/CE, 1797 samples of 64 features, batch 64, Adam
  W4  256 (and 4096) copies of W1 differing only in learning rate, trained together
Peers: JAX (when installed: the whole loop under jit + lax.scan, vmap over the models of W4,
float64, the engine's initial parameters, batches and update rules; checked to compute the same
run), NumPy (vectorised, one model) and PyTorch eager (when installed, one thread). Every figure is
the median of ``--repeat`` rounds, and every ratio the median of the rounds' ratios, so that load
from other processes hits both sides of a ratio alike. Then the time from import to the first
training step in a fresh process, with an empty and with a warm Numba cache.
``--write`` replaces the results section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import jax_peer  # noqa: E402

from dlopt_core import datasets  # noqa: E402
from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig  # noqa: E402
from dlopt_core.train.network import Network  # noqa: E402
from dlopt_core.train.optimizers import make_optimizer  # noqa: E402

SWEEP_SIZES = (256, 4096)


@dataclass(frozen=True)
class Workload:
    sizes: list
    loss: str
    X: np.ndarray
    y: np.ndarray
    batch: int
    optimizer: str
    hyper: dict
    jax_chunk: int  # steps per call of the compiled JAX loop (about 10 ms or more)


def workloads() -> dict[str, Workload]:
    spiral = datasets.generate("spiral", 500, 0.1, 0.2, seed=0)
    moons = datasets.generate("moons", 2000, 0.1, 0.2, seed=0)
    try:
        digits = datasets.load_real("digits", val_fraction=0.0)
        X3, y3 = digits.X_train, digits.y_train
    except datasets.DatasetError:  # scikit-learn not installed: same shapes, random data
        rng = np.random.default_rng(0)
        X3, y3 = rng.normal(size=(1797, 64)), rng.integers(0, 10, 1797).astype(float)
    return {
        "W1": Workload(
            [2, 8, 8, 1], "bce", spiral.X_train, spiral.y_train, 10, "adam", {"lr": 0.01}, 2000
        ),
        "W2": Workload(
            [2, 64, 64, 1],
            "bce",
            moons.X_train,
            moons.y_train,
            32,
            "momentum",
            {"lr": 0.01, "momentum": 0.9},
            400,
        ),
        "W3": Workload([64, 128, 10], "ce", X3, y3, 64, "adam", {"lr": 0.001}, 200),
    }


class _Data:
    def __init__(self, X, y):
        self.X_train, self.y_train = X, y
        self.X_val, self.y_val = X[:0], y[:0]


def _timed(fn, min_time: float) -> float:
    """Calls per second of ``fn(n)`` (n steps per call), growing n until a call takes min_time."""
    n = 10
    while True:
        t = time.perf_counter()
        fn(n)
        dt = time.perf_counter() - t
        if dt >= min_time:
            return n / dt
        n = int(n * min(10.0, max(2.0, 1.5 * min_time / max(dt, 1e-6))))


def sweep_lrs(n_models: int) -> np.ndarray:
    return np.logspace(-4, 0, n_models)


def make_engine(
    w: Workload, n_models: int = 1, backend: str = "cpu", lrs: np.ndarray | None = None
) -> Engine:
    net = Network(w.sizes, "tanh", w.loss)
    if n_models == 1:
        specs = [ModelSpec(make_optimizer(w.optimizer, **w.hyper))]
    else:
        lrs = sweep_lrs(n_models) if lrs is None else lrs
        specs = [
            ModelSpec(make_optimizer(w.optimizer, **{**w.hyper, "lr": float(lr)})) for lr in lrs
        ]
    return Engine(
        net,
        _Data(w.X, w.y),
        specs,
        TrainConfig(batch_size=w.batch, eval_every=10**9),
        backend=backend,
    )


def bench_engine(w: Workload, min_time: float, n_models: int = 1, backend: str = "cpu") -> float:
    eng = make_engine(w, n_models, backend)
    eng.run(5)
    return _timed(eng.run, min_time) * n_models


def _jax_setup(w: Workload, n_models: int, steps: int, lrs: np.ndarray | None = None):
    if lrs is None:
        lrs = sweep_lrs(n_models) if n_models > 1 else np.array([w.hyper["lr"]])
    eng = make_engine(w, n_models, lrs=lrs)
    trainer = jax_peer.Trainer(w.sizes, w.loss, eng.X, eng.Y, w.optimizer, w.hyper, n_models)
    params, state, lr = trainer.init(eng.theta[0], eng.network, lrs)
    idx, mask = jax_peer.batches(eng.X.shape[0], eng.batch_size, eng.seed, steps)
    return eng, trainer, params, state, lr, idx, mask


def bench_jax(w: Workload, min_time: float, n_models: int = 1) -> float | None:
    """Steps (model-steps) per second of the JAX loop; None without JAX."""
    if jax_peer.available() is None:
        return None
    chunk = w.jax_chunk if n_models == 1 else max(10, 25600 // n_models)
    _, trainer, params, state, lr, idx, mask = _jax_setup(w, n_models, 4 * chunk)
    return (
        jax_peer.steps_per_second(trainer, params, state, lr, idx, mask, chunk, min_time) * n_models
    )


def jax_same_run(w: Workload, n_models: int = 1, steps: int = 300) -> float | None:
    """Largest relative difference of the parameters after ``steps`` steps, JAX vs the engine.

    Many models: rates from 1e-4 to 1e-2 (at larger ones W1 trains chaotically, and any
    difference in round-off grows to the size of the parameters within 300 steps)."""
    if jax_peer.available() is None:
        return None
    lrs = np.logspace(-4, -2, n_models) if n_models > 1 else None
    eng, trainer, params, state, lr, idx, mask = _jax_setup(w, n_models, steps, lrs)
    params, _ = trainer.run(params, state, lr, idx, mask)
    eng.run(steps)
    worst = 0.0
    for m in range(n_models):
        one = [(W[m], b[m]) for W, b in params] if n_models > 1 else params
        got = jax_peer.flat([(np.asarray(W), np.asarray(b)) for W, b in one])
        ref = eng.theta[m]
        worst = max(worst, float(np.max(np.abs(got - ref)) / np.max(np.abs(ref))))
    return worst


def bench_numpy(w: Workload, min_time: float) -> float:
    """The same training written as vectorised NumPy (batched matrix products)."""
    sizes, loss, X, y, batch, hyper = w.sizes, w.loss, w.X, w.y, w.batch, w.hyper
    rng = np.random.default_rng(0)
    Ws = [rng.normal(0, 0.3, (a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
    bs = [np.zeros(b) for b in sizes[1:]]
    params = Ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr = hyper["lr"]
    n = len(X)
    state = {"t": 0}
    onehot = np.eye(sizes[-1])[y.astype(int)] if loss == "ce" else None

    def step(k):
        for _ in range(k):
            t = state["t"]
            start = (t * batch) % n
            xb = X[start : start + batch]
            acts = [xb]
            for i, (W, b) in enumerate(zip(Ws, bs, strict=False)):
                z = acts[-1] @ W + b
                acts.append(np.tanh(z) if i < len(Ws) - 1 else z)
            z = acts[-1]
            if loss == "ce":
                p = np.exp(z - z.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                delta = (p - onehot[start : start + batch]) / len(xb)
            else:
                delta = (1 / (1 + np.exp(-z)) - y[start : start + batch, None]) / len(xb)
            grads_W, grads_b = [], []
            for i in range(len(Ws) - 1, -1, -1):
                grads_W.append(acts[i].T @ delta)
                grads_b.append(delta.sum(0))
                if i:
                    delta = (delta @ Ws[i].T) * (1 - acts[i] ** 2)
            grads = grads_W[::-1] + grads_b[::-1]
            state["t"] = t + 1
            if w.optimizer == "adam":
                b1, b2, c = 0.9, 0.999, t + 1
                for p_, g, m_, v_ in zip(params, grads, m, v, strict=False):
                    m_ *= b1
                    m_ += (1 - b1) * g
                    v_ *= b2
                    v_ += (1 - b2) * g * g
                    p_ -= lr / (1 - b1**c) * m_ / (np.sqrt(v_ / (1 - b2**c)) + 1e-8)
            else:
                for p_, g, m_ in zip(params, grads, m, strict=False):
                    m_ *= hyper["momentum"]
                    m_ += g
                    p_ -= lr * m_

    step(5)
    return _timed(step, min_time)


def torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def bench_torch(w: Workload, min_time: float, n_models: int = 1) -> float | None:
    if torch_version() is None:
        return None
    import torch

    torch.set_num_threads(1)
    sizes, loss, X, y, batch, hyper = w.sizes, w.loss, w.X, w.y, w.batch, w.hyper
    Xt = torch.tensor(X)
    yt = torch.tensor(y).long() if loss == "ce" else torch.tensor(y)[:, None]
    models, opts = [], []
    lrs = sweep_lrs(n_models) if n_models > 1 else [hyper["lr"]]
    for lr in lrs:
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
            layers.append(torch.nn.Linear(a, b).double())
            if i < len(sizes) - 2:
                layers.append(torch.nn.Tanh())
        net = torch.nn.Sequential(*layers)
        models.append(net)
        if w.optimizer == "adam":
            opts.append(torch.optim.Adam(net.parameters(), lr=float(lr)))
        else:
            opts.append(torch.optim.SGD(net.parameters(), lr=float(lr), momentum=0.9))
    lossf = (
        torch.nn.functional.cross_entropy
        if loss == "ce"
        else (torch.nn.functional.binary_cross_entropy_with_logits)
    )
    n = len(X)
    state = {"t": 0}

    def step(k):
        for _ in range(k):
            start = (state["t"] * batch) % n
            xb, yb = Xt[start : start + batch], yt[start : start + batch]
            for net, o in zip(models, opts, strict=False):
                o.zero_grad()
                lossf(net(xb), yb).backward()
                o.step()
            state["t"] += 1

    step(3)
    return _timed(step, min_time) * n_models


def one_thread_sweep(n_models: int, min_time: float) -> float:
    """Model-steps per second of the W1 sweep with Numba limited to one thread (a subprocess)."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks')\n"
        "import bench_core as b\n"
        f"print(b.bench_engine(b.workloads()['W1'], {min_time}, n_models={n_models}))\n"
    )
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(r.stdout.strip().splitlines()[-1])


def cuda_sweep(n_models: int, min_time: float) -> tuple[float | None, str]:
    """Model-steps per second of the W1 sweep on the CUDA backend, if a device is present."""
    from dlopt_core.train import backends

    ok, why = backends.cuda_status()
    if not ok:
        return None, why
    from dlopt_core.train.kernels.cuda import device_name

    return bench_engine(
        workloads()["W1"], min_time, n_models=n_models, backend="cuda"
    ), device_name()


FIRST_STEP = (
    "import time; t0 = time.perf_counter()\n"
    "from dlopt_core.train.experiment import example\n"
    "t1 = time.perf_counter()\n"
    "_, _, e = example().build(); e.run(1)\n"
    "print(t1 - t0, time.perf_counter() - t0)\n"
)


def first_step_times() -> dict[str, float]:
    """Seconds from before ``import dlopt_core`` to the end of the default Playground
    experiment's first training step, in fresh processes with an empty and with a warm cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = {}
        for name in ("cold", "warm"):
            r = subprocess.run(
                [sys.executable, "-c", FIRST_STEP],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            imp, total = (float(v) for v in r.stdout.split())
            out[name] = total
            out[f"{name}_import"] = imp
    return out


def _median(values):
    vals = [v for v in values if v is not None]
    return float(np.median(vals)) if vals else None


def _ratios(a, b):
    return _median([x / y if x and y else None for x, y in zip(a, b, strict=True)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timings (noisier)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    ap.add_argument("--write", action="store_true", help="write the table into README")
    args = ap.parse_args()
    min_time = 0.3 if args.quick else 1.0
    ws = workloads()
    same = {name: jax_same_run(w) for name, w in ws.items()}
    same["W4"] = jax_same_run(ws["W1"], n_models=8)
    print("JAX vs engine, largest relative parameter difference after 300 steps:", same)
    single = {name: {"engine": [], "jax": [], "numpy": [], "torch": []} for name in ws}
    sweeps = {n: {"engine": [], "one": [], "jax": []} for n in SWEEP_SIZES}
    torch4 = None
    for r in range(args.repeat):
        for name, w in ws.items():
            row = single[name]
            row["engine"].append(bench_engine(w, min_time))
            row["jax"].append(bench_jax(w, min_time))
            row["numpy"].append(bench_numpy(w, min_time))
            row["torch"].append(bench_torch(w, min_time))
            print(r, name, *(f"{k} {v[-1]:,.0f}" for k, v in row.items() if v[-1]), flush=True)
        for n in SWEEP_SIZES:
            row = sweeps[n]
            row["engine"].append(bench_engine(ws["W1"], min_time, n_models=n))
            row["jax"].append(bench_jax(ws["W1"], min_time, n_models=n))
            row["one"].append(one_thread_sweep(n, min_time))
            print(
                r, f"W4 x{n}", *(f"{k} {v[-1]:,.0f}" for k, v in row.items() if v[-1]), flush=True
            )
    if torch_version():
        torch4 = bench_torch(ws["W1"], min_time, n_models=SWEEP_SIZES[0])
    gpu = {n: cuda_sweep(n, min_time) for n in SWEEP_SIZES}
    start = first_step_times()
    print(f"first step: {start['cold']:.1f} s with an empty cache, {start['warm']:.1f} s warm")
    table = (
        _table(single, sweeps, torch4, same, args.repeat)
        + "\n\n"
        + _sweep_table(sweeps, gpu)
        + "\n\n"
        + _start_text(start)
    )
    print(table)
    if args.write:
        _write(table)


def _fmt(v):
    return "n/a" if v is None else f"{v:,.0f}"


def _x(v):
    return "n/a" if v is None else f"{v:.2f}x"


def _table(single, sweeps, torch4, same, repeat) -> str:
    import numba

    tv = torch_version()
    jv = jax_peer.available()
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} with {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"Numba {numba.__version__}, "
        + (f"JAX {jv} (CPU)" if jv else "JAX not installed")
        + ", "
        + (f"PyTorch {tv} (CPU, 1 thread)" if tv else "PyTorch not installed")
        + f"; medians of {repeat} rounds.",
        "",
        "| workload | dlopt engine | JAX jit + scan | NumPy | PyTorch | engine / JAX | "
        "engine / best peer |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in single.items():
        best = [
            max([v for v in vals if v] or [0.0])
            for vals in zip(row["jax"], row["numpy"], row["torch"], strict=True)
        ]
        lines.append(
            f"| {name} | {_fmt(_median(row['engine']))} | {_fmt(_median(row['jax']))} | "
            f"{_fmt(_median(row['numpy']))} | {_fmt(_median(row['torch']))} | "
            f"{_x(_ratios(row['engine'], row['jax']))} | {_x(_ratios(row['engine'], best))} |"
        )
    for n, row in sweeps.items():
        tor = torch4 if n == SWEEP_SIZES[0] else None
        lines.append(
            f"| W4 x {n} | {_fmt(_median(row['engine']))} | {_fmt(_median(row['jax']))} (vmap) "
            f"| n/a | {_fmt(tor)} (loop) | {_x(_ratios(row['engine'], row['jax']))} | "
            f"{_x(_ratios(row['engine'], row['jax']))} |"
        )
    agree = ", ".join(f"{k} {v:.0e}" for k, v in same.items() if v is not None)
    lines += [
        "",
        "Steps per second (W4: model-steps per second, all models together). "
        + (
            f"JAX computes the same runs: largest relative difference of the parameters "
            f"after 300 steps {agree}."
            if agree
            else ""
        ),
    ]
    return "\n".join(lines)


def _sweep_table(sweeps, gpu) -> str:
    lines = [
        "Learning-rate sweeps: copies of W1 that differ only in learning rate, trained together "
        "(model-steps per second).",
        "",
        "| models | CPU, all cores | CPU, 1 thread | all cores / 1 thread | CUDA | CUDA / CPU |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, row in sweeps.items():
        g, device = gpu[n]
        gpu_cell = f"{g:,.0f} ({device})" if g else f"n/a ({device})"
        two = _median(row["engine"])
        lines.append(
            f"| {n} | {_fmt(two)} | {_fmt(_median(row['one']))} | "
            f"{_x(_ratios(row['engine'], row['one']))} | {gpu_cell} | "
            f"{_x(g / two if g and two else None)} |"
        )
    return "\n".join(lines)


def _start_text(start) -> str:
    return (
        f"First training step of the default Playground experiment, from before "
        f"`import dlopt_core` in a fresh process: {start['cold']:.1f} s with an empty Numba "
        f"cache (import {start['cold_import']:.1f} s), {start['warm']:.1f} s with a warm "
        f"cache (import {start['warm_import']:.1f} s)."
    )


def _write(table: str) -> None:
    path = ROOT / "benchmarks" / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- core-results -->", "<!-- /core-results -->"
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text += "\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
