"""Start-up, training speed and responsiveness of the desktop app.

    python benchmarks/bench_gui.py [--part all|startup|training] [--seconds 10]
                                   [--experiment FILE]

Start-up (each in a fresh process, as ``dlopt`` starts, Play pressed as soon as the window shows):
  (a) seconds from launch to the window on screen and to the first drawn training step, cold
      (a new, empty ``NUMBA_CACHE_DIR``) and then warm (the same folder, now filled), with how
      late a 10 ms QTimer fires in the GUI thread while the cold start waits for its kernels;
  (b) how long closing the window takes while the kernels compile (cold), and whether the
      warm-up process was ended rather than waited for;
  (c) how late the timer fires while the training kernels compile cold in a thread of the GUI
      process, and while they compile in the warm-up process the app uses (``app.warmup``),
      each in a fresh process with an empty cache.
The app's own CPU seconds are reported beside the wall-clock ones: on a machine shared with other
work the wall clock stretches, and the CPU time is about what an idle machine's wall clock shows.
Training (workload W1, 2-8-8-1 tanh, 500 spiral points, batch 10, Adam lr 0.01, unless a file is
given):
  (d) training steps per second in the window (Playground, speed "max") against the headless
      engine on the same experiment (measured before and after the window, averaged),
  (e) how late a 10 ms QTimer fires in the GUI thread (p50 / p95 / max), idle and while training,
  (f) how long closing the window takes while it trains (the worker must stop and join).
The window may be offscreen: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py``, or on
a virtual display: ``xvfb-run -a python benchmarks/bench_gui.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(os.path.abspath(__file__)).parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DLOPT_SETTINGS", str(Path(os.environ.get("TMPDIR", "/tmp")) / "dlopt-bench-settings.ini")
)

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dlopt_core.train.experiment import Experiment, example  # noqa: E402


def headless_rate(exp: Experiment, seconds: float) -> float:
    """Steps per second of ``engine.run`` on the experiment, in one long call after warm-up."""
    _, _, engine = exp.build()
    engine.run(200)  # compiled and warm
    n = 2000
    while True:
        t0 = time.perf_counter()
        engine.run(n)
        dt = time.perf_counter() - t0
        if dt >= seconds or not engine.running[0]:
            return n / dt
        n = int(n * min(10.0, max(1.5, seconds / max(dt, 1e-6) * 1.1)))
        engine.reset()


class TimerProbe:
    """A 10 ms repeating timer in the GUI thread; records how late each timeout arrives."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.interval = interval_ms
        self.delays: list[float] = []
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self._last = 0

    def start(self) -> None:
        self.delays.clear()
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.delays.append(max(0.0, (now - self._last) / 1e6 - self.interval))
        self._last = now

    def summary(self) -> tuple[float, float, float]:
        d = np.array(self.delays) if self.delays else np.zeros(1)
        return float(np.percentile(d, 50)), float(np.percentile(d, 95)), float(d.max())


def wait(app: QApplication, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.002)


def run_window(exp: Experiment, seconds: float) -> dict[str, float]:
    from app.window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setStyle("Fusion")
    win = MainWindow(exp, persist=False)
    win.resize(1400, 900)
    win.show()
    tab = win.playground
    wait(app, 120.0, lambda: tab.snapshot is not None and tab.kernels_ready)
    probe = TimerProbe()

    def measure(duration: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(duration * 1000), loop.quit)
        probe.start()
        loop.exec()
        probe.stop()

    measure(min(3.0, seconds))
    idle = probe.summary()
    tab.play(True)
    wait(app, 5.0, lambda: tab.snapshot is not None and tab.snapshot.step > 5000)
    s0, t0 = tab._latest.step, time.perf_counter()
    measure(seconds)
    s1, t1 = tab._latest.step, time.perf_counter()
    busy = probe.summary()
    stopped = tab._latest.status != "running"
    t_close = time.perf_counter()
    win.close()  # while it trains at full speed: the worker must stop and join
    close_ms = 1000 * (time.perf_counter() - t_close)
    return {
        "rate": (s1 - s0) / (t1 - t0),
        "idle": idle,
        "busy": busy,
        "stopped": stopped,
        "close_ms": close_ms,
        "joined": tab.controller.thread.isFinished(),
    }


