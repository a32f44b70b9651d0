"""Numbers the lessons quote from their demos, computed by the engine.

A lesson (or a preset's description) that quotes a number a demo produces writes a placeholder
instead, ``{{name}}``, for example "the gradient's norm is only {{plateau.grad}}". The loaders
(``lessons.load_lesson``, ``lessons.load_presets``) fill the placeholders from ``numbers.json``
beside the lessons, so showing a lesson costs nothing and needs no compiled kernels. This module
computes every number from the presets and the core (``DEMOS``), and writes or checks that file:

    python -m dlopt_core.course.lesson_numbers            # recompute and write lessons/numbers.json
    python -m dlopt_core.course.lesson_numbers --check    # exit 1 if out of date
    python -m dlopt_core.course.lesson_numbers --list     # the names and what each one is

A teacher edits the text freely, moves or drops placeholders, and may use any name of the list;
a new kind of number is a new entry of ``DEMOS``. The test suite recomputes every number and
fails when ``numbers.json`` no longer matches what the engine gives (after a change of a preset
or of the engine) or when a lesson uses an unknown name.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dlopt_core.data import files

NUMBERS_FILE = "numbers.json"
PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+(?:\.[a-z0-9_]+)+)\s*\}\}")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


# =================================================================================================
# Formatting: the way the lessons write numbers
# =================================================================================================


def sci(x: float, digits: int = 2) -> str:
    """``2.4 × 10⁻⁴``: ``digits`` significant digits, a power of ten when it is below 0.01 or
    at least 10 000, plain otherwise."""
    if x == 0.0 or not math.isfinite(x):
        return f"{x:g}"
    exponent = math.floor(math.log10(abs(x)))
    if -2 <= exponent < 4:
        return fixed(x, max(digits - 1 - exponent, 0))
    mantissa = round(x / 10.0**exponent, digits - 1)
    if abs(mantissa) >= 10.0:
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.{digits - 1}f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def fixed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals (a minus sign, not a hyphen)."""
    return f"{x:.{decimals}f}".replace("-", "−")


def count(n: int) -> str:
    """An integer with thousands separated by commas: ``1,050,625``."""
    return f"{int(n):,}"


def percent(x: float) -> str:
    """A fraction as a whole percentage: ``57 %``."""
    return f"{100.0 * x:.0f} %"


# =================================================================================================
# Filling placeholders
# =================================================================================================


_LOADED: dict[Path, tuple[float, dict[str, str]]] = {}


def load_numbers(folder: str | Path | None = None) -> dict[str, str]:
    """``numbers.json`` of ``folder`` (default: the shipped lessons) as ``{name: text}``; empty if
    there is none. Read once per change of the file."""
    from dlopt_core.course.lessons import LessonError, default_lessons_dir

    path = Path(folder if folder is not None else default_lessons_dir()) / NUMBERS_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    raw = files.load_json(path, LessonError, source=NUMBERS_FILE)
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise LessonError(f'{NUMBERS_FILE}: expected {{"name": "text", ...}}')
    _LOADED[path] = (mtime, raw)
    return raw


