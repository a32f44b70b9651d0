"""The user's own CSV files: read through the bounded reader, parsed with clear messages that name
the line and column of a problem, and made into a ``Dataset`` (the last column is the target).
"""

from __future__ import annotations

import math
import os
from array import array
from pathlib import Path

import numpy as np

from dlopt_core.data import files
from dlopt_core.data.splits import (
    MAX_ABS_VALUE,
    MAX_AUTO_CLASSES,
    MAX_CLASSES,
    MIN_SAMPLES,
    TASKS,
    Dataset,
    DatasetError,
    check_seed,
    check_val_fraction,
    make_dataset,
)

MAX_CSV_BYTES = 64 * 2**20
_DELIMITERS = (",", ";", "\t")


# --------------------------------------------------------------------------- CSV files


def _strip_field(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1].strip()
    return field


def _parse_number(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None


def _pick_delimiter(lines: list[tuple[int, str]]) -> str:
    """Comma, semicolon or tab: the first one that splits every line into the same count."""
    first = lines[0][1]
    counts = {d: first.count(d) for d in _DELIMITERS}
    for d in _DELIMITERS:
        if counts[d] and all(text.count(d) == counts[d] for _, text in lines):
            return d
    return max(_DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","


def _read_text(path: Path) -> str:
    """The file as text: a regular file of at most ``MAX_CSV_BYTES``, UTF-8 (BOM allowed)."""
    data = files.read_bytes(path, MAX_CSV_BYTES, DatasetError)
    return files.decode_text(data, str(path), DatasetError)


def _number_or_error(field: str, line_no: int, col: int) -> float:
    value = _parse_number(field)
    if value is None:
        what = "is empty" if not field else f'"{field}" is not a number'
        raise DatasetError(f"line {line_no}: field {col} {what}")
    return value


def _check_range(field: str, value: float, line_no: int, col: int) -> None:
    if not math.isfinite(value):
        raise DatasetError(
            f'line {line_no}: field {col} "{field}" is not a finite number (NaN or inf)'
        )
    if abs(value) > MAX_ABS_VALUE:
        raise DatasetError(
            f'line {line_no}: field {col} "{field}" is too large: values must lie within '
            f"\u00b1{MAX_ABS_VALUE:g} (so that standardising and squaring stay finite); scale the "
            "column down"
        )


def _parse_csv(text: str) -> tuple[tuple[str, ...] | None, np.ndarray]:
    """Header names (or None) and the numeric table; errors name the 1-based line.

    The first line is a header when none of its fields is a number; one with numbers and other
    text is an error naming the first field that is not a number.
    """
    lines = [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise DatasetError("the file is empty: no data rows")
    delim = _pick_delimiter(lines)
    first_no, first = lines[0]
    first_fields = [_strip_field(f) for f in first.split(delim)]
    n_cols = len(first_fields)
    if n_cols < 2:
        raise DatasetError(
            f"line {first_no}: found 1 column; need at least one feature column and the label "
            "in the last column (separated by commas)"
        )
    header: tuple[str, ...] | None = None
    numeric = [_parse_number(f) is not None for f in first_fields]
    if not any(numeric):
        header = tuple(f or f"x{j}" for j, f in enumerate(first_fields, start=1))
        lines = lines[1:]
    elif not all(numeric):
        col = numeric.index(False) + 1
        field = first_fields[col - 1]
        what = "is empty" if not field else f'"{field}" is not a number'
        raise DatasetError(
            f"line {first_no}: field {col} {what}; a header line names every column, a data "
            "line has a number in every field"
        )
    values = array("d")
    for line_no, text_line in lines:
        fields = text_line.split(delim)
        if len(fields) != n_cols:
            raise DatasetError(
                f"line {line_no}: expected {n_cols} fields like line {first_no}, got {len(fields)}"
            )
        try:  # plain numbers: converted in C; quotes or a bad field take the careful way
            values.fromlist(list(map(float, fields)))
        except ValueError:
            values.fromlist(
                [
                    _number_or_error(_strip_field(field), line_no, col)
                    for col, field in enumerate(fields, start=1)
                ]
            )
    n_rows = len(values) // n_cols
    if n_rows < MIN_SAMPLES:
        rows = "data row" if n_rows == 1 else "data rows"
        raise DatasetError(f"only {n_rows} {rows}; need at least {MIN_SAMPLES}")
    table = np.frombuffer(values, dtype=np.float64).reshape(n_rows, n_cols).copy()
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(table) <= MAX_ABS_VALUE)  # NaN, infinities and values too large
    if bad.any():
        row, col = np.argwhere(bad)[0]
        line_no, text_line = lines[row]
        field = _strip_field(text_line.split(delim)[col])
        _check_range(field, float(table[row, col]), line_no, int(col) + 1)
    return header, table


def _classify(y: np.ndarray, task: str | None) -> tuple[str, np.ndarray, int]:
    """(task, labels, n_classes): class labels remapped to 0..K-1 in sorted order."""
    values, codes = np.unique(y, return_inverse=True)
    k = len(values)
    if k < 2:
        raise DatasetError(
            f"the label column (the last one) has a single value ({values[0]:g}); nothing to learn"
        )
    if task is None:
        whole = bool(np.all(values == np.round(values)))
        if not whole or k > MAX_AUTO_CLASSES:
            return "regression", y, 0
        task = "classification"
    if task == "regression":
        return "regression", y, 0
    if k > MAX_CLASSES:
        raise DatasetError(
            f"the label column has {k} distinct values; classification allows at most "
            f"{MAX_CLASSES} classes (use task='regression')"
        )
    if task == "binary" and k != 2:
        raise DatasetError(f"task 'binary' needs exactly 2 distinct labels, found {k}")
    if task == "classification":
        task = "binary" if k == 2 else "multiclass"
    return task, codes.astype(np.float64).reshape(-1), k


def load_csv(
    path: str | os.PathLike[str],
    val_fraction: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
    task: str | None = None,
) -> Dataset:
    """A CSV file of numbers: feature columns, then the label in the last column.

    An optional header on the first line names the features (a header has no number in any
    field). The file must be a regular file of at most ``MAX_CSV_BYTES`` (not a folder, a device
    or a pipe), every value a finite number within ``±MAX_ABS_VALUE``. ``task`` None infers it:
    whole-number labels with at most 20 distinct values are classes, anything else regression.
    Classes are renumbered 0..K-1 in sorted order. ``task`` may also be "regression",
    "classification", "binary" or "multiclass".
    """
    allowed = (None, "classification", *TASKS)
    if task not in allowed:
        raise DatasetError(
            f"unknown task {task!r}; choose from None, 'classification', "
            + ", ".join(repr(t) for t in TASKS)
        )
    val_fraction = check_val_fraction(val_fraction)
    seed = check_seed(seed)
    path = Path(path)
    text = _read_text(path)
    try:
        header, table = _parse_csv(text)
    except DatasetError as exc:  # the line and field, after the file's name
        raise DatasetError(f"{path}: {exc}") from None
    X, y = table[:, :-1], table[:, -1]
    kind, labels, k = _classify(y, task)
    d = X.shape[1]
    names = header[:-1] if header is not None else tuple(f"x{j}" for j in range(1, d + 1))
    rng = np.random.default_rng(seed)
    return make_dataset(path.stem, kind, X, labels, k, names, val_fraction, rng, standardize)
