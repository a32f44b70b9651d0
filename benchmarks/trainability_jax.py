"""An independent JAX implementation of the trainability map's set-up (the peer for
``bench_map.py``): the mean-field network, full-batch gradient descent with one learning rate per
layer, every run's loss trajectory by ``jax.lax.scan``, all runs at once by ``jax.vmap``, float64.

Nothing here comes from ``dlopt_core``: the network, the gradient (``jax.grad``), the update and
the pixel value are written from the set-up's description, so agreement is evidence.
Needs JAX (``pip install jax``, the project's ``bench`` extra).
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

CAP = 1e6


def make_map(X: np.ndarray, Y: np.ndarray, W1: np.ndarray, W2: np.ndarray, steps: int):
    """A jitted function ``(lr1[M], lr2[M]) -> value[M]``."""
    X, Y, W1, W2 = (jnp.asarray(a, dtype=jnp.float64) for a in (X, Y, W1, W2))
    d = X.shape[1]

    def loss(w1, w2):
        h = jnp.tanh(jnp.sqrt(2.0) * (X @ w1) / jnp.sqrt(d))
        return jnp.mean((h @ w2 / d - Y) ** 2)

    grad = jax.value_and_grad(loss, argnums=(0, 1))

    def run(lr1, lr2):
        def step(carry, _):
            w1, w2 = carry
            value, (g1, g2) = grad(w1, w2)
            return (w1 - lr1 * g1, w2 - lr2 * g2), value

        _, losses = jax.lax.scan(step, (W1, W2), None, length=steps)
        return pixel_value(losses)

    return jax.jit(jax.vmap(run))


def pixel_value(losses):
    """The paper's measure: losses over the first, not finite -> CAP, capped; -sum when the
    last 20 average below 1 (trained), else sum of the reciprocals."""
    v = jnp.where(jnp.isfinite(losses), losses, CAP)
    v = v / v[0]
    v = jnp.minimum(jnp.where(jnp.isfinite(v), v, CAP), CAP)
    converged = jnp.mean(v[-20:]) < 1.0
    return jnp.where(converged, -jnp.sum(v), jnp.sum(1.0 / v))