def placeholders(text: str) -> list[str]:
    """The names of the ``{{name}}`` placeholders of ``text``, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def fill_numbers(text: str, where: str = "", folder: str | Path | None = None) -> str:
    """``text`` with every ``{{name}}`` replaced by its value from ``numbers.json`` of
    ``folder``; an unknown name raises ``LessonError`` naming ``where`` and the placeholder."""
    from dlopt_core.course.lessons import LessonError

    if "{{" not in text:
        return text
    numbers = load_numbers(folder)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in numbers:
            raise LessonError(
                f"{where}: unknown number {{{{{name}}}}}; see python -m "
                "dlopt_core.course.lesson_numbers --list"
            )
        return numbers[name]

    return PLACEHOLDER.sub(value, text)


# =================================================================================================
# The demos and their numbers
# =================================================================================================


@dataclass(frozen=True)
class Demo:
    """One computation and the numbers it gives: ``compute()`` returns ``{key: text}`` and the
    names are ``prefix.key``. ``what`` says what it runs and what each number is."""

    prefix: str
    what: str
    compute: Callable[[], dict[str, str]]


def _raw_preset(pid: str) -> dict[str, Any]:
    from dlopt_core.course.lessons import LessonError, default_presets_path

    raw = files.load_json(default_presets_path(), LessonError)
    return raw["presets"][pid]


def _build(experiment: dict[str, Any], optimizers: Sequence[dict[str, Any]] | None = None):
    from dlopt_core.course.lessons import model_specs
    from dlopt_core.train.experiment import Experiment

    exp = Experiment.from_dict(experiment)
    return exp.build(models=model_specs(optimizers) if optimizers else None)


def _run_preset(pid: str, steps: int | None = None, patch: dict[str, Any] | None = None):
    """``(network, engine)`` after training preset ``pid`` (its own optimizers for a compare
    preset) for ``steps`` (default its max_steps)."""
    from dlopt_core.train.experiment import merge_patch

    raw = _raw_preset(pid)
    experiment = merge_patch(raw["experiment"], patch or {})
    _, net, engine = _build(experiment, raw.get("optimizers"))
    engine.run(steps if steps is not None else int(experiment["max_steps"]))
    return net, engine


def _trajectories(pid: str) -> dict[str, Any]:
    """The label -> ``Trajectory`` of a landscape preset's race."""
    from dlopt_core.course.lessons import optimizer_entry
    from dlopt_core.studies.landscape import get_function, trajectory

    raw = _raw_preset(pid)
    fn = get_function(raw["function"], **raw.get("function_params", {}))
    out = {}
    for entry in raw["optimizers"]:
        opt, sched, label = optimizer_entry(entry)
        out[label] = trajectory(
            fn,
            opt,
            raw.get("start"),
            raw["steps"],
            schedule=sched,
            clip_norm=entry.get("clip_norm", 0.0),
            noise=entry.get("noise", 0.0),
        )
    return out


def _search() -> dict[str, str]:
    from dlopt_core.course.lessons import search_comparison

    out = {}
    for tag, tol in (("t1", 1e-1), ("t3", 1e-3), ("t4", 1e-4)):
        for r in search_comparison("booth", tol).results:
            out[f"booth_{tag}_{r.method}"] = count(r.evaluations)
    return out


def _plateau() -> dict[str, str]:
    from dlopt_core.studies.landscape import get_function

    raw = _raw_preset("plateau_adam")
    fn = get_function(raw["function"])
    g = float(np.linalg.norm(fn.grad(*raw["start"])))
    lr = next(e["lr"] for e in raw["optimizers"] if e["name"] == "sgd")
    return {"grad": sci(g), "gd_step": sci(lr * g)}


def _valley() -> dict[str, str]:
    from dlopt_core.studies.landscape import measured_rate

    paths = _trajectories("valley_momentum")
    rates = {label: measured_rate(path, (0.0, 0.0)) for label, path in paths.items()}
    return {
        "gd_rate": fixed(rates["GD"], 3),
        "momentum_rate": fixed(rates["Momentum"], 3),
        "nesterov_rate": fixed(rates["Nesterov"], 3),
    }


def _rates() -> dict[str, str]:
    from dlopt_core.studies.landscape import gd_optimal, measured_rate, momentum_optimal

    kappa = 100.0
    _, gd_rate = gd_optimal(kappa)
    _, _, hb_rate = momentum_optimal(kappa)
    paths = list(_trajectories("rates_kappa100").values())
    return {
        "gd_theory": fixed(gd_rate, 3),
        "hb_theory": fixed(hb_rate, 3),
        "gd_measured": fixed(measured_rate(paths[0], (0.0, 0.0)), 3),
        "hb_measured": fixed(measured_rate(paths[1], (0.0, 0.0)), 3),
        # steps for the error to shrink a million times: ln(1e-6) / ln(rate)
        "gd_steps": count(math.ceil(math.log(1e-6) / math.log(gd_rate))),
        "hb_steps": count(math.ceil(math.log(1e-6) / math.log(hb_rate))),
    }


def _nesterov_limit() -> dict[str, str]:
    from dlopt_core.studies.landscape import get_function, momentum_optimal, trajectory

    lr, mu, _ = momentum_optimal(50.0)
    fn = get_function("quadratic", kappa=50.0, angle=30.0)
    path = trajectory(fn, "nesterov", (-1.8, 0.2), 200, lr=lr, momentum=mu)
    grew = float(np.linalg.norm(path.final) / np.linalg.norm(path.path[0]))
    return {"hb_lr": fixed(lr, 4), "hb_momentum": fixed(mu, 3), "nesterov_growth": sci(grew, 1)}


def _steps_below(path, level: float = 1e-6) -> int:
    hit = np.flatnonzero(path.values <= level)
    return int(hit[0]) if hit.size else -1


