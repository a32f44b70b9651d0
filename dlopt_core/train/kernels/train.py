"""The training step loop, shared by both kernel families and the CUDA backend.

``steps`` advances lanes ``l0 .. l0 + NL - 1`` of a run by ``n_steps`` mini-batch steps. Its state
arrays have the model as their last axis (``th[p, i]``, see ``kernels/lanes.py``); the family
(``FAMILY``) decides how a batch's forward and backward passes are computed (``batch_pass``):

- ``SINGLE``: one model (NL = 1), products by the loops or BLAS of ``kernels/cpu.py``, workspaces
  laid out for BLAS. The Playground's run and anything else with one model.
- ``MANY``: a block of ``lanes.LANES`` models in SIMD lanes (``kernels/lanes.py``). The CPU backend
  (``backends.cpu_run``) copies each block of a run's models into local arrays, trains it and
  copies it back, the blocks spread over threads (the kernels release the GIL).

The optimizer's rule is a constant of each compiled kernel (``CODE``; ``MIXED`` reads it per lane),
so that the update loop is specialised and vectorised and only the rules a run uses are ever
compiled: ``kernel(family, code, blas)`` compiles (or loads from Numba's cache) one copy of
``steps`` on first use. The templates here are compiled as copies with their own names and
constants (``kernels.specialise``), each cached under its own name.

What one step does, per lane: the batch of rows ``perms[order[i], epoch - epoch_base]`` at its place
in the epoch; the mean loss gradient (with adversarial training, ``adv_mix`` times the clean
gradient plus ``1 - adv_mix`` times the gradient at the FGSM inputs ``x + adv_eps sign(dL/dx)``);
``l1 * sign(theta)`` added; the global norm clipped to ``clip_norm`` (if > 0); the optimizer at the
scheduled rate, times each layer's factor ``layer_lr[layer, model]`` for that layer's parameters
(the coefficients that hold the rate recomputed per layer as ``step_coefficients`` does). After
every step whose count is a multiple of ``eval_every`` the model is evaluated (on its Polyak average
when ``polyak`` > 0, on the evaluated rows ``Xt``, ``Xv``) into ``out[r, :, model]``; with
``patience`` > 0 a model whose validation loss has not improved for ``patience`` evaluations stops,
its best parameters kept in ``best[:, model]``. A model whose loss, gradient or parameters become
non-finite stops with status DIVERGED at that step. A stopped lane keeps its state as it was when
it stopped.

Compile time: every function called from a kernel is compiled on its own once and linked into
the kernel, and compiled once more for every distinct literal argument it is called with, so
calls pass run-time values (``yes``, ``no``, ``r_out``) where a constant would only make copies.
What does not depend on the optimizer (a step's gradient, the evaluations) is in functions
shared by every rule's kernel: a kernel for another optimizer compiles in about half the time
of the first.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from . import cpu, rules, specialise
from .cpu import (
    DIVERGED,
    EARLY_STOPPED,
    EVAL_ROWS,
    KW,
    KW_INLINE,
    backward_blas,
    backward_loops,
    block,
    flat,
    forward_blas,
    forward_loops,
    logits_block,
    loss_scale,
    output_loss,
)
from .lanes import (
    LANES,
    backward_lanes,
    forward_lanes,
    gather_lanes,
    output_loss_lanes,
    scratch_rows,
)
from .leaves import schedule_lr, step_coefficients, update_param

SINGLE, MANY = 0, 1
# The parts of ``steps`` called once a step (``gradient_step``, ``evaluate_sets``, the one-model
# ``batch_pass``) compile without Numba's reference-counting runtime: they allocate nothing, and
# with it every array argument would be counted on entry and exit of every call, a tenth of a
# small network's step. Their callees set ``_nrt`` themselves (``cpu.KW``), as they would
# otherwise inherit this setting.
KW_PART = {**KW, "_nrt": False}
FAMILIES = ("single", "many")
MIXED = -1  # the kernel reads each lane's optimizer from opt_code
PADDING = 3  # status of a CPU block's unused lanes: never active, never written back

# rows of the per-lane work array LW
(
    W_LR,
    W_LOSS,
    W_GNORM,
    W_ACTIVE,
    W_FIRST,
    W_SUM,
    W_FACTOR,
    W_PART,
    W_PERR,
    W_TOTAL,
    W_ERRORS,
    W_TRAIN_LOSS,
    W_VAL_LOSS,
    W_TRAIN_ERR,
    W_VAL_ERR,
) = range(15)
N_LANE_WORK = 15
N_HYPER, N_COEF = rules.N_HYPER, rules.N_COEF  # constants where Numba needs literal sizes

# constants of a specialised copy (placeholders in the templates; see ``kernel``)
CODE = MIXED
FAMILY = SINGLE
NL = 1
BLAS = False
DEVICE = False  # the CUDA build: arrays hold every model, lane stride = the number of models
LAYERED = True  # layer options in use: the passes read ``lay``, the update steps layer by layer


@njit(**KW)
def record(
    ev, LW, out, r_out, model, t, status, stop_step, best_val, bad_evals, best, patience, l0, nl
):
    """Per running lane after an evaluation: the metrics into ``out[r_out, :, model]``; a lane
    with a non-finite training loss stopped (DIVERGED); early stopping with ``patience`` (0:
    off), the best parameters ``ev`` kept in ``best[:, model]``."""
    for i in range(l0, l0 + nl):
        if LW[W_ACTIVE, i] == 0.0:
            continue
        m = model[i]
        out[r_out, 0, m] = LW[W_TRAIN_LOSS, i]
        out[r_out, 1, m] = LW[W_VAL_LOSS, i]
        out[r_out, 2, m] = LW[W_TRAIN_ERR, i]
        out[r_out, 3, m] = LW[W_VAL_ERR, i]
        out[r_out, 4, m] = LW[W_GNORM, i]
        out[r_out, 5, m] = LW[W_LR, i]
        train_loss = LW[W_TRAIN_LOSS, i]
        if math.isnan(train_loss) or math.isinf(train_loss):
            status[i] = DIVERGED
            stop_step[i] = t + 1
            LW[W_ACTIVE, i] = 0.0
        elif patience > 0:
            if LW[W_VAL_LOSS, i] < best_val[i]:
                best_val[i] = LW[W_VAL_LOSS, i]
                for p in range(ev.shape[0]):
                    best[p, m] = ev[p, i]
                bad_evals[i] = 0
            else:
                bad_evals[i] += 1
                if bad_evals[i] >= patience:
                    status[i] = EARLY_STOPPED
                    stop_step[i] = t + 1
                    LW[W_ACTIVE, i] = 0.0


def batch_pass(
    th,
    sizes,
    woff,
    uoff,
    lay,
    act,
    loss,
    X,
    Y,
    idx,
    n,
    gather,
    scale,
    want_grad,
    to_input,
    A,
    D,
    T,
    G,
    DX,
    LW,
    rows,
    l0,
):
    """One pass of every lane over ``n`` rows: the forward pass (of the rows ``X[idx]``, or with
    ``gather`` false of the inputs already in ``A``), the sums of the rows' losses and errors
    into ``LW[W_PART]`` and ``LW[W_PERR]``; with ``want_grad`` the backward pass from the deltas
    ``scale * dloss/dlogit``, adding to ``G`` (and with ``to_input`` writing the gradient with
    respect to the inputs into ``DX``)."""
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    if FAMILY == MANY:
        if gather:
            gather_lanes(X, idx, n, A, l0)
        forward_lanes(th, sizes, woff, uoff, lay, act, A, n, l0)
        output_loss_lanes(
            loss,
            A,
            uoff[n_layers],
            n_out,
            Y,
            idx,
            n,
            D[0],
            scale,
            want_grad,
            LW[W_PART],
            LW[W_PERR],
            l0,
        )
        if want_grad:
            backward_lanes(th, sizes, woff, uoff, lay, act, A, D, n, G, DX, to_input, l0)
    else:
        theta = flat(th)
        rows_in = idx[:n] if gather else idx[:0]
        if BLAS:
            forward_blas(theta, sizes, woff, uoff, lay, act, X, rows_in, n, A, rows)
        else:
            forward_loops(theta, sizes, woff, uoff, lay, act, X, rows_in, n, A, rows)
        LW[W_PART, l0], LW[W_PERR, l0] = output_loss(
            loss,
            logits_block(sizes, uoff, A, n, rows),
            Y,
            idx,
            n,
            block(D, 0, n, n_out),
            scale,
            want_grad,
        )
        if want_grad:
            grad = flat(G)
            dx = DX[:n] if to_input else DX[:0]
            widest = D.shape[0] // (2 * rows)
            if BLAS:
                backward_blas(
                    theta, sizes, woff, uoff, lay, act, A, D, n, rows, widest, grad, dx, T
                )
            else:
                backward_loops(theta, sizes, woff, uoff, lay, act, A, D, n, rows, widest, grad, dx)


def gradient_step(
    th, hyper, scalars, sched_code, sched_params, order, status, stop_step,
    net, act, loss, X, Y, perms, epoch_base, batch, t, options,
    A, D, T, G, DX, idx, LW, rows, thf, Gf, acc, l0,
):  # fmt: skip
    """Step ``t``'s work before the optimizer, the same for every rule: the batch's rows, the
    gradient of its mean loss (or of the FGSM mix: a second pass at the inputs
    ``x + adv_eps sign(dL/dx)``, weighted ``1 - adv_mix``), L1, the gradient's norm (a sum in a
    fixed order, the same in every family) into ``LW[W_GNORM]``, a non-finite loss or gradient
    stopping a lane, clipping; then each lane's scheduled rate into ``LW[W_LR]`` and whether it
    is the optimizer's first step into ``LW[W_FIRST]``."""
    sizes, woff, uoff, lay = net
    clip_norm, l1, adv_eps, adv_mix = options
    lane0 = l0 if DEVICE else 0  # a constant on the CPU: the lanes' addresses are then known
    LS = th.shape[1] if DEVICE else NL
    n_params = th.shape[0]
    n_train = X.shape[0]
    n_inputs = X.shape[1]
    n_out = sizes[sizes.shape[0] - 1]
    per_epoch = (n_train + batch - 1) // batch
    adversarial = adv_eps > 0.0
    yes = n_train > 0  # True as a run-time value (see the module docstring)
    epoch = t // per_epoch
    start = (t - epoch * per_epoch) * batch
    n = min(batch, n_train - start)
    if FAMILY == MANY:
        for r in range(n):
            for i in range(lane0, lane0 + NL):
                idx[r, i] = perms[order[i], epoch - epoch_base, start + r]
    else:
        for r in range(n):
            idx[r] = perms[order[lane0], epoch - epoch_base, start + r]
    for p in range(n_params):
        for i in range(lane0, lane0 + NL):
            Gf[p * LS + i] = 0.0
    scale = loss_scale(loss, n, n_out)
    for phase in range(2 if adversarial else 1):
        if phase == 1:
            for p in range(n_params):
                for i in range(lane0, lane0 + NL):
                    Gf[p * LS + i] *= adv_mix
            scale *= 1.0 - adv_mix
            for r in range(n):
                for k in range(n_inputs):
                    for i in range(lane0, lane0 + NL):
                        if FAMILY == MANY:
                            g = DX[r, k, i]
                            A[r, k, i] += adv_eps * (1.0 if g > 0.0 else (-1.0 if g < 0.0 else 0.0))
                        else:
                            g = DX[r, k]
                            A[r * n_inputs + k] += adv_eps * (
                                1.0 if g > 0.0 else (-1.0 if g < 0.0 else 0.0)
                            )
        batch_pass(
            th,
            sizes,
            woff,
            uoff,
            lay,
            act,
            loss,
            X,
            Y,
            idx,
            n,
            phase == 0,
            scale,
            yes,
            adversarial and phase == 0,
            A,
            D,
            T,
            G,
            DX,
            LW,
            rows,
            lane0,
        )
        for i in range(lane0, lane0 + NL):
            part = LW[W_PART, i]
            LW[W_LOSS, i] = (
                part if phase == 0 else (adv_mix * LW[W_LOSS, i] + (1.0 - adv_mix) * part)
            )
    if l1 != 0.0:
        for p in range(n_params):
            for i in range(lane0, lane0 + NL):
                q = p * LS + i
                w = thf[q]
                g = Gf[q]
                Gf[q] = g + l1 if w > 0.0 else (g - l1 if w < 0.0 else g)
    sum_of_squares(Gf, n_params, LS, lane0, acc)
    for i in range(NL):
        gnorm = math.sqrt(combine(acc, i))
        LW[W_GNORM, lane0 + i] = gnorm
        bl = LW[W_LOSS, lane0 + i]
        if LW[W_ACTIVE, lane0 + i] != 0.0 and (
            math.isnan(bl) or math.isinf(bl) or math.isnan(gnorm) or math.isinf(gnorm)
        ):
            status[lane0 + i] = DIVERGED
            stop_step[lane0 + i] = t + 1
            LW[W_ACTIVE, lane0 + i] = 0.0
    if clip_norm > 0.0:
        for i in range(NL):
            gnorm = LW[W_GNORM, lane0 + i]
            acc[0, i] = clip_norm / gnorm if gnorm > clip_norm else 1.0
        for p in range(n_params):
            for i in range(NL):
                Gf[p * LS + lane0 + i] *= acc[0, i]
    for i in range(NL):
        m = lane0 + i
        LW[W_LR, m] = schedule_lr(sched_code[m], sched_params, m, hyper[rules.H_LR, m], t)
        LW[W_FIRST, m] = 1.0 if scalars[rules.S_STEP, m] == 0.0 else 0.0


