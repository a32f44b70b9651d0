"""Compiled kernels for the app without compiling them in the app's own process.

Numba compiles a kernel on its first call (tens of seconds for the training kernel on a fresh
install) and writes it to its on-disk cache; later calls, and later processes, load it in a
fraction of a second. Compiling holds the GIL for much of the time and Numba's compiler lock for
all of it, so a compile in a thread of the GUI process stalls the window, and it cannot be
interrupted, so a window closed meanwhile would have to wait for it.

So the app never compiles in its own process when it can avoid it. A worker thread that needs
kernels calls :meth:`KernelWarmer.ensure` with what it is about to run (:class:`WarmItem`):

1. the items run here under :func:`no_compile`, which loads every kernel from the cache and
   raises :class:`ColdCache` instead of compiling; on a warm cache that is all;
2. otherwise a separate process (``python -m app.warmup``) runs the same items, which compiles
   them into the cache, and reports each function it compiles; the thread waits for it (a wait
   that a closing window cancels, killing that process) and then loads from the cache;
3. should the cache still miss (the compile could not be cached, the process could not start),
   the items compile here, in the waiting thread: slower for the window, but it trains.

:func:`warm_up` is the one place that says what a training run compiles.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from importlib import import_module

import numpy as np

TINY_SAMPLES = 32  # rows of a generated data set in a warm-up run
WAIT_POLL_S = 0.05  # how often a waiting thread looks at its cancel mark


# -- what to compile ------------------------------------------------------------------------------
def representative(exp):
    """``exp`` shrunk to what decides which kernels it needs: a few rows of the same kind of data
    (generated sets; files and real sets as they are), a standard learning rate, one evaluation a
    step, no stop rules and no name."""
    from dlopt_core.data import datasets
    from dlopt_core.train.experiment import ClassroomSpec
    from dlopt_core.train.optimizers import make_optimizer

    data = exp.data
    if data.kind in datasets.GENERATORS:
        data = replace(data, n_samples=max(TINY_SAMPLES, 4 * data.n_classes))
    lr = make_optimizer(exp.optimizer.name).lr
    return replace(
        exp,
        data=data,
        optimizer=exp.optimizer.replace(lr=lr),
        training=replace(exp.training, eval_every=1),
        max_steps=0,
        target_loss=0.0,
        name="",
        classroom=ClassroomSpec(),
    )


def warm_up(experiments: Sequence, gradients: bool = False) -> None:
    """Compile, or load from Numba's cache, every CPU kernel that training these experiments calls.

    Experiments that differ only in optimizer and schedule (a race, a sweep, a seed band) train
    together: per such group, the core's ``engine.warm_up`` with the group's network, its
    distinct optimizers and as many models (one, or several: the family of kernels that trains
    models side by side), which compiles only that kernel family and optimizer rule; then the
    hidden units the Playground draws; with ``gradients`` also the loss gradient of each network
    (the sharpness plot), which the first training step does not wait for. The CUDA backend
    compiles on its own first run.
    """
    from dlopt_core.train.optimizers import make_optimizer
    from dlopt_core.train.schedules import make_schedule
    from dlopt_core.train.warm_up import warm_up as warm_up_engine

    groups: dict[str, tuple[object, dict[str, object], list[int]]] = {}
    for exp in experiments:
        tiny = representative(exp)
        shared = replace(tiny, optimizer=make_optimizer("sgd"), schedule=make_schedule("constant"))
        _, optimizers, count = groups.setdefault(shared.to_json(), (tiny, {}, [0]))
        optimizers.setdefault(json.dumps(tiny.optimizer.to_dict(), default=str), tiny.optimizer)
        count[0] += 1
    for tiny, optimizers, count in groups.values():
        data = tiny.dataset()
        net = tiny.make_network(data)
        warm_up_engine(
            net,
            list(optimizers.values()),
            n_models=max(count[0], len(optimizers)),
            gradients=gradients,
            layer_lr=tiny.layer_lr,
        )
        rows = np.ascontiguousarray(data.X_train[:4])
        net.hidden_outputs(net.init(0), rows)


def warm_up_landscape() -> None:
    """Compile, or load, what the Landscape tab calls: every optimizer's compiled update on a
    2-D point (with clipping, noise and a schedule) and the loss on a line and on a plane."""
    from dlopt_core.studies import landscape as ls
    from dlopt_core.train.network import Network
    from dlopt_core.train.optimizers import OPTIMIZERS
    from dlopt_core.train.schedules import make_schedule

    schedule = make_schedule("cosine", T_max=2)
    for name in OPTIMIZERS:
        ls.trajectory("quadratic", name, steps=2, clip_norm=1.0, noise=0.1, schedule=schedule)
    net = Network([2, 3, 1])
    theta = net.init(0, "xavier")
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    y = np.array([0.0, 1.0, 0.0])
    ls.interpolate(net, theta, 0.5 * theta, X, y, alphas=np.array([0.0, 1.0]))
    ls.slice_2d(net, theta, X, y, n=3)


@dataclass(frozen=True)
class WarmItem:
    """Something to compile, that a separate process can run too: ``kind`` "experiments" (a JSON
    list of experiments for :func:`warm_up`), "gradients" (the same with their loss gradients) or
    "call" (``module:function``, no arguments)."""

    kind: str
    payload: str
    title: str  # for the user: "the training kernels"

    def run(self) -> None:
        if self.kind in ("experiments", "gradients"):
            from dlopt_core.train.experiment import Experiment

            warm_up(
                [Experiment.from_dict(d) for d in json.loads(self.payload)],
                gradients=self.kind == "gradients",
            )
        elif self.kind == "call":
            module, _, name = self.payload.partition(":")
            getattr(import_module(module), name)()
        else:
            raise ValueError(f"unknown warm-up item {self.kind!r}")


def training_item(experiments: Sequence) -> WarmItem:
    """The kernels that training ``experiments`` needs (learning rates and duplicates aside)."""
    tiny = []
    for exp in experiments:
        d = representative(exp).to_dict()
        if tiny.count(d) < 2:  # a second copy: the kernels that train several models at once
            tiny.append(d)
    return WarmItem(
        "experiments", json.dumps(tiny, sort_keys=True, default=str), "the training kernels"
    )


def gradients_item(experiments: Sequence) -> WarmItem:
    """The training kernels of ``experiments`` and their networks' loss gradient (the sharpness)."""
    item = training_item(experiments)
    return WarmItem("gradients", item.payload, "the gradient kernels")


