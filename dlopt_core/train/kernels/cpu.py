"""Single-model kernels: one model's forward and backward passes, evaluation and update.

Layout conventions (see ``dlopt_core.train.network``): ``theta`` is one model's flat parameter
vector, per
layer W of shape (n_in, n_out) row-major, then b. ``woff[l]`` is where layer ``l``'s W starts (``l``
= 1..L), ``uoff[l]`` where layer ``l``'s units start in the list of all units (``uoff[0] = 0`` is
the input); without biases (``Network(bias=False)``) there is no b. ``lay`` (2, L + 1) describes the
layers: ``lay[0, l]`` multiplies layer ``l``'s pre-activation (1, or the mean-field factor),
``lay[1, l]`` is 1 when the layer has biases, else 0. The activation workspace ``A`` is flat and
layer-major: layer ``l``'s activations for ``n`` rows are the contiguous (n, size_l) matrix at
``rows * uoff[l]`` (``rows`` the workspace's capacity), so that a layer's product can go to BLAS
without a copy. The deltas ``D`` are two such matrices of up to ``widest`` columns.

Two ways to compute the products: explicit loops (``*_loops``), whose sums run in exactly the
order of the many-model kernels (``kernels/lanes.py``), so that a model alone and a model among
others get the same numbers bit for bit; and BLAS ``gemm`` (``*_blas``) into the same
workspaces, used for wide layers (``use_blas``), where it is faster and the order of its sums is
its own. The entry points are templates on the constant ``BLAS``, compiled as two copies
(``LOOPS`` and ``WITH_BLAS``): a network's kernels compile only the method it uses. Every kernel
takes plain arrays; the Python layer checks and shapes them once, outside the loops.
"""

import math
import warnings

import numpy as np
from numba import config, njit
from numba import types as nbtypes
from numba.core.errors import NumbaPerformanceWarning
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from . import rules, specialise
from .leaves import (
    activate,
    activation_slope,
    bce_with_logit,
    fma,
    step_coefficients,
    tanh_fast,
    update_param,
)

# np.dot on the transposed views of the workspaces is what BLAS takes without a copy
warnings.filterwarnings(
    "ignore", message=".*np.dot.. is faster on contiguous", category=NumbaPerformanceWarning
)
# The many-model kernels are written as loops over a fixed number of adjacent lanes; LLVM's
# superword-level (SLP) vectoriser turns them into vector instructions. Numba leaves it off by
# default; it only adds vector code where it pays, so it is turned on for the whole process.
config.SLP_VECTORIZE = 1

KW = {"cache": True, "nogil": True, "error_model": "numpy", "_nrt": True}
# The loop passes allocate nothing: compiled without Numba's reference counts, the views they
# make of the workspaces on every step cost nothing (see ``KW_PART`` in ``kernels/train.py``)
KW_LOOPS = {**KW, "_nrt": False}
# small helpers, inlined where they are called (the hot loops are in functions of their own:
# LLVM vectorises a loop in a small function more reliably than the same loop inlined into a
# big one)
KW_INLINE = {**KW, "inline": "always"}
EVAL_ROWS = 64  # rows per block when evaluating a whole data set
N_RECORD = 6  # train loss, val loss, train error, val error, gradient norm, learning rate
DIVERGED, EARLY_STOPPED = 1, 2
BLAS_MIN = 2048  # a layer of n_in * n_out >= this many weights goes to BLAS
# Whether the passes read the layer table ``lay`` (no biases, pre-activation factors). The
# functions here read it; the training kernels of a network with biases and factors 1 call
# copies compiled with LAYERED = False (``plain_copy``), whose loops are those of a network
# without these options: the usual network pays nothing for them.
LAYERED = True


def use_blas(sizes) -> bool:
    """Whether a network's products go to BLAS (some layer is wide) or to the loops."""
    sizes = [int(s) for s in sizes]
    return max(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)) >= BLAS_MIN


def layout(sizes, bias: bool = True):
    """``(woff, uoff)`` offset arrays for a list of layer sizes (see the module docstring);
    without ``bias`` a layer's weights are followed directly by the next layer's."""
    sizes = np.asarray(sizes, dtype=np.int64)
    woff = np.zeros(len(sizes), dtype=np.int64)
    uoff = np.zeros(len(sizes), dtype=np.int64)
    pos = 0
    for layer in range(1, len(sizes)):
        woff[layer] = pos
        pos += sizes[layer - 1] * sizes[layer] + (sizes[layer] if bias else 0)
        uoff[layer] = uoff[layer - 1] + sizes[layer - 1]
    return woff, uoff


