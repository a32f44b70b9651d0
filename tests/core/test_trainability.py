"""Trainability maps: the kernel against an independent NumPy implementation, the pixel values,
the tiles, and the box-counting dimension on shapes whose dimension is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlopt_core.studies.trainability import (
    CAP,
    MapError,
    MapSpec,
    Problem,
    box_counting,
    compute_tile,
    edge_mask,
    fill_missing,
    pixel_hyper,
    pixel_losses,
    trainability_map,
    values_from_losses,
)
from dlopt_core.train.kernels import trainability as K


# -- an independent implementation: NumPy matrix products over a stack of models ------------------
def reference_loss_grad(X, Y, W1, W2):
    """Loss and gradients of the mean-field network for models stacked along axis 0."""
    n, d = X.shape
    s = math.sqrt(2.0 / d)
    h = np.tanh(s * np.einsum("nk,mkj->mnj", X, W1))
    r = np.einsum("mnj,mjo->mno", h, W2) / d - Y[None]
    loss = np.mean(r**2, axis=(1, 2))
    dout = 2.0 * r / n
    g2 = np.einsum("mnj,mno->mjo", h, dout) / d
    dh = np.einsum("mno,mjo->mnj", dout, W2) / d
    g1 = s * np.einsum("nk,mnj->mkj", X, dh * (1.0 - h**2))
    return loss, g1, g2


def reference_losses(problem, lr1, lr2, steps, offset=0.0, beta=0.0, optimizer="gd", batches=None):
    """``losses[steps, M]`` by plain NumPy: GD, PyTorch's SGD momentum, or PyTorch's Adam; the
    loss of the whole data set, the gradient of the rows ``batches[t]`` when given."""
    lr1, lr2, offset, beta = (
        np.broadcast_to(np.asarray(v, float), np.shape(lr1)) for v in (lr1, lr2, offset, beta)
    )
    M = lr1.size
    W = [problem.W1[None] + offset[:, None, None], np.repeat(problem.W2[None], M, axis=0)]
    lrs = [lr1[:, None, None], lr2[:, None, None]]
    b = beta[:, None, None]
    m = [np.zeros_like(w) for w in W]
    v = [np.zeros_like(w) for w in W]
    out = np.full((steps, M), np.nan)
    alive = np.ones(M, bool)
    with np.errstate(all="ignore"):
        for t in range(steps):
            loss, g1, g2 = reference_loss_grad(problem.X, problem.Y, *W)
            if batches is not None:
                rows = batches[t]
                _, g1, g2 = reference_loss_grad(problem.X[rows], problem.Y[rows], *W)
            alive &= np.isfinite(loss)
            out[t, alive] = loss[alive]
            for k, g in enumerate((g1, g2)):
                if optimizer == "gd":
                    W[k] = W[k] - lrs[k] * g
                elif optimizer == "momentum":
                    m[k] = b * m[k] + g
                    W[k] = W[k] - lrs[k] * m[k]
                else:
                    m[k] = b * m[k] + (1 - b) * g
                    v[k] = 0.999 * v[k] + 0.001 * g * g
                    mhat = m[k] / (1 - b ** (t + 1))
                    vhat = v[k] / (1 - 0.999 ** (t + 1))
                    W[k] = W[k] - lrs[k] * mhat / (np.sqrt(vhat) + 1e-8)
    return out


def kernel_losses(problem, spec, lr1, lr2, offset=0.0, beta=0.0):
    M = len(lr1)
    padded = M + (-M % K.LANES)
    hyper = np.zeros((K.N_HYPER, padded))
    for row, vals in ((K.H_LR1, lr1), (K.H_LR2, lr2), (K.H_OFFSET, offset), (K.H_BETA, beta)):
        hyper[row, :M] = vals
        hyper[row, M:] = hyper[row, M - 1]
    opt = {"gd": K.GD, "momentum": K.MOMENTUM, "adam": K.ADAM}[spec.effective_optimizer]
    losses = np.empty((spec.steps, padded))
    K.train_models(
        problem.X,
        problem.Y,
        problem.W1,
        problem.W2,
        hyper,
        opt,
        spec.steps,
        spec.batches(problem.rows),
        losses,
    )
    return losses[:, :M]


@pytest.fixture(scope="module")
def small():
    return Problem.paper(width=4, seed=3)


def test_reference_gradient_matches_finite_differences(small):
    _, g1, g2 = reference_loss_grad(small.X, small.Y, small.W1[None], small.W2[None])
    eps = 1e-6
    for W, g, idx in ((0, g1, (1, 2)), (1, g2, (3, 0))):
        ws = [small.W1.copy(), small.W2.copy()]
        ws[W][idx] += eps
        up = reference_loss_grad(small.X, small.Y, ws[0][None], ws[1][None])[0][0]
        ws[W][idx] -= 2 * eps
        down = reference_loss_grad(small.X, small.Y, ws[0][None], ws[1][None])[0][0]
        assert g[0][idx] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_kernel_matches_numpy_reference(small, optimizer):
    rng = np.random.default_rng(0)
    M = 11  # not a multiple of the block width: the padding must not matter
    lr1 = 10 ** rng.uniform(-2, 0.5, M)
    lr2 = 10 ** rng.uniform(-2, 0.5, M)
    offset = rng.uniform(-0.5, 0.5, M)
    beta = rng.uniform(0.0, 0.95, M)
    axes = {"gd": ("lr1", "lr2"), "momentum": ("lr", "momentum"), "adam": ("lr", "beta1")}
    spec = MapSpec(axes=axes[optimizer], ranges=((-1, 0), (0.1, 0.2)), res=(2, 2), steps=12)
    got = kernel_losses(small, spec, lr1, lr2, offset, beta)
    want = reference_losses(small, lr1, lr2, 12, offset, beta, optimizer)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=0)


def test_mini_batches_match_the_numpy_reference(small):
    rng = np.random.default_rng(4)
    lr1, lr2 = 10 ** rng.uniform(-1, 0.5, 9), 10 ** rng.uniform(-1, 0.5, 9)
    spec = MapSpec(res=(3, 3), steps=15, batch=6, batch_seed=2)
    batches = spec.batches(small.rows)
    assert batches.shape == (15, 6) and batches.max() < small.rows
    assert not np.array_equal(batches[0], batches[1])  # a new batch each step
    got = kernel_losses(small, spec, lr1, lr2)
    want = reference_losses(small, lr1, lr2, 15, batches=batches)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=0)
    full = kernel_losses(small, MapSpec(res=(3, 3), steps=15), lr1, lr2)
    assert got[0].tolist() == full[0].tolist() and not np.allclose(got[5], full[5])


def test_a_diverged_run_stops_with_nan_losses(small):
    spec = MapSpec(steps=40)
    got = kernel_losses(small, spec, np.array([1e5, 0.1]), np.array([1e5, 0.1]))
    assert not np.isfinite(got[-1, 0]) and np.isfinite(got[:, 1]).all()
    first_bad = np.argmax(~np.isfinite(got[:, 0]))
    assert np.isnan(got[first_bad:, 0]).all() and np.isfinite(got[:first_bad, 0]).all()


def test_tanh_lane_is_within_a_few_ulp_of_the_library():
    x = np.concatenate(
        [
            np.linspace(-25, 25, 20001),
            np.random.default_rng(1).normal(0, 3, 5000),
            [0.0, 1e-300, 5e-324, 1e-8, 19.0, 19.5, 700.0],
        ]
    )
    got = np.array([K.tanh_lane_cpu(v) for v in x])
    want = np.tanh(x)
    ulps = np.abs(got - want) / np.spacing(np.maximum(np.abs(want), 1e-300))
    assert ulps.max() <= 4
    assert K.tanh_lane_cpu(np.inf) == 1.0 and K.tanh_lane_cpu(-np.inf) == -1.0
    assert math.isnan(K.tanh_lane_cpu(np.nan))


# -- values of runs -------------------------------------------------------------------------------
def test_values_from_losses_follow_the_definition():
    T = 30
    falling = np.linspace(2.0, 0.5, T)  # converged: -sum(l/l0)
    rising = np.linspace(1.0, 3.0, T)  # diverged: sum(l0/l)
    blown = np.r_[np.ones(5), np.inf, np.full(T - 6, np.nan)]  # inf and NaN count as CAP
    huge = np.r_[1.0, np.full(T - 1, 1e9)]  # capped at CAP
    value, conv = values_from_losses(np.stack([falling, rising, blown, huge], axis=1))
    assert conv.tolist() == [True, False, False, False]
    assert value[0] == pytest.approx(-np.sum(falling / 2.0))
    assert value[1] == pytest.approx(np.sum(1.0 / rising))
    assert value[2] == pytest.approx(5.0 + (T - 5) / CAP)
    assert value[3] == pytest.approx(1.0 + (T - 1) / CAP)


def test_converged_means_the_mean_of_the_last_20_is_below_1():
    at_one = np.r_[1.0, np.full(19, 0.5), np.full(20, 1.0)]  # mean of the last 20 is 1
    below = np.r_[1.0, np.full(19, 3.0), np.full(19, 0.99), 1.0]  # 0.9905
    _, conv = values_from_losses(np.stack([at_one, below], axis=1))
    assert conv.tolist() == [False, True]


# -- tiles and maps -------------------------------------------------------------------------------
def test_tiles_cover_every_pixel_once_coarse_first():
    spec = MapSpec(res=(37, 20), tile=8)
    seen = np.zeros(spec.res, int)
    for index in spec.tiles():
        rows, cols = spec.tile_pixels(index)
        seen[np.ix_(rows, cols)] += 1
    assert (seen == 1).all()
    first = spec.tiles()[0]
    assert first == (0, 0)
    rows, cols = spec.tile_pixels(first)
    assert rows[0] == 0 and cols[0] == 0 and rows[-1] >= 37 - spec.strides[0]


def test_value_i_j_belongs_to_the_first_axis_ith_and_the_second_jth(small):
    spec = MapSpec(
        axes=("lr1", "lr2"), ranges=((-2.0, 1.0), (-1.0, 1.5)), res=(5, 4), steps=30, tile=2
    )
    result = trainability_map(small, spec)
    assert result.complete and not result.cancelled
    assert result.value.shape == (5, 4) and result.values0.shape == (5,)
    np.testing.assert_allclose(result.values0, 10 ** np.linspace(-2, 1, 5))
    for i, j in ((0, 0), (4, 1), (2, 3)):
        hyper = pixel_hyper(spec, i, j)
        assert hyper["lr1"] == result.values0[i] and hyper["lr2"] == result.values1[j]
        want = reference_losses(small, [hyper["lr1"]], [hyper["lr2"]], 30)
        value, conv = values_from_losses(want)
        assert result.value[i, j] == pytest.approx(value[0], rel=1e-9)
        assert result.converged[i, j] == conv[0]
        value1, _ = values_from_losses(pixel_losses(small, spec, i, j)[:, None])
        assert value1[0] == result.value[i, j]


def test_a_tile_does_not_depend_on_the_tiling(small):
    spec = MapSpec(axes=("lr", "offset"), ranges=((-1, 2), (-2, 2)), res=(12, 10), steps=25)
    a = trainability_map(small, spec)
    b = trainability_map(small, MapSpec(**{**spec.to_dict(), "tile": 3}))
    np.testing.assert_array_equal(a.value, b.value)
    assert a.value.tobytes() == b.value.tobytes()


def test_map_agrees_with_the_numpy_implementation():
    """The same problem, grid and steps as plain NumPy: the signs agree on >= 98 % of pixels
    (where they differ, rounding decides a run on the edge)."""
    problem = Problem.paper(width=8, seed=0)
    spec = MapSpec(axes=("lr1", "lr2"), ranges=((-1.0, 4.0), (0.0, 3.0)), res=(24, 24), steps=60)
    result = trainability_map(problem, spec)
    ii, jj = np.meshgrid(result.values0, result.values1, indexing="ij")
    want, _ = values_from_losses(reference_losses(problem, ii.ravel(), jj.ravel(), 60))
    want = want.reshape(spec.res)
    both = result.converged.mean()
    assert 0.1 < both < 0.9  # the edge crosses the map
    agree = np.mean(np.sign(result.value) == np.sign(want))
    assert agree >= 0.98


def test_progress_and_cancel(small):
    spec = MapSpec(res=(8, 8), steps=5, tile=2)
    seen = []
    result = trainability_map(
        small,
        spec,
        progress=lambda f, part: seen.append((f, part.tiles_done, int(part.done.sum()))),
        should_stop=lambda: len(seen) >= 2,
    )
    assert result.cancelled and result.tiles_done == 2 and not result.complete
    assert seen == [(1 / 16, 1, 4), (2 / 16, 2, 8)]
    assert np.isnan(result.value[~result.done]).all()
    assert not result.fractal.ok


def test_fill_missing_uses_the_nearest_done_pixel_before():
    value = np.arange(16.0).reshape(4, 4)
    done = np.zeros((4, 4), bool)
    done[::2, ::2] = True
    filled = fill_missing(value, done)
    np.testing.assert_array_equal(
        filled, [[0, 0, 2, 2], [0, 0, 2, 2], [8, 8, 10, 10], [8, 8, 10, 10]]
    )


def test_compute_tile_is_pure(small):
    spec = MapSpec(res=(6, 6), steps=8, tile=3)
    a = compute_tile(small, spec, (1, 0))
    b = compute_tile(small, spec, (1, 0))
    assert a.value.tobytes() == b.value.tobytes()
    assert a.rows.tolist() == [1, 3, 5] and a.cols.tolist() == [0, 2, 4]


# -- the fractal dimension ------------------------------------------------------------------------
def test_box_counting_a_straight_line_is_one():
    mask = np.zeros((256, 256), bool)
    mask[100, :] = True
    assert box_counting(mask).dimension == pytest.approx(1.0, abs=0.02)
    diag = np.eye(256, dtype=bool)
    assert box_counting(diag).dimension == pytest.approx(1.0, abs=0.02)


def test_box_counting_a_filled_square_is_two_and_its_edge_one():
    full = np.ones((256, 256), bool)
    assert box_counting(full).dimension == pytest.approx(2.0, abs=1e-9)
    yy, xx = np.mgrid[:256, :256]
    disk = np.where((yy - 128) ** 2 + (xx - 120) ** 2 < 90**2, -1.0, 1.0)
    fit = box_counting(edge_mask(disk))
    assert fit.dimension == pytest.approx(1.0, abs=0.05)
    assert fit.fit_range == (1, 32)  # up to a quarter of the 255-pixel edge image


def test_box_counting_the_sierpinski_triangle_is_log2_3():
    n = 256
    i, j = np.mgrid[:n, :n]
    sierpinski = (i & j) == j  # Pascal's triangle mod 2: C(i, j) is odd
    fit = box_counting(sierpinski)
    assert fit.dimension == pytest.approx(math.log2(3), abs=1e-9)
    assert fit.counts.tolist() == [3 ** (8 - k) for k in range(len(fit.sizes))]


def test_box_counting_needs_three_sizes():
    assert not box_counting(np.ones((8, 8), bool)).ok
    assert not box_counting(np.zeros((64, 64), bool)).ok


def test_edge_mask_marks_blocks_with_both_signs():
    value = np.array([[-1.0, -1, 1], [-1, -1, 1], [-1, -1, -1]])
    assert edge_mask(value).tolist() == [[False, True], [False, True]]


# -- bad input ------------------------------------------------------------------------------------
def test_problem_checks_shapes_and_values(tmp_path):
    ok = Problem.paper(width=3, seed=1)
    assert ok.rows == 12 and ok.width == 3
    with pytest.raises(MapError, match="W1 must have shape"):
        Problem(ok.X, ok.Y, np.ones((2, 2)), ok.W2)
    with pytest.raises(MapError, match="not a finite"):
        Problem(ok.X, ok.Y * np.nan, ok.W1, ok.W2)
    path = tmp_path / "p.npz"
    ok.save(path)
    again = Problem.load(path)
    assert np.array_equal(again.X, ok.X) and np.array_equal(again.W2, ok.W2)
    np.savez(tmp_path / "bad.npz", X=ok.X, Y=ok.Y)
    with pytest.raises(MapError, match="no array W1, W2"):
        Problem.load(tmp_path / "bad.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(MapError, match="not a readable .npz"):
        Problem.load(tmp_path / "text.npz")
    with pytest.raises(MapError, match="no such file"):
        Problem.load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"axes": ("lr", "lr1")}, "cannot be used together"),
        ({"axes": ("lr1", "lr1")}, "two different axes"),
        ({"axes": ("lr1", "speed")}, "unknown axis"),
        ({"ranges": ((1, 0), (0, 1))}, "LO < HI"),
        ({"ranges": ((-20, 0), (0, 1))}, "must lie within"),
        ({"res": (1, 64)}, "resolution"),
        ({"steps": 0}, "steps"),
        ({"optimizer": "sgd"}, "unknown optimizer"),
        ({"beta": 1.0}, "beta"),
        ({"batch": -1}, "batch"),
    ],
)
def test_map_spec_rejects_bad_values(kwargs, match):
    with pytest.raises(MapError, match=match):
        MapSpec(**kwargs)
