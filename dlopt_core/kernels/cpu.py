"""CPU backend: Numba kernels for forward/backward passes and many-model training.

Layout conventions (see ``dlopt_core.network``): ``theta[m]`` is one model's flat parameter vector,
per layer W of shape (n_in, n_out) row-major, then b. ``woff[l]`` is where layer ``l``'s W starts
(``l`` = 1..L), ``uoff[l]`` where layer ``l``'s units start in a row of the activation workspace
``A`` (``uoff[0] = 0`` is the input). Every kernel takes plain arrays; the Python layer checks and
shapes them once, outside the loops.
"""

import math
import types
import warnings

import numpy as np
from numba import njit, prange
from numba.core.errors import NumbaPerformanceWarning

from . import rules

# np.dot on strided views of the workspace copies them; that is cheaper than a second layout
warnings.filterwarnings("ignore", message=".*np.dot.. is faster on contiguous",
                        category=NumbaPerformanceWarning)

LEAVES = ("tanh_fast", "activate", "activation_slope", "bce_with_logit", "schedule_lr",
          "step_coefficients", "update_param")


def bind_leaves(decorate) -> dict:
    """Compile the leaves of ``rules`` with ``decorate``, each seeing the others' compiled forms.

    The leaves are recreated from their code with a namespace in which their names refer to the
    compiled versions, so a leaf may call another (``activate`` calls ``tanh_fast``); the CUDA
    backend uses the same function with ``cuda.jit(device=True)``.
    """
    names = dict(vars(rules))
    for name in LEAVES:
        src = getattr(rules, name)
        names[name] = decorate(types.FunctionType(src.__code__, names, name, src.__defaults__))
    return names


_LEAF = bind_leaves(njit(cache=True, error_model="numpy", inline="always"))
tanh_fast = _LEAF["tanh_fast"]
activate = _LEAF["activate"]
activation_slope = _LEAF["activation_slope"]
bce_with_logit = _LEAF["bce_with_logit"]
schedule_lr = _LEAF["schedule_lr"]
step_coefficients = _LEAF["step_coefficients"]
update_param = _LEAF["update_param"]

_FAST = {"reassoc", "nsz", "contract"}  # lets sums vectorise; NaN and inf still propagate
EVAL_ROWS = 64  # rows per block when evaluating a whole data set
N_RECORD = 6  # train loss, val loss, train error, val error, gradient norm, learning rate
DIVERGED, EARLY_STOPPED = 1, 2


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def dot(a, b, n):
    """Sum of ``a[j] * b[j]`` for j < n, vectorised (the order of the sum may change)."""
    s = 0.0
    for j in range(n):
        s += a[j] * b[j]
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def activate_row(act, v):
    """Apply the activation to every entry of ``v``; one branch per row, so the loop vectorises."""
    n = v.shape[0]
    if act == rules.TANH:
        for j in range(n):
            v[j] = tanh_fast(v[j])
    elif act == rules.RELU:
        for j in range(n):
            v[j] = max(v[j], 0.0)
    else:
        for j in range(n):
            v[j] = activate(act, v[j])


@njit(cache=True, nogil=True, error_model="numpy")
def layer_forward_loops(theta, w0, n_in, n_out, A, i0, o0, n, act, hidden):
    """``A[r, o0:o0+n_out] = act(A[r, i0:i0+n_in] W + b)`` for r < n, with explicit loops."""
    bias = theta[w0 + n_in * n_out : w0 + n_in * n_out + n_out]
    for r in range(n):
        inp = A[r, i0 : i0 + n_in]
        out = A[r, o0 : o0 + n_out]
        for j in range(n_out):
            out[j] = bias[j]
        for k in range(n_in):
            a = inp[k]
            if a != 0.0:
                w = theta[w0 + k * n_out : w0 + (k + 1) * n_out]
                for j in range(n_out):
                    out[j] += a * w[j]
        if hidden:
            activate_row(act, out)


