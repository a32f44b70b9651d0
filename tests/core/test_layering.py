"""The shape of the house, checked: the core imports no Qt and no ``app`` module, its layers
import only downward (data < train < studies < course < cli), and the compiled kernels are
reached only through ``dlopt_core.train`` (nothing else, the app included, imports them).

Imports are read with ``ast`` from the source, every one of them (those inside functions too), so
a lazy import cannot slip past; a subprocess then imports every core module and looks at what it
loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "dlopt_core"
APP = ROOT / "app"
LAYERS = ("data", "train", "studies", "course", "cli")
KERNELS = "dlopt_core.train.kernels"
QT = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "superqt")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in the file, relative ones resolved."""
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            out.append((node.lineno, base))
            # ``from dlopt_core.train import kernels`` imports the kernels too
            out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return out


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "dlopt_core" and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


def _is_kernel_import(module: str) -> bool:
    return module == KERNELS or module.startswith(KERNELS + ".")


def test_the_core_imports_no_qt_and_no_app_module():
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in _sources(CORE)
        for line, module in _imports(path)
        if module.split(".")[0] in (*QT, "app")
    ]
    assert not bad, "\n".join(bad)


def test_the_layers_import_only_downward():
    bad = []
    for path in _sources(CORE):
        own = _layer(_module_name(path))
        if own is None:
            continue
        for line, module in _imports(path):
            other = _layer(module)
            if other is not None and other > own:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {module} ({LAYERS[other]})")
    assert not bad, "\n".join(bad)


def test_the_kernels_are_reached_only_through_train():
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in [*_sources(CORE), *_sources(APP)]
        if not _module_name(path).startswith("dlopt_core.train")
        for line, module in _imports(path)
        if _is_kernel_import(module)
    ]
    assert not bad, "\n".join(bad)


def test_the_checks_see_what_they_look_for(tmp_path):
    """The import reader finds lazy, relative and from-imports (else the tests above would pass
    on anything)."""
    package = ROOT / "dlopt_core" / "studies" / "landscape" / "__init__.py"
    found = {module for _, module in _imports(package)}
    assert "dlopt_core.studies.landscape.functions" in found
    assert {m for _, m in _imports(CORE / "train" / "loss_surface.py")} >= {KERNELS}
    lazy = {m for _, m in _imports(CORE / "studies" / "trainability" / "tiles.py")}
    assert "dlopt_core.train.mean_field" in lazy  # imported inside a function
    assert _layer("dlopt_core.course.quiz") == 3 and _layer("numpy") is None


def test_importing_every_core_module_loads_no_qt():
    """Every module of dlopt_core imported in a fresh interpreter: no Qt binding, no pyqtgraph
    and no ``app`` module end up in ``sys.modules``."""
    modules = [_module_name(p) for p in _sources(CORE)]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    bad = [m for m in loaded if m.split(".")[0] in (*QT, "app")]
    assert not bad, bad


def test_the_architecture_document_names_every_module():
    """docs/architecture.md describes every module of the core (a new module without a line
    there fails here)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")

    def named(path: Path) -> bool:
        in_layer = Path(*path.relative_to(CORE).parts[1:])  # compare/runs.py, engine.py
        return f"`{in_layer}`" in text or f"`{path.name}`" in text or f"{in_layer}`" in text

    missing = [
        str(path.relative_to(CORE))
        for path in _sources(CORE)
        if path.name != "__init__.py" and not named(path)
    ]
    assert not missing, missing
