"""Data sets: seeded 2-D toy problems, the user's own CSV files and a few small real data sets.

Everything comes back as a ``Dataset``: float64, C-contiguous arrays split into a training and a
validation part by a seeded permutation. Classification labels are class indices stored as floats
(0.0 .. K-1); regression labels are the target values. Any problem the user can cause (a bad
argument, a malformed CSV file, a missing optional dependency) raises ``DatasetError`` with a
message that names it.
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import os
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlopt_core.data import files

TASKS = ("binary", "multiclass", "regression")
REAL_DATASETS = ("digits", "iris", "wine", "breast_cancer")
INSTALL_HINT = "install the optional extra: pip install 'dlopt[datasets]' (scikit-learn)"

MIN_SAMPLES = 4
MAX_SAMPLES = 100_000
MAX_VAL_FRACTION = 0.9
MIN_TRAIN = 2
MAX_AUTO_CLASSES = 20
MAX_CLASSES = 100
MAX_CSV_BYTES = 64 * 2**20
MAX_ABS_VALUE = 1e150
_DELIMITERS = (",", ";", "\t")


class DatasetError(ValueError):
    """A data set that cannot be made or read; the message names the problem."""


# --------------------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Dataset:
    """A training/validation split; arrays are float64 and C-contiguous."""

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        for field_name in ("X_train", "y_train", "X_val", "y_val"):
            value = np.ascontiguousarray(getattr(self, field_name), dtype=np.float64)
            object.__setattr__(self, field_name, value)
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        if self.task not in TASKS:
            raise DatasetError(f"unknown task {self.task!r}; choose from {', '.join(TASKS)}")
        if self.X_train.ndim != 2 or self.X_val.ndim != 2:
            raise DatasetError("X_train and X_val must be 2-D (samples x features)")
        if self.y_train.shape != (self.X_train.shape[0],) or self.y_val.shape != (
            self.X_val.shape[0],
        ):
            raise DatasetError("each y must be 1-D with one value per row of its X")
        if self.X_val.shape[1] != self.X_train.shape[1]:
            raise DatasetError("X_train and X_val have different numbers of features")
        if len(self.feature_names) != self.X_train.shape[1]:
            raise DatasetError("feature_names must name every feature column")
        k = self.n_classes
        if self.task == "regression":
            if k != 0:
                raise DatasetError(f"n_classes must be 0 for regression, got {k}")
            return
        if (self.task == "binary" and k != 2) or k < 2:
            need = "2" if self.task == "binary" else "at least 2"
            raise DatasetError(f"n_classes must be {need} for task {self.task!r}, got {k}")
        for y in (self.y_train, self.y_val):
            if y.size and not (np.all(y == np.round(y)) and y.min() >= 0 and y.max() < k):
                raise DatasetError(f"class labels must be whole numbers from 0 to {k - 1}")

    @property
    def n_features(self) -> int:
        """Number of input columns."""
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.X_train.shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation samples (may be 0)."""
        return int(self.X_val.shape[0])


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of ``list_datasets()``: what a data set is and whether it can be loaded now."""

    name: str
    task_kind: str  # "classification" or "regression"
    available: bool
    note: str
    description: str


# --------------------------------------------------------------------------- argument checks


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_val_fraction(val_fraction: Any) -> float:
    if not _is_real(val_fraction) or not 0.0 <= float(val_fraction) <= MAX_VAL_FRACTION:
        raise DatasetError(
            f"val_fraction must be a number between 0 and {MAX_VAL_FRACTION}, got {val_fraction!r}"
        )
    return float(val_fraction)


def _check_seed(seed: Any) -> int:
    if not _is_int(seed) or int(seed) < 0:
        raise DatasetError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- splitting


def _split_indices(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[Any, Any]:
    """Seeded (train, val) index arrays; validation gets ``round(val_fraction * n)`` samples.

    The validation part is capped so that at least ``MIN_TRAIN`` samples remain for training.
    """
    n_val = min(int(round(val_fraction * n)), max(n - MIN_TRAIN, 0))
    perm = rng.permutation(n)
    return perm[n_val:], perm[:n_val]


def _standardize(X_train: np.ndarray, X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both parts scaled with the training part's mean and std (std 1 for a constant column)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0.0, std, 1.0)
    return (X_train - mean) / std, (X_val - mean) / std


def _make(
    name: str,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    feature_names: tuple[str, ...],
    val_fraction: float,
    rng: np.random.Generator,
    standardize: bool = False,
) -> Dataset:
    train, val = _split_indices(X.shape[0], val_fraction, rng)
    X_train, X_val = X[train], X[val]
    if standardize:
        X_train, X_val = _standardize(X_train, X_val)
    return Dataset(name, task, X_train, y[train], X_val, y[val], n_classes, feature_names)


# --------------------------------------------------------------------------- generators

GenFn = Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GeneratorInfo:
    """A synthetic 2-D data set: its task kind, allowed class counts and generating function."""

    name: str
    task_kind: str  # "classification" or "regression"
    min_classes: int  # 0 for regression; equal to max_classes when the count is fixed
    max_classes: int
    description: str
    fn: GenFn

    @property
    def variable_classes(self) -> bool:
        """Whether ``n_classes`` is a real choice for this generator."""
        return self.min_classes != self.max_classes


def _class_sizes(n: int, k: int) -> np.ndarray:
    """``n`` split into ``k`` near-equal counts (the first ``n % k`` get one more)."""
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return sizes


def _labels(sizes: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.float64), sizes)


def _polar(r: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


CIRCLE_INNER = 0.5  # radius of the inner disc (class 1)
CIRCLE_OUTER = (0.7, 1.0)  # radii of the outer ring (class 0)


def _circle(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """Class 1: a disc of radius 0.5; class 0: a ring between radii 0.7 and 1 (uniform in area)."""
    n_out, n_in = _class_sizes(n, 2)
    lo, hi = CIRCLE_OUTER
    r_out = np.sqrt(rng.uniform(lo**2, hi**2, n_out))
    r_in = CIRCLE_INNER * np.sqrt(rng.uniform(0.0, 1.0, n_in))
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    X = _polar(np.concatenate([r_out, r_in]), theta)
    X += noise * rng.standard_normal(X.shape)
    return X, _labels(np.array([n_out, n_in]))


XOR_MARGIN = 0.05  # noise-free points keep this distance from both axes


def _xor(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """Class 1 where x1 and x2 have the same sign, class 0 where they differ."""
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    mag = rng.uniform(XOR_MARGIN, 1.0, (n, 2))
    s1 = rng.choice([-1.0, 1.0], n)
    s2 = np.where(y == 1.0, s1, -s1)
    X = mag * np.column_stack([s1, s2])
    X += noise * rng.standard_normal(X.shape)
    return X, y


GAUSS_RADIUS = 0.6  # blob centres lie on this circle
GAUSS_SPREAD = 0.1  # std of each blob before noise


def gaussian_centres(k: int) -> np.ndarray:
    """Centres of the ``k`` blobs of ``gaussians``: evenly on a circle, first at 45 degrees."""
    angle = np.pi / 4.0 + 2.0 * np.pi * np.arange(k) / k
    return _polar(np.full(k, GAUSS_RADIUS), angle)


def _gaussians(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """``k`` round blobs (std 0.1, plus the noise) centred on a circle of radius 0.6."""
    sizes = _class_sizes(n, k)
    centres = np.repeat(gaussian_centres(k), sizes, axis=0)
    spread = math.sqrt(GAUSS_SPREAD**2 + noise**2)
    X = centres + spread * rng.standard_normal((n, 2))
    return X, _labels(sizes)


SPIRAL_TURN = 3.5 * np.pi  # angle swept by an arm from its start to its end
SPIRAL_R0 = 0.1  # radius where the arms start (they end at radius 1)


def _spiral(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """``k`` interleaved arms: radius 0.1 + 0.9 t, angle 3.5 pi t + 2 pi c / k, t in [0, 1]."""
    sizes = _class_sizes(n, k)
    y = _labels(sizes)
    t = rng.uniform(0.0, 1.0, n)
    r = SPIRAL_R0 + (1.0 - SPIRAL_R0) * t
    theta = SPIRAL_TURN * t + 2.0 * np.pi * y / k
    X = _polar(r, theta)
    X += noise * rng.standard_normal(X.shape)
    return X, y


MOONS_SCALE = 1.5  # the classic moons span x in [-1, 2]; divided by this (after centring)
MOONS_SHIFT = (0.5, 0.25)


def _moons(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """Two interleaving half circles, centred and scaled to x1 in [-1, 1], x2 in [-0.5, 0.5]."""
    n0, n1 = _class_sizes(n, 2)
    a0 = rng.uniform(0.0, np.pi, n0)
    a1 = rng.uniform(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1.0 - np.cos(a1), 0.5 - np.sin(a1)])
    X = (np.vstack([upper, lower]) - np.array(MOONS_SHIFT)) / MOONS_SCALE
    X += noise * rng.standard_normal(X.shape)
    return X, _labels(np.array([n0, n1]))


PLANE_WEIGHTS = (0.6, -0.4)


def plane_function(X: np.ndarray) -> np.ndarray:
    """The noise-free target of ``plane``: 0.6 x1 - 0.4 x2."""
    return PLANE_WEIGHTS[0] * X[:, 0] + PLANE_WEIGHTS[1] * X[:, 1]


# (height, centre x1, centre x2, width)
BUMPS = ((1.0, -0.4, 0.4, 0.3), (-1.0, 0.4, -0.3, 0.35), (0.6, 0.5, 0.6, 0.25))


def bumps_function(X: np.ndarray) -> np.ndarray:
    """The noise-free target of ``bumps``: a sum of three Gaussian bumps of both signs."""
    y = np.zeros(X.shape[0])
    for height, c1, c2, width in BUMPS:
        d2 = (X[:, 0] - c1) ** 2 + (X[:, 1] - c2) ** 2
        y += height * np.exp(-d2 / (2.0 * width**2))
    return y


def _plane(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    X = rng.uniform(-1.0, 1.0, (n, 2))
    return X, plane_function(X) + noise * rng.standard_normal(n)


def _bumps(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    X = rng.uniform(-1.0, 1.0, (n, 2))
    return X, bumps_function(X) + noise * rng.standard_normal(n)


_C, _R = "classification", "regression"
GENERATORS: dict[str, GeneratorInfo] = {
    g.name: g
    for g in (
        GeneratorInfo("circle", _C, 2, 2, "Inner disc against an outer ring", _circle),
        GeneratorInfo("xor", _C, 2, 2, "Class by the sign of x1 * x2 (quadrants)", _xor),
        GeneratorInfo("gaussians", _C, 2, 8, "2-8 Gaussian blobs on a circle", _gaussians),
        GeneratorInfo("spiral", _C, 2, 8, "2-8 interleaved spiral arms", _spiral),
        GeneratorInfo("moons", _C, 2, 2, "Two interleaving half circles", _moons),
        GeneratorInfo("plane", _R, 0, 0, "Regression: y is a linear function of x", _plane),
        GeneratorInfo("bumps", _R, 0, 0, "Regression: a sum of smooth Gaussian bumps", _bumps),
    )
}


def generate(
    kind: str,
    n_samples: int = 400,
    noise: float = 0.1,
    val_fraction: float = 0.2,
    seed: int = 0,
    n_classes: int = 2,
) -> Dataset:
    """A seeded synthetic 2-D data set; ``n_samples`` in all, split train/validation.

    ``noise`` is the std of Gaussian noise added to the inputs (classification) or to the target
    (regression). ``n_classes`` matters only for ``gaussians`` and ``spiral``.
    """
    info = GENERATORS.get(kind) if isinstance(kind, str) else None
    if info is None:
        raise DatasetError(f"unknown data set kind {kind!r}; choose from {', '.join(GENERATORS)}")
    if not _is_int(n_samples) or not MIN_SAMPLES <= int(n_samples) <= MAX_SAMPLES:
        raise DatasetError(
            f"n_samples must be a whole number from {MIN_SAMPLES} to {MAX_SAMPLES}, "
            f"got {n_samples!r}"
        )
    if not _is_real(noise) or not math.isfinite(float(noise)) or float(noise) < 0.0:
        raise DatasetError(f"noise must be a finite number >= 0, got {noise!r}")
    val_fraction = _check_val_fraction(val_fraction)
    seed = _check_seed(seed)
    if info.task_kind == _R:
        k = 0
    elif info.variable_classes:
        if not _is_int(n_classes) or not info.min_classes <= int(n_classes) <= info.max_classes:
            raise DatasetError(
                f"n_classes for {kind!r} must be a whole number from {info.min_classes} to "
                f"{info.max_classes}, got {n_classes!r}"
            )
        k = int(n_classes)
    else:
        k = info.min_classes
    rng = np.random.default_rng(seed)
    X, y = info.fn(rng, int(n_samples), float(noise), k)
    task = "regression" if k == 0 else ("binary" if k == 2 else "multiclass")
    return _make(kind, task, X, y, k, ("x1", "x2"), val_fraction, rng)


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
    val_fraction = _check_val_fraction(val_fraction)
    seed = _check_seed(seed)
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
    return _make(path.stem, kind, X, labels, k, names, val_fraction, rng, standardize)


# --------------------------------------------------------------------------- real data sets

_REAL_INFO = {
    "digits": "Handwritten digits: 1797 images of 8x8 pixels (64 inputs), 10 classes",
    "iris": "Iris flowers: 150 samples, 4 measurements, 3 species",
    "wine": "Wine cultivars: 178 samples, 13 chemical measurements, 3 classes",
    "breast_cancer": "Breast cancer (Wisconsin): 569 samples, 30 features, benign or malignant",
}


def real_available() -> tuple[bool, str]:
    """(True, "") when scikit-learn can be imported, else (False, how to install it)."""
    try:
        found = importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):
        found = False
    return (True, "") if found else (False, INSTALL_HINT)


def load_real(
    name: str, val_fraction: float = 0.2, seed: int = 0, standardize: bool = True
) -> Dataset:
    """One of scikit-learn's bundled data sets (``REAL_DATASETS``), split and standardised."""
    if name not in REAL_DATASETS:
        raise DatasetError(
            f"unknown real data set {name!r}; choose from {', '.join(REAL_DATASETS)}"
        )
    val_fraction = _check_val_fraction(val_fraction)
    seed = _check_seed(seed)
    try:
        from sklearn import datasets as skd
    except ImportError:
        raise DatasetError(f"the {name!r} data set needs scikit-learn; {INSTALL_HINT}") from None
    bunch = getattr(skd, f"load_{name}")()
    X = np.asarray(bunch.data, dtype=np.float64)
    codes = np.unique(np.asarray(bunch.target), return_inverse=True)[1].reshape(-1)
    k = int(codes.max()) + 1
    raw_names = getattr(bunch, "feature_names", None)
    if raw_names is not None and len(raw_names) == X.shape[1]:
        names = tuple(str(n) for n in raw_names)
    else:
        names = tuple(f"x{j}" for j in range(1, X.shape[1] + 1))
    task = "binary" if k == 2 else "multiclass"
    rng = np.random.default_rng(seed)
    y = codes.astype(np.float64)
    return _make(name, task, X, y, k, names, val_fraction, rng, standardize)


def list_datasets() -> list[DatasetInfo]:
    """Every generator, then every real data set, with availability and a short description."""
    infos = [DatasetInfo(g.name, g.task_kind, True, "", g.description) for g in GENERATORS.values()]
    ok, note = real_available()
    infos += [DatasetInfo(n, _C, ok, note, _REAL_INFO[n]) for n in REAL_DATASETS]
    return infos
