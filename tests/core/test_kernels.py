"""Kernel pieces against independent references: the vectorisable tanh, the loop and BLAS products,
and the many-model lanes against the single-model loops."""

import math

import numpy as np
import pytest

from dlopt_core.train.kernels import cpu, lanes
from dlopt_core.train.network import Network


def test_tanh_fast_is_within_three_ulp_of_libm():
    rng = np.random.default_rng(0)
    xs = np.concatenate(
        [
            np.linspace(-25, 25, 40001),
            np.geomspace(1e-300, 1.0, 2000),
            -np.geomspace(1e-300, 1.0, 2000),
            rng.normal(scale=3.0, size=20000),
        ]
    )
    got = np.array([cpu.tanh_fast(x) for x in xs])
    ref = np.array([math.tanh(x) for x in xs])
    ulp = np.abs(got - ref) / np.spacing(np.abs(ref)).clip(min=np.finfo(float).tiny)
    assert ulp.max() <= 3.0


def test_tanh_fast_special_values():
    assert math.isnan(cpu.tanh_fast(math.nan))
    assert cpu.tanh_fast(math.inf) == 1.0 and cpu.tanh_fast(-math.inf) == -1.0
    assert cpu.tanh_fast(1e-320) == 1e-320
    assert math.copysign(1.0, cpu.tanh_fast(-0.0)) == -1.0


def _single_pass(net, theta, X, D0, blas):
    """Forward and backward of the single-model kernels: (activations, gradient, input gradient)."""
    n = X.shape[0]
    A, D, T = cpu.workspaces(net.sizes, n)
    _, widest = cpu.units(net.sizes)
    forward = cpu.forward_blas if blas else cpu.forward_loops
    layout = (net.sizes, net.woff, net.uoff, net.lay, net.act_code)
    forward(theta, *layout, X, np.arange(n), n, A, n)
    D[: D0.size] = D0.ravel()
    grad, dx = np.zeros(net.n_params), np.zeros_like(X)
    if blas:
        cpu.backward_blas(theta, *layout, A, D, n, n, widest, grad, dx, T)
    else:
        cpu.backward_loops(theta, *layout, A, D, n, n, widest, grad, dx)
    return A, grad, dx


# (bias, parameterization): the usual network, and the two options of the trainability map's
KINDS = [(True, "standard"), (False, "mean_field"), (True, "mean_field"), (False, "standard")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "leaky_relu"])
def test_loop_layers_equal_the_blas_layers(act, kind):
    net = Network([3, 7, 5, 2], act, "mse", bias=kind[0], parameterization=kind[1])
    theta = net.init(1, "he")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(9, 3))
    D0 = rng.normal(size=(9, 2))
    A_loop, g_loop, dx_loop = _single_pass(net, theta, X, D0, blas=False)
    A_blas, g_blas, dx_blas = _single_pass(net, theta, X, D0, blas=True)
    np.testing.assert_allclose(A_loop, A_blas, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g_loop, g_blas, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx_loop, dx_blas, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "leaky_relu", "linear"])
def test_lanes_equal_the_single_model_loops_bit_for_bit(act, kind):
    """16 models side by side in SIMD lanes give each model's single-model numbers exactly."""
    net = Network([3, 6, 4, 2], act, "mse", bias=kind[0], parameterization=kind[1])
    n, lanes_n = 7, lanes.LANES
    thetas = np.stack([net.init(s, "he") for s in range(lanes_n)], axis=1)  # (P, lanes)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n, 3))
    D0 = rng.normal(size=(n, 2, lanes_n))
    units, widest = int(net.sizes.sum()), int(net.sizes.max())
    A = np.zeros((n, units, lanes_n))
    idx = np.repeat(np.arange(n)[:, None], lanes_n, axis=1)
    lanes.gather_lanes(X, idx, n, A, 0)
    layout = (net.sizes, net.woff, net.uoff, net.lay, net.act_code)
    lanes.forward_lanes(thetas, *layout, A, n, 0)
    D = np.zeros((2, n, widest, lanes_n))
    D[0, :, :2] = D0
    G = np.zeros((net.n_params, lanes_n))
    DX = np.zeros((n, 3, lanes_n))
    lanes.backward_lanes(thetas, *layout, A, D, n, G, DX, True, 0)
    for m in range(lanes_n):
        A1, g1, dx1 = _single_pass(
            net, np.ascontiguousarray(thetas[:, m]), X, D0[:, :, m], blas=False
        )
        blocks = [
            A1[n * u0 : n * (u0 + size)].reshape(n, size)
            for u0, size in zip(net.uoff, net.sizes, strict=True)
        ]
        np.testing.assert_array_equal(A[:, :, m], np.concatenate(blocks, axis=1))
        np.testing.assert_array_equal(G[:, m], g1)
        np.testing.assert_array_equal(DX[:, :, m], dx1)
