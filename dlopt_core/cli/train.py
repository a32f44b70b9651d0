"""``dlopt-train``: train an experiment from the command line.

    dlopt-train CONFIG.json --steps N [--out metrics.csv] [--compare adam,sgd:lr=0.1,...]
    dlopt-train --example > config.json

Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from dlopt_core.cli.progress import Progress
from dlopt_core.data.datasets import DatasetError
from dlopt_core.train.backends import BACKENDS, BackendError
from dlopt_core.train.chunks import chunk_limit, next_chunk
from dlopt_core.train.engine import DIVERGED, EARLY_STOPPED, FIELDS, Engine, Metrics, ModelSpec
from dlopt_core.train.experiment import Experiment, ExperimentError, example
from dlopt_core.train.optimizers import OPTIMIZERS, make_optimizer

EXIT_USAGE = 2
MAX_STEPS = 10**12
CHUNK_S = 0.25  # compute per chunk: the progress moves a few times a second
COMPILE_NOTE_AFTER_S = 1.5  # a first step slower than this is compiling the kernels


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as for every other bad input
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dlopt-train", description="Train a dlopt experiment and write its metrics.")
    p.add_argument("config", nargs="?", help="experiment file (JSON); see --example")
    p.add_argument(
        "--steps",
        type=_step_count,
        metavar="N",
        help="training steps, e.g. 5000 or 1e6 (default: the config's max_steps)",
    )
    p.add_argument("--out", help="write the metrics as CSV to this file")
    p.add_argument(
        "--compare",
        help="train several optimizers side by side, e.g. "
        "'adam,sgd:lr=0.1,momentum:lr=0.05:momentum=0.8'",
    )
    p.add_argument("--backend", choices=BACKENDS, default="cpu", help="where to train")
    p.add_argument("--seed", type=int, help="override the experiment's seed")
    p.add_argument("--example", action="store_true", help="print a complete example config")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _step_count(text: str) -> int:
    """A whole number of steps, also written like 1e6; at most MAX_STEPS."""
    try:
        value = float(text) if any(c in text for c in ".eE") else int(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if isinstance(value, float) and not value.is_integer():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    if not 0 <= value <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"{text} is out of range; allowed 1 to {MAX_STEPS:.0e}")
    return int(value)


def parse_compare(text: str, base: Experiment) -> list[ModelSpec]:
    """``adam,sgd:lr=0.1`` -> model specs; an optimizer named like the config's keeps its values."""
    if not text.strip():
        raise UsageError("--compare: name at least one optimizer (the value is empty)")
    specs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, *assignments = item.split(":")
        if name not in OPTIMIZERS:
            raise UsageError(
                f"--compare: unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}"
            )
        hyper: dict[str, Any] = dict(base.optimizer.hyper) if name == base.optimizer.name else {}
        for a in assignments:
            key, sep, value = a.partition("=")
            if not sep:
                raise UsageError(f"--compare: expected key=value in {item!r}, got {a!r}")
            hyper[key] = _parse_value(value)
        try:
            opt = make_optimizer(name, **hyper)
        except ValueError as exc:
            raise UsageError(f"--compare: {exc}") from None
        label = item if assignments else name
        specs.append(ModelSpec(opt, base.schedule, label=label))
    if not specs:
        raise UsageError("--compare: name at least one optimizer")
    if len({s.label for s in specs}) != len(specs):
        raise UsageError("--compare: an optimizer is listed twice with the same settings")
    return specs


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if "/" in text:
        return tuple(_parse_value(v) for v in text.split("/"))
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"--compare: {text!r} is not a number") from None


class MetricsWriter:
    """Writes metrics as CSV while they are produced (long format: one row per recorded step
    and model), so that a long run never holds more than one chunk of them."""

    def __init__(self, path: str | Path, engine: Engine) -> None:
        self.fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.writer = csv.writer(self.fh)
        self.names = [spec.name for spec in engine.specs]
        self.steps_per_epoch = engine.steps_per_epoch
        self.rows = 0
        self.writer.writerow(["step", "epoch", "model", *FIELDS])
        h = engine.history  # the evaluation at step 0
        self.write(h.steps[:1], np.stack([h.field(f)[:1] for f in FIELDS], axis=1))

    def write(self, steps: np.ndarray, data: np.ndarray) -> None:
        """Rows ``data[r, field, model]`` recorded at ``steps``."""
        for r, step in enumerate(steps):
            epoch = f"{step / self.steps_per_epoch:.6g}"
            for m, name in enumerate(self.names):
                self.writer.writerow(
                    [int(step), epoch, name, *(f"{data[r, i, m]:.10g}" for i in range(len(FIELDS)))]
                )
        self.rows += len(steps) * len(self.names)

    def write_metrics(self, metrics: Metrics) -> None:
        self.write(metrics.steps, np.stack([getattr(metrics, f) for f in FIELDS], axis=1))

    def close(self) -> None:
        self.fh.close()


class RunEnd:
    """How each model's run ended: finished, diverged, early stopped or reached the target."""

    def __init__(self, engine: Engine, target: float) -> None:
        self.engine = engine
        self.target = target
        self.target_step = np.full(engine.n_models, -1, dtype=np.int64)

    def add(self, metrics: Metrics) -> None:
        """Note the first recorded step at which each model's training loss reached the target."""
        if self.target <= 0.0 or len(metrics) == 0:
            return
        with np.errstate(invalid="ignore"):
            hit = metrics.train_loss <= self.target
        for m in np.flatnonzero((self.target_step < 0) & hit.any(axis=0)):
            self.target_step[m] = metrics.steps[np.argmax(hit[:, m])]

    @property
    def all_done(self) -> bool:
        """Every model has stopped or reached the target: the run can end."""
        return bool(np.all(~self.engine.running | (self.target_step >= 0)))

    def status(self, m: int) -> str:
        e = self.engine
        if e.status[m] == DIVERGED:
            return f"diverged at step {int(e.stop_step[m])}"
        if e.status[m] == EARLY_STOPPED:
            return f"early stopped at step {int(e.stop_step[m])}"
        if self.target_step[m] >= 0:
            return f"reached the target at step {int(self.target_step[m])}"
        return "finished"


