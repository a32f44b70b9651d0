"""Experiment values: JSON round trip, validation messages, reproducibility, fuzzed configs."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlopt_core.train.experiment import Experiment, ExperimentError, example, merge_patch


def test_round_trip_through_json(tmp_path):
    exp = Experiment.from_dict(
        {
            "name": "demo",
            "seed": 4,
            "data": {"kind": "gaussians", "n_classes": 3, "n_samples": 90},
            "network": {"hidden": [5], "activation": "relu", "features": ["x1", "x2", "x1*x2"]},
            "optimizer": {"name": "adamw", "lr": 0.003, "betas": [0.8, 0.99]},
            "schedule": {"name": "warmup_cosine", "warmup": 10, "T_max": 100},
            "training": {"batch_size": 16, "clip_norm": 1.0, "early_stopping": 3, "polyak": 0.9},
            "max_steps": 500,
            "target_loss": 0.05,
        }
    )
    path = tmp_path / "exp.json"
    exp.save(path)
    again = Experiment.load(path)
    assert again == exp
    assert again.to_dict() == exp.to_dict()
    assert again.optimizer.hyper["betas"] == (0.8, 0.99)
    assert json.loads(path.read_text())["version"] == 1


def test_adversarial_training_settings_round_trip_and_reach_the_engine(tmp_path):
    raw = example().to_dict()
    raw["training"].update(adversarial_eps=0.25, adversarial_clean_weight=0.0)
    exp = Experiment.from_dict(raw)
    assert (exp.training.adversarial_eps, exp.training.adversarial_clean_weight) == (0.25, 0.0)
    exp.save(tmp_path / "adv.json")
    again = Experiment.load(tmp_path / "adv.json")
    assert again == exp and again.to_dict()["training"]["adversarial_eps"] == 0.25
    _, _, engine = again.build()
    assert engine.train.adversarial_eps == 0.25 and engine.train.adversarial_clean_weight == 0.0


def test_an_older_file_without_adversarial_settings_loads_with_the_defaults(tmp_path):
    raw = example().to_dict()
    del raw["training"]["adversarial_eps"], raw["training"]["adversarial_clean_weight"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(raw))
    exp = Experiment.load(path)
    assert exp == example()
    assert (exp.training.adversarial_eps, exp.training.adversarial_clean_weight) == (0.0, 0.5)


def test_layer_options_round_trip_and_reach_the_engine(tmp_path):
    raw = example().to_dict()
    raw["network"].update(bias=False, parameterization="mean_field")
    raw["optimizer"]["layer_lr"] = [0.5, 1.0, 4.0]
    exp = Experiment.from_dict(raw)
    assert exp.network.bias is False and exp.network.parameterization == "mean_field"
    assert exp.layer_lr == (0.5, 1.0, 4.0)
    exp.save(tmp_path / "layers.json")
    again = Experiment.load(tmp_path / "layers.json")
    assert again == exp and again.to_dict() == exp.to_dict()
    _, net, engine = again.build()
    assert not net.bias and net.parameterization == "mean_field"
    assert net.n_params == 2 * 8 + 8 * 8 + 8 * 1
    assert engine.specs[0].layer_lr == (0.5, 1.0, 4.0)
    np.testing.assert_array_equal(engine.state.layer_lr[:, 0], [0.5, 1.0, 4.0])


def test_default_layer_options_are_not_written_and_older_files_mean_them():
    raw = example().to_dict()
    assert "bias" not in raw["network"] and "parameterization" not in raw["network"]
    assert "layer_lr" not in raw["optimizer"]
    exp = Experiment.from_dict(raw)
    assert exp.network.bias and exp.network.parameterization == "standard"
    assert exp.layer_lr is None
    raw["optimizer"]["layer_lr"] = None
    assert Experiment.from_dict(raw) == exp


def test_build_makes_the_right_network_for_each_task():
    _, net, _ = Experiment.from_dict({"data": {"kind": "spiral", "n_classes": 3}}).build()
    assert net.loss == "ce" and net.layer_sizes[-1] == 3
    _, net, _ = Experiment.from_dict({"data": {"kind": "bumps"}}).build()
    assert net.loss == "mse" and net.layer_sizes[-1] == 1
    _, net, _ = Experiment.from_dict(
        {
            "data": {"kind": "circle"},
            "network": {"hidden": [], "features": ["x1^2", "x2^2"]},
        }
    ).build()
    assert net.loss == "bce" and net.layer_sizes == [2, 1]


def test_a_run_is_reproducible_from_experiment_and_seed():
    runs = []
    for _ in range(2):
        _, _, engine = example().build()
        engine.run(200)
        runs.append(engine.theta.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"colour": 1}, r"colour: unknown key"),
        ({"data": {"kind": "spirals"}}, r"data.kind: \"spirals\" is not one of"),
        ({"data": {"n_samples": 2}}, r"data.n_samples: 2 is out of range; allowed 4 to"),
        ({"data": {"noise": "big"}}, r"data.noise: expected a number, got \"big\""),
        ({"data": {"kind": "csv"}}, r"data.path: a csv data set needs"),
        ({"network": {"hidden": [8, 0]}}, r"network.hidden\[1\]: 0 is out of range"),
        ({"network": {"hidden": [1] * 7}}, r"network.hidden: 7 entries; allowed 0 to 6"),
        ({"network": {"activation": "swish"}}, r"network.activation: \"swish\" is not one of"),
        ({"network": {"features": []}}, r"network.features: choose at least one"),
        ({"optimizer": {"name": "adam", "lr": -1}}, r"optimizer: adam: lr = -1.0 is outside"),
        ({"optimizer": {"name": "adam", "betas": [0.9, 1.0]}}, r"betas\[1\] = 1.0"),
        ({"optimizer": {"name": "sgd", "momentum": 0.9}}, r"sgd has no hyper-parameter"),
        ({"optimizer": {"name": "lbfgs"}}, r"optimizer.name: \"lbfgs\" is not one of"),
        ({"schedule": {"name": "step", "gamma": 2}}, r"schedule step: gamma = 2"),
        ({"training": {"batch_size": 0}}, r"training.batch_size: 0 is out of range"),
        ({"training": {"shuffle": "yes"}}, r"training.shuffle: expected true or false"),
        ({"training": []}, r"training: expected an object"),
        (
            {"training": {"adversarial_eps": -0.1}},
            r"training.adversarial_eps: -0.1 is out of range; allowed 0 to 100",
        ),
        ({"training": {"adversarial_eps": float("nan")}}, r"training.adversarial_eps: NaN is out"),
        (
            {"training": {"adversarial_eps": float("inf")}},
            r"training.adversarial_eps: Infinity is out",
        ),
        (
            {"training": {"adversarial_eps": "0.1"}},
            r"training.adversarial_eps: expected a number, got \"0.1\"",
        ),
        (
            {"training": {"adversarial_clean_weight": 1.5}},
            r"training.adversarial_clean_weight: 1.5 is out of range; allowed 0 to 1",
        ),
        (
            {"training": {"adversarial_clean_weight": True}},
            r"training.adversarial_clean_weight: expected a number, got true",
        ),
        ({"version": 2}, r"version: 2 is out of range"),
        ({"network": {"bias": "no"}}, r"network.bias: expected true or false, got \"no\""),
        (
            {"network": {"parameterization": "ntk"}},
            r"network.parameterization: \"ntk\" is not one of standard, mean_field",
        ),
        (
            {"optimizer": {"name": "sgd", "layer_lr": [1.0]}},
            r"optimizer.layer_lr: 1 factors; the network has 3 layers with parameters",
        ),
        (
            {"optimizer": {"name": "sgd", "layer_lr": [1.0, -2.0, 1.0]}},
            r"optimizer.layer_lr\[1\]: -2.0 is out of range; allowed 0 to 1e\+10",
        ),
        (
            {"optimizer": {"name": "sgd", "layer_lr": 2.0}},
            r"optimizer.layer_lr: expected a list of numbers, got 2.0",
        ),
    ],
)
def test_invalid_values_are_named(patch, message):
    raw = example().to_dict()
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict) and key != "optimizer":
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    with pytest.raises(ExperimentError, match=message):
        Experiment.from_dict(raw)


def test_file_errors(tmp_path):
    with pytest.raises(ExperimentError, match="no such file"):
        Experiment.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"seed": 1,,}')
    with pytest.raises(ExperimentError, match="not valid JSON: .* line 1"):
        Experiment.load(bad)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ExperimentError, match="not a text file"):
        Experiment.load(binary)
    with pytest.raises(ExperimentError, match="expected an object"):
        Experiment.from_json("[1, 2, 3]")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
SECTIONS = ("data", "network", "optimizer", "schedule", "training")


def _field_names(section):
    return sorted(example().to_dict()[section])


@st.composite
def mutated_configs(draw):
    raw = example().to_dict()
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from((*SECTIONS, "top")))
        if section == "top":
            key = draw(st.sampled_from([*raw, "extra"]))
            raw[key] = draw(json_values)
        else:
            key = draw(st.sampled_from([*_field_names(section), "extra"]))
            current = raw[section] if isinstance(raw[section], dict) else {}
            raw[section] = {**current, key: draw(json_values)}
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs())
def test_mutated_configs_load_or_raise_the_documented_error(raw):
    try:
        exp = Experiment.from_dict(raw)
    except ExperimentError as exc:
        assert str(exc)
        return
    assert Experiment.from_dict(exp.to_dict()) == exp


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_loads_or_raises_the_documented_error(raw):
    try:
        Experiment.from_dict(raw)
    except ExperimentError:
        pass


def test_classroom_section_round_trips_and_is_validated():
    raw = example().to_dict()
    assert "classroom" not in raw
    raw["classroom"] = {
        "note": "Only the learning rate may change.",
        "locked": ["data", "network", "optimizer", "schedule", "training"],
        "hidden": ["features"],
    }
    exp = Experiment.from_dict(raw)
    assert exp.classroom.locked[0] == "data" and exp.classroom.hidden == ("features",)
    assert Experiment.from_dict(exp.to_dict()) == exp
    raw["classroom"]["locked"] = ["everything"]
    with pytest.raises(ExperimentError, match=r"classroom.locked\[0\]: \"everything\" is not one"):
        Experiment.from_dict(raw)


def test_merge_patch_merges_objects_and_replaces_the_rest():
    base = {"data": {"kind": "moons", "noise": 0.1}, "network": {"hidden": [8, 8]}, "seed": 1}
    out = merge_patch(base, {"data": {"noise": 0.3}, "network": {"hidden": [4]}, "seed": 2})
    assert out == {"data": {"kind": "moons", "noise": 0.3}, "network": {"hidden": [4]}, "seed": 2}
    out["data"]["kind"] = "xor"
    assert base["data"]["kind"] == "moons"  # a copy: the base is never changed