def _adam_valley() -> dict[str, str]:
    """Steps to f <= 1e-6 from the point of f = 1 at the angle 4.13 rad of the valley's own
    coordinates (u, v) = (sqrt(2) cos 4.13, sqrt(2 / kappa) sin 4.13): Adam (lr 0.01) in the
    valley along the axes and turned by 45 degrees, gradient descent at 2 / (1 + kappa)."""
    from dlopt_core.studies.landscape import get_function, trajectory

    out = {}
    for kappa in (10, 100, 1000):
        u = math.sqrt(2.0) * math.cos(4.13)
        v = math.sqrt(2.0 / kappa) * math.sin(4.13)
        for tag, angle in (("aligned", 0.0), ("rotated", 45.0)):
            c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            fn = get_function("quadratic", kappa=float(kappa), angle=angle)
            path = trajectory(fn, "adam", (c * u - s * v, s * u + c * v), 5000, lr=0.01)
            out[f"{tag}_{kappa}"] = count(_steps_below(path))
        gd = trajectory(
            get_function("quadratic", kappa=float(kappa)),
            "sgd",
            (u, v),
            20_000,
            lr=2.0 / (1.0 + kappa),
        )
        out[f"gd_{kappa}"] = count(_steps_below(gd))
    race = _trajectories("adam_valley_rotated")
    out["gd_final"] = sci(float(race["GD, η = 2/(1 + κ)"].values[-1]))
    return out


def _challenges() -> dict[str, str]:
    """Landscape challenges: where Adam ends in the ill_conditioning valley (turned by 30°) and,
    from the same point of the valley, with the valley turned onto the axes; the values the
    local_minima runs stop at."""
    from dlopt_core.studies.landscape import CHALLENGES, get_function, trajectory

    ill = CHALLENGES["ill_conditioning"]
    adam = next(r for r in ill.runs if r.optimizer == "adam")
    angle = math.radians(ill.params["angle"])
    x, y = ill.start  # the start in the valley's own coordinates: turned back by the angle
    start = (math.cos(angle) * x + math.sin(angle) * y, -math.sin(angle) * x + math.cos(angle) * y)
    aligned = get_function(ill.function, **{**ill.params, "angle": 0.0})
    along = trajectory(aligned, adam.make_optimizer(), start, ill.steps)
    camel = CHALLENGES["local_minima"].run()
    return {
        "ill_adam_f": sci(float(ill.run()[adam.name].values[-1])),
        "ill_adam_aligned_f": sci(float(along.values[-1])),
        "camel_stuck_f": fixed(float(camel["GD"].values[-1]), 2),
        "camel_best_f": fixed(float(camel["Momentum"].values[-1]), 2),
    }


def _interpolation() -> dict[str, str]:
    from dlopt_core.studies.landscape import (
        fgsm_robustness,
        interpolate,
        line_shape,
        paper_situations,
        trace_training,
    )

    out = {}
    situations = paper_situations()
    paths = {}
    for key, tag in (
        ("lstm", "lstm"),
        ("adversarial", "adv"),
        ("relu_net", "relu"),
        ("deep_linear", "linear"),
    ):
        path = paths[key] = trace_training(situations[key], snapshots=1)
        line = interpolate(path.model, path.thetas[0], path.thetas[-1], path.X, path.y)
        at = {
            round(float(a), 2): float(v) for a, v in zip(line.alphas, line.train_loss, strict=True)
        }
        for alpha in (0.0, 0.05, 0.1, 0.25, 0.5):
            out[f"{tag}_{round(alpha * 100):d}"] = fixed(at[alpha], 3)
        out[f"{tag}_100"] = sci(at[1.0]) if at[1.0] < 1e-3 else fixed(at[1.0], 3)
        out[f"{tag}_argmin"] = fixed(float(line.alphas[np.argmin(line.train_loss)]), 2)
        out[f"{tag}_plateau"] = fixed(line_shape(line.alphas, line.train_loss).plateau_end, 2)
    adv = situations["adversarial"]
    eps = adv.adversarial_eps
    clean = trace_training(replace(adv, training={}), snapshots=1)
    out["adv_eps"] = f"{eps:g}"
    for tag, path in (("adv", paths["adversarial"]), ("adv_clean", clean)):
        val = fgsm_robustness(path.model, path.theta_final, path.Xv, path.yv, eps)
        out[f"{tag}_val_right"] = percent(1.0 - val.error)
        out[f"{tag}_fgsm_right"] = percent(1.0 - val.adversarial_error)
        out[f"{tag}_fgsm_loss"] = fixed(val.adversarial_loss, 2)
    s = situations["deep_linear"]
    from dlopt_core.train.experiment import Experiment

    _, _, engine = Experiment.from_dict(s.experiment_dict()).build()
    engine.run(s.steps)
    start = float(engine.history.field("train_loss", 0)[0])
    out["linear_takeoff"] = count(int(engine.history.steps_to_reach(start / 2, "train_loss")[0]))
    return out


