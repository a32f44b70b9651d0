"""A first start: nothing compiles or computes on the GUI thread while the window opens, kernels
compile in a process of their own, and closing meanwhile does not wait for them.

A cold Numba cache is simulated where a real one would take minutes (the session fixture has
compiled the app's kernels): ``KernelWarmer._load`` reports "cold" once, and the real warm-up
process then finds the kernels in the cache. The warm-up process itself is checked for real on a
one-line kernel in a module of the test's own, whose cache starts empty.
"""

import importlib
import os
import subprocess
import sys
import textwrap
import threading

import numba
import pytest
from numba.core.dispatcher import Dispatcher

from app import warmup
from app.warmup import WARMER, KernelWarmer, WarmItem
from app.window import MainWindow
from dlopt_core.train.experiment import Experiment

TIMEOUT = 30_000  # ms; the warm-up process imports numpy, Numba and the core


def small() -> Experiment:
    return Experiment.from_dict(
        {
            "data": {"kind": "moons", "n_samples": 120},
            "network": {"hidden": [4]},
            "training": {"batch_size": 10, "eval_every": 10},
        }
    )


def record_kernel_calls(monkeypatch) -> list[tuple[str, bool]]:
    """Wrap every compiled function that the core's modules hold: ``(name, on the GUI thread)``
    for each call from Python (calls between kernels stay inside compiled code)."""
    calls: list[tuple[str, bool]] = []
    main = threading.main_thread()
    for name, module in list(sys.modules.items()):
        if not name.startswith("dlopt_core") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, Dispatcher):

                def wrapper(*args, _kernel=value, _name=attr, **kwargs):
                    calls.append((_name, threading.current_thread() is main))
                    return _kernel(*args, **kwargs)

                monkeypatch.setattr(module, attr, wrapper)
    return calls


def test_opening_the_window_runs_no_kernel_on_the_gui_thread(qtbot, monkeypatch):
    calls = record_kernel_calls(monkeypatch)
    win = MainWindow(small(), persist=False)
    qtbot.addWidget(win)
    win.show()
    assert win.pages.built("Landscape") is None  # tabs not shown are built when first shown
    tab = win.playground
    qtbot.waitUntil(lambda: tab.snapshot is not None, timeout=TIMEOUT)
    tab.controller.step(20)
    qtbot.waitUntil(lambda: tab.snapshot.step >= 20, timeout=TIMEOUT)
    assert win.select_tab("Landscape")
    assert win.tabs.currentWidget() is win.landscape
    view = win.landscape.functions
    qtbot.waitUntil(lambda: view.paths_ready and len(view.results) == 3, timeout=TIMEOUT)
    win.close()
    assert calls, "the probe saw no kernel call at all"
    assert not [name for name, on_gui in calls if on_gui]
    assert view.runner.thread.isFinished()


def cold_once(monkeypatch, warmer: KernelWarmer = WARMER) -> None:
    """The next ``_load`` reports a cold cache; later ones load as usual."""
    real = warmer._load
    first = [True]

    def load(items):
        if first[0]:
            first[0] = False
            return False
        return real(items)

    monkeypatch.setattr(warmer, "_load", load)


def test_a_cold_start_waits_for_the_warm_up_process_and_then_trains(qtbot, monkeypatch):
    cold_once(monkeypatch)
    win = MainWindow(small(), persist=False)
    qtbot.addWidget(win)
    win.show()
    tab = win.playground
    try:
        qtbot.waitUntil(
            lambda: tab.status.kernels.text().startswith("preparing kernels"), timeout=TIMEOUT
        )
        qtbot.waitUntil(lambda: tab.kernels_ready and tab.snapshot is not None, timeout=TIMEOUT)
        assert WARMER.compiled_here == 0  # the kernels came from the cache, not compiled here
        assert tab.status.kernels.text() == ""
        tab.play(True)
        qtbot.waitUntil(lambda: tab.snapshot.step >= 50, timeout=TIMEOUT)
    finally:
        win.close()


def test_closing_while_kernels_compile_does_not_wait_for_them(qtbot, monkeypatch):
    monkeypatch.setattr(WARMER, "_load", lambda items: False)  # cold, however often it looks
    monkeypatch.setattr(WARMER, "command", [sys.executable, "-c", "import time; time.sleep(60)"])
    win = MainWindow(small(), persist=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: WARMER.child_running and WARMER.status().busy, timeout=TIMEOUT)
    child = WARMER._child.proc
    assert win.playground.snapshot is None  # still waiting for its kernels
    win.close()
    assert win.playground.controller.thread.isFinished()
    assert child.wait(10) != 0  # killed, not waited for until it ended by itself
    qtbot.waitUntil(lambda: not WARMER.child_running, timeout=TIMEOUT)