def after_update(th, thf, avgf, polyak, status, stop_step, t, LW, acc, stage, l0):
    """Step ``t``'s work after the optimizer, the same for every rule: non-finite parameters
    stop a lane; the Polyak average of the running lanes."""
    lane0 = l0 if DEVICE else 0
    LS = th.shape[1] if DEVICE else NL
    n_params = th.shape[0]
    sum_of_squares(thf, n_params, LS, lane0, acc)
    for i in range(NL):
        psq = combine(acc, i)
        if LW[W_ACTIVE, lane0 + i] != 0.0 and (math.isnan(psq) or math.isinf(psq)):
            status[lane0 + i] = DIVERGED
            stop_step[lane0 + i] = t + 1
            LW[W_ACTIVE, lane0 + i] = 0.0
    if polyak > 0.0:
        for p in range(n_params):
            q = p * LS + lane0
            for i in range(NL):
                stage[0, i] = polyak * avgf[q + i] + (1.0 - polyak) * thf[q + i]
            for i in range(NL):
                if LW[W_ACTIVE, lane0 + i] != 0.0:
                    avgf[q + i] = stage[0, i]


def evaluate_sets(
    ev, sizes, woff, uoff, lay, act, loss, Xt, Yt, Xv, Yv, A, D, T, G, DX, idx, LW, rows, l0
):
    """Every lane's mean loss and error on the evaluated rows of both sets (``Xt``, ``Yt`` and
    ``Xv``, ``Yv``) with parameters ``ev``, into ``LW[W_TRAIN_LOSS ..]``: blocks of EVAL_ROWS
    rows, forward passes only."""
    lane0 = l0 if DEVICE else 0
    n_out = sizes[sizes.shape[0] - 1]
    no = not (Xt.shape[0] >= 0)  # False as a run-time value (see the module docstring)
    for which in range(2):
        Xe = Xt if which == 0 else Xv
        Ye = Yt if which == 0 else Yv
        n_rows = Xe.shape[0]
        for i in range(lane0, lane0 + NL):
            LW[W_TOTAL, i] = 0.0
            LW[W_ERRORS, i] = 0.0
        for first_row in range(0, n_rows, EVAL_ROWS):
            m = min(EVAL_ROWS, n_rows - first_row)
            for r in range(m):
                if FAMILY == MANY:
                    for i in range(lane0, lane0 + NL):
                        idx[r, i] = first_row + r
                else:
                    idx[r] = first_row + r
            batch_pass(
                ev,
                sizes,
                woff,
                uoff,
                lay,
                act,
                loss,
                Xe,
                Ye,
                idx,
                m,
                not no,
                1.0,
                no,
                no,
                A,
                D,
                T,
                G,
                DX,
                LW,
                rows,
                lane0,
            )
            for i in range(lane0, lane0 + NL):
                LW[W_TOTAL, i] += LW[W_PART, i]
                LW[W_ERRORS, i] += LW[W_PERR, i]
        for i in range(lane0, lane0 + NL):
            mean = math.nan
            error = math.nan
            if n_rows > 0 and loss == rules.MSE:
                mean = LW[W_TOTAL, i] / (n_rows * n_out)
                error = math.sqrt(mean)
            elif n_rows > 0:
                mean = LW[W_TOTAL, i] / n_rows
                error = LW[W_ERRORS, i] / n_rows
            LW[W_TRAIN_LOSS + which, i] = mean
            LW[W_TRAIN_ERR + which, i] = error