def _edge_of_stability() -> dict[str, str]:
    from dlopt_core.train.sharpness import track_sharpness

    raw = _raw_preset("edge_of_stability")
    experiment = raw["experiment"]
    trace = track_sharpness(experiment, int(experiment["max_steps"]), every=50)
    _, engine = _run_preset("edge_of_stability")
    loss = engine.history.field("train_loss", 0)
    steps = engine.history.steps
    jumps = np.diff(loss)
    k = int(np.argmax(jumps))
    return {
        "start": fixed(float(trace.sharpness[0]), 1),
        "threshold": fixed(float(trace.threshold[0]), 0),
        "peak": fixed(float(trace.sharpness.max()), 1),
        "final": fixed(float(trace.sharpness[-1]), 1),
        "spike_before": fixed(float(loss[k]), 3),
        "spike": fixed(float(loss[k + 1]), 3),
        "spike_step": count(int(steps[k + 1])),
    }


def _initialisation() -> dict[str, str]:
    from dlopt_core.train.experiment import merge_patch

    raw = _raw_preset("saturated_init")["experiment"]
    out = {}
    for tag, patch in (("saturated", {}), ("xavier", {"network": {"init": "xavier"}})):
        experiment = merge_patch(raw, patch)
        _, net, engine = _build(experiment)
        if tag == "saturated":
            hidden = net.hidden_outputs(engine.theta[0], engine.X)
            out["saturated_share"] = percent(
                float(np.mean(np.concatenate([np.abs(h).ravel() for h in hidden]) > 0.96))
            )
        out[f"{tag}_loss"] = fixed(net.loss_and_grad(engine.theta[0], engine.X, engine.Y)[0], 2)
        engine.run(int(experiment["max_steps"]))
        out[f"{tag}_val"] = fixed(float(engine.history.field("val_loss", 0)[-1]), 2)
    small = _raw_preset("small_init")["experiment"]
    for tag, patch in (("small", {}), ("small_xavier", {"network": {"init": "xavier"}})):
        _, _, engine = _build(merge_patch(small, patch))
        engine.run(int(small["max_steps"]))
        out[f"{tag}_reach"] = count(int(engine.history.steps_to_reach(0.6, "train_loss")[0]))
    return out


def _overfitting() -> dict[str, str]:
    _, engine = _run_preset("overfit_small_data")
    hist = engine.history
    _, stopped = _run_preset("early_stopping")
    return {
        "best_step": count(int(hist.best_val_step[0])),
        "best_val": fixed(float(hist.best_val_loss[0]), 2),
        "final_val": fixed(float(hist.field("val_loss", 0)[-1]), 2),
        "final_train": fixed(float(hist.field("train_loss", 0)[-1]), 3),
        "stop_step": count(int(stopped.stop_step[0])),
    }


def _batch() -> dict[str, str]:
    out = {}
    for tag, patch in (
        ("large", {}),
        ("small", {"training": {"batch_size": 10}, "optimizer": {"lr": 0.05}}),
    ):
        _, engine = _run_preset("batch_scaling", patch=patch)
        out[f"{tag}_reach"] = count(int(engine.history.steps_to_reach(0.3, "train_loss")[0]))
    return out


def _warmup() -> dict[str, str]:
    """Preset warmup_edge: each run's sharpness along the way (its own experiment with the run's
    optimizer and schedule), the loss jump of the run without warm-up, the divergence of the
    other."""
    from dlopt_core.train.experiment import merge_patch
    from dlopt_core.train.sharpness import track_sharpness

    raw = _raw_preset("warmup_edge")
    _, engine = _run_preset("warmup_edge")
    out = {}
    for m, entry in enumerate(raw["optimizers"]):
        tag = "warm" if entry["schedule"]["name"] == "warmup_cosine" else "cold"
        hyper = {k: v for k, v in entry.items() if k not in ("label", "schedule")}
        experiment = merge_patch(
            raw["experiment"], {"optimizer": hyper, "schedule": entry["schedule"]}
        )
        trace = track_sharpness(experiment, 120, every=10)
        if tag == "cold":
            loss = engine.history.field("train_loss", m)
            k = int(np.argmax(np.diff(loss)))
            out.update(
                start=fixed(trace.at(0), 1),
                cold_10=fixed(trace.at(10), 1),
                threshold=fixed(2.0 / float(entry["lr"]), 0),
                jump_step=count(int(engine.history.steps[k + 1])),
            )
        else:
            warmup = int(entry["schedule"]["warmup"])
            out.update(
                warm_end=fixed(trace.at(warmup), 1),
                diverged_step=count(int(engine.diverged_step[m])),
            )
    return out


