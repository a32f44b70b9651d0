"""The Makefile: ``make run`` installs what the app needs, ``make test`` adds the development
extra, and the two share one virtual environment in either order (one stamp each)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _plan(target: str, venv: Path) -> str:
    """The commands ``make`` would run for ``target`` (``-n``: nothing is run)."""
    return subprocess.run(
        ["make", "-n", f"VENV={venv}", target], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def _stamp(path: Path, newer_than: Path) -> None:
    path.touch()
    t = newer_than.stat().st_mtime + 10
    os.utime(path, (t, t))


def test_run_installs_no_development_tools_and_test_adds_them(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _stamp(venv / "bin" / "python", ROOT / "pyproject.toml")
    run = _plan("run", venv)
    assert "-e '.[datasets]'" in run and "[dev]" not in run and "bin/dlopt" in run
    test = _plan("test", venv)
    assert "-e '.[datasets]'" in test and "-e '.[dev]'" in test and "pytest" in test
    # after `make run`, `make test` adds only the development extra ...
    _stamp(venv / ".installed-run", venv / "bin" / "python")
    test = _plan("test", venv)
    assert "-e '.[dev]'" in test and "'.[datasets]'" not in test
    # ... and after `make test`, `make run` installs nothing more
    _stamp(venv / ".installed-dev", venv / ".installed-run")
    assert "pip install" not in _plan("run", venv) and "pip install" not in _plan("test", venv)


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_make_test_runs_the_lint_first(tmp_path):
    """``make test`` (all the CI calls) checks style, format and types before the tests."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _stamp(venv / "bin" / "python", ROOT / "pyproject.toml")
    _stamp(venv / ".installed-run", venv / "bin" / "python")
    _stamp(venv / ".installed-dev", venv / ".installed-run")
    lines = _plan("test", venv).splitlines()
    order = [
        next(i for i, line in enumerate(lines) if word in line)
        for word in ("bin/ruff check", "bin/ruff format --check", "bin/mypy", "-m pytest")
    ]
    assert order == sorted(order), lines
