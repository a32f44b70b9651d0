"""CUDA backend: the many-model kernels' own source compiled for NVIDIA GPUs with ``numba.cuda``.

The leaves of ``rules``, the lane functions of ``lanes`` and the step loop of ``train`` (its
many-model family, with the optimizer rule read per model) are recompiled as device functions,
their global names bound to the device versions and ``NL = 1``: one thread trains one model, the
lane of the state arrays that is its model. The arrays hold every model with the model as the
last axis, so that the threads of a warp read neighbouring addresses. Both backends run literally
the same code. Import this module only after ``numba.cuda`` is known to work (or under
``NUMBA_ENABLE_CUDASIM=1``).
"""

from __future__ import annotations

import types

import numpy as np
from numba import cuda, float64

from . import cpu, lanes, train
from .leaves import LEAVES, bind_leaves

THREADS_PER_BLOCK = 32

_LANE_FUNCTIONS = (
    "gather_lanes",
    "activate_lanes",
    "forward_lanes",
    "output_loss_lanes",
    "backward_lanes",
)
_TRAIN_FUNCTIONS = ("record", "update_lane")


def _scratch():
    return cuda.local.array(1, float64)


def _fma(a, b, c):
    return cuda.fma(a, b, c)


def _scratch_rows(rows, cols):
    return cuda.local.array((rows, cols), float64)


def _device(fn, names: dict, name: str | None = None, inline: bool = False):
    """``fn``'s code as a device function whose globals are ``names``."""
    src = getattr(fn, "py_func", fn)
    copy = types.FunctionType(src.__code__, names, name or src.__name__, src.__defaults__)
    return cuda.jit(device=True, inline="always" if inline else "never")(copy)


def _build_device_functions() -> dict:
    names = dict(vars(train))
    names.update({k: v for k, v in vars(lanes).items() if not k.startswith("__")})
    names.update(
        {
            "CODE": train.MIXED,
            "FAMILY": train.MANY,
            "NL": 1,
            "BLAS": False,
            "DEVICE": True,
            "cuda": cuda,
            "float64": float64,
        }
    )
    names["fma"] = _device(_fma, names, "fma", inline=True)
    leaves = bind_leaves(cuda.jit(device=True), fused=names["fma"])
    names.update({name: leaves[name] for name in LEAVES})
    names["scratch"] = _device(_scratch, names, "scratch", inline=True)
    names["scratch_rows"] = _device(_scratch_rows, names, "scratch_rows", inline=True)
    for name in ("sum_of_squares", "combine"):
        names[name] = _device(getattr(train, name), names, inline=name == "combine")
    names["loss_scale"] = _device(cpu.loss_scale, names)
    for name in _LANE_FUNCTIONS + _TRAIN_FUNCTIONS:
        names[name] = _device(names[name], names)
    for name in ("batch_pass", "gradient_step", "after_update", "evaluate_sets", "steps"):
        names[name] = _device(getattr(train, name), names)
    return names


_DEVICE = _build_device_functions()
_steps = _DEVICE["steps"]


@cuda.jit
def _train_kernel(
    theta, slots, scalars, hyper, avg, opt_code, sched_code, sched_params, layer_lr, model, order,
    status, stop_step, best_val, bad_evals, best, out,
    sizes, woff, uoff, lay, act, loss, X, Y, Xt, Yt, Xv, Yv,
    perms, epoch_base, batch, t0, n_steps, eval_every,
    clip_norm, l1, polyak, patience, adv_eps, adv_mix, evaluate_only,
    A, D, T, G, DX, idx, coef, LW, rows, thf, Gf, avgf, sf,
):  # fmt: skip
    m = cuda.grid(1)
    if m < theta.shape[1]:
        _steps(
            theta,
            slots,
            scalars,
            hyper,
            avg,
            opt_code,
            sched_code,
            sched_params,
            layer_lr,
            model,
            order,
            status,
            stop_step,
            best_val,
            bad_evals,
            best,
            out,
            sizes,
            woff,
            uoff,
            lay,
            act,
            loss,
            X,
            Y,
            Xt,
            Yt,
            Xv,
            Yv,
            perms,
            epoch_base,
            batch,
            t0,
            n_steps,
            eval_every,
            clip_norm,
            l1,
            polyak,
            patience,
            adv_eps,
            adv_mix,
            evaluate_only,
            A,
            D,
            T,
            G,
            DX,
            idx,
            coef,
            LW,
            rows,
            thf,
            Gf,
            avgf,
            sf,
            m,
        )