def _weight_decay() -> dict[str, str]:
    _, engine = _run_preset("weight_decay")
    final = {
        spec.label: float(engine.history.field("val_loss", m)[-1])
        for m, spec in enumerate(engine.specs)
    }
    return {
        "adam": fixed(final["Adam"], 2),
        "adam_l2": fixed(final["Adam + L2 0.01"], 2),
        "adamw_small": fixed(final["AdamW 0.01"], 2),
        "adamw_large": fixed(final["AdamW 1"], 2),
    }


def _trainability() -> dict[str, str]:
    """The paper's per-layer learning-rate map (width 16, seed 0) at 32 x 32 pixels and 100
    steps, over 10^-3 .. 10^6 for both rates and zoomed into the corner of its edge."""
    from dlopt_core.studies.trainability import MapSpec, Problem, trainability_map

    problem = Problem.paper(16, 0)
    out = {}
    for key, ranges in (("", ((-3.0, 6.0), (-3.0, 6.0))), ("zoom_", ((4.0, 6.0), (1.5, 3.0)))):
        result = trainability_map(problem, MapSpec(ranges=ranges, res=(32, 32), steps=100))
        lo, hi = result.fractal.fit_range
        out[f"{key}trainable"] = percent(float(result.converged.mean()))
        out[f"{key}dimension"] = fixed(result.fractal.dimension, 2)
        out[f"{key}box_min"] = count(lo)
        out[f"{key}box_max"] = count(hi)
    return out


def _network_situations() -> dict[str, str]:
    """The Landscape tab's network situations (``network_presets``): the training loss the
    all-zero initialisation ends at; per rate of the dying-ReLU race, the hidden units dead at
    the end (no example gives them a positive input) and the final training loss."""
    from dlopt_core.course.lessons import model_specs
    from dlopt_core.course.network_presets import NETWORK_PRESETS
    from dlopt_core.train.experiment import Experiment

    zeros = NETWORK_PRESETS["bad_init"].build("zeros")
    _, _, engine = zeros.build()
    engine.run(zeros.max_steps)
    out = {"zeros_loss": fixed(float(engine.history.field("train_loss", 0)[-1]), 3)}
    relu = NETWORK_PRESETS["dying_relu"]
    exp = Experiment.from_dict(relu.experiment_dict())
    _, net, engine = exp.build(models=model_specs(relu.optimizer_dicts()))
    engine.run(exp.max_steps)
    for m in range(engine.n_models):
        dead = sum(
            int(np.sum(np.all(h <= 0.0, axis=0)))
            for h in net.hidden_outputs(engine.theta[m], engine.X)
        )
        out[f"relu_dead_{m}"] = count(dead)
        out[f"relu_loss_{m}"] = fixed(float(engine.history.field("train_loss", m)[-1]), 2)
    return out


