"""``dlopt`` on the command line: the screenshot mode and its errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlopt_core.train.experiment import Experiment

ROOT = Path(os.path.abspath(__file__)).parents[2]


def run_dlopt(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "DLOPT_SETTINGS": str(tmp_path / "cli-settings.ini"),
    }
    return subprocess.run(
        [sys.executable, "-m", "app.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_screenshot_trains_and_writes_a_png(tmp_path):
    exp = tmp_path / "exp.json"
    Experiment.from_dict(
        {"data": {"kind": "moons", "n_samples": 200}, "network": {"hidden": [5]}}
    ).save(exp)
    png = tmp_path / "shot.png"
    result = run_dlopt(
        "--screenshot",
        str(png),
        "--experiment",
        str(exp),
        "--steps",
        "300",
        "--tab",
        "playground",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not even Qt's note that offscreen windows ignore size hints
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert not (tmp_path / "cli-settings.ini").exists()  # screenshots leave no settings


def test_a_bad_experiment_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"optimizer": {"name": "adam", "lr": -1}}', encoding="utf-8")
    result = run_dlopt(
        "--screenshot", str(tmp_path / "x.png"), "--experiment", str(bad), tmp_path=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlopt: error:") and "lr" in lines[0]
    assert not (tmp_path / "x.png").exists()


# -- why the window cannot open ------------------------------------------------------------------
LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x00007f1e)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibdbus-1.so.3 => not found
"""


def _problem(env, ldd_output=LDD_MISSING, platform="linux", x_error=0):
    from app.platform_check import display_problem

    return display_problem(
        env,
        platform,
        ldd=lambda _p: ldd_output,
        plugin=lambda: Path("libqxcb.so"),
        connect=lambda _d: x_error,
    )


def test_missing_x11_libraries_are_named_with_the_packages_to_install():
    text = _problem({"DISPLAY": ":0"})
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1, libdbus-1.so.3" in text
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libdbus-1-3" in text


def test_no_message_where_the_window_can_open_or_another_platform_is_chosen():
    assert _problem({"DISPLAY": ":0"}, ldd_output="\tlibc.so.6 => /lib/libc.so.6\n") is None
    assert _problem({"DISPLAY": ":0"}, ldd_output=None) is None  # no ldd: let Qt try
    assert _problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert _problem({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}) is None
    assert _problem({"DISPLAY": ":0"}, platform="darwin") is None
    assert _problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is not None


def test_no_display_at_all_suggests_the_offscreen_screenshot():
    text = _problem({})
    assert "DISPLAY" in text and "QT_QPA_PLATFORM=offscreen" in text


def test_debian_package_names():
    from app.platform_check import debian_package

    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("libfoo.so") == "libfoo"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="displays are an X11/Wayland matter; elsewhere the window would open",
)
def test_dlopt_without_a_display_is_one_paragraph_and_exit_3(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["DLOPT_SETTINGS"] = str(tmp_path / "s.ini")
    result = subprocess.run(
        [sys.executable, "-m", "app.main"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlopt: error: no display")


def test_a_display_that_does_not_answer_is_named():
    fine = "\tlibc.so.6 => /lib/libc.so.6\n"
    text = _problem({"DISPLAY": ":7"}, ldd_output=fine, x_error=1)
    assert "':7' does not answer" in text and "QT_QPA_PLATFORM=offscreen" in text
    assert _problem({"DISPLAY": ":7"}, ldd_output=fine, x_error=None) is None  # no libxcb


def test_the_real_x_check_on_a_display_nobody_serves():
    import ctypes.util

    from app.platform_check import x_connect_error

    code = x_connect_error(":4711")
    if ctypes.util.find_library("xcb") is None:
        assert code is None  # nothing to ask with; Qt would fail on the library first
    else:
        assert code and code > 0


def test_pyqtgraph_is_imported_without_cuda_runtime_which_stays_importable():
    code = (
        "import sys\n"
        "from app.main import _import_pyqtgraph\n"
        "_import_pyqtgraph()\n"
        "assert 'pyqtgraph' in sys.modules\n"
        "assert 'cuda.bindings.runtime' not in sys.modules\n"
        "from cuda.bindings import runtime\n"
        "print(runtime.__name__)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "cuda.bindings.runtime"
