"""Training speed of the engine against plain NumPy and PyTorch (CPU, one thread).

    python benchmarks/bench_core.py [--quick] [--write]

Workloads (steps per second; W4 in model-steps per second):
  W1  2-8-8-1 tanh, sigmoid/BCE, 500 spiral points, batch 10, Adam lr 0.01
  W2  2-64-64-1 tanh, 2000 points, batch 32, SGD momentum 0.9
  W3  64-128-10 tanh, softmax/CE, 1797 samples of 64 features, batch 64, Adam
  W4  256 copies of W1 differing only in learning rate, trained together
It also measures the first call's compile time with an empty and with a warm Numba cache.
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
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlopt_core import datasets  # noqa: E402
from dlopt_core.engine import Engine, ModelSpec, TrainConfig  # noqa: E402
from dlopt_core.network import Network  # noqa: E402
from dlopt_core.optimizers import make_optimizer  # noqa: E402


def workloads():
    spiral = datasets.generate("spiral", 500, 0.1, 0.2, seed=0)
    moons = datasets.generate("moons", 2000, 0.1, 0.2, seed=0)
    try:
        digits = datasets.load_real("digits", val_fraction=0.0)
        X3, y3 = digits.X_train, digits.y_train
    except datasets.DatasetError:  # scikit-learn not installed: same shapes, random data
        rng = np.random.default_rng(0)
        X3, y3 = rng.normal(size=(1797, 64)), rng.integers(0, 10, 1797).astype(float)
    return {
        "W1": ([2, 8, 8, 1], "bce", spiral.X_train, spiral.y_train, 10, "adam", {"lr": 0.01}),
        "W2": ([2, 64, 64, 1], "bce", moons.X_train, moons.y_train, 32, "momentum",
               {"lr": 0.01, "momentum": 0.9}),
        "W3": ([64, 128, 10], "ce", X3, y3, 64, "adam", {"lr": 0.001}),
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


def bench_engine(w, min_time, n_models=1, backend="cpu"):
    sizes, loss, X, y, batch, opt, hyper = w
    net = Network(sizes, "tanh", loss)
    if n_models == 1:
        specs = [ModelSpec(make_optimizer(opt, **hyper))]
    else:
        lrs = np.logspace(-4, 0, n_models)
        specs = [ModelSpec(make_optimizer(opt, **{**hyper, "lr": float(lr)})) for lr in lrs]
    eng = Engine(net, _Data(X, y), specs, TrainConfig(batch_size=batch, eval_every=10**9),
                 backend=backend)
    eng.run(5)
    return _timed(eng.run, min_time) * n_models


def bench_numpy(w, min_time):
    """The same training written as vectorised NumPy (batched matrix products)."""
    sizes, loss, X, y, batch, opt, hyper = w
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
            if opt == "adam":
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


def bench_torch(w, min_time, n_models=1):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    sizes, loss, X, y, batch, opt, hyper = w
    Xt = torch.tensor(X)
    yt = torch.tensor(y).long() if loss == "ce" else torch.tensor(y)[:, None]
    models, opts = [], []
    lrs = np.logspace(-4, 0, n_models) if n_models > 1 else [hyper["lr"]]
    for lr in lrs:
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
            layers.append(torch.nn.Linear(a, b).double())
            if i < len(sizes) - 2:
                layers.append(torch.nn.Tanh())
        net = torch.nn.Sequential(*layers)
        models.append(net)
        if opt == "adam":
            opts.append(torch.optim.Adam(net.parameters(), lr=float(lr)))
        else:
            opts.append(torch.optim.SGD(net.parameters(), lr=float(lr), momentum=0.9))
    lossf = torch.nn.functional.cross_entropy if loss == "ce" else (
        torch.nn.functional.binary_cross_entropy_with_logits)
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
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                       text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def cuda_sweep(n_models: int, min_time: float) -> tuple[float | None, str]:
    """Model-steps per second of the W1 sweep on the CUDA backend, if a device is present."""
    from dlopt_core import backends

    ok, why = backends.cuda_status()
    if not ok:
        return None, why
    from dlopt_core.kernels.cuda import device_name

    return bench_engine(workloads()["W1"], min_time, n_models=n_models, backend="cuda"), \
        device_name()


def compile_times() -> tuple[float, float]:
    """Seconds from import to the end of a first 10-step run, with an empty then a warm cache."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from dlopt_core.experiment import example\n"
        "_, _, e = example().build(); e.run(10)\n"
        "print(time.perf_counter() - t)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)
            out.append(float(r.stdout.strip().splitlines()[-1]))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timings (noisier)")
    ap.add_argument("--write", action="store_true", help="write the table into README")
    args = ap.parse_args()
    min_time = 0.3 if args.quick else 1.5
    ws = workloads()
    rows = []
    for name, w in ws.items():
        eng = bench_engine(w, min_time)
        nump = bench_numpy(w, min_time)
        tor = bench_torch(w, min_time)
        rows.append((name, eng, nump, tor))
        print(name, f"{eng:,.0f}", f"{nump:,.0f}", tor and f"{tor:,.0f}", flush=True)
    eng4 = bench_engine(ws["W1"], min_time, n_models=256)
    tor4 = bench_torch(ws["W1"], min_time, n_models=256)
    rows.append(("W4", eng4, None, tor4))
    print("W4", f"{eng4:,.0f}", tor4 and f"{tor4:,.0f}", flush=True)
    sweep_rows = []
    for n_models in (256, 4096):
        two = eng4 if n_models == 256 else bench_engine(ws["W1"], min_time, n_models=n_models)
        one = one_thread_sweep(n_models, min_time)
        tor = tor4 if n_models == 256 else bench_torch(ws["W1"], min_time, n_models=n_models)
        gpu, device = cuda_sweep(n_models, min_time)
        sweep_rows.append((n_models, two, one, tor, gpu, device))
        print(f"sweep {n_models}: {two:,.0f} (1 thread {one:,.0f}) torch {tor} gpu {gpu} {device}",
              flush=True)
    cold, warm = compile_times()
    print(f"first run: {cold:.1f} s with an empty cache, {warm:.1f} s with a warm cache")
    table = _table(rows, cold, warm) + "\n\n" + _sweep_table(sweep_rows)
    print(table)
    if args.write:
        _write(table)