def kernel_arguments(
    e, perms, first_epoch, t0, n_steps, out, data, to_device, empty, evaluate_only=False
) -> tuple:
    """``(state, flags, out, args)`` for one launch of ``_train_kernel`` on engine ``e``.

    ``data`` are the network layout, the training set and the evaluated rows (sizes, woff, uoff,
    lay, X, Y, Xt, Yt, Xv, Yv; see ``Engine.eval_sets``) already on the device; ``to_device``
    copies a host array over and ``empty(shape, dtype)`` allocates one there. With host
    stand-ins (``np.asarray``, ``np.empty``) the same call gives the kernel's argument types
    without a GPU, which tests/cuda uses to compile the kernel to PTX.
    """
    net, cfg, st, M = e.network, e.train, e.state, e.n_models
    sizes, woff, uoff, lay, X, Y, Xt, Yt, Xv, Yv = data
    state = [to_device(a) for a in (st.theta, st.slots, st.scalars, st.hyper, st.avg)]
    codes = [
        to_device(a)
        for a in (
            e.opt_code,
            e.sched_code,
            st.sched_params,
            st.layer_lr,
            np.arange(M, dtype=np.int64),
            e.order_idx,
        )
    ]
    flags = [to_device(a) for a in (e.status, e.stop_step, e.best_val, e.bad_evals, st.best)]
    d_out = to_device(out)
    a_shape, d_shape, g_shape, dx_shape, idx_shape, _, _ = train.workspace_shapes(
        net.sizes, e.batch_size
    )
    rows = idx_shape[0]
    work = (
        empty((*a_shape, M), np.float64),
        empty((*d_shape, M), np.float64),
        empty((1,), np.float64),
        empty((*g_shape, M), np.float64),
        empty((*dx_shape, M), np.float64),
        empty((*idx_shape, M), np.int64),
        to_device(np.zeros((cpu.rules.N_COEF, M))),
        to_device(np.zeros((train.N_LANE_WORK, M))),
    )
    args = (
        *state, *codes, *flags, d_out, sizes, woff, uoff, lay, net.act_code, net.loss_code,
        X, Y, Xt, Yt, Xv, Yv, to_device(perms), first_epoch, e.batch_size, t0, n_steps,
        cfg.eval_every,
        float(cfg.clip_norm), float(cfg.l1), float(cfg.polyak), int(cfg.early_stopping),
        float(cfg.adversarial_eps), float(cfg.adversarial_clean_weight), bool(evaluate_only),
        *work, rows, *train.flat_views(state[0], work[3], state[4], state[1]),
    )  # fmt: skip
    return state, flags, d_out, args


def device_name() -> str:
    name = getattr(cuda.get_current_device(), "name", "the CUDA simulator")
    return name.decode() if isinstance(name, bytes) else str(name)


class CudaBackend:
    """Trains every model of an engine on the current CUDA device, one thread a model."""

    name = "cuda"

    def __init__(self) -> None:
        self.note = f"numba.cuda on {device_name()}"
        self._engine_id = None
        self._data: dict[int, tuple] = {}
        self._launched = False

    def _device_data(self, e, sample: bool) -> tuple:
        """The layout, training set and evaluated rows of engine ``e`` on the device, each array
        copied over once (the sampled and the full sets of a large data set side by side)."""
        if self._engine_id != id(e):
            self._data, self._engine_id = {}, id(e)
        net = e.network
        on_device = []
        for a in (net.sizes, net.woff, net.uoff, net.lay, e.X, e.Y, *e.eval_sets(sample)):
            kept = self._data.get(id(a))
            if kept is None or kept[0] is not a:
                kept = (a, cuda.to_device(np.ascontiguousarray(a)))
                self._data[id(a)] = kept
            on_device.append(kept[1])
        return tuple(on_device)

    def _launch(self, e, perms, first_epoch, t0, n_steps, out, evaluate_only, sample=True) -> None:
        state, flags, d_out, args = kernel_arguments(
            e,
            perms,
            first_epoch,
            t0,
            n_steps,
            out,
            self._device_data(e, sample),
            cuda.to_device,
            cuda.device_array,
            evaluate_only,
        )
        blocks = (e.n_models + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        _train_kernel[blocks, THREADS_PER_BLOCK](*args)
        self._launched = True
        d_out.copy_to_host(out)
        if evaluate_only:
            return
        st = e.state
        for host, dev in zip(
            (st.theta, st.slots, st.scalars, st.hyper, st.avg), state, strict=True
        ):
            dev.copy_to_host(host)
        for host, dev in zip(
            (e.status, e.stop_step, e.best_val, e.bad_evals, st.best), flags, strict=True
        ):
            dev.copy_to_host(host)

    def train_chunk(self, e, perms, first_epoch, t0, n_steps, out) -> None:
        self._launch(e, perms, first_epoch, t0, n_steps, out, False)

    def evaluate(self, e, out: np.ndarray, sample: bool = False) -> None:
        record = np.full((1, 6, e.n_models), np.nan)
        self._launch(e, np.zeros((1, 1, 1), dtype=np.int64), 0, e.step, 0, record, True, sample)
        out[:] = record[0, :4]

    def kernels_ready(self, e) -> bool:
        return self._launched