def test_a_compare_job_waits_for_its_kernels_and_can_be_cancelled(qtbot, monkeypatch):
    monkeypatch.setattr(WARMER, "_load", lambda items: False)
    monkeypatch.setattr(WARMER, "command", [sys.executable, "-c", "import time; time.sleep(60)"])
    from app.compare.tab import CompareTab

    tab = CompareTab(small)
    qtbot.addWidget(tab)
    try:
        assert tab.race.run()
        qtbot.waitUntil(lambda: WARMER.child_running, timeout=TIMEOUT)
        with qtbot.waitSignal(tab.runner.finished, timeout=TIMEOUT) as blocker:
            tab.cancel()
        assert blocker.args == ["race", True] and not tab.runner.busy
    finally:
        tab.shutdown()
        WARMER.stop()


# -- the warm-up process, for real ----------------------------------------------------------------
def tiny_module(tmp_path, monkeypatch, name: str, cache: bool) -> object:
    """A module with one Numba function, whose cache (beside it) starts empty."""
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(f"""
        from numba import njit

        @njit(cache={cache})
        def add_one(x):
            return x + 1.0

        def warm():
            assert add_one(1.0) == 2.0

        def warm_again():
            assert add_one(2.0) == 3.0
    """),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(name)


def test_the_warm_up_process_fills_the_cache_and_this_process_loads_it(tmp_path, monkeypatch):
    module = tiny_module(tmp_path, monkeypatch, "dlopt_tiny_cached", cache=True)
    warmer = KernelWarmer()
    item = WarmItem("call", "dlopt_tiny_cached:warm", "a test kernel")
    assert warmer.ensure([item]) is True, warmer.last_error  # cold: it waited for the process
    assert warmer.compiled_here == 0
    assert sum(module.add_one.stats.cache_hits.values()) == 1  # loaded here from the cache
    assert warmer.ensure([item]) is False  # loaded: nothing to wait for
    assert warmer._child.proc.wait(30) == 0  # the process ends by itself once done


def test_a_wait_for_other_items_ends_when_their_kernels_are_enough(qtbot, tmp_path, monkeypatch):
    tiny_module(tmp_path, monkeypatch, "dlopt_tiny_shared", cache=True)
    warmer = KernelWarmer()
    started = []
    start = warmer._start_child
    monkeypatch.setattr(warmer, "_start_child", lambda items: started.append(items) or start(items))
    first = WarmItem("call", "dlopt_tiny_shared:warm", "a test kernel")
    second = WarmItem("call", "dlopt_tiny_shared:warm_again", "the same kernel")
    waits = []
    thread = threading.Thread(target=lambda: waits.append(warmer.ensure([first])))
    thread.start()
    try:
        qtbot.waitUntil(lambda: warmer.child_running, timeout=TIMEOUT)
        assert warmer.ensure([second]) is True  # it waited, for the process of the first item
    finally:
        thread.join(60)
    assert waits == [True] and len(started) == 1 and warmer.compiled_here == 0


def test_a_cache_folder_that_cannot_be_written_still_works(tmp_path, monkeypatch):
    blocked = tmp_path / "a file"
    blocked.write_text("", encoding="utf-8")
    folder = str(blocked / "cache")  # under a file: not writable, even for root
    monkeypatch.setattr(numba.config, "CACHE_DIR", folder)
    monkeypatch.setenv("NUMBA_CACHE_DIR", folder)
    module = tiny_module(tmp_path, monkeypatch, "dlopt_tiny_readonly", cache=True)
    warmer = KernelWarmer()
    item = WarmItem("call", "dlopt_tiny_readonly:warm", "a test kernel")
    assert warmer.ensure([item]) is True, warmer.last_error
    # Numba caches beside the module instead, in the warm-up process as here
    assert warmer.compiled_here == 0
    assert sum(module.add_one.stats.cache_hits.values()) == 1