def _fmt(v):
    return "n/a" if v is None else f"{v:,.0f}"


def _ratio(a, b):
    return "n/a" if not a or not b else f"{a / b:.1f}x"


def _table(rows, cold, warm) -> str:
    try:
        import torch

        tv = f"PyTorch {torch.__version__} (CPU, 1 thread)"
    except ImportError:
        tv = "PyTorch not installed"
    import numba

    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} with {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"Numba {numba.__version__}, {tv}.",
        "",
        "| workload | dlopt engine | NumPy | PyTorch | engine / PyTorch | engine / NumPy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, eng, nump, tor in rows:
        lines.append(f"| {name} | {_fmt(eng)} | {_fmt(nump)} | {_fmt(tor)} | "
                     f"{_ratio(eng, tor)} | {_ratio(eng, nump)} |")
    lines += ["", "Steps per second (W4: model-steps per second, all 256 models together).", "",
              f"Cold start (import, build, first 10 steps): {cold:.1f} s with an empty Numba "
              f"cache, {warm:.1f} s with a warm cache."]
    return "\n".join(lines)


def _sweep_table(rows) -> str:
    lines = [
        "Learning-rate sweeps: copies of W1 that differ only in learning rate, trained together "
        "(model-steps per second).",
        "",
        "| models | CPU, all cores | CPU, 1 thread | all cores / 1 thread | PyTorch loop | "
        "CPU / PyTorch | CUDA | CUDA / CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, two, one, tor, gpu, device in rows:
        gpu_cell = f"{gpu:,.0f} ({device})" if gpu else f"n/a ({device})"
        lines.append(f"| {n} | {_fmt(two)} | {_fmt(one)} | {_ratio(two, one)} | {_fmt(tor)} | "
                     f"{_ratio(two, tor)} | {gpu_cell} | {_ratio(gpu, two)} |")
    return "\n".join(lines)


def _write(table: str) -> None:
    path = ROOT / "benchmarks" / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- core-results -->", "<!-- /core-results -->"
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
