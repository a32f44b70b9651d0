"""``dlopt`` on the command line: the screenshot mode and its errors."""

import os
import subprocess
import sys
from pathlib import Path

from dlopt_core.experiment import Experiment

ROOT = Path(os.path.abspath(__file__)).parents[2]


def run_dlopt(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "DLOPT_SETTINGS": str(tmp_path / "cli-settings.ini")}
    return subprocess.run([sys.executable, "-m", "app.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_screenshot_trains_and_writes_a_png(tmp_path):
    exp = tmp_path / "exp.json"
    Experiment.from_dict({"data": {"kind": "moons", "n_samples": 200},
                          "network": {"hidden": [5]}}).save(exp)
    png = tmp_path / "shot.png"
    result = run_dlopt("--screenshot", str(png), "--experiment", str(exp), "--steps", "300",
                       "--tab", "playground", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert not (tmp_path / "cli-settings.ini").exists()  # screenshots leave no settings


def test_a_bad_experiment_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"optimizer": {"name": "adam", "lr": -1}}', encoding="utf-8")
    result = run_dlopt("--screenshot", str(tmp_path / "x.png"), "--experiment", str(bad),
                       tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlopt: error:") and "lr" in lines[0]
    assert not (tmp_path / "x.png").exists()
