"""Network situations of the Landscape tab's challenges, as plain ``Experiment.from_dict`` data.

Each preset shows one difficulty of training a real network. A ``playground`` preset opens one
experiment in the Playground; its ``variants`` (a label and a patch of the base config each) are
the settings worth trying one after the other. A ``compare`` preset opens one experiment in the
Compare tab with several optimizers (``optimizers``: ``make_optimizer`` keyword dicts with a
``name``), which train side by side on the same data from the same initial weights.

All are tiny (a few hundred points, small networks) so that they train in seconds. The numbers
their explanations quote are never typed: those of the configuration are formatted from it here,
those of a run are ``{{network.*}}`` placeholders that ``lesson_numbers`` computes with the engine
(``NetworkPreset.text`` fills them in).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlopt_core.train.experiment import Experiment, merge_patch

PLAYGROUND, COMPARE = "playground", "compare"


@dataclass(frozen=True)
class NetworkPreset:
    """One network situation: a base config, and variants (Playground) or optimizers (Compare).

    explanation: two lines separated by a newline: what happens, and why or what helps; it may
    quote numbers of a run as ``{{name}}`` placeholders (see :attr:`text`).
    """

    name: str
    title: str
    explanation: str
    target: str  # PLAYGROUND or COMPARE
    config: Mapping[str, Any]
    variants: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    optimizers: tuple[Mapping[str, Any], ...] = ()

    @property
    def text(self) -> str:
        """The explanation with the numbers of its runs filled in from the lessons'
        numbers.json; a name that file lacks stays as written."""
        from dlopt_core.course.lesson_numbers import fill_numbers
        from dlopt_core.course.lessons import LessonError

        try:
            return fill_numbers(self.explanation, f"network situation {self.name}")
        except LessonError:
            return self.explanation

    def variant_labels(self) -> list[str]:
        """Labels of the variants (a single empty label when there are none)."""
        return [label for label, _ in self.variants] or [""]

    def experiment_dict(self, variant: str = "") -> dict[str, Any]:
        """The config of ``variant`` (the base config for "" or a preset without variants)."""
        raw = copy.deepcopy(dict(self.config))
        if not variant:
            return raw
        for label, patch in self.variants:
            if label == variant:
                merged = merge_patch(raw, patch)
                merged["name"] = f"{self.title}: {label}"
                return merged
        raise ValueError(
            f"preset {self.name!r} has no variant {variant!r}; "
            f"choose one of {', '.join(self.variant_labels())}"
        )

    def build(self, variant: str = "") -> Experiment:
        """The validated experiment of ``variant``."""
        return Experiment.from_dict(self.experiment_dict(variant))

    def optimizer_dicts(self) -> list[dict[str, Any]]:
        """Copies of the optimizers to compare (``{"name": ..., **hyper}``)."""
        return [dict(o) for o in self.optimizers]


def train_rows(config: Mapping[str, Any]) -> int:
    """The training examples of a config's data set (the rest validates), as its split makes
    them (a toy set of a few hundred points: generated in a millisecond)."""
    return len(Experiment.from_dict(dict(config)).data.load().y_train)


def hidden_units(config: Mapping[str, Any]) -> int:
    """The hidden units of a config's network, all layers together."""
    return sum(Experiment.from_dict(dict(config)).network.hidden)


_MINIBATCH = {
    "name": "Mini-batch noise",
    "seed": 0,
    "data": {"kind": "moons", "n_samples": 200, "noise": 0.2, "val_fraction": 0.25},
    "network": {"hidden": [8], "activation": "tanh", "init": "xavier"},
    "optimizer": {"name": "sgd", "lr": 0.1},
    "training": {"batch_size": 1, "eval_every": 5},
    "max_steps": 3000,
}
_FULL_BATCH = train_rows(_MINIBATCH)
_DYING_RELU = {
    "name": "Dying ReLUs",
    "seed": 0,
    "data": {"kind": "circle", "n_samples": 300, "noise": 0.1, "val_fraction": 0.25},
    "network": {"hidden": [16, 16], "activation": "relu", "init": "he"},
    "optimizer": {"name": "sgd", "lr": 0.05},
    "training": {"batch_size": 10},
    "max_steps": 2000,
}
_RELU_RATES = (0.05, 1.0, 3.0)  # the race's rates; relu_dead_K below is the K-th of them
_OVERFITTING = {
    "name": "Overfitting",
    "seed": 0,
    "data": {"kind": "xor", "n_samples": 100, "noise": 0.5, "val_fraction": 0.5},
    "network": {"hidden": [64, 64], "activation": "relu", "init": "he"},
    "optimizer": {"name": "adam", "lr": 0.01},
    "training": {"batch_size": 10, "eval_every": 10, "early_stopping": 0},
    "max_steps": 4000,
}
_PATIENCE = 20