def steps(
    th, slots, scalars, hyper, avg, opt_code, sched_code, sched_params, layer_lr, model, order,
    status, stop_step, best_val, bad_evals, best, out,
    sizes, woff, uoff, lay, act, loss, X, Y, Xt, Yt, Xv, Yv,
    perms, epoch_base, batch, t0, n_steps, eval_every,
    clip_norm, l1, polyak, patience, adv_eps, adv_mix, evaluate_only,
    A, D, T, G, DX, idx, coef, LW, rows, thf, Gf, avgf, sf, l0,
):  # fmt: skip
    """Advance lanes ``l0 .. l0 + NL - 1`` by ``n_steps`` steps (see the module docstring).

    Batches are drawn from the training set ``X, Y``; evaluations run on the rows ``Xt, Yt``
    (the training set itself, or the engine's fixed sample of a large one) and ``Xv, Yv`` (the
    validation set or its sample). With ``evaluate_only``, train nothing: evaluate every lane as
    it is (on its Polyak average when on) into ``out[0, :4]`` (``Engine.evaluate``).

    The per-parameter loops run over flat views of ``th``, ``G``, ``avg`` and the slots
    (``thf``, ``Gf``, ``avgf``, ``sf`` (N_SLOTS, P * lanes), made by the caller): element
    ``p * LS + i`` is parameter ``p`` of lane ``i``; on the CPU the lane stride LS is the
    constant NL, so that one model's parameters (NL = 1) or a block's lanes (NL = LANES) are
    adjacent in memory.

    Only the optimizer's step is written here; the work before it (``gradient_step``) and the
    evaluations (``evaluate_sets``) are functions of their own, compiled once per family and
    shared by every rule's kernel, so that another optimizer compiles only this loop, its update
    and the small ``after_update`` (inlined: a call after the update costs more than it saves).
    """
    lane0 = l0 if DEVICE else 0  # a constant on the CPU: the lanes' addresses are then known
    # NL and l0 as run-time values for calls where a constant would only compile another copy
    lanes_n = NL + 0 * l0
    n_params = th.shape[0]
    n_layers = sizes.shape[0] - 1
    LS = th.shape[1] if DEVICE else NL
    s0f = sf[0]
    s1f = sf[1]
    s2f = sf[2]
    # the lanes' hyper-parameters and step coefficients in local arrays: the compiler then
    # knows that the state the update writes does not change them
    hl = scratch_rows(N_HYPER, NL)
    cl = scratch_rows(N_COEF, NL)
    acc = scratch_rows(8, NL)
    stage = scratch_rows(4, NL)
    for i in range(NL):
        for k in range(N_HYPER):
            hl[k, i] = hyper[k, lane0 + i]
        LW[W_ACTIVE, lane0 + i] = 1.0 if status[lane0 + i] == 0 else 0.0
    r_out = 0 * t0  # not the literal 0: calls typed with it would compile another copy
    for s in range(1 if evaluate_only else n_steps):
        t = t0 + s
        if not evaluate_only:
            running = False
            for i in range(lane0, lane0 + NL):
                running = running or LW[W_ACTIVE, i] != 0.0
            if not running:
                break
            gradient_step(
                th, hyper, scalars, sched_code, sched_params, order, status, stop_step,
                (sizes, woff, uoff, lay), act, loss, X, Y, perms, epoch_base, batch, t,
                (clip_norm, l1, adv_eps, adv_mix), A, D, T, G, DX, idx, LW, rows, thf, Gf, acc, l0,
            )  # fmt: skip
            # the optimizer: a stopped lane keeps its state
            for i in range(NL):
                m = lane0 + i
                lr = LW[W_LR, m]
                if LW[W_ACTIVE, m] != 0.0:
                    if CODE >= 0:
                        step_coefficients(CODE, hyper, lr, scalars, coef, m)
                    else:
                        step_coefficients(opt_code[m], hyper, lr, scalars, coef, m)
                for k in range(N_COEF):
                    cl[k, i] = coef[k, m]
                acc[0, i] = lr
                acc[1, i] = LW[W_FIRST, m]
                acc[2, i] = LW[W_ACTIVE, m]
            # layer by layer, each at its own rate: the lane's rate times the layer's factor
            # (the coefficients that hold the rate recomputed as ``step_coefficients`` does);
            # without layer options, every parameter at once at the lane's rate
            for layer in range(1, (n_layers if LAYERED else 1) + 1):
                p_lo = woff[layer] if LAYERED else 0
                p_hi = woff[layer + 1] if LAYERED and layer < n_layers else n_params
                for i in range(NL):
                    m = lane0 + i
                    if LAYERED:
                        lr_l = acc[0, i] * layer_lr[layer - 1, m]
                        acc[3, i] = lr_l
                        cl[rules.C_CLR, i] = lr_l / (
                            1.0 + (scalars[rules.S_STEP, m] - 1.0) * hl[rules.H_LR_DECAY, i]
                        )
                        cl[rules.C_STEP, i] = lr_l / cl[rules.C_BC1, i]
                    else:
                        acc[3, i] = acc[0, i]
                if CODE < 0:
                    for i in range(NL):
                        if acc[2, i] != 0.0:
                            update_lane(
                                opt_code[lane0 + i],
                                thf,
                                Gf,
                                s0f,
                                s1f,
                                s2f,
                                acc[3, i],
                                hl,
                                cl,
                                i,
                                acc[1, i] != 0.0,
                                p_lo,
                                p_hi,
                                LS,
                                lane0 + i,
                            )
                elif FAMILY == MANY and not DEVICE:
                    # all lanes of one parameter are updated in registers (vector
                    # instructions), then stored, except for the lanes that stopped
                    every = True
                    for i in range(NL):
                        every = every and acc[2, i] != 0.0
                    for p in range(p_lo, p_hi):
                        q = p * LS + lane0
                        for i in range(NL):
                            stage[0, i], stage[1, i], stage[2, i], stage[3, i] = update_param(
                                CODE,
                                thf[q + i],
                                Gf[q + i],
                                s0f[q + i],
                                s1f[q + i],
                                s2f[q + i],
                                acc[3, i],
                                hl,
                                cl,
                                i,
                                acc[1, i] != 0.0,
                            )
                        if every:
                            for i in range(NL):
                                thf[q + i] = stage[0, i]
                                s0f[q + i] = stage[1, i]
                                s1f[q + i] = stage[2, i]
                                s2f[q + i] = stage[3, i]
                        else:
                            for i in range(NL):
                                if acc[2, i] != 0.0:
                                    thf[q + i] = stage[0, i]
                                    s0f[q + i] = stage[1, i]
                                    s1f[q + i] = stage[2, i]
                                    s2f[q + i] = stage[3, i]
                elif acc[2, 0] != 0.0:
                    lr = acc[3, 0]
                    first = acc[1, 0] != 0.0
                    for p in range(p_lo, p_hi):
                        q = p * LS + lane0
                        thf[q], s0f[q], s1f[q], s2f[q] = update_param(
                            CODE, thf[q], Gf[q], s0f[q], s1f[q], s2f[q], lr, hl, cl, 0, first
                        )
            after_update(th, thf, avgf, polyak, status, stop_step, t, LW, acc, stage, l0)
            if (t + 1) % eval_every != 0:
                continue
        # evaluation (on the Polyak average when it is on) on the evaluated rows of both sets
        ev = avg if polyak > 0.0 else th
        evaluate_sets(
            ev, sizes, woff, uoff, lay, act, loss, Xt, Yt, Xv, Yv, A, D, T, G, DX, idx, LW, rows, l0
        )  # fmt: skip
        if evaluate_only:
            for i in range(lane0, lane0 + NL):
                if status[i] != PADDING:
                    for c in range(4):
                        out[0, c, model[i]] = LW[W_TRAIN_LOSS + c, i]
            break
        record(
            ev,
            LW,
            out,
            r_out,
            model,
            t,
            status,
            stop_step,
            best_val,
            bad_evals,
            best,
            patience * (Xv.shape[0] > 0),
            l0 + 0 * lanes_n,
            lanes_n,
        )
        r_out += 1


