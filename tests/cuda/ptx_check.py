"""Compile the CUDA training kernel to PTX without a GPU: ``python tests/cuda/ptx_check.py 9.0``
(``--map``: the trainability map's kernel instead).

Numba's simulator runs the kernels as Python, so it cannot tell whether their code compiles for a
real device; NVVM (NVIDIA's compiler, from the ``nvidia-cuda-nvcc-cu12`` wheel) can, and needs no
GPU. The kernel's argument types come from ``kernel_arguments`` (the backend's own launch code)
with host arrays standing in for device arrays, on the arguments of a real chunk of a CPU run.
Where ``ptxas`` is at hand (the same wheel has it) the PTX is also assembled to machine code,
which reports the registers and spills of the kernel. Prints one JSON line per compute
capability; exit code 3 when NVVM or NVRTC is missing.
Run in a fresh process: the tests' simulator (NUMBA_ENABLE_CUDASIM) must be off here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

NO_COMPILER = 3


def chunk_call() -> tuple:
    """The arguments of one ``train_chunk`` call of a small CPU run."""
    from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
    from dlopt_core.train.network import Network
    from dlopt_core.train.optimizers import make_optimizer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(float)
    data = SimpleNamespace(X_train=X[:20], y_train=y[:20], X_val=X[20:], y_val=y[20:])
    specs = [ModelSpec(make_optimizer("adam")), ModelSpec(make_optimizer("sgd", lr=0.1))]
    engine = Engine(
        Network([2, 3, 1]), data, specs, TrainConfig(batch_size=5, eval_every=2), backend="cpu"
    )
    calls = []
    backend = engine.backend
    real = backend.train_chunk
    backend.train_chunk = lambda *args: (calls.append(args), real(*args))
    engine.run(4)
    return calls[0]


def find_ptxas() -> str | None:
    """``ptxas`` from the nvidia-cuda-nvcc wheel, else from PATH, else None."""
    try:
        import nvidia.cuda_nvcc as nvcc

        for root in nvcc.__path__:
            candidate = Path(root) / "bin" / "ptxas"
            if candidate.exists():
                return str(candidate)
    except ImportError:
        pass
    return shutil.which("ptxas")


def assemble(ptxas: str, ptx: str, cc: tuple[int, int]) -> dict:
    """Registers, stack and spills of the training kernel in machine code for ``cc``."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "kernel.ptx"
        src.write_text(ptx)
        run = subprocess.run(
            [
                ptxas,
                f"-arch=sm_{cc[0]}{cc[1]}",
                "-v",
                str(src),
                "-o",
                str(Path(tmp) / "kernel.cubin"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if run.returncode != 0:
        raise RuntimeError(f"ptxas failed for sm_{cc[0]}{cc[1]}:\n{run.stderr[-2000:]}")
    text = run.stderr
    # the mangled name spells the module path (_ZN10dlopt_core5train7kernels4cuda13_train_kernel):
    # match the end of it, which survives a move of the package
    found = re.search(r"Function properties for \S*4cuda13_train_kernel", text)
    block = text[found.start() : found.start() + 4000] if found else ""
    spills = re.search(r"(\d+) bytes spill stores", block)
    registers = re.search(r"Used (\d+) registers", block)
    return {
        "registers": int(registers.group(1)) if registers else None,
        "spill_bytes": int(spills.group(1)) if spills else None,
    }


def map_kernel() -> tuple:
    """The trainability map's kernel and its arguments for a small map (host stand-ins)."""
    from dlopt_core.studies.trainability import MapSpec, Problem
    from dlopt_core.train.kernels import trainability as K
    from dlopt_core.train.kernels import trainability_cuda

    p = Problem.paper(width=4, seed=0)
    spec = MapSpec(res=(4, 4), steps=3, tile=4)
    rows, cols = spec.tile_pixels((0, 0))
    hyper = spec.hyper(*(a.ravel() for a in np.meshgrid(rows, cols, indexing="ij")))
    args = trainability_cuda.kernel_arguments(
        p.X,
        p.Y,
        p.W1,
        p.W2,
        hyper,
        K.GD,
        spec.steps,
        np.zeros((spec.steps, 2), np.int64),
        np.empty((spec.steps, hyper.shape[1])),
        np.asarray,
        np.empty,
    )
    return trainability_cuda._train_kernel, args


def training_kernel() -> tuple:
    """The engine's training kernel and the arguments of a real chunk of a CPU run."""
    from dlopt_core.train.kernels import cuda as kernels

    e, perms, first_epoch, t0, n_steps, out = chunk_call()
    net = e.network
    data = tuple(
        np.ascontiguousarray(a)
        for a in (net.sizes, net.woff, net.uoff, net.lay, e.X, e.Y, *e.eval_sets())
    )
    *_, args = kernels.kernel_arguments(
        e, perms, first_epoch, t0, n_steps, out, data, np.asarray, np.empty
    )
    return kernels._train_kernel, args


def main(ccs: list[tuple[int, int]], which: str = "train") -> int:
    import numba.cuda.dispatcher as dispatcher
    from numba import cuda, typeof

    # device functions compile for the current device's compute capability; there is none here
    if not hasattr(dispatcher, "get_current_device"):
        print("numba-cuda changed: dispatcher.get_current_device is gone", file=sys.stderr)
        return 1
    target = {"cc": ccs[0]}
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=target["cc"])

    kernel, args = map_kernel() if which == "map" else training_kernel()
    signature = tuple(typeof(a) for a in args)
    for cc in ccs:
        target["cc"] = cc
        try:
            ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=cc)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            if "nvvm" in text.lower() or "nvrtc" in text.lower() or "DynamicLib" in text:
                print(f"no CUDA compiler: {text.splitlines()[0]}", file=sys.stderr)
                return NO_COMPILER
            raise
        entry = [line for line in ptx.splitlines() if line.startswith(".visible .entry")]
        report = {
            "cc": list(cc),
            "ptx_chars": len(ptx),
            "entries": len(entry),
            "target": f"sm_{cc[0]}{cc[1]}" in ptx,
        }
        ptxas = find_ptxas()
        if ptxas and which == "train":
            report.update(assemble(ptxas, ptx, cc))
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    which = "map" if "--map" in sys.argv else "train"
    wanted = [tuple(int(p) for p in arg.split(".")) for arg in sys.argv[1:] if arg != "--map"] or [
        (9, 0)
    ]
    sys.exit(main(wanted, which))