# -- start-up, each in a fresh process -----------------------------------------------------------
def child_startup() -> dict:
    """Start the app as ``dlopt`` does; press Play when the window shows; seconds since launch."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QWindow

    t0 = float(os.environ["DLOPT_BENCH_T0"])
    marks: dict = {}
    app = QApplication([sys.argv[0]])
    probe = TimerProbe()

    def since() -> float:
        return time.time() - t0

    def poll() -> None:
        from app.window import MainWindow

        win = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
        tab = win.playground
        if "kernels" not in marks and tab.kernels_ready:
            marks["kernels"] = since()
        snap = tab.snapshot
        if snap is not None and snap.step > 0:
            marks["step"] = since()
            marks["cpu_step"] = time.process_time()
            from app.warmup import WARMER

            marks["warm_up_cpu"] = WARMER.child_cpu
            probe.stop()
            marks["late"] = probe.summary()
            win.close()
            return
        QTimer.singleShot(5, poll)

    class Watch(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
            if (
                "window" not in marks
                and event.type() == QEvent.Type.Expose
                and isinstance(obj, QWindow)
                and obj.isExposed()
            ):
                marks["window"] = since()
                marks["cpu_window"] = time.process_time()
                probe.start()
                from app.window import MainWindow

                win = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
                win.playground.play(True)  # the user presses Play at once
                QTimer.singleShot(0, poll)
            return False

    watch = Watch()
    app.installEventFilter(watch)
    from app.main import main as dlopt

    dlopt([])
    return marks


def child_compile(where: str) -> dict:
    """Compile the example's training kernels (cold cache) in a thread of this GUI process, or
    through the warm-up process; how late a 10 ms timer fires in the GUI thread meanwhile."""
    from PySide6.QtWidgets import QLabel

    from app.warmup import WARMER, training_item, warm_up

    app = QApplication([sys.argv[0]])
    label = QLabel("compiling")
    label.resize(300, 80)
    label.show()
    wait(app, 1.0)  # the window is up and idle
    cpu = {}
    if where == "thread":

        def work() -> None:
            warm_up([example()])
            cpu["compile"] = time.thread_time()
    else:

        def work() -> None:
            WARMER.ensure([training_item([example()])])
            cpu["compile"] = WARMER.child_cpu

    worker = threading.Thread(target=work)
    probe = TimerProbe()
    loop = QEventLoop()

    def check() -> None:
        if worker.is_alive():
            QTimer.singleShot(20, check)
        else:
            loop.quit()

    t0 = time.perf_counter()
    probe.start()
    worker.start()
    QTimer.singleShot(20, check)
    loop.exec()
    probe.stop()
    return {
        "seconds": time.perf_counter() - t0,
        "late": probe.summary(),
        "compiled_here": WARMER.compiled_here,
        "cpu": cpu.get("compile", 0.0),
    }


def child_close() -> dict:
    """Start the app with its kernels compiling; close the window a few seconds later: how long
    ``close()`` takes and whether the warm-up process was ended rather than waited for."""
    from app.warmup import WARMER
    from app.window import MainWindow

    app = QApplication([sys.argv[0]])
    win = MainWindow(persist=False)
    win.show()
    wait(app, 60.0, lambda: WARMER.child_running)
    proc = WARMER._child.proc if WARMER.child_running else None
    wait(app, 3.0)
    t0 = time.perf_counter()
    win.close()
    close_ms = 1000 * (time.perf_counter() - t0)
    code = None if proc is None else proc.wait(30)
    return {
        "close_ms": close_ms,
        "warm_up_code": code,
        "joined": win.playground.controller.thread.isFinished(),
    }


def in_fresh_process(kind: str, cache: str) -> dict:
    """Run ``--child kind`` in a new process with ``NUMBA_CACHE_DIR=cache``; its report."""
    settings = tempfile.mkdtemp(prefix="dlopt-bench-settings-")
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": cache,
        "DLOPT_SETTINGS": str(Path(settings) / "dlopt.ini"),
        "DLOPT_BENCH_T0": repr(time.time()),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user's Python: compiled modules are kept
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", kind],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    reports = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not reports:
        raise RuntimeError(f"--child {kind} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(reports[-1])


def startup_rows() -> list[tuple[str, str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlopt-bench-numba-") as cache:
        cold = in_fresh_process("startup", cache)
        warm = [in_fresh_process("startup", cache) for _ in range(2)]
    p50, p95, top = cold["late"]

    def cpu(report: dict, key: str) -> str:
        value = report.get(f"cpu_{key}")
        return "" if value is None else f"{value:.1f}"

    rows.append(
        (
            "cold start: window",
            f"{cold['window']:.1f} s",
            f"app CPU {cpu(cold, 'window')} s; empty Numba cache",
        )
    )
    rows.append(
        (
            "cold start: first drawn step",
            f"{cold['step']:.1f} s",
            f"kernels ready at {cold['kernels']:.1f} s; the warm-up process took "
            f"{cold.get('warm_up_cpu', 0.0):.1f} s CPU",
        )
    )
    rows.append(
        ("  10 ms timer meanwhile", f"p50 {p50:.1f} ms late", f"p95 {p95:.1f} ms, max {top:.0f} ms")
    )
    for key, what in (("window", "window"), ("step", "first drawn step")):
        rows.append(
            (
                f"warm start: {what}",
                " / ".join(f"{w[key]:.1f}" for w in warm) + " s",
                "app CPU " + " / ".join(cpu(w, key) for w in warm) + " s; two runs",
            )
        )
    with tempfile.TemporaryDirectory(prefix="dlopt-bench-numba-") as cache:
        closed = in_fresh_process("close", cache)
    rows.append(
        (
            "close during a cold compile",
            f"{closed['close_ms']:.0f} ms",
            ("worker joined" if closed["joined"] else "worker still running")
            + f"; warm-up process ended with code {closed['warm_up_code']}",
        )
    )
    for where, title in (
        ("thread", "compile in a GUI-process thread"),
        ("process", "compile in the warm-up process"),
    ):
        with tempfile.TemporaryDirectory(prefix="dlopt-bench-numba-") as cache:
            r = in_fresh_process(where, cache)
        p50, p95, top = r["late"]
        rows.append(
            (
                f"{title}: 10 ms timer",
                f"p50 {p50:.1f} ms late",
                f"p95 {p95:.1f} ms, max {top:.0f} ms, over {r['seconds']:.0f} s "
                f"(compile CPU {r['cpu']:.0f} s)",
            )
        )
    return rows


def training_rows(exp: Experiment, seconds: float) -> tuple[list[tuple[str, str, str]], bool]:
    before = headless_rate(exp, min(seconds, 5.0))
    gui = run_window(exp, seconds)
    after = headless_rate(exp, min(seconds, 5.0))
    head = 0.5 * (before + after)  # before and after the window: a busy machine shows here
    rows = [
        ("headless engine", f"{head:,.0f} steps/s", f"before {before:,.0f}, after {after:,.0f}"),
        (
            "window, speed max",
            f"{gui['rate']:,.0f} steps/s",
            f"{gui['rate'] / head:.0%} of headless",
        ),
    ]
    for name, (p50, p95, top) in (
        ("10 ms timer, idle", gui["idle"]),
        ("10 ms timer, training", gui["busy"]),
    ):
        rows.append((name, f"p50 {p50:.1f} ms late", f"p95 {p95:.1f} ms, max {top:.1f} ms"))
    rows.append(
        (
            "close while training",
            f"{gui['close_ms']:.0f} ms",
            "worker joined" if gui["joined"] else "worker still running",
        )
    )
    return rows, gui["stopped"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("all", "startup", "training"), default="all")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    ap.add_argument("--experiment", help="an experiment file instead of W1")
    ap.add_argument(
        "--child", choices=("startup", "thread", "process", "close"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        if args.child == "startup":
            report = child_startup()
        elif args.child == "close":
            report = child_close()
        else:
            report = child_compile(args.child)
        print(json.dumps(report))
        return 0
    exp = Experiment.load(args.experiment) if args.experiment else example()
    print(
        f"workload: {exp.name or args.experiment}; {args.seconds:g} s per measurement; "
        f"Qt platform {os.environ.get('QT_QPA_PLATFORM', 'default')}"
    )
    rows: list[tuple[str, str, str]] = []
    stopped = False
    if args.part in ("all", "startup"):
        rows += startup_rows()
    if args.part in ("all", "training"):
        more, stopped = training_rows(exp, args.seconds)
        rows += more
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if stopped:
        print("note: training stopped during the measurement (diverged or early-stopped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
