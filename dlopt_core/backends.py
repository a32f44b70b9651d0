"""Backend choice: ``cpu`` (Numba, parallel over models), ``cuda`` (numba.cuda) or ``auto``.

A backend is an object with ``name``, ``train_chunk(engine, perms, first_epoch, t0, n_steps, out)``
and ``evaluate(engine, theta, out)``; both fill arrays in place with the same numbers to round-off.
"""

from __future__ import annotations

import numpy as np

from .kernels import PARALLEL_LOCK, cpu

BACKENDS = ("auto", "cpu", "cuda")


class BackendError(RuntimeError):
    """The backend asked for cannot run here; the message says why."""


class CpuBackend:
    name = "cpu"
    note = "Numba on the CPU"

    def train_chunk(self, e, perms, first_epoch, t0, n_steps, out) -> None:
        net = e.network
        cfg = e.train
        with PARALLEL_LOCK:
            self._train(e, net, cfg, perms, first_epoch, t0, n_steps, out)

    @staticmethod
    def _train(e, net, cfg, perms, first_epoch, t0, n_steps, out) -> None:
        cpu.train_chunk(
            e.theta, e.slots, e.scalars, e.hyper, e.opt_code, e.sched_code, e.sched_params,
            net.sizes, net.woff, net.uoff, net.act_code, net.loss_code, e.X, e.Y, e.Xv, e.Yv,
            perms, e.order_idx, first_epoch, e.batch_size, t0, n_steps, cfg.eval_every,
            float(cfg.clip_norm), float(cfg.l1), float(cfg.polyak), int(cfg.early_stopping),
            e.status, e.stop_step, e.avg, e.best, e.best_val, e.bad_evals, out,
        )

    def evaluate(self, e, theta: np.ndarray, out: np.ndarray) -> None:
        net = e.network
        cpu.evaluate_models(
            np.ascontiguousarray(theta), net.sizes, net.woff, net.uoff, net.act_code,
            net.loss_code, e.X, e.Y, e.Xv, e.Yv, out,
        )


def cuda_status(allow_simulator: bool = False) -> tuple[bool, str]:
    """``(available, reason)``: whether a CUDA device can be used, and why not when it cannot.

    Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, used by the tests) counts as a device only
    when ``allow_simulator`` is true: ``auto`` never picks it.
    """
    try:
        from numba import config, cuda
    except Exception as exc:  # numba-cuda missing or broken
        return False, f"numba.cuda cannot be imported ({exc})"
    if config.ENABLE_CUDASIM and not allow_simulator:
        return False, "only the CUDA simulator is enabled (NUMBA_ENABLE_CUDASIM=1)"
    try:
        if cuda.is_available():
            return True, ""
    except Exception as exc:
        return False, f"CUDA is not usable ({exc})"
    return False, "no CUDA device, driver or runtime found"


def resolve(choice: str = "auto"):
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
            from .kernels.cuda import CudaBackend

            return CudaBackend()
        except Exception as exc:  # a broken CUDA install must not stop the app
            if choice == "cuda":
                raise BackendError(f"the cuda backend failed to start: {exc}") from None
            why = f"the cuda backend failed to start: {exc}"
    backend = CpuBackend()
    backend.note = f"Numba on the CPU ({why})"
    return backend