@njit(cache=True, nogil=True, error_model="numpy")
def layer_forward(theta, w0, n_in, n_out, A, i0, o0, n, act, hidden):
    """One layer's forward pass; the product goes to BLAS (``np.dot``, through SciPy), which beats
    compiled loops even for 10 x 2 x 8 products. The CUDA backend uses ``layer_forward_loops``."""
    W = theta[w0 : w0 + n_in * n_out].reshape((n_in, n_out))
    bias = theta[w0 + n_in * n_out : w0 + n_in * n_out + n_out]
    Z = np.dot(A[:n, i0 : i0 + n_in], W)
    for r in range(n):
        out = A[r, o0 : o0 + n_out]
        z = Z[r]
        for j in range(n_out):
            out[j] = z[j] + bias[j]
        if hidden:
            activate_row(act, out)


@njit(cache=True, nogil=True, error_model="numpy")
def forward(theta, sizes, woff, uoff, act, X, idx, n, A):
    """Fill the activation workspace ``A`` for the ``n`` rows ``X[idx[:n]]``; logits stay linear."""
    n_layers = sizes.shape[0] - 1
    d = sizes[0]
    for r in range(n):
        src = X[idx[r]]
        row = A[r]
        for k in range(d):
            row[k] = src[k]
    for layer in range(1, n_layers + 1):
        layer_forward(theta, woff[layer], sizes[layer - 1], sizes[layer], A, uoff[layer - 1],
                      uoff[layer], n, act, layer < n_layers)


@njit(cache=True, nogil=True, error_model="numpy")
def output_loss(loss, A, o0, n_out, Y, idx, n, delta, scale, want_delta):
    """Sum of per-row losses and errors of the logits in ``A[:, o0:o0+n_out]``.

    Per row: bce and ce give the loss and a 0/1 error, mse the sum over outputs of the squared
    error (for both). With ``want_delta`` it writes ``scale * dloss/dlogit`` into ``delta``.
    """
    total = 0.0
    errors = 0.0
    for r in range(n):
        src = idx[r]
        if loss == rules.BCE:
            z = A[r, o0]
            y = Y[src, 0]
            row_loss, slope = bce_with_logit(z, y)
            total += row_loss
            if (z > 0.0) != (y > 0.5):
                errors += 1.0
            if want_delta:
                delta[r, 0] = scale * slope
        elif loss == rules.CE:
            label = int(Y[src, 0])
            zmax = A[r, o0]
            best = 0
            for j in range(1, n_out):
                if A[r, o0 + j] > zmax:
                    zmax = A[r, o0 + j]
                    best = j
            s = 0.0
            for j in range(n_out):
                s += math.exp(A[r, o0 + j] - zmax)
            total += zmax + math.log(s) - A[r, o0 + label]
            if best != label:
                errors += 1.0
            if want_delta:
                for j in range(n_out):
                    p = math.exp(A[r, o0 + j] - zmax) / s
                    delta[r, j] = scale * (p - (1.0 if j == label else 0.0))
        else:
            sq = 0.0
            for j in range(n_out):
                diff = A[r, o0 + j] - Y[src, j]
                sq += diff * diff
                if want_delta:
                    delta[r, j] = scale * 2.0 * diff
            total += sq
            errors += sq
    return total, errors


@njit(cache=True, nogil=True, error_model="numpy")
def layer_backward_loops(theta, w0, n_in, n_out, A, i0, D, cur, n, grad, act, propagate):
    """Add layer gradients from the deltas ``D[cur, :n, :n_out]``; with ``propagate`` write the
    deltas of the layer below into ``D[1 - cur, :n, :n_in]``."""
    b0 = w0 + n_in * n_out
    gbias = grad[b0 : b0 + n_out]
    for r in range(n):
        delta = D[cur, r, :n_out]
        inp = A[r, i0 : i0 + n_in]
        for j in range(n_out):
            gbias[j] += delta[j]
        for k in range(n_in):
            a = inp[k]
            if a != 0.0:
                g = grad[w0 + k * n_out : w0 + (k + 1) * n_out]
                for j in range(n_out):
                    g[j] += a * delta[j]
    if propagate:
        for r in range(n):
            delta = D[cur, r, :n_out]
            inp = A[r, i0 : i0 + n_in]
            back = D[1 - cur, r, :n_in]
            for k in range(n_in):
                w = theta[w0 + k * n_out : w0 + (k + 1) * n_out]
                back[k] = dot(delta, w, n_out) * activation_slope(act, inp[k])


