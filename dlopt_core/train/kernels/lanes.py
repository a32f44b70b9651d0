"""Many-model kernels: models side by side in the SIMD lanes of the CPU, or in GPU threads.

Every array here has the model as its last, contiguous axis: ``th[p, i]`` is parameter ``p`` of
lane ``i``, ``A[r, u, i]`` unit ``u`` of row ``r``. A function works on lanes ``l0 .. l0 + NL - 1``.
On the CPU the arrays are one block's local copies, ``l0 = 0`` and ``NL = LANES``: every innermost
loop runs over a fixed number of adjacent lanes and becomes vector instructions (the sums are kept
in ``scratch`` registers). The CUDA build (``kernels/cuda.py``) compiles the same source with
``NL = 1`` and ``l0`` = the thread's model, on arrays that hold every model, so that neighbouring
threads read neighbouring addresses.

Each model's sums run in the order of the single-model loop kernels (``kernels/cpu.py``): a model
gets the same numbers, bit for bit, whichever family trains it, as long as its layers are narrow
enough for the loops there.
"""

import math

from numba import carray, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import rules
from .cpu import KW_INLINE
from .leaves import activate, activation_slope, bce_with_logit, fma, tanh_fast

LANES = 16  # models per block on the CPU: two AVX-512 vectors of float64
NL = LANES  # lanes a function works on (the CUDA build binds 1)
LAYERED = True  # read the layer table ``lay`` (see ``cpu.LAYERED``)


@intrinsic
def _stack_doubles(typingctx, rows, cols):
    """A pointer to ``rows * cols`` (constants) float64 on the stack of the calling function."""
    if not (isinstance(rows, types.IntegerLiteral) and isinstance(cols, types.IntegerLiteral)):
        return None
    count = rows.literal_value * cols.literal_value

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(types.float64), size=count)

    return types.CPointer(types.float64)(rows, cols), codegen


@njit(cache=True, inline="always")
def scratch():
    """NL float64 on the stack: per-lane sums that LLVM keeps in vector registers."""
    return carray(_stack_doubles(1, NL), (NL,))


@njit(cache=True, inline="always")
def scratch_rows(rows, cols):
    """A (rows, cols) float64 array on the stack (constants): per-lane values kept apart from
    the state arrays, so that the compiler knows the state's stores do not change them."""
    return carray(_stack_doubles(rows, cols), (rows, cols))


@njit(**KW_INLINE)
def gather_lanes(X, idx, n, A, l0):
    """Input units of rows ``X[idx[r, i]]`` (each lane its own row)."""
    d = X.shape[1]
    for r in range(n):
        for k in range(d):
            for i in range(l0, l0 + NL):
                A[r, k, i] = X[idx[r, i], k]


@njit(**KW_INLINE)
def activate_lanes(act, A, r, u0, nu, l0):
    """The activation on units ``u0 .. u0 + nu - 1`` of row ``r``."""
    if act == rules.TANH:
        for u in range(u0, u0 + nu):
            for i in range(l0, l0 + NL):
                A[r, u, i] = tanh_fast(A[r, u, i])
    elif act == rules.RELU:
        for u in range(u0, u0 + nu):
            for i in range(l0, l0 + NL):
                A[r, u, i] = 0.0 if 0.0 > A[r, u, i] else A[r, u, i]  # max(a, 0)
    else:
        for u in range(u0, u0 + nu):
            for i in range(l0, l0 + NL):
                A[r, u, i] = activate(act, A[r, u, i])


@njit(**KW_INLINE)
def forward_lanes(th, sizes, woff, uoff, lay, act, A, n, l0):
    """Activations of ``n`` rows from the input units of ``A``; logits stay linear."""
    n_layers = sizes.shape[0] - 1
    acc = scratch()
    for layer in range(1, n_layers + 1):
        n_in = sizes[layer - 1]
        n_out = sizes[layer]
        w0 = woff[layer]
        b0 = w0 + n_in * n_out
        i0 = uoff[layer - 1]
        o0 = uoff[layer]
        has_bias = lay[1, layer] != 0.0 if LAYERED else True
        factor = lay[0, layer] if LAYERED else 1.0
        for r in range(n):
            for j in range(n_out):
                if has_bias:
                    for i in range(NL):
                        acc[i] = th[b0 + j, l0 + i]
                else:
                    for i in range(NL):
                        acc[i] = 0.0
                for k in range(n_in):
                    w = w0 + k * n_out + j
                    for i in range(NL):
                        acc[i] = fma(A[r, i0 + k, l0 + i], th[w, l0 + i], acc[i])
                for i in range(NL):
                    A[r, o0 + j, l0 + i] = acc[i]
            if factor != 1.0:
                for j in range(n_out):
                    for i in range(l0, l0 + NL):
                        A[r, o0 + j, i] *= factor
            if layer < n_layers:
                activate_lanes(act, A, r, o0, n_out, l0)


