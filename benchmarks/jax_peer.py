"""The benchmark workloads written as a JAX user would: the whole loop under ``jit`` + ``lax.scan``.

Float64, the engine's initial parameters, the engine's batches (its documented batch order, a
smaller last batch as a masked full one) and the engine's update rules (``torch.optim``'s Adam
and SGD with momentum). Many models: ``vmap`` over the models of the scanned loop. The gradient
comes from ``jax.grad``. ``check_same_run`` trains both for a few hundred steps and returns the
largest relative difference of the parameters, so that the table compares the same computation.
"""

from __future__ import annotations

import time

import numpy as np


def available() -> str | None:
    """JAX's version, or None when it is not installed."""
    try:
        import jax
    except ImportError:
        return None
    return jax.__version__


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def batches(n_train: int, batch: int, seed: int, steps: int, shuffle: bool = True):
    """``(idx, mask)`` (steps, batch): the engine's rows for each step, padded with mask 0."""
    per_epoch = -(-n_train // batch)
    idx = np.zeros((steps, batch), dtype=np.int64)
    mask = np.zeros((steps, batch))
    perm = None
    for t in range(steps):
        epoch, k = divmod(t, per_epoch)
        if k == 0 or perm is None:
            perm = (
                np.random.default_rng([seed, epoch]).permutation(n_train)
                if shuffle
                else np.arange(n_train)
            )
        rows = perm[k * batch : (k + 1) * batch]
        idx[t, : len(rows)] = rows
        mask[t, : len(rows)] = 1.0
    return idx, mask


class Trainer:
    """A jitted ``run(params, state, lrs, idx, mask) -> (params, state)`` for one workload.

    ``params`` is a list of (W, b); with ``n_models`` > 1 every leaf has a leading model axis and
    the loop is vmapped over it (all models see the same batches, as in the engine's sweeps).
    """

    def __init__(self, sizes, loss: str, X, y, optimizer: str, hyper: dict, n_models: int = 1):
        jax = _jax()
        jnp = jax.numpy
        self.jax = jax
        self.n_models = n_models
        self.optimizer = optimizer
        self.hyper = hyper
        Xj = jnp.asarray(X, dtype=jnp.float64)
        yj = jnp.asarray(y, dtype=jnp.float64).reshape(len(y), -1)
        n_layers = len(sizes) - 1

        def batch_loss(params, rows, mask):
            a = Xj[rows]
            for i, (W, b) in enumerate(params):
                a = a @ W + b
                if i < n_layers - 1:
                    a = jnp.tanh(a)
            yb = yj[rows]
            if loss == "bce":
                z, t = a[:, 0], yb[:, 0]
                per_row = jnp.maximum(z, 0.0) - z * t + jnp.log1p(jnp.exp(-jnp.abs(z)))
            elif loss == "ce":
                labels = yb[:, 0].astype(jnp.int32)
                per_row = (
                    jax.nn.logsumexp(a, axis=1)
                    - jnp.take_along_axis(a, labels[:, None], axis=1)[:, 0]
                )
            else:
                per_row = jnp.sum((a - yb) ** 2, axis=1) / a.shape[1]
            return jnp.sum(per_row * mask) / jnp.sum(mask)

        grad = jax.grad(batch_loss)

        def step(carry, batch):
            params, state, lr = carry
            rows, mask = batch
            g = grad(params, rows, mask)
            if optimizer == "adam":
                b1, b2 = hyper.get("betas", (0.9, 0.999))
                eps = hyper.get("eps", 1e-8)
                m, v, t = state
                t = t + 1.0
                m = jax.tree.map(lambda m_, g_: b1 * m_ + (1.0 - b1) * g_, m, g)
                v = jax.tree.map(lambda v_, g_: b2 * v_ + (1.0 - b2) * g_ * g_, v, g)
                bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
                params = jax.tree.map(
                    lambda p, m_, v_: p - lr / bc1 * m_ / (jnp.sqrt(v_) / jnp.sqrt(bc2) + eps),
                    params,
                    m,
                    v,
                )
                state = (m, v, t)
            else:  # SGD with momentum, torch.optim.SGD (dampening 0): buf starts at g
                mu = hyper["momentum"]
                buf = jax.tree.map(lambda b_, g_: mu * b_ + g_, state, g)
                params = jax.tree.map(lambda p, b_: p - lr * b_, params, buf)
                state = buf
            return (params, state, lr), None

        def run(params, state, lr, idx, mask):
            (params, state, _), _ = jax.lax.scan(step, (params, state, lr), (idx, mask))
            return params, state

        if n_models > 1:
            run = jax.vmap(run, in_axes=(0, 0, 0, None, None))
        self.run = jax.jit(run)

    def init(self, theta: np.ndarray, net, lrs: np.ndarray):
        """Parameters (from the engine's flat vector), fresh optimizer state and rates."""
        jnp = self.jax.numpy
        params = [(jnp.asarray(W.copy()), jnp.asarray(b.copy())) for W, b in net.unflatten(theta)]
        if self.n_models > 1:
            params = self.jax.tree.map(lambda a: jnp.stack([a] * self.n_models), params)
        zeros = self.jax.tree.map(jnp.zeros_like, params)
        if self.optimizer == "adam":
            t = jnp.zeros(self.n_models) if self.n_models > 1 else jnp.float64(0.0)
            state = (zeros, self.jax.tree.map(jnp.zeros_like, params), t)
        else:
            state = zeros
        lr = jnp.asarray(lrs) if self.n_models > 1 else jnp.float64(lrs[0])
        return params, state, lr


def flat(params) -> np.ndarray:
    """The engine's flat layout of one model's (W, b) list."""
    return np.concatenate([np.concatenate([np.ravel(W), np.ravel(b)]) for W, b in params])


def steps_per_second(
    trainer: Trainer, params, state, lr, idx, mask, chunk: int, min_time: float
) -> float:
    """Steps per second of the compiled loop, ``chunk`` steps a call, timed for ``min_time``."""
    n_chunks = idx.shape[0] // chunk
    out = trainer.run(params, state, lr, idx[:chunk], mask[:chunk])
    trainer.jax.block_until_ready(out)
    calls = 0
    t0 = time.perf_counter()
    while True:
        k = calls % n_chunks
        params, state = trainer.run(
            params, state, lr, idx[k * chunk : (k + 1) * chunk], mask[k * chunk : (k + 1) * chunk]
        )
        trainer.jax.block_until_ready(params)
        calls += 1
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return calls * chunk / dt