@njit(cache=True, nogil=True, error_model="numpy")
def layer_backward(theta, w0, n_in, n_out, A, i0, D, cur, n, grad, act, propagate):
    """One layer's backward pass with BLAS products (the CUDA backend uses the loops version)."""
    b0 = w0 + n_in * n_out
    delta = D[cur, :n, :n_out]
    inp = A[:n, i0 : i0 + n_in]
    gW = np.dot(inp.T, delta)
    g = grad[w0:b0]
    for k in range(n_in):
        row = gW[k]
        base = k * n_out
        for j in range(n_out):
            g[base + j] += row[j]
    gbias = grad[b0 : b0 + n_out]
    for r in range(n):
        d = delta[r]
        for j in range(n_out):
            gbias[j] += d[j]
    if propagate:
        W = theta[w0:b0].reshape((n_in, n_out))
        B = np.dot(delta, W.T)
        for r in range(n):
            back = D[1 - cur, r, :n_in]
            a = inp[r]
            b = B[r]
            for k in range(n_in):
                back[k] = b[k] * activation_slope(act, a[k])


@njit(cache=True, nogil=True, error_model="numpy")
def backward(theta, sizes, woff, uoff, act, A, D, n, grad):
    """Accumulate the gradient into ``grad`` from the output deltas in ``D[0]`` (n rows)."""
    n_layers = sizes.shape[0] - 1
    cur = np.int64(0)  # not a literal 0: one layer_backward to compile, not two
    for layer in range(n_layers, 0, -1):
        layer_backward(theta, woff[layer], sizes[layer - 1], sizes[layer], A, uoff[layer - 1], D,
                       cur, n, grad, act, layer > 1)
        cur = 1 - cur