def variants(exp, models: Iterable) -> list:
    """``exp`` with each of ``models``: a ``ModelSpec`` (its optimizer and schedule), an
    ``Optimizer`` or an optimizer's name; what a comparison trains, for :func:`training_item`."""
    from dlopt_core.train.optimizers import make_optimizer

    out = []
    for m in models:
        if isinstance(m, str):
            out.append(replace(exp, optimizer=make_optimizer(m)))
        elif hasattr(m, "schedule"):
            out.append(replace(exp, optimizer=m.optimizer, schedule=m.schedule))
        else:
            out.append(replace(exp, optimizer=m))
    return out or [exp]


LANDSCAPE = WarmItem("call", "app.warmup:warm_up_landscape", "the landscape kernels")


# -- no compiling in this thread ------------------------------------------------------------------
class ColdCache(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt, not an error
    """Numba was about to compile a function in a thread that runs under :func:`no_compile`.

    A ``BaseException``, so that no ``except Exception`` between the kernel call and the probe
    swallows it.
    """


class Cancelled(Exception):  # noqa: N818 - it is what happened, not a failure
    """A wait for kernels ended because its owner is going away."""


_local = threading.local()
_listener_lock = threading.Lock()
_listener_installed = False


def _install_listener() -> None:
    """One process-wide listener of Numba's compile events; it acts on flags of the thread."""
    global _listener_installed
    with _listener_lock:
        if _listener_installed:
            return
        from numba.core import event

        class _Listener(event.Listener):
            def on_start(self, ev) -> None:
                depth = getattr(_local, "depth", 0)
                _local.depth = depth + 1
                if getattr(_local, "forbid", False):
                    raise ColdCache(_name(ev))
                report = getattr(_local, "report", None)
                if report is not None:
                    report(_name(ev), depth)

            def on_end(self, ev) -> None:
                _local.depth = max(0, getattr(_local, "depth", 1) - 1)

        event.register("numba:compile", _Listener())
        _listener_installed = True


def _name(ev) -> str:
    dispatcher = (ev.data or {}).get("dispatcher")
    func = getattr(dispatcher, "py_func", None)
    return getattr(func, "__name__", "") or str(dispatcher)


@contextmanager
def _thread_setting(name: str, value: object) -> Iterator[None]:
    """Set the listener's flag ``name`` for this thread within the block."""
    _install_listener()
    before = getattr(_local, name, None)
    setattr(_local, name, value)
    try:
        yield
    finally:
        setattr(_local, name, before)


def no_compile() -> AbstractContextManager[None]:
    """In this block, in this thread, a Numba compile raises :class:`ColdCache` at its start;
    loading from the cache and calling compiled functions are unaffected."""
    return _thread_setting("forbid", True)


def reporting_compiles(report: Callable[[str, int], None]) -> AbstractContextManager[None]:
    """In this block, in this thread, ``report(function name, nesting depth)`` at every compile."""
    return _thread_setting("report", report)


def shown_name(previous: str, name: str) -> str:
    """The function a progress display names once Numba starts compiling ``name``: its generic
    inner functions (``impl`` of a NumPy overload, a ``<lambda>``) say nothing to a user, so
    the function that needs them stays named."""
    return previous if name == "impl" or name.startswith("<") else name


# -- the service ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelStatus:
    """What the warmer does now, for progress displays (``busy`` false: nothing to show)."""

    busy: bool = False
    title: str = ""  # what is compiled: "the training kernels"
    function: str = ""  # the function Numba compiles now, when known
    compiled: int = 0  # functions compiled so far in this wait
    where: str = ""  # "process" (a separate one) or "here" (this process)
    since: float = 0.0  # time.monotonic() when the wait began

    def seconds(self) -> float:
        return time.monotonic() - self.since if self.busy else 0.0

    def describe(self) -> str:
        """One line: "compiling the training kernels (first start only) · train_model · 12 s"."""
        if not self.busy:
            return ""
        parts = [f"compiling {self.title} (first start only)"]
        if self.function:
            parts.append(self.function)
        parts.append(f"{self.seconds():.0f} s")
        return " \u00b7 ".join(parts)


class _Child:
    """A warm-up process and what it has reported."""

    def __init__(self, items: tuple[WarmItem, ...], proc: subprocess.Popen) -> None:
        self.items = items
        self.proc = proc
        self.ready: set[int] = set()
        self.failed: dict[int, str] = {}
        self.running = True
        self.stopped = False  # killed by KernelWarmer.stop
        self.stderr_tail: list[str] = []

    def index(self, item: WarmItem) -> int:
        return self.items.index(item)


class KernelWarmer:
    """Brings compiled kernels into this process from Numba's cache, filling the cache from a
    separate process when it is cold (see the module docstring). Thread-safe; one per process
    (:data:`WARMER`)."""

    def __init__(self, command: Sequence[str] | None = None) -> None:
        self.command = list(command) if command else [sys.executable, "-m", "app.warmup"]
        self._cond = threading.Condition()
        self._child: _Child | None = None
        self._prefetch: list[WarmItem] = []
        self._loaded: set[WarmItem] = set()
        self._status = KernelStatus()
        self._waiting = 0
        self._closed = False  # the interpreter exits: no more waits, no more processes
        self.compiled_here = 0  # items that had to be compiled in this process
        self.last_error = ""  # why the last warm-up process did not help, if it did not
        self.child_cpu = 0.0  # CPU seconds of the warm-up process until its last item was ready

    # -- public -----------------------------------------------------------------------------------
    def ensure(
        self,
        items: Sequence[WarmItem],
        cancelled: Callable[[], bool] = lambda: False,
        on_wait: Callable[[], None] | None = None,
    ) -> bool:
        """Make the kernels of ``items`` callable in this process without compiling here if it
        can be helped; call from a worker thread, never the GUI's. Returns whether it had to wait
        (a cold cache). Raises :class:`Cancelled` when ``cancelled()`` turns true meanwhile."""
        items = tuple(dict.fromkeys(items))
        if self._load(items):
            return False
        if on_wait is not None:
            on_wait()
        t0 = time.monotonic()
        with self._cond:
            self._waiting += 1
            if self._waiting == 1:
                self._status = KernelStatus(True, items[0].title, "", 0, "process", t0)
        try:
            for _ in range(3):  # a child stopped under us (another window closed): once more
                outcome = self._via_child(items, cancelled)
                if self._load(items):
                    return True
                if outcome != "stopped":
                    break
            if cancelled():
                raise Cancelled
            self._compile_here(items)
            return True
        finally:
            with self._cond:
                self._waiting -= 1
                if self._waiting == 0:
                    self._status = KernelStatus()

    def prefetch(self, items: Sequence[WarmItem]) -> None:
        """Items that any warm-up process compiles too, after the ones asked for (kernels that
        a tab not shown yet will need)."""
        with self._cond:
            for item in items:
                if item not in self._prefetch:
                    self._prefetch.append(item)

    def status(self) -> KernelStatus:
        with self._cond:
            return self._status

    def stop(self) -> None:
        """Kill the warm-up process, if any (a window closes: nothing waits for a compile). A
        thread of another window that still waits starts a new one."""
        with self._cond:
            child = self._child
            if child is None or not child.running:
                return
            child.stopped = True
        _kill(child.proc)
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """At interpreter exit: kill the warm-up process and end every wait for good."""
        with self._cond:
            self._closed = True
        self.stop()

    @property
    def child_running(self) -> bool:
        with self._cond:
            return self._child is not None and self._child.running

    # -- the three ways ---------------------------------------------------------------------------
    def _load(self, items: tuple[WarmItem, ...]) -> bool:
        """Run ``items`` here, loading from the cache; False at the first compile it would need."""
        todo = [i for i in items if i not in self._loaded]
        try:
            with no_compile():
                for item in todo:
                    item.run()
        except ColdCache:
            return False
        with self._cond:
            self._loaded.update(todo)
        return True

    def _via_child(self, items: tuple[WarmItem, ...], cancelled: Callable[[], bool]) -> str:
        """Wait until a warm-up process has compiled ``items``: "ready", "failed" or "stopped"."""
        while True:
            with self._cond:
                if cancelled() or self._closed:
                    raise Cancelled
                child = self._child
                if child is None or not child.running:
                    child = self._start_child(items)
                    if child is None:
                        return "failed"
                if all(i in child.items for i in items):
                    break
                # one for other items runs: wait for its next item, which may be all these need
                done = len(child.ready)
                while child.running and len(child.ready) == done and not cancelled():
                    self._cond.wait(WAIT_POLL_S)
            if self._load(items):
                return "ready"
        with self._cond:
            while True:
                if all(child.index(i) in child.ready for i in items):
                    return "ready"
                failed = [
                    child.failed[child.index(i)] for i in items if child.index(i) in child.failed
                ]
                if failed:
                    self.last_error = failed[0]
                    return "failed"
                if not child.running:
                    if child.stopped:
                        if self._closed:
                            raise Cancelled
                        return "stopped"
                    self.last_error = "\n".join(child.stderr_tail) or (
                        f"the warm-up process ended with code {child.proc.returncode}"
                    )
                    return "failed"
                if cancelled() or self._closed:
                    raise Cancelled
                self._cond.wait(WAIT_POLL_S)

    def _start_child(self, items: tuple[WarmItem, ...]) -> _Child | None:
        """Start a warm-up process for ``items`` and the prefetched ones (lock held)."""
        all_items = items + tuple(i for i in self._prefetch if i not in items)
        spec = json.dumps({"items": [[i.kind, i.payload] for i in all_items]})
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
        try:
            proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                text=True,
                bufsize=1,
            )
            proc.stdin.write(spec)
            proc.stdin.close()
        except OSError as exc:
            self.last_error = f"cannot start {self.command[0]}: {exc}"
            return None
        child = _Child(all_items, proc)
        self._child = child
        threading.Thread(
            target=self._read, args=(child,), name="dlopt-warmup-reader", daemon=True
        ).start()
        threading.Thread(
            target=_drain,
            args=(proc.stderr, child.stderr_tail),
            name="dlopt-warmup-stderr",
            daemon=True,
        ).start()
        return child

    def _read(self, child: _Child) -> None:
        """Follow the process's reports until it ends (a thread of its own)."""
        for line in child.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                event = msg.get("event")
                if event == "compile":
                    s = self._status
                    title = next(
                        (i.title for k, i in enumerate(child.items) if k not in child.ready),
                        s.title,
                    )
                    self._status = replace(
                        s,
                        title=title,
                        compiled=s.compiled + 1,
                        function=shown_name(s.function, str(msg.get("name", ""))),
                    )
                elif event == "ready":
                    child.ready.add(int(msg["item"]))
                    self.child_cpu = float(msg.get("cpu", 0.0))
                elif event == "failed":
                    child.failed[int(msg["item"])] = str(msg.get("message", ""))
                self._cond.notify_all()
        child.proc.wait()
        with self._cond:
            child.running = False
            self._cond.notify_all()

    def _compile_here(self, items: tuple[WarmItem, ...]) -> None:
        """The last resort: compile in this thread (it cannot be interrupted)."""

        def report(name: str, depth: int) -> None:
            with self._cond:
                s = self._status
                self._status = replace(
                    s, function=shown_name(s.function, name), compiled=s.compiled + 1, where="here"
                )

        with self._cond:
            self._status = replace(self._status, where="here", function="")
        with reporting_compiles(report):
            for item in items:
                if item not in self._loaded:
                    item.run()
                    self.compiled_here += 1
        with self._cond:
            self._loaded.update(items)


