"""The app's one worker-thread class: numbered submissions, stale results, cancel, errors, exit."""

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QObject  # noqa: E402

from app import threads  # noqa: E402
from app.threads import OwnedThread, WorkerThread, error_message  # noqa: E402
from app.warmup import Cancelled  # noqa: E402

TIMEOUT = 5000


class Gate:
    """Holds a piece of work until the test opens it (no sleeps, no timing)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def wait(self, cancelled) -> None:
        self.entered.set()
        while not self.opened.wait(0.005):
            if cancelled():
                return


def record(runner: WorkerThread) -> dict[str, list]:
    seen: dict[str, list] = {"finished": [], "failed": [], "cancelled": [], "progressed": []}
    runner.finished.connect(lambda req, res: seen["finished"].append((req, res)))
    runner.failed.connect(lambda req, msg: seen["failed"].append((req, msg)))
    runner.cancelled.connect(lambda req, res: seen["cancelled"].append((req, res)))
    runner.progressed.connect(lambda req, f, p: seen["progressed"].append((req, f, p)))
    return seen


@pytest.fixture
def make(qtbot):
    made: list[WorkerThread] = []

    def build(work, **kw) -> WorkerThread:
        runner = WorkerThread(work, "dlopt-test", **kw)
        made.append(runner)
        return runner

    yield build
    for runner in made:
        assert runner.stop(2000)
        assert runner.thread is None or runner.thread.isFinished()


def test_a_submission_reports_its_result_and_progress_in_the_gui_thread(qtbot, make):
    gui = threading.get_ident()
    where = []

    def work(request, report, cancelled):
        for k in range(3):
            report((k + 1) / 3, k)
        return request * 2

    runner = make(work)
    runner.finished.connect(lambda *_: where.append(threading.get_ident()))
    seen = record(runner)
    serial = runner.submit(21)
    assert serial == 1 and runner.busy and runner.request == 21
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=TIMEOUT)
    assert seen["finished"] == [(21, 42)]
    assert [(r, f, p) for r, f, p in seen["progressed"]] == [
        (21, 1 / 3, 0),
        (21, 2 / 3, 1),
        (21, 1.0, 2),
    ]
    assert where == [gui] and not runner.busy and runner.request is None
    assert runner.thread.objectName() == "dlopt-test" and runner.thread.isRunning()


def test_a_newer_submission_makes_the_older_one_stale(qtbot, make):
    gate = Gate()
    saw_cancel = []

    def work(request, report, cancelled):
        if request == "slow":
            gate.wait(cancelled)
            saw_cancel.append(cancelled())
            report(0.5, "late")  # stale: never reaches the GUI
            return "slow result"
        return f"{request} result"

    runner = make(work)
    seen = record(runner)
    runner.submit("slow")
    assert gate.entered.wait(5)
    runner.submit("queued")  # skipped: a newer one is queued behind it
    assert runner.submit("new") == 3
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=TIMEOUT)
    assert saw_cancel == [True]  # the work under way saw that it was superseded
    assert seen["finished"] == [("new", "new result")]
    assert not seen["progressed"] and not seen["cancelled"] and not seen["failed"]


def test_cancel_keeps_the_partial_result_or_none_when_the_work_gives_up(qtbot, make):
    def work(request, report, cancelled):
        done = 0
        while not cancelled():
            done += 1
            report(0.0, done)
        if request == "give up":
            raise Cancelled
        return ("partial", done)

    runner = make(work, min_report_s=0.0)
    seen = record(runner)
    runner.submit("keep")
    qtbot.waitUntil(lambda: bool(seen["progressed"]), timeout=TIMEOUT)
    runner.cancel()
    qtbot.waitUntil(lambda: bool(seen["cancelled"]), timeout=TIMEOUT)
    ((request, (kind, done)),) = seen["cancelled"]
    assert request == "keep" and kind == "partial" and done >= 1
    runner.submit("give up")
    qtbot.waitUntil(lambda: len(seen["progressed"]) > done, timeout=TIMEOUT)
    runner.cancel()
    qtbot.waitUntil(lambda: len(seen["cancelled"]) == 2, timeout=TIMEOUT)
    assert seen["cancelled"][1] == ("give up", None)
    assert not seen["finished"] and not seen["failed"] and not runner.busy


def test_progress_reports_are_thinned_to_min_report_s(qtbot, make):
    def work(request, report, cancelled):
        for k in range(1000):
            report(k / 1000, k)
        return "done"

    runner = make(work, min_report_s=60.0)
    seen = record(runner)
    runner.submit(None)
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=TIMEOUT)
    assert [p for _, _, p in seen["progressed"]] == [0]  # the first one, then none for a minute


def test_an_error_is_a_one_line_message_and_the_thread_lives_on(qtbot, make):
    def work(request, report, cancelled):
        if request == "empty":
            raise KeyError()
        if request == "bad":
            raise ValueError("the learning rate must be positive\n")
        return "fine"

    runner = make(work)
    seen = record(runner)
    runner.submit("bad")
    qtbot.waitUntil(lambda: bool(seen["failed"]), timeout=TIMEOUT)
    runner.submit("empty")
    qtbot.waitUntil(lambda: len(seen["failed"]) == 2, timeout=TIMEOUT)
    assert seen["failed"] == [("bad", "the learning rate must be positive"), ("empty", "KeyError")]
    runner.submit("again")
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=TIMEOUT)
    assert seen["finished"] == [("again", "fine")]


def test_error_message_never_shows_a_traceback():
    assert error_message(OSError("no such file: x.csv")) == "no such file: x.csv"
    assert error_message(ZeroDivisionError()) == "ZeroDivisionError"
    assert error_message(ValueError("  padded  ")) == "padded"


def test_stop_ends_the_work_and_the_thread_and_a_submit_starts_a_new_one(qtbot, make):
    gate = Gate()

    def work(request, report, cancelled):
        if request == "wait":
            gate.wait(cancelled)  # ends when stop() cancels it
        return request

    runner = make(work)
    seen = record(runner)
    runner.submit("wait")
    assert gate.entered.wait(5)
    first = runner.thread
    assert runner.stop(2000)
    assert first.isFinished() and not runner.busy
    runner.submit("after")
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=TIMEOUT)
    assert seen["finished"] == [("after", "after")] and runner.thread is not first
    assert not seen["cancelled"]  # a stopped submission reports nothing


def test_threads_still_running_at_exit_are_stopped(qtbot, make):
    gate = Gate()
    runner = make(lambda request, report, cancelled: gate.wait(cancelled))
    runner.submit(None)
    assert gate.entered.wait(5)
    threads._stop_all()  # what the interpreter's exit runs
    assert runner.thread.isFinished()


def test_destroying_the_owner_stops_its_thread(qtbot):
    gate = Gate()
    owner = QObject()
    runner = WorkerThread(lambda request, report, cancelled: gate.wait(cancelled), "t", owner)
    runner.submit(None)
    assert gate.entered.wait(5)
    thread = runner.thread
    owner.deleteLater()
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=TIMEOUT)


def test_an_owned_thread_asks_its_worker_to_quit_its_own_way(qtbot):
    class Worker(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.asked = False

        def quit(self) -> None:
            self.asked = True
            self.thread().quit()

    worker = Worker()
    owned = OwnedThread("dlopt-owned", worker)
    owned.start(quit=worker.quit)
    assert owned.running and not owned.cancel.is_set()
    assert owned.stop(2000)
    assert worker.asked and owned.cancel.is_set() and owned.thread.isFinished()