@njit(**KW_INLINE)
def sum_of_squares(xf, n_params, LS, l0, acc):
    """Per lane ``i``, the sum of ``xf[p * LS + l0 + i] ** 2`` over p, in eight partial sums
    ``acc[k, i]`` over p = k (mod 8), added by ``combine``: a fixed order of summation (the same
    in every family and backend) whose partial sums vectorise."""
    nl = acc.shape[1]
    for k in range(8):
        for i in range(nl):
            acc[k, i] = 0.0
    whole = n_params - n_params % 8
    for p0 in range(0, whole, 8):
        for k in range(8):
            base = (p0 + k) * LS + l0
            for i in range(nl):
                x = xf[base + i]
                acc[k, i] += x * x
    for p in range(whole, n_params):
        base = p * LS + l0
        for i in range(nl):
            x = xf[base + i]
            acc[p - whole, i] += x * x


@njit(**KW_INLINE)
def combine(acc, i):
    """The sum of the eight partial sums of lane ``i``, in a fixed order."""
    return ((acc[0, i] + acc[1, i]) + (acc[2, i] + acc[3, i])) + (
        (acc[4, i] + acc[5, i]) + (acc[6, i] + acc[7, i])
    )


@njit(**KW)
def update_lane(code, thf, Gf, s0f, s1f, s2f, lr, hyper, coef, lane, first, p_lo, p_hi, LS, q0):
    """One optimizer step on parameters ``p_lo .. p_hi - 1`` of one lane (elements
    ``q0 + p * LS``), with the rule read at run time (the MIXED kernels: models of different
    optimizers side by side)."""
    for p in range(p_lo, p_hi):
        q = q0 + p * LS
        thf[q], s0f[q], s1f[q], s2f[q] = update_param(
            code, thf[q], Gf[q], s0f[q], s1f[q], s2f[q], lr, hyper, coef, lane, first
        )


