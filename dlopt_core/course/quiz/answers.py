"""Experiment questions: their answers come from running the engine on the question's preset.

``experiment_runs`` lists what a question trains (its ``models`` side by side, or its
``variants`` one by one), ``run_experiment`` trains them and reads the answer off the histories
(the ``compute`` kinds of ``bank``), ``compute_answer`` maps it to the shown option order.
Results are cached by question id (``clear_cache``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dlopt_core.course.quiz.questions import METRIC_WORDS, Question, QuizError
from dlopt_core.train.engine import RUNNING

if TYPE_CHECKING:
    from dlopt_core.train.engine import History


@dataclass(frozen=True)
class RunReport:
    """What running an experiment question gave: the answer and one line per run or fact."""

    answer: int | bool
    lines: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)


_CACHE: dict[tuple[str, str], RunReport] = {}


def clear_cache() -> None:
    """Forget the answers computed so far in this process."""
    _CACHE.clear()


def experiment_runs(question: Question) -> list[tuple[str, Any, list[Any]]]:
    """The runs an experiment question trains: ``[(label, Experiment, [ModelSpec, ...]), ...]``.

    With ``models`` there is one entry training every model side by side; with ``variants`` one
    entry per variant; otherwise one entry with the preset's own optimizer.
    """
    from dlopt_core.course.lessons import model_specs
    from dlopt_core.train.experiment import Experiment, merge_patch

    if question.type != "experiment" or question.compute is None:
        raise QuizError(f"question {question.id!r} is not an experiment question")
    compute = question.compute
    if "models" in compute:
        exp = Experiment.from_dict(question.preset)
        return [("", exp, model_specs(compute["models"]))]
    if "variants" in compute:
        runs: list[tuple[str, Any, list[Any]]] = []
        for i, variant in enumerate(compute["variants"]):
            exp = Experiment.from_dict(merge_patch(question.preset, variant["patch"]))
            runs.append((variant.get("label") or f"variant {i + 1}", exp, []))
        return runs
    return [("", Experiment.from_dict(question.preset), [])]


def _final(history: History, metric: str, m: int) -> float:
    col = history.field(metric, m)
    finite = col[np.isfinite(col)]
    return float(finite[-1]) if finite.size else math.inf


def run_experiment(question: Question) -> RunReport:
    """Train the question's experiment and derive its answer (cached per process)."""
    key = (
        question.id,
        json.dumps([question.preset, question.compute], sort_keys=True, default=str),
    )
    if key in _CACHE:
        return _CACHE[key]
    compute = question.compute or {}
    kind, steps = compute.get("kind"), int(compute.get("steps", 0))
    metric = compute.get("metric", "val_loss")
    labels: list[str] = []
    reach: list[int] = []
    final: list[float] = []
    best: list[float] = []
    status: list[str] = []  # running, diverged or early_stopped
    notes: list[str] = []  # " (diverged at step N)" or ""
    engines = []
    for label, exp, specs in experiment_runs(question):
        _, _, engine = exp.build(models=specs or None)
        engine.run(steps)
        engines.append(engine)
        hist = engine.history
        target = compute.get("target", -math.inf)
        for m in range(engine.n_models):
            labels.append(label or engine.specs[m].name)
            reach.append(int(hist.steps_to_reach(target, metric)[m]))
            diverged = engine.status_name(m) == "diverged"
            final.append(math.inf if diverged else _final(hist, metric, m))
            col = hist.field(metric, m)
            if metric == "val_loss":  # kept exactly, however much the history was thinned
                best.append(float(hist.best_val_loss[m]))
            else:
                best.append(float(np.nanmin(col)) if np.isfinite(col).any() else math.inf)
            status.append(engine.status_name(m))
            notes.append(
                f" ({status[-1]} at step {int(engine.stop_step[m])})"
                if engine.status[m] != RUNNING
                else ""
            )
    if question.options and len(question.options) >= len(labels):
        labels = list(question.bank_options[: len(labels)])
    answer: int | bool
    lines: list[str] = []
    tied = False
    words = METRIC_WORDS[metric]
    percent = metric.endswith("_error") and engines[0].network.loss != "mse"

    def show(value: float) -> str:
        """A value of the metric as the app shows it: errors of classifiers in per cent."""
        return f"{100.0 * value:.3g}%" if percent and math.isfinite(value) else f"{value:.4g}"

    if kind == "first_to_reach":
        target = float(compute["target"])
        for lab, r, st in zip(labels, reach, notes, strict=True):
            when = (
                f"reached {words} ≤ {show(target)} at step {r}"
                if r >= 0
                else f"did not reach {words} ≤ {show(target)} in {steps} steps"
            )
            lines.append(f"{lab}: {when}{st}")
        hits = [(r, i) for i, r in enumerate(reach) if r >= 0]
        tied = len(hits) > 1 and sorted(hits)[0][0] == sorted(hits)[1][0]
        if hits:
            answer = min(hits)[1]
        elif len(question.options) == len(labels) + 1:
            answer = len(labels)
        else:
            raise QuizError(
                f"question {question.id!r}: no run reached {metric} <= {target:g}; "
                "add a 'none of them' option or change the target"
            )
    elif kind == "lower_final":
        for lab, v, st in zip(labels, final, notes, strict=True):
            lines.append(f"{lab}: final {words} = {show(v)}{st}")
        answer = int(np.argmin(final))
        tied = sum(v == final[answer] for v in final) > 1
    elif kind == "diverges":
        engine = engines[0]
        answer = engine.status_name(0) == "diverged"
        lines.append(
            f"diverged at step {int(engine.diverged_step[0])}"
            if answer
            else f"still finite after {steps} steps; final {words} = {show(final[0])}"
        )
    elif kind == "stops_early":
        engine = engines[0]
        answer = engine.status_name(0) == "early_stopped"
        lines.append(
            f"early stopping ended the run at step {int(engine.stop_step[0])}; best "
            f"validation loss {engine.history.best_val_loss[0]:.4g} at step "
            f"{int(engine.history.best_val_step[0])}"
            if answer
            else f"ran all {steps} steps without stopping{notes[0]}"
        )
    elif kind == "overfits":
        factor = float(compute.get("factor", 1.5))
        answer = bool(final[0] > factor * best[0])
        lines.append(
            f"best {words} = {show(best[0])}, final {words} = {show(final[0])} "
            f"(ratio {final[0] / best[0] if best[0] > 0 else math.inf:.3g}; "
            f"threshold {factor:g})"
        )
    else:  # identical_units
        engine = engines[0]
        layer = int(compute.get("layer", 0))
        W, b = engine.network.unflatten(engine.theta[0])[layer]
        spread = float(max(np.ptp(W, axis=1).max(), np.ptp(b)))
        answer = bool(spread <= float(compute.get("tol", 1e-9)))
        lines.append(
            f"largest difference between two units of hidden layer {layer + 1}: {spread:.3g}"
        )
    report = RunReport(
        answer,
        tuple(lines),
        {
            "labels": labels,
            "tied": tied,
            "reach_step": reach,
            "final": final,
            "best": best,
            "status": status,
        },
    )
    _CACHE[key] = report
    return report


def compute_answer(question: Question) -> int | bool:
    """The right answer of an experiment question, by running the engine (cached per process):
    yes or no, or the index of the right option as ``question`` shows them."""
    answer = run_experiment(question).answer
    return answer if isinstance(answer, bool) else question.shown_index(answer)
