"""How reading hostile or large input scales: lesson Markdown, the bounded JSON reader, CSV files.

    python benchmarks/bench_inputs.py [--quick]

Markdown: lines of n and 2n characters full of unclosed markup (``**a``, ``*a``, ``_a``, ``[a``),
which made the old renderer quadratic (a 48 KB line took 7.6 s); the time ratio of 2n to n is
about 2 for a linear renderer and 4 for a quadratic one. JSON: a file at the size limit. CSV: rows
per second of ``load_csv`` on a file of three columns.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlopt_core import files  # noqa: E402
from dlopt_core.course.lessons import markdown_to_html  # noqa: E402
from dlopt_core.data.datasets import load_csv  # noqa: E402

UNCLOSED = {"bold": "**a ", "italic": "*a ", "underscore": "_a ", "link": "[a "}


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def markdown(chars: int, repeat: int) -> None:
    print(f"Markdown, one line of unclosed markup ({chars:,} and {2 * chars:,} characters)")
    for name, unit in UNCLOSED.items():
        n = chars // len(unit)
        t1 = _best(lambda u=unit, k=n: markdown_to_html(u * k), repeat)
        t2 = _best(lambda u=unit, k=2 * n: markdown_to_html(u * k), repeat)
        print(f"  {name:<11} {t1 * 1e3:8.1f} ms {t2 * 1e3:8.1f} ms   ratio {t2 / t1:4.1f}")


def json_reader(folder: Path, repeat: int) -> None:
    path = folder / "big.json"
    items = (files.MAX_JSON_BYTES - 100) // 22
    path.write_text("[" + ",".join(['{"lr": 0.001, "x": 1}'] * items) + "]")
    size = path.stat().st_size
    seconds = _best(lambda: files.load_json(path, ValueError), repeat)
    print(f"JSON reader: {files.size_text(size)} file at the limit in {seconds:.2f} s")


def csv_reader(folder: Path, rows: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 2))
    path = folder / "big.csv"
    with open(path, "w") as fh:
        fh.write("a,b,label\n")
        fh.writelines(f"{a:.5f},{b:.5f},{int(a * b > 0)}\n" for a, b in X)
    seconds = _best(lambda: load_csv(path), repeat)
    print(
        f"CSV: {rows:,} rows ({files.size_text(path.stat().st_size)}) in {seconds:.2f} s, "
        f"{rows / seconds:,.0f} rows/s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller inputs, one repeat")
    args = ap.parse_args()
    repeat = 1 if args.quick else 3
    markdown(12_000 if args.quick else 48_000, repeat)
    with tempfile.TemporaryDirectory() as tmp:
        json_reader(Path(tmp), repeat)
        csv_reader(Path(tmp), 100_000 if args.quick else 1_000_000, 1)


if __name__ == "__main__":
    main()