@njit(**KW_INLINE)
def output_loss_lanes(loss, A, o0, n_out, Y, idx, n, D0, scale, want_delta, tot, err, l0):
    """Per lane, the sums of the rows' losses and errors into ``tot`` and ``err`` (as
    ``cpu.output_loss``); with ``want_delta``, ``scale * dloss/dlogit`` into ``D0``."""
    for i in range(l0, l0 + NL):
        tot[i] = 0.0
        err[i] = 0.0
    for r in range(n):
        for i in range(l0, l0 + NL):
            src = idx[r, i]
            if loss == rules.BCE:
                z = A[r, o0, i]
                y = Y[src, 0]
                row_loss, slope = bce_with_logit(z, y)
                tot[i] += row_loss
                if (z > 0.0) != (y > 0.5):
                    err[i] += 1.0
                if want_delta:
                    D0[r, 0, i] = scale * slope
            elif loss == rules.CE:
                label = int(Y[src, 0])
                zmax = A[r, o0, i]
                best = 0
                for j in range(1, n_out):
                    if A[r, o0 + j, i] > zmax:
                        zmax = A[r, o0 + j, i]
                        best = j
                s = 0.0
                for j in range(n_out):
                    s += math.exp(A[r, o0 + j, i] - zmax)
                tot[i] += zmax + math.log(s) - A[r, o0 + label, i]
                if best != label:
                    err[i] += 1.0
                if want_delta:
                    for j in range(n_out):
                        p = math.exp(A[r, o0 + j, i] - zmax) / s
                        D0[r, j, i] = scale * (p - (1.0 if j == label else 0.0))
            else:
                sq = 0.0
                for j in range(n_out):
                    diff = A[r, o0 + j, i] - Y[src, j]
                    sq += diff * diff
                    if want_delta:
                        D0[r, j, i] = scale * 2.0 * diff
                tot[i] += sq
                err[i] += sq


@njit(**KW_INLINE)
def backward_lanes(th, sizes, woff, uoff, lay, act, A, D, n, G, DX, to_input, l0):
    """Add each lane's gradient to ``G`` from the output deltas in ``D[0]``; with ``to_input``
    the gradient with respect to the input units goes to ``DX`` (rows, inputs, lanes)."""
    n_layers = sizes.shape[0] - 1
    acc = scratch()
    cur = 0
    for layer in range(n_layers, 0, -1):
        n_in = sizes[layer - 1]
        n_out = sizes[layer]
        w0 = woff[layer]
        b0 = w0 + n_in * n_out
        i0 = uoff[layer - 1]
        delta = D[cur]
        factor = lay[0, layer] if LAYERED else 1.0
        if factor != 1.0:
            for r in range(n):
                for j in range(n_out):
                    for i in range(l0, l0 + NL):
                        delta[r, j, i] *= factor
        if not LAYERED or lay[1, layer] != 0.0:
            for j in range(n_out):
                for i in range(NL):
                    acc[i] = G[b0 + j, l0 + i]
                for r in range(n):
                    for i in range(NL):
                        acc[i] += delta[r, j, l0 + i]
                for i in range(NL):
                    G[b0 + j, l0 + i] = acc[i]
        for k in range(n_in):
            for j in range(n_out):
                w = w0 + k * n_out + j
                for i in range(NL):
                    acc[i] = G[w, l0 + i]
                for r in range(n):
                    for i in range(NL):
                        acc[i] = fma(A[r, i0 + k, l0 + i], delta[r, j, l0 + i], acc[i])
                for i in range(NL):
                    G[w, l0 + i] = acc[i]
        if layer > 1 or to_input:
            back = D[1 - cur] if layer > 1 else DX
            for r in range(n):
                for k in range(n_in):
                    for i in range(NL):
                        acc[i] = 0.0
                    for j in range(n_out):
                        w = w0 + k * n_out + j
                        for i in range(NL):
                            acc[i] = fma(delta[r, j, l0 + i], th[w, l0 + i], acc[i])
                    if layer > 1:
                        for i in range(NL):
                            back[r, k, l0 + i] = acc[i] * activation_slope(
                                act, A[r, i0 + k, l0 + i]
                            )
                    else:
                        for i in range(NL):
                            back[r, k, l0 + i] = acc[i]
        cur = 1 - cur