DEMOS: tuple[Demo, ...] = (
    Demo(
        "search",
        "What is optimization: evaluations of grid search, random search and "
        "gradient descent on Booth (search_comparison) at tolerances 1e-1 (t1), 1e-3, 1e-4",
        _search,
    ),
    Demo(
        "plateau", "preset plateau_adam: the gradient's norm at the start and one GD step", _plateau
    ),
    Demo("valley", "preset valley_momentum: measured rates of GD, momentum and Nesterov", _valley),
    Demo(
        "rates",
        "preset rates_kappa100: the theory's rates, measured rates, and steps for a factor 10⁶",
        _rates,
    ),
    Demo(
        "nesterov",
        "Nesterov at heavy ball's best settings for κ = 50: the settings and how "
        "much the distance to the minimum grows in 200 steps",
        _nesterov_limit,
    ),
    Demo(
        "adam_valley",
        "steps to f ≤ 10⁻⁶ in a valley with κ = 10, 100, 1000 from a point of "
        "f = 1: Adam along the axes, Adam turned by 45°, gradient descent; f of GD after the "
        "race of preset adam_valley_rotated",
        _adam_valley,
    ),
    Demo(
        "challenge",
        "Landscape challenges: f at the end of Adam's 200 steps in the "
        "ill_conditioning valley, and with the valley turned onto the axes from the same point "
        "of it; f where the local_minima runs of GD and momentum stop",
        _challenges,
    ),
    Demo(
        "interp",
        "paper situations lstm, adversarial, relu_net and deep_linear: the training "
        "loss along the line at α = 0, 0.05, 0.1, 0.25, 0.5, 1 (relu_5 is α = 0.05), where it is "
        "lowest, where it has made a tenth of its fall (plateau), and the step the deep linear "
        "model's training halves its loss; for the adversarial one (and the same network "
        "trained on clean points only, adv_clean) its ε and the validation points classified "
        "right, clean and after an FGSM step, with the FGSM validation loss",
        _interpolation,
    ),
    Demo(
        "eos",
        "preset edge_of_stability: sharpness at the start, 2/η, its peak and its last "
        "value (track_sharpness every 50 steps); the largest jump of the training loss",
        _edge_of_stability,
    ),
    Demo(
        "init",
        "presets saturated_init and small_init against Xavier: saturated share, "
        "loss at the start, final validation loss; steps to a training loss of 0.6",
        _initialisation,
    ),
    Demo(
        "overfit",
        "presets overfit_small_data and early_stopping: the best validation loss, "
        "its step, the final losses, the step early stopping ends the run",
        _overfitting,
    ),
    Demo(
        "batch",
        "preset batch_scaling: steps to a training loss of 0.3 with batch 40 at "
        "η = 0.2 and batch 10 at η = 0.05",
        _batch,
    ),
    Demo(
        "warmup",
        "preset warmup_edge: sharpness at the start, after 10 steps without warm-up, "
        "at the end of the warm-up; 2/η at the peak rate; the step of the loss jump without "
        "warm-up and of the divergence with it",
        _warmup,
    ),
    Demo("wd", "preset weight_decay: final validation losses", _weight_decay),
    Demo(
        "network",
        "the Landscape's network situations: the final training loss of the "
        "all-zero initialisation (bad_init); per rate of dying_relu (relu_*_0 is the first), "
        "the hidden units dead at the end and the final training loss",
        _network_situations,
    ),
    Demo(
        "fractal",
        "trainability maps of the paper's problem (per-layer learning rates, 32 x 32 "
        "pixels, 100 steps), whole and zoomed into the corner of the edge: the trainable share, "
        "the box-counting dimension of the edge and the box sizes of its fit",
        _trainability,
    ),
)


def compute_numbers(prefixes: Iterable[str] | None = None) -> dict[str, str]:
    """Every number of ``DEMOS`` (or of the demos named by ``prefixes``) as ``{name: text}``."""
    wanted = set(prefixes) if prefixes is not None else None
    out: dict[str, str] = {}
    for demo in DEMOS:
        if wanted is None or demo.prefix in wanted:
            out.update({f"{demo.prefix}.{k}": v for k, v in demo.compute().items()})
    return out


def write_numbers(numbers: dict[str, str], folder: str | Path | None = None) -> Path:
    """Write ``numbers.json`` (sorted, one number a line) and return its path."""
    from dlopt_core.course.lessons import default_lessons_dir

    path = Path(folder if folder is not None else default_lessons_dir()) / NUMBERS_FILE
    body = ",\n".join(
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in sorted(numbers.items())
    )
    path.write_text("{\n" + body + "\n}\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dlopt_core.course.lesson_numbers",
        description="Compute the numbers the lessons quote.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with numbers.json instead of writing it (exit 1 if stale)",
    )
    parser.add_argument("--list", action="store_true", help="list the demos and their numbers")
    args = parser.parse_args(argv)
    if args.list:
        stored = load_numbers()
        for demo in DEMOS:
            print(f"{demo.prefix}: {demo.what}")
            for name in sorted(n for n in stored if n.startswith(demo.prefix + ".")):
                print(f"    {{{{{name}}}}} = {stored[name]}")
        return 0
    numbers = compute_numbers()
    if args.check:
        stored = load_numbers()
        stale = sorted(n for n in set(numbers) | set(stored) if numbers.get(n) != stored.get(n))
        for name in stale:
            print(f"{name}: file {stored.get(name)!r}, engine {numbers.get(name)!r}")
        return 1 if stale else 0
    print(f"wrote {len(numbers)} numbers to {write_numbers(numbers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