@njit(**KW_INLINE)
def units(sizes):
    """``(total units, widest layer)`` of a network."""
    total = 0
    widest = 0
    for s in sizes:
        total += s
        widest = max(widest, s)
    return total, widest


@njit(**KW)
def workspaces(sizes, rows):
    """``(A, D, T)``: activations, deltas and a product buffer for up to ``rows`` rows."""
    total, widest = units(sizes)
    biggest = 1
    for layer in range(1, sizes.shape[0]):
        biggest = max(biggest, sizes[layer - 1] * sizes[layer])
    return np.empty(rows * total), np.empty(2 * rows * widest), np.empty(biggest)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def dot(a, b, n):
    """Sum of ``a[j] * b[j]`` for j < n, vectorised (the order of the sum may change); the LSTM's
    (``dlopt_core.train.lstm``) products over a batch."""
    s = 0.0
    for j in range(n):
        s += a[j] * b[j]
    return s


def _contiguous_view(context, builder, source_type, source, view_type, offset, shape):
    """Codegen of a C-contiguous view of ``view_type`` with ``shape`` (LLVM integers) on the
    memory of the C-contiguous array ``source`` from element ``offset`` on, sharing its memory
    and its reference (``impl_ret_borrowed`` counts the new one)."""
    intp = nbtypes.intp
    src = context.make_array(source_type)(context, builder, source)
    itemsize = context.get_constant(intp, context.get_abi_sizeof(src.data.type.pointee))
    strides = [itemsize]
    for extent in reversed(shape[1:]):
        strides.insert(0, builder.mul(extent, strides[0]))
    view = context.make_array(view_type)(context, builder)
    populate_array(
        view,
        data=builder.gep(src.data, [offset]),
        shape=list(shape),
        strides=strides,
        itemsize=itemsize,
        meminfo=src.meminfo,
        parent=src.parent,
    )
    return impl_ret_borrowed(context, builder, view_type, view._getvalue())


@intrinsic
def _view(typingctx, buf, base, n, width):
    """The C-contiguous (n, width) view of the 1-D contiguous ``buf`` at ``base`` (sharing its
    memory and reference), made in place: ``buf[base : base + n * width].reshape((n, width))``
    calls a C helper of Numba's on every reshape, a twentieth of a small network's step. The
    caller keeps ``base + n * width <= buf.size`` (the workspaces are sized for it)."""
    if not (isinstance(buf, nbtypes.Array) and buf.ndim == 1 and buf.layout == "C"):
        return None
    view_type = buf.copy(ndim=2, layout="C")

    def codegen(context, builder, signature, args):
        base, n, width = (
            context.cast(builder, v, t, nbtypes.intp)
            for v, t in zip(args[1:], signature.args[1:], strict=True)
        )
        return _contiguous_view(
            context, builder, signature.args[0], args[0], view_type, base, (n, width)
        )

    return view_type(buf, base, n, width), codegen


@intrinsic
def flat(typingctx, a):
    """All of the C-contiguous array ``a`` as a 1-D view (``a.reshape(a.size)``, made in place
    as ``_view`` is)."""
    if not (isinstance(a, nbtypes.Array) and a.layout == "C"):
        return None
    view_type = a.copy(ndim=1, layout="C")

    def codegen(context, builder, signature, args):
        size = context.make_array(signature.args[0])(context, builder, args[0]).nitems
        zero = context.get_constant(nbtypes.intp, 0)
        return _contiguous_view(
            context, builder, signature.args[0], args[0], view_type, zero, (size,)
        )

    return view_type(a), codegen


@njit(**KW_INLINE)
def block(buf, base, n, width):
    """The contiguous (n, width) matrix of a flat workspace (or of the parameters) at ``base``."""
    return _view(buf, base, n, width)


@njit(**KW_LOOPS)
def activate_row(act, v):
    """Apply the activation to every entry of ``v`` (a layer's block of rows, contiguous); one
    branch per block, so that the loop vectorises."""
    n = v.shape[0]
    if act == rules.TANH:
        for j in range(n):
            v[j] = tanh_fast(v[j])
    elif act == rules.RELU:
        for j in range(n):
            v[j] = 0.0 if 0.0 > v[j] else v[j]  # max(v, 0), vectorisable
    else:
        for j in range(n):
            v[j] = activate(act, v[j])