def test_without_a_usable_cache_the_kernels_compile_here(tmp_path, monkeypatch):
    module = tiny_module(tmp_path, monkeypatch, "dlopt_tiny_uncached", cache=False)
    warmer = KernelWarmer()
    item = WarmItem("call", "dlopt_tiny_uncached:warm", "a test kernel")
    assert warmer.ensure([item]) is True
    assert warmer.compiled_here == 1  # the process compiled it, but nothing could be kept
    assert module.add_one(2.0) == 3.0


def test_a_failing_warm_up_process_falls_back_to_compiling_here(tmp_path, monkeypatch):
    tiny_module(tmp_path, monkeypatch, "dlopt_tiny_fallback", cache=True)
    warmer = KernelWarmer([sys.executable, "-c", "import sys; sys.exit(3)"])
    item = WarmItem("call", "dlopt_tiny_fallback:warm", "a test kernel")
    assert warmer.ensure([item]) is True
    assert warmer.compiled_here == 1 and "code 3" in warmer.last_error


def test_no_compile_raises_at_a_compile_and_allows_compiled_calls(tmp_path, monkeypatch):
    module = tiny_module(tmp_path, monkeypatch, "dlopt_tiny_guard", cache=False)
    with pytest.raises(warmup.ColdCache), warmup.no_compile():
        module.add_one(1.0)
    assert module.add_one(1.0) == 2.0  # compiles normally outside the block
    with warmup.no_compile():
        assert module.add_one(5.0) == 6.0  # compiled: no compile, no exception


def test_the_warm_up_process_reports_what_it_compiles(tmp_path, monkeypatch):
    tiny_module(tmp_path, monkeypatch, "dlopt_tiny_report", cache=False)
    spec = '{"items": [["call", "dlopt_tiny_report:warm"], ["call", "nowhere:nothing"]]}'
    out = subprocess.run(
        [sys.executable, "-m", "app.warmup"],
        input=spec,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert '"event": "compile", "name": "add_one"' in lines[0]
    assert lines[1].startswith('{"event": "ready", "item": 0, "cpu": ')
    assert '"event": "failed", "item": 1' in lines[2] and "nowhere" in lines[2]


def test_the_compile_progress_names_the_kernel_not_numbas_inner_functions():
    """Numba compiles dozens of inner functions named ``impl`` or ``<lambda>`` (NumPy overloads)
    while it compiles a kernel: the progress keeps naming the kernel ("Now: impl" said nothing)."""
    shown = ""
    for name in ("train_chunk", "impl", "<lambda>", "impl", "train_model", "impl"):
        shown = warmup.shown_name(shown, name)
        assert shown in ("train_chunk", "train_model")
    assert shown == "train_model"
    assert warmup.shown_name("", "impl") == ""


@pytest.mark.parametrize(("rates", "family"), [((0.01,), "single"), ((0.1, 0.01, 0.001), "many")])
def test_the_training_item_readies_the_kernel_family_the_run_uses(rates, family):
    """A sweep's models differ only in learning rate: its warm-up still readies the kernels that
    train models side by side, not the single model's."""
    from dlopt_core.train.kernels import train
    from dlopt_core.train.optimizers import make_optimizer

    models = [make_optimizer("adagrad", lr=lr) for lr in rates]
    item = warmup.training_item(warmup.variants(small(), models))
    item.run()
    blas = small().make_network(small().dataset()).blas
    assert train.kernel_ready(train.FAMILIES.index(family), models[0].code, blas)


def test_the_first_step_waits_for_training_kernels_only_and_sharpness_for_its_gradients(
    qtbot, monkeypatch
):
    """The loss gradient (the sharpness plot) is a compile of its own: the training item leaves
    it out, so a first start does not wait for it; turning the sharpness on asks for it."""
    from app.worker import TrainingWorker
    from dlopt_core.train.network import Network

    grads = []
    real = Network.loss_and_grad
    monkeypatch.setattr(
        Network, "loss_and_grad", lambda self, *a, **k: grads.append(1) or real(self, *a, **k)
    )
    warmup.training_item([small()]).run()
    assert grads == []
    warmup.gradients_item([small()]).run()
    assert grads and warmup.gradients_item([small()]).kind == "gradients"

    asked = []
    real_ensure = WARMER.ensure
    monkeypatch.setattr(
        WARMER,
        "ensure",
        lambda items, **k: asked.extend(item.kind for item in items) or real_ensure(items, **k),
    )
    worker = TrainingWorker()
    worker.rebuild(small(), 0)
    assert "gradients" not in asked
    worker.set_sharpness(True)
    assert asked[-1] == "gradients" and worker._sharpness is not None