def train(
    exp: Experiment,
    steps: int,
    specs: list[ModelSpec] | None,
    backend: str,
    progress: Progress,
    out: str | None = None,
) -> tuple[Engine, RunEnd]:
    """Run ``steps`` steps in chunks of about ``CHUNK_S`` of compute, each holding a bounded number
    of recorded values (memory stays flat however long the run), reporting progress and writing
    the metrics to ``out`` as they come; returns the engine and how each model's run ended."""
    _, _, engine = exp.build(specs, backend=backend)
    writer = MetricsWriter(out, engine) if out else None
    end = RunEnd(engine, exp.target_loss)
    try:
        every = engine.train.eval_every
        limit = chunk_limit(every, engine.n_models, len(FIELDS))
        chunk = min(limit, every)
        done = _first_step(engine, steps, progress, writer, end)
        progress.update(done)
        while done < steps and engine.running.any() and not end.all_done:
            n = min(chunk, steps - done)
            t0 = time.perf_counter()
            metrics = engine.run(n)
            chunk = next_chunk(n, time.perf_counter() - t0, CHUNK_S, every, limit)
            done += n
            end.add(metrics)
            if writer is not None:
                writer.write_metrics(metrics)
            progress.update(done)
    finally:
        if writer is not None:
            writer.close()
    progress.close()
    return engine, end


def _first_step(
    engine: Engine, steps: int, progress: Progress, writer: MetricsWriter | None, end: RunEnd
) -> int:
    """Train one step, saying that the kernels compile if that takes a while (only a cold Numba
    cache does: loading them from the cache is quick); returns the steps done."""
    compiled: list[float] = []

    def announce() -> None:
        compiled.append(time.perf_counter())
        progress.note(
            "compiling the training kernels (the first run after installing takes "
            "about 20 s; later runs load them from the cache)"
        )

    timer = threading.Timer(COMPILE_NOTE_AFTER_S, announce)
    timer.daemon = True
    timer.start()
    t0 = time.perf_counter()
    try:
        metrics = engine.run(1)
    finally:
        timer.cancel()
    if compiled:
        progress.note(f"compiled in {time.perf_counter() - t0:.1f} s")
    progress.restart(1)
    end.add(metrics)
    if writer is not None:
        writer.write_metrics(metrics)
    return min(1, steps)


def summary_table(engine: Engine, end: RunEnd | None = None) -> str:
    rows = engine.summary()
    regression = engine.network.loss == "mse"
    err = "RMSE" if regression else "error"
    head = [
        "model",
        "status",
        "train loss",
        "val loss",
        f"train {err}",
        f"val {err}",
        "best val loss",
        "at step",
    ]
    body = []
    for m, r in enumerate(rows):
        fmt = (lambda v: f"{v:.4g}") if regression else (lambda v: f"{100 * v:.1f}%")
        status = end.status(m) if end is not None else r["status"]
        body.append(
            [
                r["model"],
                status,
                f"{r['train_loss']:.4g}",
                f"{r['val_loss']:.4g}",
                fmt(r["train_error"]),
                fmt(r["val_error"]),
                f"{r['best_val_loss']:.4g}",
                str(r["best_val_step"]),
            ]
        )
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body, strict=False)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
        for row in (head, *body)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_guarded(
        "dlopt-train",
        lambda: _main(argv),
        (UsageError, ExperimentError, DatasetError, BackendError, ValueError),
    )


def run_guarded(
    prog: str, body: Callable[[], int], usage_errors: tuple[type[Exception], ...]
) -> int:
    """``body()``, with a user's errors (``usage_errors`` and files that cannot be used) as one
    line on stderr and exit code 2, and Ctrl+C as exit code 130."""
    try:
        return body()
    except usage_errors as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.example:
        print(example().to_json())
        return 0
    if not args.config:
        raise UsageError("name a config file (dlopt-train CONFIG.json --steps N), or use --example")
    exp = Experiment.load(args.config)
    if args.seed is not None:
        if args.seed < 0:
            raise UsageError(f"--seed must be >= 0, got {args.seed}")
        exp = Experiment.from_dict({**exp.to_dict(), "seed": args.seed})
    steps = args.steps if args.steps is not None else exp.max_steps
    if steps is None or steps <= 0:
        raise UsageError("give --steps N (N > 0), or set max_steps in the config")
    specs = parse_compare(args.compare, exp) if args.compare is not None else None
    if args.out is not None:
        if not args.out.strip():
            raise UsageError("--out: name a file (the value is empty)")
        out_dir = Path(args.out).resolve().parent
        if not out_dir.is_dir():
            raise UsageError(f"--out: folder {out_dir} does not exist")
        if Path(args.out).is_dir():
            raise UsageError(f"--out: {args.out} is a folder; name a file")
    progress = Progress(steps, sys.stderr, enabled=not args.quiet)
    engine, end = train(exp, steps, specs, args.backend, progress, args.out)
    print(summary_table(engine, end))
    if args.out:
        print(f"metrics written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
