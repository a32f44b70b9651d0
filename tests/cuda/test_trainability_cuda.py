"""The trainability map's CUDA trainer against the CPU one, on Numba's simulator without a GPU.

The simulator runs every thread in Python, so the problem is tiny (width 3, 12 rows)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlopt_core.studies.trainability import MapSpec, Problem, trainability_map
from dlopt_core.train.kernels import trainability as K


@pytest.mark.parametrize(
    ("optimizer", "batch"), [(K.GD, 0), (K.MOMENTUM, 0), (K.ADAM, 0), (K.GD, 5)]
)
def test_cuda_trainer_equals_the_cpu_one(optimizer, batch):
    from dlopt_core.train.kernels import trainability_cuda

    p = Problem.paper(width=3, seed=2)
    rng = np.random.default_rng(1)
    M = K.LANES
    hyper = np.zeros((K.N_HYPER, M))
    hyper[K.H_LR1] = 10 ** rng.uniform(-1, 2.5, M)
    hyper[K.H_LR2] = 10 ** rng.uniform(-1, 2.5, M)
    hyper[K.H_OFFSET] = rng.uniform(-1, 1, M)
    hyper[K.H_BETA] = rng.uniform(0, 0.9, M)
    steps = 6
    batches = MapSpec(steps=steps, batch=batch).batches(p.rows)
    cpu = np.empty((steps, M))
    gpu = np.empty((steps, M))
    K.train_models(p.X, p.Y, p.W1, p.W2, hyper, optimizer, steps, batches, cpu)
    trainability_cuda.train_models(p.X, p.Y, p.W1, p.W2, hyper, optimizer, steps, batches, gpu)
    assert np.isfinite(cpu[:, 0]).all()
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        np.testing.assert_array_equal(gpu, cpu)  # same operations in the same order
    else:  # a device's tanh, pow and fused multiply-adds round differently
        np.testing.assert_allclose(gpu, cpu, rtol=1e-9)


def test_a_map_on_the_cuda_backend():
    p = Problem.paper(width=2, seed=0)
    spec = MapSpec(res=(4, 4), steps=4, tile=4)
    gpu = trainability_map(p, spec, backend="cuda")
    cpu = trainability_map(p, spec)
    np.testing.assert_allclose(gpu.value, cpu.value, rtol=1e-9)


def test_the_map_kernel_compiles_to_ptx():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    script = Path(__file__).with_name("ptx_check.py")
    result = subprocess.run(
        [sys.executable, str(script), "--map", "9.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode == 3 and not sys.platform.startswith("linux"):
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["entries"] == 1 and report["target"]
