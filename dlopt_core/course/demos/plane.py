"""Demos on 2-D functions: the search comparison, the Landscape presets' races, the measured and
theoretical rates on the quadratic, and the challenges' numbers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from dlopt_core.course.demos import Demo, raw_preset
from dlopt_core.course.number_format import count, fixed, sci

if TYPE_CHECKING:
    from dlopt_core.studies.landscape import Trajectory


def _trajectories(pid: str) -> dict[str, Any]:
    """The label -> ``Trajectory`` of a landscape preset's race."""
    from dlopt_core.course.lessons import optimizer_entry
    from dlopt_core.studies.landscape import get_function, trajectory

    raw = raw_preset(pid)
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

    raw = raw_preset("plateau_adam")
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


def _steps_below(path: Trajectory, level: float = 1e-6) -> int:
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
    from dlopt_core.studies.landscape import get_challenges, get_function, trajectory

    ill = get_challenges()["ill_conditioning"]
    adam = next(r for r in ill.runs if r.optimizer == "adam")
    angle = math.radians(ill.params["angle"])
    x, y = ill.start  # the start in the valley's own coordinates: turned back by the angle
    start = (math.cos(angle) * x + math.sin(angle) * y, -math.sin(angle) * x + math.cos(angle) * y)
    aligned = get_function(ill.function, **{**ill.params, "angle": 0.0})
    along = trajectory(aligned, adam.make_optimizer(), start, ill.steps)
    camel = get_challenges()["local_minima"].run()
    return {
        "ill_adam_f": sci(float(ill.run()[adam.name].values[-1])),
        "ill_adam_aligned_f": sci(float(along.values[-1])),
        "camel_stuck_f": fixed(float(camel["GD"].values[-1]), 2),
        "camel_best_f": fixed(float(camel["Momentum"].values[-1]), 2),
    }


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
)