@functools.cache
def _plain_passes() -> dict:
    """The forward and backward passes compiled without the layer options (``cpu.LAYERED``)."""
    from . import lanes

    passes = {
        name: cpu.plain_copy(getattr(cpu, name), cpu.KW_LOOPS if "loops" in name else KW)
        for name in ("forward_loops", "forward_blas", "backward_loops", "backward_blas")
    }
    passes.update(
        {
            name: cpu.plain_copy(getattr(lanes, name), KW_INLINE)
            for name in ("forward_lanes", "backward_lanes")
        }
    )
    return passes


@functools.cache
def _after_update(family: int):
    """``after_update`` for a family (it does not read the layers), inlined where it is called."""
    constants = {"FAMILY": family, "NL": LANES if family == MANY else 1}
    return njit(**KW_INLINE)(
        specialise(after_update, f"after_update_{FAMILIES[family]}", **constants)
    )


@functools.cache
def _family(family: int, blas: bool, layered: bool) -> dict:
    """The parts of ``steps`` that do not depend on the optimizer (the batch's pass, the work
    before and after the optimizer's step, the evaluations), compiled for a family, product
    method and the layer options: shared by every rule's kernel, so that another optimizer
    compiles only its own ``steps``."""
    tag = FAMILIES[family] + ("_blas" if blas else "") + ("_layered" if layered else "")
    constants = {
        "FAMILY": family,
        "BLAS": blas,
        "NL": LANES if family == MANY else 1,
        "LAYERED": layered,
    }
    passes = {} if layered else _plain_passes()
    # the many-model pass keeps the runtime: its lanes' scratch arrays need it
    options = KW_PART if family == SINGLE else KW
    parts = {
        "batch_pass": njit(**options)(specialise(batch_pass, f"pass_{tag}", **constants, **passes))
    }
    for name, template in (("gradient_step", gradient_step), ("evaluate_sets", evaluate_sets)):
        parts[name] = njit(**KW_PART)(specialise(template, f"{name}_{tag}", **constants, **parts))
    return {**constants, **parts, "after_update": _after_update(family)}


