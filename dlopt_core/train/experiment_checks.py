"""Checks of the fields of an experiment file: each reads one value and refuses a wrong one with an
``ExperimentError`` that names the field, the value and what is allowed.

``Section`` reads one JSON object key by key and refuses the keys nobody asked for; the other
functions make the checks (numbers in a range, choices, lists) that ``Experiment.from_dict`` runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any


class ExperimentError(ValueError):
    """A config file or value that cannot be used, or an engine too large for memory; the
    message names the file, the field and what is allowed."""


Check = Callable[[str, Any], Any]


class Section:
    """Reads the keys of one JSON object, then refuses the keys nobody asked for."""

    def __init__(self, raw: Any, where: str):
        if not isinstance(raw, Mapping):
            raise ExperimentError(f"{where}: expected an object {{...}}, got {_show(raw)}")
        self.raw = raw
        self.where = where
        self.seen: set[str] = set()

    def get(self, key: str, check: Check, default: Any) -> Any:
        self.seen.add(key)
        if key not in self.raw:
            return default
        path = key if self.where == "experiment" else f"{self.where}.{key}"
        return check(path, self.raw[key])

    def done(self) -> None:
        extra = sorted(str(k) for k in self.raw if k not in self.seen)
        if extra:
            allowed = ", ".join(sorted(self.seen))
            prefix = "" if self.where == "experiment" else f"{self.where}."
            raise ExperimentError(f"{prefix}{extra[0]}: unknown key; allowed keys are {allowed}")


def _show(value: Any) -> str:
    text = json.dumps(value) if _jsonable(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def a_mapping(path: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ExperimentError(f"{path}: expected an object {{...}}, got {_show(value)}")
    return value


def a_string(path: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ExperimentError(f"{path}: expected a string, got {_show(value)}")
    return value


def a_boolean(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExperimentError(f"{path}: expected true or false, got {_show(value)}")
    return value


def integer_in(low: int, high: int) -> Check:
    def check(path: str, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExperimentError(f"{path}: expected an integer, got {_show(value)}")
        if not low <= value <= high:
            raise ExperimentError(f"{path}: {value} is out of range; allowed {low} to {high}")
        return value

    return check


def number_in(low: float, high: float) -> Check:
    def check(path: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExperimentError(f"{path}: expected a number, got {_show(value)}")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the float range
            number = math.inf
        if not math.isfinite(number) or not low <= number <= high:
            raise ExperimentError(
                f"{path}: {_show(value)} is out of range; allowed {low:g} to {high:g}"
            )
        return number

    return check


def one_of(options: Sequence[str]) -> Check:
    def check(path: str, value: Any) -> str:
        if value not in options or not isinstance(value, str):
            raise ExperimentError(
                f"{path}: {_show(value)} is not one of {', '.join(map(str, options))}"
            )
        return value

    return check


def int_list(min_len: int, max_len: int, low: int, high: int) -> Check:
    def check(path: str, value: Any) -> list[int]:
        if not isinstance(value, list):
            raise ExperimentError(f"{path}: expected a list of integers, got {_show(value)}")
        if not min_len <= len(value) <= max_len:
            raise ExperimentError(f"{path}: {len(value)} entries; allowed {min_len} to {max_len}")
        item = integer_in(low, high)
        return [item(f"{path}[{i}]", v) for i, v in enumerate(value)]

    return check


def number_list(length: int, low: float, high: float) -> Check:
    """A list of exactly ``length`` numbers in [low, high] (per-layer factors: one a layer)."""

    def check(path: str, value: Any) -> list[float]:
        if not isinstance(value, list):
            raise ExperimentError(f"{path}: expected a list of numbers, got {_show(value)}")
        if len(value) != length:
            raise ExperimentError(
                f"{path}: {len(value)} factors; the network has {length} layers with parameters "
                f"(its hidden layers and the output layer), one factor each"
            )
        item = number_in(low, high)
        return [item(f"{path}[{i}]", v) for i, v in enumerate(value)]

    return check


def str_list(options: Sequence[str]) -> Check:
    def check(path: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise ExperimentError(f"{path}: expected a list of strings, got {_show(value)}")
        item = one_of(options)
        return [item(f"{path}[{i}]", v) for i, v in enumerate(value)]

    return check