@njit(**KW_INLINE)
def scale_rows(z, n, width, factor):
    """``z[:n, :width] *= factor`` (a layer's pre-activation factor, ``Network.lay``; nothing
    to do for the usual factor 1)."""
    if factor != 1.0:
        for r in range(n):
            for j in range(width):
                z[r, j] *= factor


@njit(**KW_INLINE)
def load_inputs(A, X, idx, n, n_in):
    """The batch's rows ``X[idx]`` into the input block of ``A`` (nothing when ``idx`` is empty:
    the caller has put them there)."""
    if idx.shape[0] > 0:
        a0 = block(A, 0, n, n_in)
        for r in range(n):
            src = idx[r]
            for k in range(n_in):
                a0[r, k] = X[src, k]


@njit(**KW_LOOPS)
def forward_loops(theta, sizes, woff, uoff, lay, act, X, idx, n, A, rows):
    """Fill the activation blocks of ``A`` for the rows ``X[idx[:n]]`` (with ``idx`` empty, from
    the input block already in ``A``); the logits stay linear.

    Unit j of a row: b_j + a_0 W_0j + a_1 W_1j + ..., summed in that order.
    """
    n_layers = sizes.shape[0] - 1
    load_inputs(A, X, idx, n, sizes[0])
    for layer in range(1, n_layers + 1):
        n_in = sizes[layer - 1]
        n_out = sizes[layer]
        w0 = woff[layer]
        a_in = block(A, rows * uoff[layer - 1], n, n_in)
        z = block(A, rows * uoff[layer], n, n_out)
        W = block(theta, w0, n_in, n_out)
        bias = theta[w0 + n_in * n_out : w0 + n_in * n_out + n_out]
        has_bias = lay[1, layer] != 0.0 if LAYERED else True
        for r in range(n):
            for j in range(n_out):
                z[r, j] = bias[j] if has_bias else 0.0
            for k in range(n_in):
                a = a_in[r, k]
                for j in range(n_out):
                    z[r, j] = fma(a, W[k, j], z[r, j])
        scale_rows(z, n, n_out, lay[0, layer] if LAYERED else 1.0)
        if layer < n_layers:
            activate_row(act, A[rows * uoff[layer] : rows * uoff[layer] + n * n_out])


@njit(**KW)
def forward_blas(theta, sizes, woff, uoff, lay, act, X, idx, n, A, rows):
    """``forward_loops`` with the products by BLAS: Z = A_in W, then + b and the activation."""
    n_layers = sizes.shape[0] - 1
    load_inputs(A, X, idx, n, sizes[0])
    for layer in range(1, n_layers + 1):
        n_in = sizes[layer - 1]
        n_out = sizes[layer]
        w0 = woff[layer]
        a_in = block(A, rows * uoff[layer - 1], n, n_in)
        z = block(A, rows * uoff[layer], n, n_out)
        W = block(theta, w0, n_in, n_out)
        bias = theta[w0 + n_in * n_out : w0 + n_in * n_out + n_out]
        np.dot(a_in, W, z)
        if not LAYERED or lay[1, layer] != 0.0:
            for r in range(n):
                for j in range(n_out):
                    z[r, j] += bias[j]
        scale_rows(z, n, n_out, lay[0, layer] if LAYERED else 1.0)
        if layer < n_layers:
            activate_row(act, A[rows * uoff[layer] : rows * uoff[layer] + n * n_out])


@njit(**KW_LOOPS)
def output_loss(loss, Z, Y, idx, n, delta, scale, want_delta):
    """Sum of per-row losses and errors of the logits ``Z`` (n, n_out).

    Per row: bce and ce give the loss and a 0/1 error, mse the sum over outputs of the squared
    error (for both). With ``want_delta`` it writes ``scale * dloss/dlogit`` into ``delta``.
    """
    n_out = Z.shape[1]
    total = 0.0
    errors = 0.0
    for r in range(n):
        src = idx[r]
        if loss == rules.BCE:
            z = Z[r, 0]
            y = Y[src, 0]
            row_loss, slope = bce_with_logit(z, y)
            total += row_loss
            if (z > 0.0) != (y > 0.5):
                errors += 1.0
            if want_delta:
                delta[r, 0] = scale * slope
        elif loss == rules.CE:
            label = int(Y[src, 0])
            zmax = Z[r, 0]
            best = 0
            for j in range(1, n_out):
                if Z[r, j] > zmax:
                    zmax = Z[r, j]
                    best = j
            s = 0.0
            for j in range(n_out):
                s += math.exp(Z[r, j] - zmax)
            total += zmax + math.log(s) - Z[r, label]
            if best != label:
                errors += 1.0
            if want_delta:
                for j in range(n_out):
                    p = math.exp(Z[r, j] - zmax) / s
                    delta[r, j] = scale * (p - (1.0 if j == label else 0.0))
        else:
            sq = 0.0
            for j in range(n_out):
                diff = Z[r, j] - Y[src, j]
                sq += diff * diff
                if want_delta:
                    delta[r, j] = scale * 2.0 * diff
            total += sq
            errors += sq
    return total, errors


