"""Network situations of the Landscape tab's challenges, as plain ``Experiment.from_dict`` data.

Each preset shows one difficulty of training a real network. A ``playground`` preset opens one
experiment in the Playground; its ``variants`` (a label and a patch of the base config each) are
the settings worth trying one after the other. A ``compare`` preset opens one experiment in the
Compare tab with several optimizers (``optimizers``: ``make_optimizer`` keyword dicts with a
``name``), which train side by side on the same data from the same initial weights.

All are tiny (a few hundred points, small networks) so that they train in seconds. They are
data, read from ``resources/landscape/network_situations.json``. The numbers their explanations
quote are those of their own configuration (the tests check each against it) or, for those of a
run, ``{{network.*}}`` placeholders that ``lesson_numbers`` computes with the engine
(``NetworkPreset.text`` fills them in). ``get_network_presets()`` reads the file when first asked
(not at import, so that a damaged file cannot stop the package from loading) and keeps it.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from dlopt_core.data.resources import entry_error, load_entries
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


SITUATIONS_FILE = "landscape/network_situations.json"


def load_network_presets() -> dict[str, NetworkPreset]:
    """The network situations of ``resources/landscape/network_situations.json``, by name, read
    now; ``ResourceError`` naming the file (and the entry) when it is damaged."""
    out: dict[str, NetworkPreset] = {}
    for name, raw in load_entries(SITUATIONS_FILE).items():
        try:
            out[name] = NetworkPreset(
                name,
                raw["title"],
                raw["explanation"],
                raw["target"],
                raw["config"],
                variants=tuple((v["label"], v["patch"]) for v in raw.get("variants", ())),
                optimizers=tuple(raw.get("optimizers", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise entry_error(SITUATIONS_FILE, name, exc) from None
    return out


@functools.cache
def get_network_presets() -> Mapping[str, NetworkPreset]:
    """The network situations (``load_network_presets``), read on the first call and kept,
    read-only; a damaged file raises ``ResourceError`` on every call until it is mended."""
    return MappingProxyType(load_network_presets())
