"""Demos that train networks: the interpolation paper's situations, the edge of stability,
initialisation, overfitting, batch size, warm-up, weight decay, the network situations of the
Landscape tab and the trainability maps.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dlopt_core.course.demos import Demo, build_preset, raw_preset, run_preset
from dlopt_core.course.number_format import count, fixed, percent, sci


def _interpolation() -> dict[str, str]:
    from dlopt_core.studies.landscape import (
        PaperSituation,
        fgsm_robustness,
        interpolate,
        line_shape,
        paper_situations,
        trace_training,
    )
    from dlopt_core.train.network import Network

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
    assert isinstance(adv, PaperSituation)
    eps = adv.adversarial_eps
    clean = trace_training(replace(adv, training={}), snapshots=1)
    out["adv_eps"] = f"{eps:g}"
    for tag, path in (("adv", paths["adversarial"]), ("adv_clean", clean)):
        assert isinstance(path.model, Network) and path.Xv is not None and path.yv is not None
        val = fgsm_robustness(path.model, path.theta_final, path.Xv, path.yv, eps)
        out[f"{tag}_val_right"] = percent(1.0 - val.error)
        out[f"{tag}_fgsm_right"] = percent(1.0 - val.adversarial_error)
        out[f"{tag}_fgsm_loss"] = fixed(val.adversarial_loss, 2)
    s = situations["deep_linear"]
    assert isinstance(s, PaperSituation)
    from dlopt_core.train.experiment import Experiment

    _, _, engine = Experiment.from_dict(s.experiment_dict()).build()
    engine.run(s.steps)
    start = float(engine.history.field("train_loss", 0)[0])
    out["linear_takeoff"] = count(int(engine.history.steps_to_reach(start / 2, "train_loss")[0]))
    return out


def _edge_of_stability() -> dict[str, str]:
    from dlopt_core.train.sharpness import track_sharpness

    raw = raw_preset("edge_of_stability")
    experiment = raw["experiment"]
    trace = track_sharpness(experiment, int(experiment["max_steps"]), every=50)
    _, engine = run_preset("edge_of_stability")
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

    raw = raw_preset("saturated_init")["experiment"]
    out = {}
    for tag, patch in (("saturated", {}), ("xavier", {"network": {"init": "xavier"}})):
        experiment = merge_patch(raw, patch)
        _, net, engine = build_preset(experiment)
        if tag == "saturated":
            hidden = net.hidden_outputs(engine.theta[0], engine.X)
            out["saturated_share"] = percent(
                float(np.mean(np.concatenate([np.abs(h).ravel() for h in hidden]) > 0.96))
            )
        out[f"{tag}_loss"] = fixed(net.loss_and_grad(engine.theta[0], engine.X, engine.Y)[0], 2)
        engine.run(int(experiment["max_steps"]))
        out[f"{tag}_val"] = fixed(float(engine.history.field("val_loss", 0)[-1]), 2)
    small = raw_preset("small_init")["experiment"]
    for tag, patch in (("small", {}), ("small_xavier", {"network": {"init": "xavier"}})):
        _, _, engine = build_preset(merge_patch(small, patch))
        engine.run(int(small["max_steps"]))
        out[f"{tag}_reach"] = count(int(engine.history.steps_to_reach(0.6, "train_loss")[0]))
    return out


def _overfitting() -> dict[str, str]:
    _, engine = run_preset("overfit_small_data")
    hist = engine.history
    _, stopped = run_preset("early_stopping")
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
        _, engine = run_preset("batch_scaling", patch=patch)
        out[f"{tag}_reach"] = count(int(engine.history.steps_to_reach(0.3, "train_loss")[0]))
    return out


def _warmup() -> dict[str, str]:
    """Preset warmup_edge: each run's sharpness along the way (its own experiment with the run's
    optimizer and schedule), the loss jump of the run without warm-up, the divergence of the
    other."""
    from dlopt_core.train.experiment import merge_patch
    from dlopt_core.train.sharpness import track_sharpness

    raw = raw_preset("warmup_edge")
    _, engine = run_preset("warmup_edge")
    out: dict[str, str] = {}
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
    _, engine = run_preset("weight_decay")
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
    """The Landscape tab's network situations (``get_network_presets``): the training loss the
    all-zero initialisation ends at; per rate of the dying-ReLU race, the hidden units dead at
    the end (no example gives them a positive input) and the final training loss."""
    from dlopt_core.course.lessons import model_specs
    from dlopt_core.course.network_presets import get_network_presets
    from dlopt_core.train.experiment import Experiment

    zeros = get_network_presets()["bad_init"].build("zeros")
    _, _, engine = zeros.build()
    engine.run(zeros.max_steps)
    out = {"zeros_loss": fixed(float(engine.history.field("train_loss", 0)[-1]), 3)}
    relu = get_network_presets()["dying_relu"]
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