@njit(**KW_INLINE)
def loss_scale(loss, n, n_out):
    """1 / (the number of terms of a batch's mean loss): rows, times outputs for mse."""
    if loss == rules.MSE:
        return 1.0 / (n * n_out)
    return 1.0 / n


@njit(**KW_LOOPS)
def backward_loops(theta, sizes, woff, uoff, lay, act, A, D, n, rows, widest, grad, dx):
    """Add the gradient of the rows' loss to ``grad``, from the output deltas in ``D``'s first
    block. With ``dx`` of shape (n, n_inputs) (else pass shape (0, 0)) it also writes the
    gradient with respect to the network's inputs there.

    Per weight: g + a_0 d_0 + a_1 d_1 + ... over the rows in order; the deltas of the layer below:
    (d_0 W_k0 + d_1 W_k1 + ...) * slope.
    """
    n_layers = sizes.shape[0] - 1
    cur = 0
    for layer in range(n_layers, 0, -1):
        n_in = sizes[layer - 1]
        n_out = sizes[layer]
        w0 = woff[layer]
        b0 = w0 + n_in * n_out
        a_in = block(A, rows * uoff[layer - 1], n, n_in)
        delta = block(D, cur * rows * widest, n, n_out)
        scale_rows(delta, n, n_out, lay[0, layer] if LAYERED else 1.0)
        has_bias = lay[1, layer] != 0.0 if LAYERED else True
        gbias = grad[b0 : b0 + n_out]
        gW = block(grad, w0, n_in, n_out)
        for r in range(n):
            if has_bias:
                for j in range(n_out):
                    gbias[j] += delta[r, j]
            for k in range(n_in):
                a = a_in[r, k]
                for j in range(n_out):
                    gW[k, j] = fma(a, delta[r, j], gW[k, j])
        if layer > 1 or dx.shape[0] > 0:
            W = block(theta, w0, n_in, n_out)
            back = dx if layer == 1 else block(D, (1 - cur) * rows * widest, n, n_in)
            for r in range(n):
                for k in range(n_in):
                    back[r, k] = 0.0
                for j in range(n_out):
                    dj = delta[r, j]
                    for k in range(n_in):
                        back[r, k] = fma(dj, W[k, j], back[r, k])
                if layer > 1:
                    for k in range(n_in):
                        back[r, k] *= activation_slope(act, a_in[r, k])
        cur = 1 - cur


@njit(**KW)
def backward_blas(theta, sizes, woff, uoff, lay, act, A, D, n, rows, widest, grad, dx, T):
    """``backward_loops`` with the products by BLAS (``T``: a buffer for one layer's dW)."""
    n_layers = sizes.shape[0] - 1
    cur = 0
    for layer in range(n_layers, 0, -1):
        n_in = sizes[layer - 1]
        n_out = sizes[layer]
        w0 = woff[layer]
        b0 = w0 + n_in * n_out
        a_in = block(A, rows * uoff[layer - 1], n, n_in)
        delta = block(D, cur * rows * widest, n, n_out)
        scale_rows(delta, n, n_out, lay[0, layer] if LAYERED else 1.0)
        if not LAYERED or lay[1, layer] != 0.0:
            gbias = grad[b0 : b0 + n_out]
            for r in range(n):
                for j in range(n_out):
                    gbias[j] += delta[r, j]
        gW = block(T, 0, n_in, n_out)
        np.dot(a_in.T, delta, gW)
        g = grad[w0:b0]
        flat = T[: n_in * n_out]
        for i in range(n_in * n_out):
            g[i] += flat[i]
        if layer > 1 or dx.shape[0] > 0:
            W = block(theta, w0, n_in, n_out)
            back = dx if layer == 1 else block(D, (1 - cur) * rows * widest, n, n_in)
            np.dot(delta, W.T, back)
            if layer > 1:
                for r in range(n):
                    for k in range(n_in):
                        back[r, k] *= activation_slope(act, a_in[r, k])
        cur = 1 - cur