NETWORK_PRESETS: dict[str, NetworkPreset] = {
    p.name: p
    for p in (
        NetworkPreset(
            "minibatch_noise",
            "Mini-batch noise: batch 1 against full batch",
            "With one example per step the gradient is a noisy estimate of the true one: the "
            "training loss jitters and never settles.\nThe full-batch gradient is exact, so the "
            f"curve is smooth, but every step costs {_FULL_BATCH} times more computation.",
            PLAYGROUND,
            _MINIBATCH,
            variants=(
                ("batch size 1", {"training": {"batch_size": 1}}),
                (f"full batch ({_FULL_BATCH})", {"training": {"batch_size": _FULL_BATCH}}),
            ),
        ),
        NetworkPreset(
            "bad_init",
            "Bad initialisation: all zeros, or far too large",
            "All-zero weights make every hidden unit compute the same thing with a zero gradient: "
            "the loss stays at {{network.zeros_loss}}, about log 2 = 0.693 (one output, near "
            "0.5, for every example).\nWeights drawn far too large saturate the tanh "
            "units: a huge initial loss and a jagged fit whose validation loss ends far higher; "
            "Xavier scaling avoids both.",
            PLAYGROUND,
            {
                "name": "Bad initialisation",
                "seed": 0,
                "data": {"kind": "spiral", "n_samples": 300, "noise": 0.1, "val_fraction": 0.25},
                "network": {"hidden": [16, 16], "activation": "tanh", "init": "zeros"},
                "optimizer": {"name": "adam", "lr": 0.01},
                "training": {"batch_size": 20},
                "max_steps": 3000,
            },
            variants=(
                ("zeros", {"network": {"init": "zeros"}}),
                ("too large, N(0, 5\u00b2)", {"network": {"init": "normal", "init_std": 5.0}}),
                ("Xavier (good)", {"network": {"init": "xavier"}}),
            ),
        ),
        NetworkPreset(
            "dying_relu",
            "Dying ReLUs under a large learning rate",
            "One large step can push a ReLU unit's input below zero for every example: its "
            "gradient is then zero forever and the unit is dead.\n"
            f"At lr = {_RELU_RATES[2]:g} the loss stays at {{{{network.relu_loss_2}}}}: "
            f"{{{{network.relu_dead_2}}}} of the {hidden_units(_DYING_RELU)} hidden units are "
            f"dead at the end, against {{{{network.relu_dead_1}}}} at lr = {_RELU_RATES[1]:g} "
            f"and {{{{network.relu_dead_0}}}} at lr = {_RELU_RATES[0]:g}.",
            COMPARE,
            _DYING_RELU,
            optimizers=tuple({"name": "sgd", "lr": lr} for lr in _RELU_RATES),
        ),
        NetworkPreset(
            "overfitting",
            "Pure optimization is not learning: overfitting",
            f"A large network on {train_rows(_OVERFITTING)} noisy examples drives the training "
            "loss to almost zero while the validation loss climbs: the optimizer solves the wrong "
            "problem.\nEarly stopping keeps the parameters of the best validation loss and stops "
            "when it stops improving.",
            PLAYGROUND,
            _OVERFITTING,
            variants=(
                ("no early stopping", {"training": {"early_stopping": 0}}),
                (
                    f"early stopping (patience {_PATIENCE})",
                    {"training": {"early_stopping": _PATIENCE}},
                ),
            ),
        ),
    )
}
