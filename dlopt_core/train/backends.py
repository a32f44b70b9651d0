"""Backend choice: ``cpu`` (Numba, parallel over models), ``cuda`` (numba.cuda) or ``auto``.

A backend is an object with ``name``, ``train_chunk(engine, perms, first_epoch, t0, n_steps, out)``,
``evaluate(engine, out, sample)`` and ``kernels_ready(engine)``; both fill arrays in place with the
same numbers to round-off. ``train_chunk``'s ``out`` is (recorded steps, fields, models), evaluate's
(4 fields, models). Training evaluates on the engine's evaluated rows (``Engine.eval_sets``: a
fixed sample of a large set), ``evaluate`` on them (``sample``) or on every row.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

import numba
import numpy as np

from dlopt_core.train.kernels import train

if TYPE_CHECKING:
    from dlopt_core.train.engine import Engine

BACKENDS = ("auto", "cpu", "cuda")


class BackendError(RuntimeError):
    """The backend asked for cannot run here; the message says why."""


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Threads that run blocks of models side by side (the kernels release the GIL); as many as
    Numba's thread count (``NUMBA_NUM_THREADS``, by default the number of cores)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=max(1, numba.get_num_threads()), thread_name_prefix="dlopt-blocks"
            )
        return _POOL


def cpu_kernel(e: Engine) -> Any:
    """The CPU training kernel engine ``e`` needs: the single-model family (with BLAS for wide
    layers) or the many-model family, for its models' common optimizer rule (or the rule read
    per model)."""
    family = train.family_of(e.n_models)
    return train.kernel(family, train.code_of(e.opt_code), e.network.blas, e.layered)


def cpu_run(
    e: Engine,
    perms: np.ndarray,
    first_epoch: int,
    t0: int,
    n_steps: int,
    out: np.ndarray,
    evaluate_only: bool = False,
    sample: bool = True,
) -> None:
    """Engine ``e``'s CPU kernel on every model: directly for one model; for many, on blocks of
    ``LANES`` models (local copies, model innermost), the blocks spread over threads. Evaluations
    run on ``e.eval_sets(sample)``."""
    net, cfg = e.network, e.train
    kernel = cpu_kernel(e)
    family = train.family_of(e.n_models)
    work = train.workspaces(family, net.sizes, net.n_params, e.X.shape[1], e.batch_size)
    common = (
        net.sizes, net.woff, net.uoff, net.lay, net.act_code, net.loss_code, e.X, e.Y,
        *e.eval_sets(sample),
        perms, first_epoch, e.batch_size, t0, n_steps, cfg.eval_every,
        float(cfg.clip_norm), float(cfg.l1), float(cfg.polyak), int(cfg.early_stopping),
        float(cfg.adversarial_eps), float(cfg.adversarial_clean_weight), bool(evaluate_only),
    )  # fmt: skip
    st = e.state
    if family == train.SINGLE:
        kernel(
            st.theta,
            st.slots,
            st.scalars,
            st.hyper,
            st.avg,
            e.opt_code,
            e.sched_code,
            st.sched_params,
            st.layer_lr,
            np.zeros(1, dtype=np.int64),
            e.order_idx,
            e.status,
            e.stop_step,
            e.best_val,
            e.bad_evals,
            st.best,
            out,
            *common,
            *work,
            *train.flat_views(st.theta, work[3], st.avg, st.slots),
            0,
        )
        return
    blocks = [
        m0
        for m0 in range(0, e.n_models, train.LANES)
        if evaluate_only or e.running[m0 : m0 + train.LANES].any()
    ]

    def run_block(m0: int, own: tuple[np.ndarray, ...]) -> None:
        used = min(train.LANES, e.n_models - m0)
        sel = m0 + np.minimum(np.arange(train.LANES), used - 1)
        lane = {
            name: np.ascontiguousarray(getattr(st, name)[..., sel])
            for name in ("theta", "slots", "scalars", "hyper", "sched_params", "layer_lr", "avg")
        }
        status = e.status[sel]
        status[used:] = train.PADDING
        stop_step, best_val, bad_evals = e.stop_step[sel], e.best_val[sel], e.bad_evals[sel]
        kernel(
            lane["theta"],
            lane["slots"],
            lane["scalars"],
            lane["hyper"],
            lane["avg"],
            e.opt_code[sel],
            e.sched_code[sel],
            lane["sched_params"],
            lane["layer_lr"],
            sel,
            e.order_idx[sel],
            status,
            stop_step,
            best_val,
            bad_evals,
            st.best,
            out,
            *common,
            *own,
            *train.flat_views(lane["theta"], own[3], lane["avg"], lane["slots"]),
            0,
        )
        if evaluate_only:
            return
        done = slice(m0, m0 + used)
        for name in ("theta", "slots", "scalars", "avg"):
            getattr(st, name)[..., done] = lane[name][..., :used]
        e.status[done] = status[:used]
        e.stop_step[done] = stop_step[:used]
        e.best_val[done] = best_val[:used]
        e.bad_evals[done] = bad_evals[:used]

    def run_blocks(part: list[int], own: tuple[np.ndarray, ...]) -> None:
        for m0 in part:
            run_block(m0, own)

    # one task per thread, each on a contiguous share of the blocks with workspaces of its own
    tasks = min(len(blocks), max(1, numba.get_num_threads()))
    shares = [part.tolist() for part in np.array_split(np.array(blocks), tasks)]
    if tasks == 1:
        run_blocks(shares[0], work)
        return
    futures = [
        _pool().submit(
            run_blocks,
            part,
            work
            if k == 0
            else train.workspaces(family, net.sizes, net.n_params, e.X.shape[1], e.batch_size),
        )
        for k, part in enumerate(shares)
    ]
    for future in futures:
        future.result()


def cpu_evaluate(e: Engine, out: np.ndarray, sample: bool = False) -> None:
    """Loss and error of every model as it is (its Polyak average when on) on both sets (every
    row, or with ``sample`` the evaluated rows of a large set), into ``out`` (4, M), by the run's
    own kernel."""
    record = np.full((1, 6, e.n_models), np.nan)
    cpu_run(
        e,
        np.zeros((1, 1, 1), dtype=np.int64),
        0,
        e.step,
        0,
        record,
        evaluate_only=True,
        sample=sample,
    )
    out[:] = record[0, :4]


class Backend(Protocol):
    """What the engine asks of a backend (``CpuBackend``, ``kernels.cuda.CudaBackend``)."""

    name: str
    note: str

    def train_chunk(
        self,
        e: Engine,
        perms: np.ndarray,
        first_epoch: int,
        t0: int,
        n_steps: int,
        out: np.ndarray,
    ) -> None: ...

    def evaluate(self, e: Engine, out: np.ndarray, sample: bool = False) -> None: ...

    def kernels_ready(self, e: Engine) -> bool: ...


class CpuBackend:
    name = "cpu"
    note = "Numba on the CPU"

    def train_chunk(
        self,
        e: Engine,
        perms: np.ndarray,
        first_epoch: int,
        t0: int,
        n_steps: int,
        out: np.ndarray,
    ) -> None:
        cpu_run(e, perms, first_epoch, t0, n_steps, out)

    def evaluate(self, e: Engine, out: np.ndarray, sample: bool = False) -> None:
        cpu_evaluate(e, out, sample)

    def kernels_ready(self, e: Engine) -> bool:
        return bool(cpu_kernel(e).signatures)


def cuda_status(allow_simulator: bool = False) -> tuple[bool, str]:
    """``(available, reason)``: whether a CUDA device can be used, and why not when it cannot.

    Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, used by the tests) counts as a device only
    when ``allow_simulator`` is true: ``auto`` never picks it.
    """
    try:
        from numba import config, cuda
    except Exception as exc:  # numba-cuda missing or broken
        return False, f"numba.cuda cannot be imported ({exc})"
    if getattr(config, "ENABLE_CUDASIM", False) and not allow_simulator:
        return False, "only the CUDA simulator is enabled (NUMBA_ENABLE_CUDASIM=1)"
    try:
        if cuda.is_available():
            return True, ""
    except Exception as exc:
        return False, f"CUDA is not usable ({exc})"
    return False, "no CUDA device, driver or runtime found"


def resolve(choice: str = "auto") -> Backend:
    """The backend for ``choice``; ``auto`` takes CUDA when a device is present, else the CPU."""
    if choice not in BACKENDS:
        raise BackendError(f"unknown backend {choice!r}; choose one of {', '.join(BACKENDS)}")
    if choice == "cpu":
        return CpuBackend()
    ok, why = cuda_status(allow_simulator=choice == "cuda")
    if choice == "cuda" and not ok:
        raise BackendError(f"the cuda backend is not available: {why}")
    if ok:
        try:
            from dlopt_core.train.kernels.cuda import CudaBackend

            return CudaBackend()
        except Exception as exc:  # a broken CUDA install must not stop the app
            if choice == "cuda":
                raise BackendError(f"the cuda backend failed to start: {exc}") from None
            why = f"the cuda backend failed to start: {exc}"
    backend = CpuBackend()
    backend.note = f"Numba on the CPU ({why})"
    return backend
