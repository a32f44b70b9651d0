"""Data sets: seeded generators, CSV loading with line-numbered errors, optional real data sets."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from dlopt_core.data import datasets
from dlopt_core.data.datasets import (
    GENERATORS,
    REAL_DATASETS,
    TASKS,
    Dataset,
    DatasetError,
    DatasetInfo,
    generate,
    list_datasets,
    load_csv,
    load_real,
    real_available,
)

CLASSIFIERS = ("circle", "xor", "gaussians", "spiral", "moons")
REGRESSORS = ("plane", "bumps")
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None


def all_x(ds: Dataset) -> np.ndarray:
    return np.vstack([ds.X_train, ds.X_val])


def all_y(ds: Dataset) -> np.ndarray:
    return np.concatenate([ds.y_train, ds.y_val])


def assert_well_formed(ds: Dataset) -> None:
    for a in (ds.X_train, ds.y_train, ds.X_val, ds.y_val):
        assert a.dtype == np.float64
        assert a.flags["C_CONTIGUOUS"]
    assert ds.X_train.shape == (ds.n_train, ds.n_features)
    assert ds.X_val.shape == (ds.n_val, ds.n_features)
    assert ds.y_train.shape == (ds.n_train,)
    assert ds.y_val.shape == (ds.n_val,)
    assert len(ds.feature_names) == ds.n_features
    assert ds.task in TASKS
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.y_train))


# --------------------------------------------------------------------------- generators


def test_generator_names_and_order():
    assert tuple(GENERATORS) == CLASSIFIERS + REGRESSORS
    for name in CLASSIFIERS:
        assert GENERATORS[name].task_kind == "classification"
    for name in REGRESSORS:
        assert GENERATORS[name].task_kind == "regression"


@pytest.mark.parametrize("kind", CLASSIFIERS + REGRESSORS)
def test_deterministic_given_seed(kind):
    a = generate(kind, 200, 0.1, 0.2, seed=7, n_classes=3)
    b = generate(kind, 200, 0.1, 0.2, seed=7, n_classes=3)
    c = generate(kind, 200, 0.1, 0.2, seed=8, n_classes=3)
    for name in ("X_train", "y_train", "X_val", "y_val"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("kind", CLASSIFIERS + REGRESSORS)
def test_shapes_dtypes_and_scale(kind):
    ds = generate(kind, 300, 0.05, 0.2, seed=1)
    assert_well_formed(ds)
    assert ds.name == kind
    assert ds.n_features == 2 and ds.feature_names == ("x1", "x2")
    assert ds.n_train + ds.n_val == 300
    assert ds.n_val == 60
    X = all_x(ds)
    assert np.all(np.abs(X) < 1.5)  # roughly [-1, 1]^2
    assert np.abs(X).max() > 0.4


@pytest.mark.parametrize(
    "n, frac, n_val", [(400, 0.2, 80), (10, 0.25, 2), (100, 0.0, 0), (101, 0.5, 50), (50, 0.9, 45)]
)
def test_split_sizes(n, frac, n_val):
    ds = generate("moons", n, 0.1, frac, seed=0)
    assert ds.n_val == n_val == round(frac * n)
    assert ds.n_train == n - n_val
    assert_well_formed(ds)


def test_split_keeps_two_training_samples():
    ds = generate("circle", 4, 0.1, 0.9, seed=0)
    assert ds.n_train == 2 and ds.n_val == 2


def test_split_is_a_permutation_of_the_whole():
    a = generate("plane", 100, 0.0, 0.3, seed=3)
    b = generate("plane", 100, 0.0, 0.0, seed=3)
    np.testing.assert_array_equal(np.sort(all_y(a)), np.sort(all_y(b)))


@pytest.mark.parametrize("kind", ["circle", "xor", "moons"])
def test_fixed_binary_kinds_ignore_n_classes(kind):
    ds = generate(kind, 101, 0.1, 0.2, seed=0, n_classes=7)
    assert ds.task == "binary" and ds.n_classes == 2
    counts = np.bincount(all_y(ds).astype(int))
    assert counts.tolist() in ([50, 51], [51, 50])
    assert set(np.unique(ds.y_train)) <= {0.0, 1.0}


@pytest.mark.parametrize("kind", ["gaussians", "spiral"])
@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_variable_class_kinds(kind, k):
    ds = generate(kind, 403, 0.1, 0.2, seed=2, n_classes=k)
    assert ds.n_classes == k
    assert ds.task == ("binary" if k == 2 else "multiclass")
    y = all_y(ds)
    assert np.all(y == np.round(y))
    counts = np.bincount(y.astype(int), minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("kind", REGRESSORS)
def test_regression_kinds(kind):
    ds = generate(kind, 200, 0.1, 0.2, seed=0, n_classes=5)
    assert ds.task == "regression" and ds.n_classes == 0
    assert len(np.unique(ds.y_train)) > 100


# --------------------------------------------------------------------------- noise-free geometry


def test_circle_clean():
    ds = generate("circle", 1000, 0.0, 0.0, seed=0)
    r = np.hypot(ds.X_train[:, 0], ds.X_train[:, 1])
    inner, outer = r[ds.y_train == 1], r[ds.y_train == 0]
    assert inner.max() <= 0.5 + 1e-12
    assert outer.min() >= 0.7 - 1e-12 and outer.max() <= 1.0 + 1e-12


def test_xor_clean():
    ds = generate("xor", 1000, 0.0, 0.0, seed=0)
    X, y = ds.X_train, ds.y_train
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(float))
    assert np.abs(X).min() > 0.0
    for s1 in (-1, 1):  # all four quadrants are used
        for s2 in (-1, 1):
            assert np.any((np.sign(X[:, 0]) == s1) & (np.sign(X[:, 1]) == s2))


def test_moons_clean():
    ds = generate("moons", 600, 0.0, 0.0, seed=0)
    # undo the centring and scaling: the classic moons are unit half circles
    u = 1.5 * ds.X_train[:, 0] + 0.5
    v = 1.5 * ds.X_train[:, 1] + 0.25
    up, lo = ds.y_train == 0, ds.y_train == 1
    np.testing.assert_allclose(u[up] ** 2 + v[up] ** 2, 1.0, atol=1e-12)
    assert v[up].min() >= -1e-12
    np.testing.assert_allclose((u[lo] - 1.0) ** 2 + (v[lo] - 0.5) ** 2, 1.0, atol=1e-12)
    assert v[lo].max() <= 0.5 + 1e-12


@pytest.mark.parametrize("k", [2, 3, 6])
def test_spiral_clean(k):
    ds = generate("spiral", 600, 0.0, 0.0, seed=0, n_classes=k)
    X, y = ds.X_train, ds.y_train
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() >= 0.1 - 1e-12 and r.max() <= 1.0 + 1e-12
    t = (r - 0.1) / 0.9
    offset = np.mod(np.arctan2(X[:, 1], X[:, 0]) - 3.5 * np.pi * t, 2 * np.pi)
    want = 2 * np.pi * y / k
    diff = np.angle(np.exp(1j * (offset - want)))  # wrapped to (-pi, pi]
    np.testing.assert_allclose(diff, 0.0, atol=1e-9)


@pytest.mark.parametrize("k", [2, 4, 8])
def test_gaussians_blobs(k):
    ds = generate("gaussians", 800, 0.0, 0.0, seed=0, n_classes=k)
    X, y = ds.X_train, ds.y_train
    means = np.array([X[y == c].mean(axis=0) for c in range(k)])
    np.testing.assert_allclose(np.hypot(means[:, 0], means[:, 1]), 0.6, atol=0.05)
    nearest = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == y) > 0.9


def test_plane_clean_is_linear():
    ds = generate("plane", 200, 0.0, 0.0, seed=0)
    A = np.column_stack([ds.X_train, np.ones(ds.n_train)])
    coef, *_ = np.linalg.lstsq(A, ds.y_train, rcond=None)
    np.testing.assert_allclose(A @ coef, ds.y_train, atol=1e-12)
    assert np.abs(coef[:2]).min() > 0.1  # depends on both inputs


def test_bumps_clean_is_smooth_with_both_signs():
    ds = generate("bumps", 2000, 0.0, 0.0, seed=0)
    np.testing.assert_allclose(ds.y_train, datasets.bumps_function(ds.X_train))
    assert ds.y_train.max() > 0.5 and ds.y_train.min() < -0.5
    # not linear
    A = np.column_stack([ds.X_train, np.ones(ds.n_train)])
    resid = ds.y_train - A @ np.linalg.lstsq(A, ds.y_train, rcond=None)[0]
    assert resid.std() > 0.1


def test_regression_noise_is_target_std():
    clean = generate("plane", 20000, 0.0, 0.0, seed=4)
    noisy = generate("plane", 20000, 0.3, 0.0, seed=4)
    resid = noisy.y_train - datasets.plane_function(noisy.X_train)
    assert abs(resid.std() - 0.3) < 0.01
    assert np.all(clean.y_train == datasets.plane_function(clean.X_train))


def test_classification_noise_moves_inputs():
    ds = generate("circle", 4000, 0.2, 0.0, seed=0)
    r = np.hypot(ds.X_train[:, 0], ds.X_train[:, 1])
    assert r[ds.y_train == 1].max() > 0.6  # noise pushed some inner points outwards


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"kind": "donut"}, ["'donut'", "circle", "bumps"]),
        ({"kind": "circle", "n_samples": 3}, ["n_samples", "3", "4", "100000"]),
        ({"kind": "circle", "n_samples": 100001}, ["n_samples", "100001"]),
        ({"kind": "circle", "n_samples": 10.5}, ["n_samples", "10.5"]),
        ({"kind": "circle", "n_samples": True}, ["n_samples"]),
        ({"kind": "circle", "noise": -0.1}, ["noise", "-0.1", ">= 0"]),
        ({"kind": "circle", "noise": math.nan}, ["noise", "nan"]),
        ({"kind": "circle", "noise": math.inf}, ["noise", "inf"]),
        ({"kind": "circle", "val_fraction": -0.01}, ["val_fraction", "-0.01", "0.9"]),
        ({"kind": "circle", "val_fraction": 0.95}, ["val_fraction", "0.95", "0.9"]),
        ({"kind": "circle", "val_fraction": math.nan}, ["val_fraction"]),
        ({"kind": "circle", "seed": -1}, ["seed", "-1"]),
        ({"kind": "circle", "seed": 1.5}, ["seed", "1.5"]),
        ({"kind": "gaussians", "n_classes": 1}, ["n_classes", "'gaussians'", "2", "8"]),
        ({"kind": "gaussians", "n_classes": 9}, ["n_classes", "9"]),
        ({"kind": "spiral", "n_classes": 0}, ["n_classes", "'spiral'", "0"]),
        ({"kind": "spiral", "n_classes": 2.5}, ["n_classes", "2.5"]),
    ],
)
def test_generate_argument_errors(kwargs, words):
    with pytest.raises(DatasetError) as info:
        generate(**kwargs)
    for w in words:
        assert w in str(info.value)


def test_dataset_error_is_value_error():
    assert issubclass(DatasetError, ValueError)


def test_numpy_integers_accepted():
    ds = generate("spiral", np.int64(40), 0.1, 0.25, seed=np.int64(1), n_classes=np.int32(3))
    assert ds.n_train == 30 and ds.n_classes == 3


def test_dataset_checks_its_fields():
    X = np.zeros((4, 2))
    y = np.zeros(4)
    with pytest.raises(DatasetError):
        Dataset("d", "ranking", X, y, X, y, 2, ("a", "b"))
    with pytest.raises(DatasetError):
        Dataset("d", "regression", X, y, X, y, 2, ("a", "b"))
    with pytest.raises(DatasetError):
        Dataset("d", "binary", X, y, X, y, 3, ("a", "b"))
    with pytest.raises(DatasetError):
        Dataset("d", "binary", X, y + 2, X, y, 2, ("a", "b"))
    with pytest.raises(DatasetError):
        Dataset("d", "binary", X, y[:3], X, y, 2, ("a", "b"))
    with pytest.raises(DatasetError):
        Dataset("d", "binary", X, y, X, y, 2, ("a",))
    ds = Dataset("d", "binary", X.astype(np.float32), [0, 1, 0, 1], X.T.T, y, 2, ["a", "b"])
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.float64
    assert ds.feature_names == ("a", "b")


# --------------------------------------------------------------------------- CSV


def write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def table_text(rows, header=None, delim=","):
    lines = [delim.join(header)] if header else []
    lines += [delim.join(f"{v:g}" for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def test_csv_with_header(tmp_path):
    rows = [[i, 2 * i, i % 2] for i in range(10)]
    path = write(tmp_path, table_text(rows, ["height", "width", "label"]), "shapes.csv")
    ds = load_csv(path, val_fraction=0.2, seed=0, standardize=False)
    assert_well_formed(ds)
    assert ds.name == "shapes"
    assert ds.feature_names == ("height", "width")
    assert ds.task == "binary" and ds.n_classes == 2
    assert ds.n_train == 8 and ds.n_val == 2
    # rows are kept intact through the split
    got = np.column_stack([all_x(ds), all_y(ds)])
    want = np.array(rows, dtype=float)
    np.testing.assert_array_equal(got[np.argsort(got[:, 0])], want)


def test_csv_without_header_and_blank_lines(tmp_path):
    rows = [[0.5 * i, -i, i % 3 == 0] for i in range(8)]
    text = "\n" + table_text(rows).replace("\n", "\n\n", 2)
    ds = load_csv(write(tmp_path, text), val_fraction=0.0, standardize=False)
    assert ds.feature_names == ("x1", "x2")
    assert ds.n_train == 8 and ds.n_val == 0
    assert ds.task == "binary"


@pytest.mark.parametrize("delim", [";", "\t"])
def test_csv_other_delimiters(tmp_path, delim):
    rows = [[i, i * i, i % 2] for i in range(6)]
    ds = load_csv(write(tmp_path, table_text(rows, ["a", "b", "c"], delim)), standardize=False)
    assert ds.feature_names == ("a", "b")
    assert ds.n_train + ds.n_val == 6


def test_csv_quoted_fields_crlf_and_bom(tmp_path):
    text = '\ufeff"a","b","y"\r\n1,"2",0\r\n3,4,1\r\n5,6,0\r\n7,8,1\r\n'
    ds = load_csv(write(tmp_path, text), val_fraction=0.0, standardize=False)
    assert ds.feature_names == ("a", "b")
    np.testing.assert_array_equal(ds.X_train[np.argsort(ds.X_train[:, 0])][0], [1.0, 2.0])


def test_csv_multiclass_remapping(tmp_path):
    labels = [7, -2, 30, 7, -2, 30, 7, 30]
    rows = [[i, lab] for i, lab in enumerate(labels)]
    ds = load_csv(write(tmp_path, table_text(rows)), val_fraction=0.0, standardize=False)
    assert ds.task == "multiclass" and ds.n_classes == 3
    order = np.argsort(ds.X_train[:, 0])
    remap = {-2: 0.0, 7: 1.0, 30: 2.0}
    np.testing.assert_array_equal(ds.y_train[order], [remap[v] for v in labels])


def test_csv_binary_labels_remapped(tmp_path):
    rows = [[i, -1 if i % 2 else 1] for i in range(6)]
    ds = load_csv(write(tmp_path, table_text(rows)), val_fraction=0.0, standardize=False)
    assert ds.task == "binary"
    order = np.argsort(ds.X_train[:, 0])
    np.testing.assert_array_equal(ds.y_train[order], [1, 0, 1, 0, 1, 0])


def test_csv_regression_inference(tmp_path):
    rows = [[i, 0.5 * i + 0.25] for i in range(10)]  # non-integer labels
    ds = load_csv(write(tmp_path, table_text(rows)), val_fraction=0.0, standardize=False)
    assert ds.task == "regression" and ds.n_classes == 0
    order = np.argsort(ds.X_train[:, 0])
    np.testing.assert_array_equal(ds.y_train[order], [r[1] for r in rows])


def test_csv_many_integer_labels_is_regression(tmp_path):
    rows = [[i, i] for i in range(21)]  # 21 distinct integers
    ds = load_csv(write(tmp_path, table_text(rows)), val_fraction=0.0, standardize=False)
    assert ds.task == "regression"
    rows = [[i, i] for i in range(20)]  # 20 distinct integers
    ds = load_csv(write(tmp_path, table_text(rows)), val_fraction=0.0, standardize=False)
    assert ds.task == "multiclass" and ds.n_classes == 20


def test_csv_forced_task(tmp_path):
    rows = [[i, i % 3] for i in range(9)]
    path = write(tmp_path, table_text(rows))
    assert load_csv(path, task="regression").task == "regression"
    assert load_csv(path, task="regression").n_classes == 0
    forced = load_csv(path, task="classification")
    assert forced.task == "multiclass" and forced.n_classes == 3
    assert load_csv(path, task="multiclass").n_classes == 3
    with pytest.raises(DatasetError, match="binary"):
        load_csv(path, task="binary")
    with pytest.raises(DatasetError, match="unknown task"):
        load_csv(path, task="ranking")
    real = write(tmp_path, table_text([[i, 0.5 + (i % 2)] for i in range(6)]), "r.csv")
    ds = load_csv(real, task="binary", val_fraction=0.0)
    assert ds.task == "binary" and set(ds.y_train) == {0.0, 1.0}


def test_csv_standardize_uses_training_statistics(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal([5.0, -3.0, 2.0], [2.0, 0.5, 0.0], size=(200, 3))
    rows = np.column_stack([X, rng.integers(0, 2, 200)])
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in rows)
    path = write(tmp_path, text)
    ds = load_csv(path, val_fraction=0.3, seed=5)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0)[:2], 1.0, rtol=1e-12)
    assert np.all(ds.X_train[:, 2] == 0.0)  # constant column: centred, divided by 1
    assert abs(ds.X_val.mean(axis=0)[0]) > 1e-6  # validation is not re-centred on itself
    raw = load_csv(path, val_fraction=0.3, seed=5, standardize=False)
    mean, std = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    std[std == 0] = 1.0
    np.testing.assert_allclose(ds.X_val, (raw.X_val - mean) / std, atol=1e-12)


def test_csv_seeded_split(tmp_path):
    path = write(tmp_path, table_text([[i, i % 2] for i in range(30)]))
    a, b = load_csv(path, seed=1), load_csv(path, seed=1)
    c = load_csv(path, seed=2)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert not np.array_equal(a.X_val, c.X_val)


GOOD = ["1,2,0", "3,4,1", "5,6,0", "7,8,1"]


@pytest.mark.parametrize(
    "lines, line_no, words",
    [
        (["a,b,y", *GOOD[:2], "5,6", GOOD[3]], 4, ["expected 3 fields", "got 2"]),
        ([*GOOD[:2], "", "5,6,0,9", GOOD[3]], 4, ["expected 3", "got 4"]),
        ([*GOOD[:3], "7,eight,1"], 4, ['"eight"', "not a number", "field 2"]),
        ([*GOOD, "9,,1"], 5, ["field 2", "empty"]),
        ([*GOOD[:2], "5,nan,0", GOOD[3]], 3, ["NaN", '"nan"']),
        ([*GOOD[:2], "5,6,inf", GOOD[3]], 3, ["inf", "field 3"]),
        (["h1,h2,h3", *GOOD, "x,1,2"], 6, ['"x"']),
        (["1", "2", "3", "4", "5"], 1, ["1 column"]),
        (["", "", "a", "1", "2", "3", "4"], 3, ["1 column"]),
    ],
)
def test_csv_malformed_names_line(tmp_path, lines, line_no, words):
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as info:
        load_csv(path)
    msg = str(info.value)
    assert f"line {line_no}:" in msg
    for w in words:
        assert w in msg


def test_csv_too_few_rows(tmp_path):
    path = write(tmp_path, "a,b,y\n" + "\n".join(GOOD[:3]) + "\n")
    with pytest.raises(DatasetError, match="only 3 data rows; need at least 4"):
        load_csv(path)
    path = write(tmp_path, "a,b,y\n" + GOOD[0] + "\n")
    with pytest.raises(DatasetError, match="only 1 data row; need at least 4"):
        load_csv(path)


def test_csv_empty(tmp_path):
    with pytest.raises(DatasetError, match="empty"):
        load_csv(write(tmp_path, "\n\n  \n"))


def test_csv_single_label_value(tmp_path):
    path = write(tmp_path, "1,0\n2,0\n3,0\n4,0\n")
    with pytest.raises(DatasetError, match="single value"):
        load_csv(path)


def test_csv_not_found(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_csv(tmp_path / "missing.csv")


def test_csv_folder(tmp_path):
    with pytest.raises(DatasetError, match="folder|cannot read"):
        load_csv(tmp_path)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b,y\n1,2,0\n3,4,1\ncaf\u00e9,6,0\n7,8,1\n".encode("latin-1"))
    with pytest.raises(DatasetError) as info:
        load_csv(path)
    assert "UTF-8" in str(info.value) and "line 4:" in str(info.value)


def test_csv_binary_file(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(bytes([0x89, 0x50, 0x4E, 0x47, 0xFF, 0xFE, 0x00, 0x81]))
    with pytest.raises(DatasetError, match="UTF-8"):
        load_csv(path)


def test_csv_argument_checks(tmp_path):
    path = write(tmp_path, "\n".join(GOOD) + "\n")
    with pytest.raises(DatasetError, match="val_fraction"):
        load_csv(path, val_fraction=1.0)
    with pytest.raises(DatasetError, match="seed"):
        load_csv(path, seed=-3)


# --------------------------------------------------------------------------- real data sets


def test_real_available_is_consistent():
    ok, note = real_available()
    assert ok == HAVE_SKLEARN
    if ok:
        assert note == ""
    else:
        assert "pip install" in note and "scikit-learn" in note


def test_list_datasets():
    infos = list_datasets()
    assert [i.name for i in infos] == [*GENERATORS, *REAL_DATASETS]
    ok, note = real_available()
    for info in infos:
        assert isinstance(info, DatasetInfo)
        assert info.task_kind in ("classification", "regression")
        assert info.description
        if info.name in GENERATORS:
            assert info.available and info.note == ""
            assert info.task_kind == GENERATORS[info.name].task_kind
        else:
            assert info.available == ok and info.note == note
            assert info.task_kind == "classification"


def test_load_real_unknown_name():
    with pytest.raises(DatasetError, match="'mnist'.*digits"):
        load_real("mnist")


def test_load_real_when_import_fails(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(DatasetError, match="pip install"):
        load_real("iris")


def test_load_real_digits():
    ds = load_real("digits", val_fraction=0.2, seed=0)
    assert_well_formed(ds)
    assert ds.n_train + ds.n_val == 1797 and ds.n_features == 64
    assert ds.n_val == round(0.2 * 1797)
    assert ds.task == "multiclass" and ds.n_classes == 10
    assert set(np.unique(ds.y_train)) == set(range(10))
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-9)
    bc = load_real("breast_cancer", val_fraction=0.0)
    assert bc.task == "binary" and bc.n_classes == 2 and bc.X_train.shape == (569, 30)
    iris = load_real("iris", val_fraction=0.0, standardize=False)
    assert iris.X_train.shape == (150, 4) and iris.n_classes == 3
    assert iris.X_train.min() >= 0.0  # not standardised
