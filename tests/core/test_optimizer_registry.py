"""The optimizer registry: every entry's facts agree with what its kernel rule does.

A rule code the kernels do not know is refused (it used to run AdamW silently); the slots an
entry says it uses are the ones its rule writes; its effective step, good rate and main
hyper-parameter are usable as they are.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlopt_core.train.kernels import cpu, rules
from dlopt_core.train.optimizers import (
    N_SLOTS,
    OPTIMIZERS,
    Optimizer,
    OptimizerInfo,
    make_optimizer,
    optimizer_from_dict,
)

VARIANTS = [
    (name, {})
    for name in OPTIMIZERS
    if name not in ("rmsprop", "adam", "adamw")  # their switches are listed below
] + [
    ("rmsprop", {}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.5}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adamw", {"amsgrad": True}),
]
UNKNOWN_CODE = 99


@pytest.fixture
def forgotten(monkeypatch):
    """A registry entry whose rule has no branch in the kernels."""
    base = OPTIMIZERS["adam"]
    info = OptimizerInfo("forgotten", UNKNOWN_CODE, "Forgotten", "no kernel rule", base.params)
    monkeypatch.setitem(OPTIMIZERS, "forgotten", info)
    return info


def test_an_entry_without_a_kernel_rule_is_refused(forgotten):
    with pytest.raises(ValueError, match="no update rule"):
        make_optimizer("forgotten")
    with pytest.raises(ValueError, match="no update rule"):
        Optimizer("forgotten", dict(forgotten.defaults))


def test_the_compiled_rule_raises_for_an_unknown_code():
    """The CPU kernels' rule itself refuses a code without a branch (it fell into AdamW)."""
    theta = np.ones(3)
    scalars = np.zeros((rules.N_SCALARS, 1))
    scalars[rules.S_MU_PRODUCT] = 1.0
    hyper = make_optimizer("adam").vector()[:, None]
    with pytest.raises(ValueError, match="no rule"):
        cpu.optimizer_step(
            UNKNOWN_CODE, theta, np.ones(3), np.zeros((N_SLOTS, 3)), scalars, hyper, 1e-3
        )
    np.testing.assert_array_equal(theta, np.ones(3))


@pytest.mark.parametrize(("name", "hyper"), VARIANTS, ids=str)
def test_the_slots_in_use_are_the_slots_the_rule_writes(name, hyper):
    opt = make_optimizer(name, **hyper)
    theta = np.linspace(-1.0, 1.0, 6)
    state = opt.init(theta)
    rng = np.random.default_rng(0)
    for _ in range(4):
        opt.step(theta, rng.normal(size=theta.size), state)
    written = {k for k in range(N_SLOTS) if np.any(state.slots[k])}
    declared = {slot.index for slot in opt.info.slots}
    in_use = {slot.index for slot in opt.info.slots_in_use(opt.hyper)}
    assert in_use <= written, "a slot shown as in use is never written"
    assert written <= declared, "the rule writes a slot whose meaning is not given"
    assert (not in_use) == (name == "sgd")


@pytest.mark.parametrize(("name", "hyper"), VARIANTS, ids=str)
def test_the_effective_step_is_defined_after_a_step(name, hyper):
    opt = make_optimizer(name, **hyper)
    theta = np.linspace(-1.0, 1.0, 6)
    state = opt.init(theta)
    opt.step(theta, np.arange(1.0, 7.0), state)
    step = opt.step_size(opt.lr, state.slots, state.step_count)
    assert step is not None and step.shape == theta.shape
    assert np.all(step > 0.0)


def test_adam_effective_step_is_the_bias_corrected_rate():
    opt = make_optimizer("adam", lr=0.01, betas=(0.8, 0.9), eps=1e-6)
    v = np.array([1e-4, 4e-4])
    slots = [np.zeros(2), v, np.zeros(2)]
    expected = 0.01 / (np.sqrt(v / (1.0 - 0.9**3)) + 1e-6)
    np.testing.assert_allclose(opt.step_size(0.01, slots, 3), expected, rtol=1e-14)


def test_lion_moves_every_parameter_by_the_rate():
    opt = make_optimizer("lion", lr=3e-4)
    theta = np.array([0.5, -2.0, 3.0])
    state = opt.init(theta)
    before = theta.copy()
    opt.step(theta, np.array([1e-6, -50.0, 3.0]), state)
    np.testing.assert_allclose(np.abs(theta - before), 3e-4, rtol=1e-12)
    np.testing.assert_array_equal(opt.step_size(3e-4, state.slots, 1), np.full(3, 3e-4))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_good_rate_and_main_hyper_parameter_are_valid(name):
    info = OPTIMIZERS[name]
    make_optimizer(name, lr=info.good_lr)
    if info.main is not None:
        key = "betas" if info.main.key == "beta1" else info.main.key
        assert key in info.defaults
        assert info.main.short and info.main.help


def test_every_hyper_parameter_has_a_vector_entry_and_a_meaning():
    for info in OPTIMIZERS.values():
        for spec in info.params:
            assert spec.help
            names = ("beta1", "beta2") if spec.kind == "betas" else (spec.name,)
            assert set(names) <= set(rules.HYPER_FIELDS), spec.name
            assert len(spec.part_help) in (0, 2)


def test_optimizer_from_dict_reads_what_to_dict_writes():
    for name in OPTIMIZERS:
        opt = make_optimizer(name)
        assert optimizer_from_dict(opt.to_dict()) == opt
    entry = {"name": "lion", "lr": 3e-4, "label": "mine", "schedule": {"name": "cosine"}}
    opt = optimizer_from_dict(entry, ignore=("label", "schedule"))
    assert opt == make_optimizer("lion", lr=3e-4)
    assert optimizer_from_dict({"lr": 0.1}, name="sgd") == make_optimizer("sgd", lr=0.1)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([1, 2], "must be an object"),
        ({"lr": 0.1}, "unknown optimizer None"),
        ({"name": "lion", "eps": 1e-8}, "no hyper-parameter 'eps'"),
        ({"name": "lion", "betas": [0.9, 1.0]}, "outside the allowed range"),
    ],
)
def test_optimizer_from_dict_errors_name_the_problem(entry, message):
    with pytest.raises(ValueError, match=message):
        optimizer_from_dict(entry)
