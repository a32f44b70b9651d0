"""CUDA backend: the CPU kernels' own source compiled for NVIDIA GPUs with ``numba.cuda``.

The leaves of ``rules`` and the allocation-free kernels of ``cpu`` (forward, output_loss,
backward, evaluate, train_model) are recompiled as device functions with their global names bound
to the device versions, so both backends run literally the same code. One thread trains one model;
its workspaces are slices of device arrays allocated once per chunk. Import this module only after
``numba.cuda`` is known to work (or under ``NUMBA_ENABLE_CUDASIM=1``).
"""

from __future__ import annotations

import builtins
import math
import types

import numpy as np
from numba import cuda

from . import cpu, rules

THREADS_PER_BLOCK = 64

_KERNELS = ("dot", "activate_row", "forward", "output_loss", "backward", "evaluate",
            "_evaluate_into",
            "apply_update", "_update_all", "train_model")
# the CPU sends large layer products to BLAS; on the GPU every layer runs the explicit loops
_RENAMED = {"layer_forward": "layer_forward_loops", "layer_backward": "layer_backward_loops"}


def _build_device_functions() -> dict:
    names: dict = {"__builtins__": builtins, "math": math, "np": np, "rules": rules,
                   "DIVERGED": cpu.DIVERGED, "EARLY_STOPPED": cpu.EARLY_STOPPED}
    leaves = cpu.bind_leaves(cuda.jit(device=True))
    names.update({name: leaves[name] for name in cpu.LEAVES})
    for name, source in _RENAMED.items():
        src = getattr(cpu, source).py_func
        fn = types.FunctionType(src.__code__, names, name, src.__defaults__)
        names[name] = cuda.jit(device=True)(fn)
    for name in _KERNELS:
        src = getattr(cpu, name).py_func
        fn = types.FunctionType(src.__code__, names, src.__name__, src.__defaults__)
        names[name] = cuda.jit(device=True)(fn)
    return names


_DEVICE = _build_device_functions()
_train_model = _DEVICE["train_model"]


@cuda.jit
def _train_kernel(
    theta, slots, scalars, hyper, opt_code, sched_code, sched_params,
    sizes, woff, uoff, act, loss, X, Y, Xv, Yv,
    perms, order_idx, epoch_base, batch, t0, n_steps, eval_every,
    clip_norm, l1, polyak, patience,
    status, stop_step, avg, best, best_val, bad_evals, out,
    A, D, idx, eval_idx, grad, coef, rec,
):  # fmt: skip
    m = cuda.grid(1)
    if m < theta.shape[0] and status[m] == 0:
        _train_model(
            m, theta, slots, scalars, hyper, opt_code, sched_code, sched_params,
            sizes, woff, uoff, act, loss, X, Y, Xv, Yv,
            perms, order_idx, epoch_base, batch, t0, n_steps, eval_every,
            clip_norm, l1, polyak, patience,
            status, stop_step, avg, best, best_val, bad_evals, out,
            A[m], D[m], idx[m], eval_idx[m], grad[m], coef[m], rec[m],
        )  # fmt: skip


def kernel_arguments(e, perms, first_epoch, t0, n_steps, out, data, to_device, empty) -> tuple:
    """``(state, flags, out, args)`` for one launch of ``_train_kernel`` on engine ``e``.

    ``data`` are the network layout and the data set (sizes, woff, uoff, X, Y, Xv, Yv) already
    on the device; ``to_device`` copies a host array over and ``empty(shape, dtype)`` allocates
    one there. With host stand-ins (``np.asarray``, ``np.empty``) the same call gives the kernel's
    argument types without a GPU, which tests/cuda uses to compile the kernel to PTX.
    """
    net, cfg, M = e.network, e.train, e.n_models
    sizes, woff, uoff, X, Y, Xv, Yv = data
    state = [to_device(a) for a in (
        e.theta, e.slots, e.scalars, e.hyper, e.opt_code, e.sched_code, e.sched_params)]
    flags = [to_device(a) for a in (
        e.status, e.stop_step, e.avg, e.best, e.best_val, e.bad_evals)]
    d_out = to_device(out)
    work = [empty((M, *shape), np.int64 if k in (2, 3) else np.float64)
            for k, shape in enumerate(cpu.workspace_shapes(net.sizes, e.batch_size))]
    args = (
        *state, sizes, woff, uoff, net.act_code, net.loss_code, X, Y, Xv, Yv,
        to_device(perms), to_device(e.order_idx), first_epoch, e.batch_size, t0,
        n_steps, cfg.eval_every, float(cfg.clip_norm), float(cfg.l1), float(cfg.polyak),
        int(cfg.early_stopping), *flags, d_out, *work,
    )
    return state, flags, d_out, args


def device_name() -> str:
    name = getattr(cuda.get_current_device(), "name", "the CUDA simulator")
    return name.decode() if isinstance(name, bytes) else str(name)


class CudaBackend:
    """Trains every model of an engine on the current CUDA device, one thread a model."""

    name = "cuda"

    def __init__(self) -> None:
        self.note = f"numba.cuda on {device_name()}"
        self._data_key = None
        self._data = None

    def _device_data(self, e) -> tuple:
        key = (id(e), id(e.X), id(e.Xv))
        if self._data_key != key:
            net = e.network
            self._data = tuple(cuda.to_device(np.ascontiguousarray(a)) for a in (
                net.sizes, net.woff, net.uoff, e.X, e.Y, e.Xv, e.Yv))
            self._data_key = key
        return self._data

    def train_chunk(self, e, perms, first_epoch, t0, n_steps, out) -> None:
        state, flags, d_out, args = kernel_arguments(
            e, perms, first_epoch, t0, n_steps, out, self._device_data(e),
            cuda.to_device, cuda.device_array)
        blocks = (e.n_models + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        _train_kernel[blocks, THREADS_PER_BLOCK](*args)
        for host, dev in zip((e.theta, e.slots, e.scalars), state[:3], strict=False):
            dev.copy_to_host(host)
        for host, dev in zip((e.status, e.stop_step, e.avg, e.best, e.best_val, e.bad_evals),
                             flags, strict=False):
            dev.copy_to_host(host)
        d_out.copy_to_host(out)

    def evaluate(self, e, theta: np.ndarray, out: np.ndarray) -> None:
        """Whole-set evaluation is cheap next to training: it runs on the CPU kernels."""
        cpu_backend_evaluate(e, theta, out)


def cpu_backend_evaluate(e, theta, out) -> None:
    net = e.network
    cpu.evaluate_models(np.ascontiguousarray(theta), net.sizes, net.woff, net.uoff, net.act_code,
                        net.loss_code, e.X, e.Y, e.Xv, e.Yv, out)