def _drain(stream, tail: list[str]) -> None:
    """Keep the last lines of ``stream`` (the process's errors, for a report)."""
    for line in stream:
        tail.append(line.rstrip())
        del tail[:-20]


def _kill(proc: subprocess.Popen) -> None:
    try:
        proc.kill()
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass


WARMER = KernelWarmer()
atexit.register(WARMER.close)  # never leave a compiling process behind


# -- the warm-up process --------------------------------------------------------------------------
def _emit(**msg) -> None:
    print(json.dumps(msg), flush=True)


def main() -> int:
    """``python -m app.warmup``: compile the items given as JSON on stdin into Numba's cache,
    reporting on stdout, one JSON object a line: ``compile`` (a function Numba starts to
    compile), ``ready`` (an item, by index, with the CPU seconds so far) or ``failed``."""
    spec = json.loads(sys.stdin.read() or "{}")
    with reporting_compiles(lambda name, depth: _emit(event="compile", name=name, depth=depth)):
        for k, (kind, payload) in enumerate(spec.get("items", [])):
            try:
                WarmItem(kind, payload, "").run()
            except Exception as exc:  # reported; the app then compiles it itself
                _emit(event="failed", item=k, message=f"{type(exc).__name__}: {exc}")
                continue
            _emit(event="ready", item=k, cpu=time.process_time())
    return 0


if __name__ == "__main__":
    sys.exit(main())
