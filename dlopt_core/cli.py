"""``dlopt-train``: train an experiment from the command line.

    dlopt-train CONFIG.json --steps N [--out metrics.csv] [--compare adam,sgd:lr=0.1,...]
    dlopt-train --example > config.json

Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .backends import BACKENDS, BackendError
from .datasets import DatasetError
from .engine import FIELDS, Engine, ModelSpec
from .experiment import Experiment, ExperimentError, example
from .kernels import training_kernels_ready
from .optimizers import OPTIMIZERS, make_optimizer

EXIT_USAGE = 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dlopt-train", description="Train a dlopt experiment and write its metrics.")
    p.add_argument("config", nargs="?", help="experiment file (JSON); see --example")
    p.add_argument("--steps", type=int, help="training steps (default: the config's max_steps)")
    p.add_argument("--out", help="write the metrics as CSV to this file")
    p.add_argument("--compare", help="train several optimizers side by side, e.g. "
                   "'adam,sgd:lr=0.1,momentum:lr=0.05:momentum=0.8'")
    p.add_argument("--backend", choices=BACKENDS, default="cpu", help="where to train")
    p.add_argument("--seed", type=int, help="override the experiment's seed")
    p.add_argument("--example", action="store_true", help="print a complete example config")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def parse_compare(text: str, base: Experiment) -> list[ModelSpec]:
    """``adam,sgd:lr=0.1`` -> model specs; an optimizer named like the config's keeps its values."""
    specs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, *assignments = item.split(":")
        if name not in OPTIMIZERS:
            raise UsageError(f"--compare: unknown optimizer {name!r}; choose from "
                             f"{', '.join(OPTIMIZERS)}")
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


class Progress:
    """A one-line progress bar with steps per second, on a terminal stream."""

    def __init__(self, total: int, stream: TextIO, enabled: bool = True):
        self.total = max(total, 1)
        self.stream = stream
        self.enabled = enabled
        self.restart(0)

    def restart(self, done: int) -> None:
        """Measure steps per second from here (after a chunk that compiled the kernels)."""
        self.start = time.perf_counter()
        self.base = done

    def note(self, text: str) -> None:
        """A line of its own above the bar (e.g. that the kernels are compiling)."""
        if self.enabled:
            self.stream.write(f"\r{text}\n")
            self.stream.flush()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        frac = done / self.total
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        rate = f"{(done - self.base) / elapsed:,.0f} steps/s" if done > self.base else ""
        self.stream.write(f"\r[{bar}] {frac:6.1%} {done}/{self.total} steps  {rate}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def train(exp: Experiment, steps: int, specs: list[ModelSpec] | None, backend: str,
          progress: Progress) -> Engine:
    """Run ``steps`` steps in chunks, reporting progress; returns the engine with its history."""
    _, _, engine = exp.build(specs, backend=backend)
    chunk = max(engine.train.eval_every, steps // 100)
    done = 0
    compiling = engine.backend.name == "cpu" and not training_kernels_ready()
    if compiling:
        progress.note("compiling the training kernels (the first run after installing takes "
                      "about 20 s; later runs load them from the cache)")
    progress.update(0)
    while done < steps and engine.running.any():
        n = min(chunk, steps - done)
        t0 = time.perf_counter()
        engine.run(n)
        done += n
        if compiling:  # the rate counts training, not the compiler
            compiling = False
            progress.note(f"compiled in {time.perf_counter() - t0:.1f} s")
            progress.restart(done)
        progress.update(done)
    progress.close()
    return engine


def summary_table(engine: Engine) -> str:
    rows = engine.summary()
    regression = engine.network.loss == "mse"
    err = "RMSE" if regression else "error"
    head = ["model", "status", "train loss", "val loss", f"train {err}", f"val {err}",
            "best val loss", "at step"]
    body = []
    for r in rows:
        fmt = (lambda v: f"{v:.4g}") if regression else (lambda v: f"{100 * v:.1f}%")
        status = r["status"] if r["stop_step"] < 0 else f"{r['status']} at {r['stop_step']}"
        body.append([r["model"], status, f"{r['train_loss']:.4g}", f"{r['val_loss']:.4g}",
                     fmt(r["train_error"]), fmt(r["val_error"]), f"{r['best_val_loss']:.4g}",
                     str(r["best_val_step"])])
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body, strict=False)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
             for row in (head, *body)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(engine: Engine, path: str | Path) -> None:
    """Long format: one row per recorded step and model."""
    h = engine.history
    steps = h.steps
    cols = {f: h.field(f) for f in FIELDS}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "epoch", "model", *FIELDS])
        for r, step in enumerate(steps):
            for m, spec in enumerate(engine.specs):
                w.writerow([int(step), f"{step / engine.steps_per_epoch:.6g}", spec.name,
                            *(f"{cols[f][r, m]:.10g}" for f in FIELDS)])


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except (UsageError, ExperimentError, DatasetError, BackendError, ValueError) as exc:
        print(f"dlopt-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dlopt-train: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ndlopt-train: interrupted", file=sys.stderr)
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
    specs = parse_compare(args.compare, exp) if args.compare else None
    if args.out:
        out_dir = Path(args.out).resolve().parent
        if not out_dir.is_dir():
            raise UsageError(f"--out: folder {out_dir} does not exist")
    progress = Progress(steps, sys.stderr, enabled=not args.quiet)
    engine = train(exp, steps, specs, args.backend, progress)
    print(summary_table(engine))
    if args.out:
        write_csv(engine, args.out)
        print(f"metrics written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