@functools.cache
def kernel(family: int, code: int, blas: bool = False, layered: bool = False):
    """The compiled ``steps`` of one family (SINGLE or MANY), optimizer rule (a code of
    ``rules``, or MIXED), for SINGLE product method (BLAS or loops), and with or without the
    layer options (a network without biases or with pre-activation factors, or per-layer rates
    other than 1: ``layered``); compiled or loaded from Numba's cache on its first call."""
    blas = bool(blas) and family == SINGLE
    layered = bool(layered)
    tag = (
        f"{FAMILIES[family]}_{'mixed' if code == MIXED else code}"
        + ("_blas" if blas else "")
        + ("_layered" if layered else "")
    )
    return njit(**KW)(
        specialise(steps, f"steps_{tag}", CODE=code, **_family(family, blas, layered))
    )


def flat_views(theta, G, avg, slots) -> tuple:
    """``(thf, Gf, avgf, sf)``: the flat views ``steps`` takes beside the arrays themselves."""
    return theta.reshape(-1), G.reshape(-1), avg.reshape(-1), slots.reshape(rules.N_SLOTS, -1)


def workspace_shapes(sizes, batch: int) -> tuple:
    """Shapes of one model's share of the many-model workspaces ``(A, D, G, DX, idx, coef, LW)``
    (each gets the model axis last: a CPU block has LANES of them, the CUDA launch one per
    model); ``experiment.memory_estimate`` counts them."""
    sizes = [int(s) for s in sizes]
    rows = max(batch, cpu.EVAL_ROWS)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    return (
        (rows, sum(sizes)),
        (2, rows, max(sizes)),
        (n_params,),
        (rows, sizes[0]),
        (rows,),
        (rules.N_COEF,),
        (N_LANE_WORK,),
    )


