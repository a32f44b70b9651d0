"""Training speed and responsiveness of the desktop app while it trains at full speed.

    python benchmarks/bench_gui.py [--seconds 10] [--experiment FILE]

Workload W1 (2-8-8-1 tanh, 500 spiral points, batch 10, Adam lr 0.01) unless a file is given.
It measures
  (a) training steps per second in the window (Playground, speed "max") against the headless
      engine on the same experiment (measured before and after the window, averaged), and
  (b) how late a 10 ms QTimer fires in the GUI thread (p50 / p95 / max), idle and while training,
  (c) how long closing the window takes while it trains (the worker must stop and join).
The window may be offscreen: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(os.path.abspath(__file__)).parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DLOPT_SETTINGS", str(Path(os.environ.get("TMPDIR", "/tmp"))
                                            / "dlopt-bench-settings.ini"))

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dlopt_core.experiment import Experiment, example  # noqa: E402


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
    return {"rate": (s1 - s0) / (t1 - t0), "idle": idle, "busy": busy, "stopped": stopped,
            "close_ms": close_ms, "joined": tab.controller.thread.isFinished()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    ap.add_argument("--experiment", help="an experiment file instead of W1")
    args = ap.parse_args()
    exp = Experiment.load(args.experiment) if args.experiment else example()
    print(f"workload: {exp.name or args.experiment}; {args.seconds:g} s per measurement; "
          f"Qt platform {os.environ.get('QT_QPA_PLATFORM', 'default')}")
    before = headless_rate(exp, min(args.seconds, 5.0))
    gui = run_window(exp, args.seconds)
    after = headless_rate(exp, min(args.seconds, 5.0))
    head = 0.5 * (before + after)  # before and after the window: a busy machine shows here
    rows = [
        ("headless engine", f"{head:,.0f} steps/s", f"before {before:,.0f}, after {after:,.0f}"),
        ("window, speed max", f"{gui['rate']:,.0f} steps/s",
         f"{gui['rate'] / head:.0%} of headless"),
    ]
    for name, (p50, p95, top) in (("10 ms timer, idle", gui["idle"]),
                                  ("10 ms timer, training", gui["busy"])):
        rows.append((name, f"p50 {p50:.1f} ms late", f"p95 {p95:.1f} ms, max {top:.1f} ms"))
    rows.append(("close while training", f"{gui['close_ms']:.0f} ms",
                 "worker joined" if gui["joined"] else "worker still running"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if gui["stopped"]:
        print("note: training stopped during the measurement (diverged or early-stopped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