@njit(**KW_INLINE)
def logits_block(sizes, uoff, A, n, rows):
    n_layers = sizes.shape[0] - 1
    return block(A, rows * uoff[n_layers], n, sizes[n_layers])


BLAS = False  # the product method of a template's copy (see the module docstring)


def loss_and_grad(theta, sizes, woff, uoff, lay, act, loss, X, Y, grad, dx):
    """Mean loss over all rows of ``X`` and its gradient (written into ``grad``).

    With ``dx`` shaped like ``X`` (else (0, 0)), also the gradient of the mean loss with respect
    to every input row (FGSM takes its sign).
    """
    n = X.shape[0]
    n_layers = sizes.shape[0] - 1
    rows = min(n, EVAL_ROWS)
    A, D, T = workspaces(sizes, rows)
    idx = np.empty(rows, dtype=np.int64)
    scale = loss_scale(loss, n, sizes[n_layers])
    _, widest = units(sizes)
    grad[:] = 0.0
    total = 0.0
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        if BLAS:
            forward_blas(theta, sizes, woff, uoff, lay, act, X, idx, m, A, rows)
        else:
            forward_loops(theta, sizes, woff, uoff, lay, act, X, idx, m, A, rows)
        part, _ = output_loss(
            loss,
            logits_block(sizes, uoff, A, m, rows),
            Y,
            idx,
            m,
            block(D, 0, m, sizes[n_layers]),
            scale,
            True,
        )
        total += part
        back = dx[start : start + m] if dx.shape[0] > 0 else dx
        if BLAS:
            backward_blas(theta, sizes, woff, uoff, lay, act, A, D, m, rows, widest, grad, back, T)
        else:
            backward_loops(theta, sizes, woff, uoff, lay, act, A, D, m, rows, widest, grad, back)
    return total * scale


def predict(theta, sizes, woff, uoff, lay, act, X, out):
    """Write the logits of every row of ``X`` into ``out`` (n, n_out)."""
    n = X.shape[0]
    n_layers = sizes.shape[0] - 1
    rows = min(max(n, 1), EVAL_ROWS)
    A, _, _ = workspaces(sizes, rows)
    idx = np.empty(rows, dtype=np.int64)
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        if BLAS:
            forward_blas(theta, sizes, woff, uoff, lay, act, X, idx, m, A, rows)
        else:
            forward_loops(theta, sizes, woff, uoff, lay, act, X, idx, m, A, rows)
        z = logits_block(sizes, uoff, A, m, rows)
        for r in range(m):
            for j in range(sizes[n_layers]):
                out[start + r, j] = z[r, j]


def plain_copy(fn, options: dict):
    """``fn`` (a compiled pass of this module or of ``lanes``) compiled again with LAYERED =
    False: for networks with biases and factors 1 (``lay`` is not read)."""
    src = fn.py_func
    return njit(**options)(specialise(src, f"{src.__name__}_plain", LAYERED=False))


def _copies(template, **options):
    """The loops and the BLAS copy of a template, compiled with ``options``."""
    return tuple(
        njit(**options)(specialise(template, f"{template.__name__}_{tag}", BLAS=blas))
        for tag, blas in (("loops", False), ("blas", True))
    )


LOOPS, WITH_BLAS = 0, 1
loss_and_grad_by = _copies(loss_and_grad, **KW)  # [LOOPS] or [WITH_BLAS]
predict_by = _copies(predict, **KW)


@njit(**KW)
def optimizer_step(code, theta, grad, slots, scalars, hyper, lr):
    """One optimizer step on a flat vector (``Optimizer.step`` and the landscape).

    ``slots`` (N_SLOTS, P), ``scalars`` (N_SCALARS, 1), ``hyper`` (N_HYPER, 1) (``rules``): one
    model's state as lane 0.
    """
    coef = np.zeros((rules.N_COEF, 1))
    first = scalars[rules.S_STEP, 0] == 0.0
    step_coefficients(code, hyper, lr, scalars, coef, 0)
    s0 = slots[0]
    s1 = slots[1]
    s2 = slots[2]
    for i in range(theta.shape[0]):
        theta[i], s0[i], s1[i], s2[i] = update_param(
            code, theta[i], grad[i], s0[i], s1[i], s2[i], lr, hyper, coef, 0, first
        )