def layout(sizes):
    """``(woff, uoff)`` offset arrays for a list of layer sizes (see the module docstring)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    woff = np.zeros(len(sizes), dtype=np.int64)
    uoff = np.zeros(len(sizes), dtype=np.int64)
    pos = 0
    for layer in range(1, len(sizes)):
        woff[layer] = pos
        pos += sizes[layer - 1] * sizes[layer] + sizes[layer]
        uoff[layer] = uoff[layer - 1] + sizes[layer - 1]
    return woff, uoff


@njit(cache=True, nogil=True, error_model="numpy")
def _units(sizes):
    total = 0
    widest = 0
    for s in sizes:
        total += s
        widest = max(widest, s)
    return total, widest


@njit(cache=True, nogil=True, error_model="numpy")
def loss_and_grad(theta, sizes, woff, uoff, act, loss, X, Y, grad):
    """Mean loss over all rows of ``X`` and its gradient (written into ``grad``)."""
    n = X.shape[0]
    units, widest = _units(sizes)
    n_layers = sizes.shape[0] - 1
    rows = min(n, EVAL_ROWS)
    A = np.empty((rows, units))
    D = np.empty((2, rows, widest))
    idx = np.empty(rows, dtype=np.int64)
    scale = 1.0 / n
    if loss == rules.MSE:
        scale = 1.0 / (n * sizes[n_layers])
    grad[:] = 0.0
    total = 0.0
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        forward(theta, sizes, woff, uoff, act, X, idx, m, A)
        part, _ = output_loss(loss, A, uoff[n_layers], sizes[n_layers], Y, idx, m, D[0], scale,
                              True)
        total += part
        backward(theta, sizes, woff, uoff, act, A, D, m, grad)
    return total * scale


@njit(cache=True, nogil=True, error_model="numpy")
def predict(theta, sizes, woff, uoff, act, X, out):
    """Write the logits of every row of ``X`` into ``out`` (n, n_out)."""
    n = X.shape[0]
    units, _ = _units(sizes)
    n_layers = sizes.shape[0] - 1
    rows = min(max(n, 1), EVAL_ROWS)
    A = np.empty((rows, units))
    idx = np.empty(rows, dtype=np.int64)
    o0 = uoff[n_layers]
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        forward(theta, sizes, woff, uoff, act, X, idx, m, A)
        for r in range(m):
            for j in range(sizes[n_layers]):
                out[start + r, j] = A[r, o0 + j]


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate(theta, sizes, woff, uoff, act, loss, X, Y, A, D, idx):
    """``(mean loss, error)`` of ``theta`` on a whole data set.

    The error is the misclassified fraction for bce and ce and the RMSE for mse.
    """
    n = X.shape[0]
    if n == 0:
        return math.nan, math.nan
    n_layers = sizes.shape[0] - 1
    rows = idx.shape[0]
    total = 0.0
    errors = 0.0
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        forward(theta, sizes, woff, uoff, act, X, idx, m, A)
        part, err = output_loss(loss, A, uoff[n_layers], sizes[n_layers], Y, idx, m, D[0], 1.0,
                                False)
        total += part
        errors += err
    if loss == rules.MSE:
        mean = total / (n * sizes[n_layers])
        return mean, math.sqrt(mean)
    return total / n, errors / n


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _update_all(code, theta, grad, slots, lr, hyper, coef, first):
    # hyper-parameters and coefficients as tuples: loop-invariant values the compiler keeps in
    # registers (array loads could not be hoisted past the stores into theta and slots)
    h = (hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5], hyper[6], hyper[7],
         hyper[8], hyper[9], hyper[10], hyper[11], hyper[12], hyper[13], hyper[14])
    c = (coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6])
    s0 = slots[0]
    s1 = slots[1]
    s2 = slots[2]
    for i in range(theta.shape[0]):
        p, a, b, d = update_param(code, theta[i], grad[i], s0[i], s1[i], s2[i], lr, h, c, first)
        theta[i] = p
        s0[i] = a
        s1[i] = b
        s2[i] = d


@njit(cache=True, nogil=True, error_model="numpy")
def apply_update(code, theta, grad, slots, lr, hyper, coef, first):
    """One optimizer step on every parameter of one model.

    Each branch passes a constant rule code into the inlined loop, so the compiler specialises
    the loop to one rule and vectorises it.
    """
    if code == rules.SGD:
        _update_all(rules.SGD, theta, grad, slots, lr, hyper, coef, first)
    elif code == rules.ADAGRAD:
        _update_all(rules.ADAGRAD, theta, grad, slots, lr, hyper, coef, first)
    elif code == rules.RMSPROP:
        _update_all(rules.RMSPROP, theta, grad, slots, lr, hyper, coef, first)
    elif code == rules.ADADELTA:
        _update_all(rules.ADADELTA, theta, grad, slots, lr, hyper, coef, first)
    elif code == rules.ADAM:
        _update_all(rules.ADAM, theta, grad, slots, lr, hyper, coef, first)
    elif code == rules.ADAMAX:
        _update_all(rules.ADAMAX, theta, grad, slots, lr, hyper, coef, first)
    elif code == rules.NADAM:
        _update_all(rules.NADAM, theta, grad, slots, lr, hyper, coef, first)
    else:
        _update_all(rules.ADAMW, theta, grad, slots, lr, hyper, coef, first)


@njit(cache=True, nogil=True, error_model="numpy")
def optimizer_step(code, theta, grad, slots, scalars, hyper, lr):
    """One optimizer step on a flat vector (used by ``Optimizer.step`` and the landscape)."""
    coef = np.zeros(rules.N_COEF)
    first = scalars[rules.S_STEP] == 0.0
    step_coefficients(code, hyper, lr, scalars, coef)
    apply_update(code, theta, grad, slots, lr, hyper, coef, first)


@njit(cache=True, nogil=True, error_model="numpy")
def _evaluate_into(theta_m, sizes, woff, uoff, act, loss, X, Y, Xv, Yv, A, D, idx, rec):
    rec[0], rec[2] = evaluate(theta_m, sizes, woff, uoff, act, loss, X, Y, A, D, idx)
    rec[1], rec[3] = evaluate(theta_m, sizes, woff, uoff, act, loss, Xv, Yv, A, D, idx)


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_models(theta, sizes, woff, uoff, act, loss, X, Y, Xv, Yv, out):
    """Loss and error of every model on the training and validation sets: ``out[m, :4]``."""
    units, widest = _units(sizes)
    for m in range(theta.shape[0]):
        A = np.empty((EVAL_ROWS, units))
        D = np.empty((2, EVAL_ROWS, widest))
        idx = np.empty(EVAL_ROWS, dtype=np.int64)
        _evaluate_into(theta[m], sizes, woff, uoff, act, loss, X, Y, Xv, Yv, A, D, idx, out[m])


@njit(cache=True, nogil=True, error_model="numpy")
def train_model(
    m, theta, slots, scalars, hyper, opt_code, sched_code, sched_params,
    sizes, woff, uoff, act, loss, X, Y, Xv, Yv,
    perms, order_idx, epoch_base, batch, t0, n_steps, eval_every,
    clip_norm, l1, polyak, patience,
    status, stop_step, avg, best, best_val, bad_evals, out,
    A, D, idx, eval_idx, grad, coef, rec,
):  # fmt: skip
    """Advance model ``m`` by ``n_steps`` mini-batch steps, using the given workspaces.

    Step ``t0 + s`` (s = 0..n_steps-1): take the batch of rows
    ``perms[order_idx[m], epoch - epoch_base]`` at its place in the epoch, compute the mean loss
    gradient, add the L1 term ``l1 * sign(theta)``, clip the global norm to ``clip_norm`` (if > 0),
    and apply the model's optimizer at the scheduled learning rate. After every step whose count is
    a multiple of ``eval_every`` the model is evaluated (on its Polyak average when ``polyak`` > 0)
    into ``out[r, m]``; with ``patience`` > 0 a model whose validation loss has not improved for
    ``patience`` evaluations stops, keeping its best parameters in ``best[m]``. A model whose loss,
    gradient or parameters become non-finite stops with ``status`` DIVERGED at that step.
    This function allocates nothing and is compiled for both backends (CUDA: one thread a model).
    """
    n_params = theta.shape[1]
    n_train = X.shape[0]
    steps_per_epoch = (n_train + batch - 1) // batch
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    th = theta[m]
    code = opt_code[m]
    hyp = hyper[m]
    r_out = 0
    for s in range(n_steps):
        t = t0 + s
        epoch = t // steps_per_epoch
        start = (t - epoch * steps_per_epoch) * batch
        n = min(batch, n_train - start)
        perm = perms[order_idx[m], epoch - epoch_base]
        for r in range(n):
            idx[r] = perm[start + r]
        scale = 1.0 / n
        if loss == rules.MSE:
            scale = 1.0 / (n * n_out)
        forward(th, sizes, woff, uoff, act, X, idx, n, A)
        batch_loss, _ = output_loss(loss, A, uoff[n_layers], n_out, Y, idx, n, D[0], scale, True)
        for i in range(n_params):
            grad[i] = 0.0
        backward(th, sizes, woff, uoff, act, A, D, n, grad)
        sq = 0.0
        for i in range(n_params):
            if l1 != 0.0:
                if th[i] > 0.0:
                    grad[i] += l1
                elif th[i] < 0.0:
                    grad[i] -= l1
            sq += grad[i] * grad[i]
        gnorm = math.sqrt(sq)
        if math.isnan(batch_loss) or math.isinf(batch_loss) or math.isnan(gnorm) or math.isinf(
            gnorm
        ):
            status[m] = DIVERGED
            stop_step[m] = t + 1
            return
        if clip_norm > 0.0 and gnorm > clip_norm:
            factor = clip_norm / gnorm
            for i in range(n_params):
                grad[i] *= factor
        lr = schedule_lr(sched_code[m], sched_params[m], hyp[rules.H_LR], t)
        first = scalars[m, rules.S_STEP] == 0.0
        step_coefficients(code, hyp, lr, scalars[m], coef)
        apply_update(code, th, grad, slots[m], lr, hyp, coef, first)
        psq = dot(th, th, n_params)
        if math.isnan(psq) or math.isinf(psq):
            status[m] = DIVERGED
            stop_step[m] = t + 1
            return
        if polyak > 0.0:
            for i in range(n_params):
                avg[m, i] = polyak * avg[m, i] + (1.0 - polyak) * th[i]
        if (t + 1) % eval_every == 0:
            evaluated = th
            if polyak > 0.0:
                evaluated = avg[m]
            _evaluate_into(evaluated, sizes, woff, uoff, act, loss, X, Y, Xv, Yv, A, D, eval_idx,
                           rec)
            for c in range(4):
                out[r_out, m, c] = rec[c]
            out[r_out, m, 4] = gnorm
            out[r_out, m, 5] = lr
            r_out += 1
            if math.isnan(rec[0]) or math.isinf(rec[0]):
                status[m] = DIVERGED
                stop_step[m] = t + 1
                return
            if patience > 0 and Xv.shape[0] > 0:
                if rec[1] < best_val[m]:
                    best_val[m] = rec[1]
                    for i in range(n_params):
                        best[m, i] = evaluated[i]
                    bad_evals[m] = 0
                else:
                    bad_evals[m] += 1
                    if bad_evals[m] >= patience:
                        status[m] = EARLY_STOPPED
                        stop_step[m] = t + 1
                        return


def workspace_shapes(sizes, batch):
    """Shapes of one model's workspaces ``(A, D, idx, eval_idx, grad, coef, rec)``."""
    sizes = [int(s) for s in sizes]
    rows = max(batch, EVAL_ROWS)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    return ((rows, sum(sizes)), (2, rows, max(sizes)), (rows,), (EVAL_ROWS,), (n_params,),
            (rules.N_COEF,), (4,))


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def train_chunk(
    theta, slots, scalars, hyper, opt_code, sched_code, sched_params,
    sizes, woff, uoff, act, loss, X, Y, Xv, Yv,
    perms, order_idx, epoch_base, batch, t0, n_steps, eval_every,
    clip_norm, l1, polyak, patience,
    status, stop_step, avg, best, best_val, bad_evals, out,
):  # fmt: skip
    """``train_model`` for every running model, in parallel over models (see its docstring)."""
    n_models, n_params = theta.shape
    units, widest = _units(sizes)
    rows = max(batch, EVAL_ROWS)
    for m in prange(n_models):
        if status[m] != 0:
            continue
        A = np.empty((rows, units))
        D = np.empty((2, rows, widest))
        idx = np.empty(rows, dtype=np.int64)
        eval_idx = np.empty(EVAL_ROWS, dtype=np.int64)
        grad = np.empty(n_params)
        coef = np.zeros(rules.N_COEF)
        rec = np.empty(4)
        train_model(  # np.int64: a prange index is unsigned, another train_model to compile
            np.int64(m), theta, slots, scalars, hyper, opt_code, sched_code, sched_params,
            sizes, woff, uoff, act, loss, X, Y, Xv, Yv,
            perms, order_idx, epoch_base, batch, t0, n_steps, eval_every,
            clip_norm, l1, polyak, patience,
            status, stop_step, avg, best, best_val, bad_evals, out,
            A, D, idx, eval_idx, grad, coef, rec,
        )  # fmt: skip