def workspaces(family: int, sizes, n_params: int, n_inputs: int, batch: int) -> tuple:
    """``(A, D, T, G, DX, idx, coef, LW, rows)`` for one call of a family's kernel."""
    rows = max(batch, cpu.EVAL_ROWS)
    sizes = [int(s) for s in sizes]
    lanes = LANES if family == MANY else 1
    if family == MANY:
        A = np.empty((rows, sum(sizes), LANES))
        D = np.empty((2, rows, max(sizes), LANES))
        T = np.empty(0)
        DX = np.empty((rows, n_inputs, LANES))
        idx = np.empty((rows, LANES), dtype=np.int64)
    else:
        A = np.empty(rows * sum(sizes))
        D = np.empty(2 * rows * max(sizes))
        T = np.empty(max(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)))
        DX = np.empty((rows, n_inputs))
        idx = np.empty(rows, dtype=np.int64)
    return (
        A,
        D,
        T,
        np.empty((n_params, lanes)),
        DX,
        idx,
        np.zeros((rules.N_COEF, lanes)),
        np.zeros((N_LANE_WORK, lanes)),
        rows,
    )


def kernel_ready(family: int, code: int, blas: bool = False, layered: bool = False) -> bool:
    """Whether this process has that kernel compiled or loaded already."""
    return bool(kernel(family, code, blas, layered).signatures)


def family_of(n_models: int) -> int:
    return SINGLE if n_models == 1 else MANY


def code_of(codes) -> int:
    """The kernel's rule for a run's optimizer codes: their common code, else MIXED."""
    codes = {int(c) for c in codes}
    return codes.pop() if len(codes) == 1 else MIXED
