"""Kernel pieces against independent references: the vectorisable tanh and the loop products."""

import math

import numpy as np
import pytest

from dlopt_core.kernels import cpu
from dlopt_core.network import Network


def test_tanh_fast_is_within_three_ulp_of_libm():
    rng = np.random.default_rng(0)
    xs = np.concatenate([
        np.linspace(-25, 25, 40001),
        np.geomspace(1e-300, 1.0, 2000),
        -np.geomspace(1e-300, 1.0, 2000),
        rng.normal(scale=3.0, size=20000),
    ])
    got = np.array([cpu.tanh_fast(x) for x in xs])
    ref = np.array([math.tanh(x) for x in xs])
    ulp = np.abs(got - ref) / np.spacing(np.abs(ref)).clip(min=np.finfo(float).tiny)
    assert ulp.max() <= 3.0


def test_tanh_fast_special_values():
    assert math.isnan(cpu.tanh_fast(math.nan))
    assert cpu.tanh_fast(math.inf) == 1.0 and cpu.tanh_fast(-math.inf) == -1.0
    assert cpu.tanh_fast(1e-320) == 1e-320
    assert math.copysign(1.0, cpu.tanh_fast(-0.0)) == -1.0


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "leaky_relu"])
def test_loop_layers_used_on_cuda_equal_the_blas_layers(act):
    net = Network([3, 7, 5, 2], act, "mse")
    theta = net.init(1, "he")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(9, 3))
    idx = np.arange(9)
    units = int(net.sizes.sum())
    A_blas, A_loop = np.zeros((9, units)), np.zeros((9, units))
    cpu.forward(theta, net.sizes, net.woff, net.uoff, net.act_code, X, idx, 9, A_blas)
    A_loop[:, :3] = X
    for layer in (1, 2, 3):
        cpu.layer_forward_loops(theta, net.woff[layer], net.sizes[layer - 1], net.sizes[layer],
                                A_loop, net.uoff[layer - 1], net.uoff[layer], 9, net.act_code,
                                layer < 3)
    np.testing.assert_allclose(A_loop, A_blas, rtol=1e-13, atol=1e-15)
    D = rng.normal(size=(2, 9, 7))
    g_blas, g_loop = np.zeros(net.n_params), np.zeros(net.n_params)
    D_blas, D_loop = D.copy(), D.copy()
    cpu.backward(theta, net.sizes, net.woff, net.uoff, net.act_code, A_blas, D_blas, 9, g_blas)
    cur = 0
    for layer in (3, 2, 1):
        cpu.layer_backward_loops(theta, net.woff[layer], net.sizes[layer - 1], net.sizes[layer],
                                 A_loop, net.uoff[layer - 1], D_loop, cur, 9, g_loop,
                                 net.act_code, layer > 1)
        cur = 1 - cur
    np.testing.assert_allclose(g_loop, g_blas, rtol=1e-12, atol=1e-14)
