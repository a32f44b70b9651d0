"""Every learning-rate schedule against its closed form, written out here independently."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlopt_core.train.schedules import SCHEDULES, make_schedule

LR = 0.3


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def check(sched, ref, ts, lr=LR):
    for t in ts:
        got = sched(lr, t)
        want = ref(t)
        assert close(got, want), f"{sched} t={t}: got {got!r}, want {want!r}"


# --------------------------------------------------------------------------- closed forms


def test_constant():
    s = make_schedule("constant")
    check(s, lambda t: LR, range(0, 5000, 37))
    assert make_schedule().name == "constant"


@pytest.mark.parametrize(("step_size", "gamma"), [(500, 0.5), (7, 0.9), (1, 0.5), (10, 0.0)])
def test_step(step_size, gamma):
    s = make_schedule("step", step_size=step_size, gamma=gamma)
    ts = list(range(0, 4 * step_size + 3)) if step_size < 50 else list(range(0, 2100, 13))
    ts += [k * step_size + d for k in range(5) for d in (-1, 0, 1) if k * step_size + d >= 0]
    check(s, lambda t: LR * gamma ** (t // step_size), ts)
    # the boundaries: the last step of a period keeps the rate, the first of the next decays
    assert s(LR, step_size - 1) == LR
    assert close(s(LR, step_size), LR * gamma)
    assert close(s(LR, 2 * step_size - 1), LR * gamma)
    assert close(s(LR, 2 * step_size), LR * gamma**2)


def test_step_defaults():
    s = make_schedule("step")
    assert s(LR, 499) == LR and close(s(LR, 500), LR / 2) and close(s(LR, 1000), LR / 4)


@pytest.mark.parametrize("gamma", [0.999, 0.9, 0.5, 1.0])
def test_exponential(gamma):
    s = make_schedule("exponential", gamma=gamma)
    check(s, lambda t: LR * gamma**t, list(range(0, 200)) + [1000, 5000])
    assert s(LR, 0) == LR


@pytest.mark.parametrize("k", [0.01, 1.0, 0.0, 123.0])
def test_inverse_time(k):
    s = make_schedule("inverse_time", k=k)
    check(s, lambda t: LR / (1.0 + k * t), list(range(0, 300)) + [10**4, 10**6])


@pytest.mark.parametrize(("T", "eta_min"), [(1000, 0.0), (10, 0.01), (1, 0.0), (37, 0.05)])
def test_cosine(T, eta_min):
    s = make_schedule("cosine", T_max=T, eta_min=eta_min)

    def ref(t):
        if t >= T:
            return eta_min  # stays at the minimum after T_max (no restart)
        return eta_min + (LR - eta_min) * (1.0 + math.cos(math.pi * t / T)) / 2.0

    check(s, ref, list(range(0, 3 * T + 5)) if T < 100 else list(range(0, 3000, 7)))
    assert s(LR, 0) == LR
    assert close(s(LR, T), eta_min) and close(s(LR, T + 1), eta_min)
    assert close(s(LR, 10 * T), eta_min)
    if T % 2 == 0:
        assert close(s(LR, T // 2), (LR + eta_min) / 2)


@pytest.mark.parametrize(
    ("W", "T", "eta_min"), [(100, 1000, 0.0), (5, 30, 0.02), (1, 2, 0.0), (10, 11, 0.1)]
)
def test_warmup_cosine(W, T, eta_min):
    s = make_schedule("warmup_cosine", warmup=W, T_max=T, eta_min=eta_min)

    def ref(t):
        if t < W:
            return LR * (t + 1) / W
        if t >= T:
            return eta_min
        return eta_min + (LR - eta_min) * (1.0 + math.cos(math.pi * (t - W) / (T - W))) / 2.0

    check(s, ref, list(range(0, 2 * T + 5)) if T < 100 else list(range(0, 2000, 3)))
    # warm-up end: the rate reaches lr at the last warm-up step and stays there one more step
    assert close(s(LR, 0), LR / W)
    assert close(s(LR, W - 1), LR)
    assert close(s(LR, W), LR)
    assert close(s(LR, T), eta_min)
    rates = s(LR, np.arange(W))
    assert np.all(np.diff(rates) > 0)  # rising during warm-up


def _torch_one_cycle(lr, t, total, pct, div, final_div):
    """torch.optim.lr_scheduler.OneCycleLR, anneal_strategy='cos', three_phase=False."""
    initial = lr / div
    min_lr = initial / final_div
    phases = [
        (float(pct * total) - 1.0, initial, lr),
        (float(total) - 1.0, lr, min_lr),
    ]

    def cos_anneal(start, end, frac):
        return end + (start - end) / 2.0 * (math.cos(math.pi * frac) + 1.0)

    start_step = 0.0
    for i, (end_step, a, b) in enumerate(phases):
        if t <= end_step or i == len(phases) - 1:
            return cos_anneal(a, b, (t - start_step) / (end_step - start_step))
        start_step = end_step
    raise AssertionError


@pytest.mark.parametrize(
    ("total", "pct", "div", "final_div"),
    [
        (1000, 0.3, 25.0, 1e4),
        (100, 0.3, 25.0, 1e4),
        (101, 0.25, 10.0, 100.0),
        (50, 0.5, 4.0, 2.0),
        (20, 0.9, 1.0, 1.0),
        (7, 0.6, 3.0, 5.0),
    ],
)
def test_one_cycle(total, pct, div, final_div):
    s = make_schedule(
        "one_cycle", total_steps=total, pct_start=pct, div_factor=div, final_div_factor=final_div
    )
    check(s, lambda t: _torch_one_cycle(LR, t, total, pct, div, final_div), range(total))
    peak = pct * total - 1
    assert close(s(LR, 0), LR / div)
    if peak == int(peak):
        assert close(s(LR, int(peak)), LR)
    else:  # the peak falls between steps: the neighbours are below lr
        assert s(LR, math.floor(peak)) < LR and s(LR, math.ceil(peak)) < LR
    assert close(s(LR, total - 1), LR / (div * final_div))
    # after the cycle the rate stays at its final value
    assert close(s(LR, total), LR / (div * final_div))
    assert close(s(LR, 3 * total), LR / (div * final_div))


def test_one_cycle_defaults_peak_and_end():
    s = make_schedule("one_cycle")
    assert close(s(LR, 0), LR / 25)
    assert close(s(LR, 299), LR)  # peak at pct_start * total_steps - 1
    assert s(LR, 298) < LR and s(LR, 300) < LR
    assert close(s(LR, 999), LR / 25 / 1e4)
    rates = s(LR, np.arange(1000))
    assert np.all(np.diff(rates[:300]) > 0) and np.all(np.diff(rates[299:]) < 0)


def test_array_steps_equal_scalar_steps():
    for name in SCHEDULES:
        s = make_schedule(name)
        ts = np.arange(0, 1500, 11)
        got = s(LR, ts)
        assert isinstance(got, np.ndarray) and got.shape == ts.shape
        np.testing.assert_array_equal(got, [s(LR, int(t)) for t in ts])


def test_rate_scales_with_lr():
    for name in SCHEDULES:
        s = make_schedule(name)
        for t in (0, 1, 99, 100, 299, 500, 999, 1500):
            assert close(s(2 * LR, t), 2 * s(LR, t)), (name, t)


# --------------------------------------------------------------------------- Robbins-Monro


def test_inverse_time_satisfies_robbins_monro():
    """sum lr_t diverges (grows like log N), sum lr_t^2 converges (its tail is small)."""
    lr, k = 0.1, 0.01
    s = make_schedule("inverse_time", k=k)
    n = 10**6
    rates = s(lr, np.arange(n))
    partial = np.cumsum(rates)
    squares = np.cumsum(rates**2)
    # grows without bound: past 60 already and still growing by ~ (lr/k) ln 10 per decade
    assert partial[-1] > 60.0
    for lo, hi in [(10**4, 10**5), (10**5, 10**6)]:
        gain = partial[hi - 1] - partial[lo - 1]
        assert gain == pytest.approx((lr / k) * math.log(10.0), rel=0.02)
    # sum of squares converges to ~ lr^2 / k; the tail after N steps is ~ (lr/k)^2 / N
    tail_after_1e5 = squares[-1] - squares[10**5 - 1]
    assert tail_after_1e5 < 1e-3 * squares[-1]
    assert tail_after_1e5 == pytest.approx((lr / k) ** 2 * (1 / 10**5 - 1 / 10**6), rel=0.02)
    assert squares[-1] < 1.1 * lr**2 / k


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad", ["cosin", "Cosine", "", "linear"])
def test_unknown_schedule(bad):
    with pytest.raises(ValueError, match=f"unknown schedule '{bad}'"):
        make_schedule(bad)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("constant", "gamma"),
        ("step", "T_max"),
        ("cosine", "warmup"),
        ("one_cycle", "max_lr"),
        ("exponential", "step_size"),
        ("inverse_time", "gamma"),
    ],
)
def test_unknown_parameter(name, key):
    with pytest.raises(ValueError, match=key):
        make_schedule(name, **{key: 1.0})


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("step", "step_size", 0),
        ("step", "step_size", -5),
        ("step", "gamma", 1.5),
        ("step", "gamma", -0.1),
        ("exponential", "gamma", 1.01),
        ("inverse_time", "k", -0.01),
        ("cosine", "T_max", 0),
        ("cosine", "eta_min", -0.1),
        ("warmup_cosine", "warmup", 0),
        ("one_cycle", "total_steps", 1),
        ("one_cycle", "pct_start", 1.5),
        ("one_cycle", "pct_start", -0.1),
        ("one_cycle", "div_factor", 0.5),
        ("one_cycle", "final_div_factor", 0.0),
        ("cosine", "T_max", math.inf),
        ("exponential", "gamma", math.nan),
        ("step", "gamma", "0.5"),
        ("step", "step_size", None),
        ("cosine", "T_max", True),
    ],
)
def test_out_of_range_or_wrong_type(name, key, value):
    with pytest.raises(ValueError, match=key):
        make_schedule(name, **{key: value})


@pytest.mark.parametrize(("warmup", "T_max"), [(100, 100), (200, 100)])
def test_warmup_must_be_shorter_than_t_max(warmup, T_max):
    with pytest.raises(ValueError, match="warmup"):
        make_schedule("warmup_cosine", warmup=warmup, T_max=T_max)


def test_huge_integer_parameter_raises_value_error():
    """An int too large for a float is out of range: ValueError, not OverflowError."""
    with pytest.raises(ValueError, match="step_size"):
        make_schedule("step", step_size=10**400)


def test_to_dict_round_trip():
    for name in SCHEDULES:
        s = make_schedule(name)
        d = s.to_dict()
        assert d.pop("name") == name
        assert make_schedule(name, **d) == s
