"""``dlopt-map``: compute a trainability map from the command line.

    dlopt-map --res 64 --steps 200 --out map.npz --png map.png
    dlopt-map --axes lr,offset --lr -1 3 --offset -2 2 --scheduler local:2
    dlopt-map --problem mine.npz --scheduler tcp://10.0.0.5:8786 --res 512

Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import NoReturn, cast

from dlopt_core.cli.progress import Progress
from dlopt_core.cli.train import UsageError, run_guarded
from dlopt_core.studies.executors import ExecutorError, make_executor
from dlopt_core.studies.map_image import picture, write_png
from dlopt_core.studies.trainability import (
    AXES,
    OPTIMIZERS,
    MapError,
    MapSpec,
    Problem,
    trainability_map,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as for every other bad input
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="dlopt-map",
        description=(
            "Train a grid of copies of a small network that differ in two hyper-parameters and map "
            "which ones train and which diverge (Sohl-Dickstein 2024)."
        ),
    )
    p.add_argument(
        "--problem",
        metavar="FILE.npz",
        help="arrays X (n, d), Y (n, 1), W1 (d, d), W2 (d, 1); default: the paper's "
        "random problem of --width and --seed",
    )
    p.add_argument("--width", type=int, default=16, help="width d of the paper's problem (16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the paper's problem (0)")
    p.add_argument("--axes", default="lr1,lr2", help=f"two of {', '.join(AXES)} (default lr1,lr2)")
    for axis in AXES.values():
        unit = "log10 " if axis.log else ""
        lo, hi = axis.default
        p.add_argument(
            f"--{axis.name}",
            nargs=2,
            type=float,
            metavar=("LO", "HI"),
            help=f"range of {axis.help}: {unit}LO to {unit}HI (default {lo:g} {hi:g})",
        )
    p.add_argument(
        "--res",
        nargs="+",
        type=int,
        metavar="N",
        default=[64],
        help="pixels per axis: N, or NX NY (default 64)",
    )
    p.add_argument("--steps", type=int, default=200, help="training steps per run (200)")
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="gd",
        help="gd, momentum or adam (an axis of momentum or beta1 decides it)",
    )
    p.add_argument(
        "--beta",
        type=float,
        default=0.9,
        help="momentum or Adam's beta1 when it is not an axis (0.9)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=0,
        metavar="B",
        help="rows of each step's gradient, drawn with replacement (a new draw each "
        "step, the same for every run); 0: the whole data set (default)",
    )
    p.add_argument("--batch-seed", type=int, default=0, help="seed of the mini-batches (0)")
    p.add_argument(
        "--backend", choices=("cpu", "cuda"), default="cpu", help="where each tile trains (cpu)"
    )
    p.add_argument(
        "--scheduler",
        metavar="local[:N]|ADDRESS",
        help="run the tiles on Dask: local (a LocalCluster of N worker processes) or "
        "the address of a running scheduler; default: in this process",
    )
    p.add_argument(
        "--out",
        metavar="map.npz",
        help="write value, the axis values, converged and fractal_dimension",
    )
    p.add_argument("--png", metavar="map.png", help="write the map as a picture")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def spec_from_args(args: argparse.Namespace) -> MapSpec:
    """The map the arguments ask for (MapError on a bad value)."""
    axes = tuple(a.strip() for a in args.axes.split(","))
    if len(axes) != 2:
        raise UsageError(f"--axes needs two names separated by a comma, got {args.axes!r}")
    for a in axes:
        if a not in AXES:
            raise UsageError(f"--axes: unknown axis {a!r}; choose from {', '.join(AXES)}")
    for name in AXES:
        if getattr(args, name) is not None and name not in axes:
            raise UsageError(f"--{name} is given but {name} is not one of --axes {args.axes}")
    ranges = cast(
        tuple[tuple[float, float], tuple[float, float]],
        tuple(tuple(getattr(args, a) or AXES[a].default) for a in axes),
    )
    if len(args.res) not in (1, 2):
        raise UsageError("--res takes N or NX NY")
    res = (args.res[0], args.res[-1])
    return MapSpec(
        axes=axes,
        ranges=ranges,
        res=res,
        steps=args.steps,
        optimizer=args.optimizer,
        beta=args.beta,
        batch=args.batch,
        batch_seed=args.batch_seed,
    )


def _check_output(option: str, path: str | None) -> None:
    if path is None:
        return
    if not path.strip():
        raise UsageError(f"{option}: name a file (the value is empty)")
    if Path(path).is_dir():
        raise UsageError(f"{option}: {path} is a folder; name a file")
    if not Path(path).resolve().parent.is_dir():
        raise UsageError(f"{option}: folder {Path(path).resolve().parent} does not exist")


def main(argv: list[str] | None = None) -> int:
    return run_guarded("dlopt-map", lambda: _main(argv), (UsageError, MapError, ExecutorError))


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    spec = spec_from_args(args)
    _check_output("--out", args.out)
    _check_output("--png", args.png)
    problem = Problem.load(args.problem) if args.problem else Problem.paper(args.width, args.seed)
    if args.backend == "cuda":
        from dlopt_core.train.backends import cuda_status

        ok, why = cuda_status()
        if not ok:
            raise UsageError(f"--backend cuda: {why}")
    n_tiles = len(spec.tiles())
    with make_executor(args.scheduler) as executor:
        progress = Progress(n_tiles, sys.stderr, enabled=not args.quiet, unit="tiles")
        progress.note(
            f"{spec.res[0]} x {spec.res[1]} map of {problem.name}, {spec.steps} steps, "
            f"{n_tiles} tiles on {executor.name}"
        )
        t0 = time.perf_counter()
        result = trainability_map(
            problem,
            spec,
            executor,
            progress=lambda f, part: progress.update(part.tiles_done),
            backend=args.backend,
        )
        progress.close()
    trained = result.converged.mean()
    print(
        f"{spec.res[0]} x {spec.res[1]} pixels, {spec.steps} steps, "
        f"{time.perf_counter() - t0:.1f} s: {trained:.1%} trainable; fractal dimension of "
        f"the edge {result.fractal.describe()}"
    )
    if args.out:
        result.save_npz(args.out)
        print(f"map written to {args.out}")
    if args.png:
        scale = max(1, 512 // max(spec.res))
        write_png(args.png, picture(result.value), scale)
        print(f"picture written to {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
