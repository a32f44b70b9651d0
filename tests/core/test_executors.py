"""Executors: the same maps and sweeps in this process and on a Dask LocalCluster, bit for bit,
also when a worker process is killed in the middle of a map.

One cluster of two worker processes serves the whole module (it takes seconds to start)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from dlopt_core.studies import compare
from dlopt_core.studies.executors import (
    DaskExecutor,
    ExecutorError,
    InProcessExecutor,
    make_executor,
)
from dlopt_core.studies.trainability import MapSpec, Problem, trainability_map
from dlopt_core.train.engine import TrainConfig
from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec
from dlopt_core.train.optimizers import make_optimizer

PROBLEM = Problem.paper(width=8, seed=1)
SPEC = MapSpec(axes=("lr1", "lr2"), ranges=((-1.0, 4.0), (0.0, 3.0)), res=(8, 8), steps=20, tile=2)


@pytest.fixture(scope="module")
def cluster():
    trainability_map(PROBLEM, SPEC)  # compile here once: the workers load the kernel from cache
    with DaskExecutor(n_workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def in_process():
    return trainability_map(PROBLEM, SPEC)


@pytest.fixture(scope="module")
def exp():
    return Experiment(
        data=DataSpec(kind="moons", n_samples=60, noise=0.2, seed=3),
        network=NetworkSpec(hidden=(4,), activation="tanh"),
        optimizer=make_optimizer("adam", lr=0.01),
        training=TrainConfig(batch_size=10, eval_every=5),
        seed=4,
    )


def test_a_distributed_map_is_bit_identical(cluster, in_process):
    fractions = []
    result = trainability_map(
        PROBLEM, SPEC, executor=cluster, progress=lambda f, part: fractions.append(f)
    )
    assert result.complete and result.executor.startswith("Dask LocalCluster of 2")
    assert result.value.tobytes() == in_process.value.tobytes()
    assert np.array_equal(result.converged, in_process.converged)
    assert result.fractal.dimension == in_process.fractal.dimension or not result.fractal.ok
    assert fractions == [k / 16 for k in range(1, 17)]
    assert 0 < in_process.converged.mean() < 1  # the map holds both outcomes


def test_a_killed_worker_changes_nothing(cluster, in_process):
    pids = cluster.client.run(os.getpid)
    assert len(pids) == 2
    killed = []

    def kill_one(fraction, partial):
        if not killed:  # mid-map: tiles still run or wait on both workers
            victim = next(iter(pids.values()))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            killed.append(fraction)

    spec = MapSpec(**{**SPEC.to_dict(), "steps": 200})
    want = trainability_map(PROBLEM, spec)
    result = trainability_map(PROBLEM, spec, executor=cluster, progress=kill_one)
    assert killed and killed[1] < 0.5 and result.complete
    assert result.value.tobytes() == want.value.tobytes()
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert killed[0] not in cluster.client.run(os.getpid).values()
    again = trainability_map(PROBLEM, SPEC, executor=cluster)
    assert again.value.tobytes() == in_process.value.tobytes()


def test_a_cancelled_distributed_map_returns_what_it_has(cluster):
    result = trainability_map(PROBLEM, SPEC, executor=cluster, should_stop=lambda: True)
    assert result.cancelled and result.tiles_done == 1


def test_lr_sweep_on_an_executor_gives_the_same_numbers(cluster, exp):
    want = compare.lr_sweep(exp, ["sgd", "adam"], 1e-3, 10.0, 10, 30)
    seen = []
    for executor in (InProcessExecutor(), cluster):
        got = compare.lr_sweep(
            exp,
            ["sgd", "adam"],
            1e-3,
            10.0,
            10,
            30,
            executor=executor,
            callback=lambda f, part: seen.append(f),
        )
        for name in compare.PART_FIELDS:
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
        assert got.step == want.step and not got.cancelled
    assert seen[-1] == 1.0 and len(seen) == 4  # 20 models in parts of 16, twice


@pytest.mark.parametrize("second", ["momentum", "batch_size"])
def test_sweep_2d_on_an_executor_gives_the_same_numbers(cluster, exp, second):
    lrs = [0.01, 0.1, 1.0]
    values = [0.0, 0.9] if second == "momentum" else [5, 20]
    want = compare.sweep_2d(exp, "momentum", lrs, second, values, 25)
    got = compare.sweep_2d(exp, "momentum", lrs, second, values, 25, executor=cluster)
    for name in ("final_val_loss", "best_val_loss", "diverged", "trained"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_make_executor_reads_its_argument():
    assert isinstance(make_executor(None), InProcessExecutor)
    assert isinstance(make_executor("inprocess"), InProcessExecutor)
    with pytest.raises(ExecutorError, match="local:N needs a number"):
        make_executor("local:zero")
    with pytest.raises(ExecutorError, match="neither local"):
        make_executor("my-laptop")


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorError, match="cannot start or reach tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=2)
