"""``dlopt-map``: the map it writes is the library's, bad input is one line and exit code 2."""

from __future__ import annotations

import numpy as np
import pytest

from dlopt_core.cli.map import main
from dlopt_core.studies.trainability import MapSpec, Problem, trainability_map


def test_the_npz_and_png_hold_the_map(tmp_path, capsys):
    out, png = tmp_path / "map.npz", tmp_path / "map.png"
    rc = main(
        [
            "--width",
            "4",
            "--seed",
            "2",
            "--lr1",
            "-1",
            "3",
            "--lr2",
            "0",
            "2.5",
            "--res",
            "10",
            "6",
            "--steps",
            "30",
            "--out",
            str(out),
            "--png",
            str(png),
            "--quiet",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "10 x 6 pixels, 30 steps" in text and "trainable" in text
    want = trainability_map(
        Problem.paper(4, 2), MapSpec(ranges=((-1, 3), (0, 2.5)), res=(10, 6), steps=30)
    )
    with np.load(out) as npz:
        assert {"value", "lr1", "lr2", "converged", "fractal_dimension"} <= set(npz.files)
        assert npz["value"].tobytes() == want.value.tobytes()
        np.testing.assert_array_equal(npz["lr1"], np.logspace(-1, 3, 10))
        np.testing.assert_array_equal(npz["lr2"], np.logspace(0, 2.5, 6))
        assert npz["converged"].dtype == bool
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (510, 306)  # 10 x 6 pixels, each 51 x 51


def test_a_problem_file_and_other_axes(tmp_path, capsys):
    problem = Problem.paper(3, 1)
    path = tmp_path / "p.npz"
    problem.save(path)
    out = tmp_path / "m.npz"
    assert (
        main(
            [
                "--problem",
                str(path),
                "--axes",
                "lr,momentum",
                "--lr",
                "-1",
                "1",
                "--momentum",
                "0",
                "0.9",
                "--res",
                "4",
                "--steps",
                "10",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    want = trainability_map(
        problem, MapSpec(axes=("lr", "momentum"), ranges=((-1, 1), (0, 0.9)), res=(4, 4), steps=10)
    )
    with np.load(out) as npz:
        assert npz["value"].tobytes() == want.value.tobytes()
        np.testing.assert_array_equal(npz["momentum"], np.linspace(0, 0.9, 4))


def test_mini_batches(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert (
        main(
            [
                "--width",
                "3",
                "--res",
                "5",
                "--steps",
                "12",
                "--batch",
                "4",
                "--batch-seed",
                "7",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    want = trainability_map(
        Problem.paper(3, 0), MapSpec(res=(5, 5), steps=12, batch=4, batch_seed=7)
    )
    full = trainability_map(Problem.paper(3, 0), MapSpec(res=(5, 5), steps=12))
    with np.load(out) as npz:
        assert npz["value"].tobytes() == want.value.tobytes()
        assert npz["value"].tobytes() != full.value.tobytes()


def test_on_a_local_dask_cluster(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert (
        main(
            [
                "--width",
                "3",
                "--res",
                "6",
                "--steps",
                "10",
                "--scheduler",
                "local:1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    want = trainability_map(Problem.paper(3, 0), MapSpec(res=(6, 6), steps=10))
    with np.load(out) as npz:
        assert npz["value"].tobytes() == want.value.tobytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--axes", "lr1"], "two names"),
        (["--axes", "lr1,speed"], "unknown axis 'speed'"),
        (["--axes", "lr,lr1"], "cannot be used together"),
        (["--offset", "0", "1"], "--offset is given but offset is not one of --axes"),
        (["--lr1", "3", "1"], "LO < HI"),
        (["--lr1", "x", "1"], "invalid float value"),
        (["--res", "1"], "resolution"),
        (["--res", "4", "4", "4"], "--res takes N or NX NY"),
        (["--steps", "0"], "steps must be"),
        (["--batch", "-2"], "the batch must be"),
        (["--width", "0"], "width must be"),
        (["--problem", "/nonexistent/p.npz"], "no such file"),
        (["--scheduler", "local:x"], "local:N needs a number"),
        (["--out", "/nonexistent/dir/m.npz"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dlopt-map: error:") and message in err and "\n" not in err
