"""The Quiz tab: choose a mode, answer questions, get feedback at once, keep progress.

Modes: one topic (easy to hard), mixed (seeded random order over all topics) and "review my
mistakes" (questions whose last answer was wrong). In every mode the options come in an order drawn
from the seed (``dlopt_core.course.quiz.shuffled``; a new seed after each quiz), so their position
gives nothing away. Keys: 1-9 pick an option, Enter submits (then goes on), N goes to the next
question. Progress is written to ``progress_path`` after every answer
(``dlopt_core.course.quiz.Progress``), so a crash mid-quiz loses nothing already answered.

Experiment questions are "predict, then run": the prediction is locked in first, then the engine
computes the answer in a worker thread (``ExperimentRunner``) and the feedback compares the two.
"Open in the app" emits ``open_preset`` with a ``dlopt_core.course.lessons.Preset`` (see
``app.quiz.presets``): the same type as the Learn tab's, routed by ``preset.tab``.
"""

from __future__ import annotations

import html
import random
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.quiz.presets import question_preset
from app.quiz.runner import ExperimentRunner
from app.quiz.tab_ui import build_ui
from app.quiz.widgets import BAD, GOOD
from app.widgets.text import math_marks, rich, sentence_start
from dlopt_core.course.lessons import LessonError, Preset, load_presets, resources_dir
from dlopt_core.course.quiz import (
    TOPICS,
    Progress,
    Question,
    QuizError,
    QuizSession,
    Result,
    default_progress_path,
    format_answer,
    grade,
    load_bank,
    parse_response,
)

# what the question view is doing
IDLE, ANSWER, COMMITTED, RUNNING, FEEDBACK, DONE = (
    "idle",
    "answer",
    "committed",
    "running",
    "feedback",
    "done",
)
MAX_BANNER_LINES = 8
SLOW_RUN_S = 2.0  # after this, say that the first run compiles the kernels
_DIGITS = {getattr(Qt.Key, f"Key_{i}"): i - 1 for i in range(1, 10)}


def _difficulty(level: int) -> str:
    return "\u25cf" * level + "\u25cb" * (3 - level)


class QuizTab(QWidget):
    """The quiz; see the module docstring."""

    title = "Quiz"
    show_lesson = Signal(str)  # lesson id
    open_preset = Signal(object)  # dlopt_core.course.lessons.Preset
    status_message = Signal(str)

    def __init__(
        self,
        bank_dir: str | Path | None = None,
        progress_path: str | Path | None = None,
        parent: QWidget | None = None,
        progress: Progress | None = None,
    ) -> None:
        """``progress``: already loaded from ``progress_path`` (the window reads it at start-up,
        before this tab is built, to report a damaged file at once)."""
        super().__init__(parent)
        self.bank_dir = Path(bank_dir) if bank_dir is not None else resources_dir() / "quiz"
        self.progress_path = (
            Path(progress_path) if progress_path is not None else default_progress_path()
        )
        self.bank = load_bank(self.bank_dir)
        self.progress = progress if progress is not None else Progress.load(self.progress_path)
        self.presets = self._load_presets()
        self.session: QuizSession | None = None
        self.state = IDLE
        self.result: Result | None = None
        self.prediction: Any = None
        self.run_report = None
        self.run_error = ""
        self._run_started = 0.0
        self.runner = ExperimentRunner(self)
        self.runner.finished.connect(self._on_run_finished)
        self.runner.failed.connect(self._on_run_failed)
        self._elapsed = QTimer(self)
        self._elapsed.setInterval(200)
        self._elapsed.timeout.connect(self._tick_running)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        build_ui(self)  # the widgets: app.quiz.tab_ui
        self._wire()
        self._update_setup()
        self._show_load_problems()
        self._refresh_progress()
        self._set_state(IDLE)

    # =============================================================================================
    # Building
    # =============================================================================================
    def _load_presets(self) -> dict[str, Preset]:
        path = self.bank_dir.parent / "lessons" / "presets.json"
        if not path.exists():
            path = resources_dir() / "lessons" / "presets.json"
        try:
            return load_presets(path)
        except LessonError:
            return {}

    def _wire(self) -> None:
        """Connect the widgets of ``app.quiz.tab_ui`` to what they do."""
        self.start_button.clicked.connect(self._on_start_clicked)
        for radio in (self.topic_radio, self.mixed_radio, self.mistakes_radio):
            radio.toggled.connect(self._update_setup)
        self.review_button.clicked.connect(lambda: self.start("mistakes"))
        self.again_button.clicked.connect(lambda: self._set_state(IDLE))
        self.run_button.clicked.connect(self.run_experiment)
        self.submit_button.clicked.connect(self.submit)
        self.next_button.clicked.connect(self.next_question)
        self.skip_button.clicked.connect(self.skip)
        self.lesson_button.clicked.connect(self.show_me)
        self.app_button.clicked.connect(self.open_in_app)

    # =============================================================================================
    # Load problems, setup and progress
    # =============================================================================================
    def _show_load_problems(self) -> None:
        errors = self.bank.errors
        if errors:
            lines = [f"\u2022 {e}" for e in errors[:MAX_BANNER_LINES]]
            if len(errors) > MAX_BANNER_LINES:
                lines.append(f"\u2026 and {len(errors) - MAX_BANNER_LINES} more")
            n = len(self.bank.questions)
            self.bank_banner.show_message(
                "error",
                f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the question "
                f"files; the other {n} question{'s' if n != 1 else ''} loaded:\n"
                + "\n".join(lines),
            )
        else:
            self.bank_banner.clear()
        if self.progress.load_error:
            self.progress_banner.show_message("warning", f"{self.progress.load_error}.")
        else:
            self.progress_banner.clear()

    def bank_errors_text(self) -> str:
        """The error banner's text (empty if every question file loaded)."""
        return self.bank_banner.text() if not self.bank_banner.isHidden() else ""

    def _mistake_ids(self) -> list[str]:
        wrong = self.progress.mistakes()
        return [q.id for q in self.bank.questions if q.id in wrong]

    def _update_setup(self) -> None:
        self.topic_box.setEnabled(self.topic_radio.isChecked())
        n_wrong = len(self._mistake_ids())
        self.mistakes_radio.setText(f"Review my mistakes ({n_wrong})")
        self.mistakes_radio.setEnabled(n_wrong > 0 or self.mistakes_radio.isChecked())
        self.review_button.setEnabled(n_wrong > 0)

    def topic_counts(self) -> dict[str, tuple[int, int]]:
        """``{topic: (right, wrong)}`` over all sessions, as saved."""
        return {t: self.progress.topic_score(t) for t in self.bank.topics()}

    def _refresh_progress(self) -> None:
        right_total = wrong_total = 0
        for topic in self.bank.topics():
            ids = [q.id for q in self.bank.questions if q.topic == topic]
            mastered = sum(self.progress.last_result(qid) == "right" for qid in ids)
            right, wrong = self.progress.topic_score(topic)
            right_total += right
            wrong_total += wrong
            self.topic_progress.set_counts(topic, mastered, len(ids), right, wrong)
        answered = right_total + wrong_total
        share = f" ({100 * right_total / answered:.0f}% right)" if answered else ""
        self.totals_label.setText(f"{answered} answer{'s' if answered != 1 else ''} so far{share}.")
        self._update_setup()

    # =============================================================================================
    # Sessions
    # =============================================================================================
    def _on_start_clicked(self) -> None:
        if self.topic_radio.isChecked():
            self.start("topic", topic=self.topic_box.currentData(), n=self.count_box.value())
        elif self.mixed_radio.isChecked():
            self.start("mixed", n=self.count_box.value(), seed=self.seed_box.value())
        else:
            self.start("mistakes", n=self.count_box.value())

    def start(
        self,
        mode: str = "mixed",
        topic: str | None = None,
        n: int | None = None,
        seed: int | None = None,
        ids: list[str] | None = None,
    ) -> int:
        """Start a quiz; the number of questions (0: none matched, nothing started).

        ``ids`` asks exactly those questions in that order (the mode is then only recorded).
        """
        self.runner.cancel()
        if seed is None:
            seed = self.seed_box.value()
        try:
            if ids is not None:
                chosen = [self.bank.by_id(qid) for qid in ids]
                session = QuizSession(chosen, self.progress, mode=mode, seed=seed, given=True)
            else:
                session = QuizSession(
                    self.bank.questions, self.progress, mode=mode, topic=topic, n=n, seed=seed
                )
        except (QuizError, KeyError) as exc:
            self.status_message.emit(f"Cannot start the quiz: {exc}")
            return 0
        if not session.questions:
            self.status_message.emit(
                "No questions to ask: "
                + ("no mistakes to review" if mode == "mistakes" else "the selection is empty")
            )
            return 0
        self.session = session
        what = {
            "topic": TOPICS.get(topic or "", "topic"),
            "mixed": "mixed",
            "mistakes": "review of mistakes",
        }.get(mode, mode)
        self.status_message.emit(
            f"Quiz started: {session.total} question"
            f"{'s' if session.total != 1 else ''}, {what} (seed {seed})"
        )
        self._show_question()
        return session.total

    @property
    def current_question(self) -> Question | None:
        return self.session.current if self.session is not None else None

    def _show_question(self) -> None:
        session = self.session
        question = self.current_question
        if session is None or question is None:
            self._finish()
            return
        self.result, self.prediction, self.run_report, self.run_error = None, None, None, ""
        self.header_label.setText(
            f"Question {session.index + 1} of {session.total}  \u00b7  {question.topic_title}"
            f"  \u00b7  difficulty {_difficulty(question.difficulty)}"
        )
        self.session_bar.setRange(0, session.total)
        self.session_bar.setValue(session.index)
        self._update_score()
        self.prompt_label.setText(rich(question.prompt))
        kind = question.response_type
        hints = {
            "single": "Choose one answer.",
            "multiple": "Choose every right answer.",
            "yesno": "Yes or no?",
            "numeric": "Type a number.",
        }
        if question.type == "experiment":
            self.kind_label.setText(
                "Experiment — ① choose your prediction and lock it "
                "in, ② run the experiment, ③ compare."
            )
        else:
            self.kind_label.setText(hints[kind])
        if kind in ("single", "multiple"):
            self.options.set_options(question.options, multiple=kind == "multiple")
        elif kind == "yesno":
            self.options.set_options(["Yes", "No"])
        else:
            self.options.clear()
        self.options.setVisible(kind != "numeric")
        self.numeric_edit.clear()
        self.numeric_edit.setReadOnly(False)
        self.numeric_edit.setVisible(kind == "numeric")
        self.input_error.clear()
        self.feedback.clear()
        self.feedback.hide()
        self.run_status.clear()
        self.pages.setCurrentIndex(1)
        self.question_scroll.verticalScrollBar().setValue(0)
        self._set_state(ANSWER)
        if kind == "numeric":
            self.numeric_edit.setFocus()
        else:
            self.setFocus()

    def _update_score(self) -> None:
        session = self.session
        if session is None:
            self.score_label.clear()
            return
        self.score_label.setText(f"Score {session.score} / {session.answered}")

    def score_text(self) -> str:
        return self.score_label.text()

    def feedback_text(self) -> str:
        """The feedback shown for the last answer, as plain text."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.feedback.text())
        return doc.toPlainText()

    def _finish(self) -> None:
        session = self.session
        self.runner.cancel()
        if session is None:
            self._set_state(IDLE)
            return
        answered, score = session.answered, session.score
        pct = f" ({100 * score / answered:.0f}%)" if answered else ""
        wrong = [self.bank.by_id(qid) for qid, ok in session.results if not ok]
        parts = [
            f"<h2>Quiz finished</h2><p>You answered <b>{score} of {answered}</b> right"
            f"{pct}"
            + (f"; {session.total - answered} skipped" if answered < session.total else "")
            + f". (Seed {session.seed}.)</p>"
        ]
        # the next quiz shows the options in a new order unless this seed is entered again
        self.seed_box.setValue(random.randrange(self.seed_box.maximum() + 1))
        if wrong:
            parts.append("<p>To review:</p><ul>")
            parts += [f"<li>{html.escape(q.prompt)}</li>" for q in wrong]
            parts.append("</ul>")
        elif answered:
            parts.append("<p>No mistakes \u2014 well done.</p>")
        self.summary_label.setText("".join(parts))
        self.pages.setCurrentIndex(2)
        self._set_state(DONE)
        self.status_message.emit(f"Quiz finished: {score} of {answered} right")

    # =============================================================================================
    # Answering
    # =============================================================================================
    def choose(self, index: int) -> bool:
        """Pick option ``index`` (from 0), as the keys 1-9 do."""
        if self.state != ANSWER or self.current_question is None:
            return False
        if self.current_question.response_type == "numeric":
            return False
        return self.options.choose(index)

    def _response(self, question: Question) -> Any:
        kind = question.response_type
        if kind == "numeric":
            return parse_response(question, self.numeric_edit.text())
        chosen = self.options.selected()
        if not chosen:
            raise QuizError(
                "choose an answer first" if kind != "multiple" else "choose at least one answer"
            )
        if kind == "single":
            return chosen[0]
        if kind == "multiple":
            return chosen
        return chosen[0] == 0  # yes / no

    def submit(self) -> bool:
        """Submit the answer (or lock in the prediction of an experiment question)."""
        question = self.current_question
        if self.state != ANSWER or question is None:
            return False
        try:
            response = self._response(question)
        except QuizError as exc:
            self.input_error.setText(sentence_start(str(exc)) + ".")
            return False
        self.input_error.clear()
        if question.type == "experiment":
            self.prediction = response
            self.options.set_locked(True)
            said = html.escape(self._answer_text(question, response))
            self.run_status.setText(
                f"Your prediction: <b>{said}</b>. Now run the experiment (Enter)."
            )
            self._set_state(COMMITTED)
            self.run_button.setFocus()
            return True
        self._record(question, response)
        return True

    @staticmethod
    def _answer_text(question: Question, response: Any) -> str:
        try:
            text = format_answer(question, response)
        except (IndexError, TypeError, ValueError):
            text = str(response)
        return sentence_start(text)

    def _record(self, question: Question, response: Any) -> Result | None:
        """Grade, save the progress and show the feedback."""
        session = self.session
        assert session is not None
        try:
            result = session.answer(response)
        except QuizError as exc:
            self.input_error.setText(str(exc))
            return None
        except OSError as exc:  # graded and counted, but the file could not be written
            result = grade(question, response)
            self.status_message.emit(f"Could not save the progress: {exc}")
            self.progress_banner.show_message(
                "error", f"Could not save your progress to {self.progress_path}: {exc}"
            )
        self.result = result
        self._show_feedback(question, response, result)
        self._refresh_progress()
        self._update_score()
        self.session_bar.setValue(session.index)
        self._set_state(FEEDBACK)
        self.setFocus()
        return result

    def _show_feedback(self, question: Question, response: Any, result: Result) -> None:
        kind = question.response_type
        if kind in ("single", "multiple", "yesno"):
            if kind == "yesno":
                right = {0 if result.correct_answer else 1}
                chosen = {0 if response else 1}
            elif kind == "single":
                right, chosen = {int(result.correct_answer)}, {int(response)}
            else:
                right, chosen = set(result.correct_answer), set(response)
            self.options.mark(right, chosen)
        else:
            self.numeric_edit.setReadOnly(True)
        ok = result.correct
        colour, bg = (GOOD, "#e9f6ec") if ok else (BAD, "#fdecea")
        if question.type == "experiment":
            verdict = (
                "\u2713 Your prediction was right." if ok else "\u2717 Your prediction was wrong."
            )
            said = html.escape(self._answer_text(question, response))
            truth = html.escape(self._answer_text(question, result.correct_answer))
            lines = [
                f"<p style='color:{colour}; font-weight:600; font-size:large'>{verdict}</p>",
                f"<p>You predicted: <b>{said}</b><br>The experiment gave: <b>{truth}</b></p>",
            ]
            if result.details:
                lines.append(
                    "<p><i>What the run showed:</i><br>"
                    + "<br>".join(html.escape(d) for d in result.details)
                    + "</p>"
                )
        else:
            verdict = "\u2713 Right!" if ok else "\u2717 Not quite."
            lines = [f"<p style='color:{colour}; font-weight:600; font-size:large'>{verdict}</p>"]
            if not ok:
                lines.append(
                    f"<p>Your answer: {html.escape(self._answer_text(question, response))}"
                    f"<br>The correct answer: <b>"
                    f"{html.escape(self._answer_text(question, result.correct_answer))}"
                    "</b></p>"
                )
            elif kind == "numeric":
                lines.append(f"<p>The answer is <b>{html.escape(result.correct_text)}</b>.</p>")
        lines.append(f"<p>{html.escape(result.explanation)}</p>")
        hints = []
        if question.lesson:
            hints.append("\u201cShow me the lesson\u201d")
        if question_preset(question, self.presets) is not None:
            hints.append("\u201cOpen in the app\u201d")
        lines.append(
            "<p style='color:#555'>Press N for the next question"
            + (f", or {' or '.join(hints)} to see more" if hints else "")
            + ".</p>"
        )
        self.feedback.setStyleSheet(
            f"#feedback {{ background: {bg}; border: 1px solid {colour};"
            " border-radius: 6px; color: #1f2328; }"
        )
        self.feedback.setText(math_marks("".join(lines)))
        self.feedback.show()
        self.status_message.emit("Right" if ok else f"Wrong: the answer is {result.correct_text}")

    def next_question(self) -> bool:
        """Go on after the feedback (or after a failed experiment)."""
        if self.session is None or self.state not in (FEEDBACK,):
            return False
        if self.result is None:  # a failed experiment: nothing graded, move on
            self.session.skip()
        self._show_question()
        return True

    def skip(self) -> bool:
        """Skip the current question without an answer."""
        if self.session is None or self.state not in (ANSWER, COMMITTED, RUNNING):
            return False
        self.runner.cancel()
        self._elapsed.stop()
        self.session.skip()
        self._show_question()
        return True

    # =============================================================================================
    # Experiment questions
    # =============================================================================================
    def run_experiment(self) -> bool:
        """Start computing the answer of the current experiment question (worker thread)."""
        question = self.current_question
        if self.state != COMMITTED or question is None:
            return False
        self._run_started = time.perf_counter()
        self._set_state(RUNNING)
        self.runner.submit(question)
        self._tick_running()
        self._elapsed.start()
        return True

    def _tick_running(self) -> None:
        seconds = time.perf_counter() - self._run_started
        text = f"Training\u2026 {seconds:.1f} s"
        if seconds > SLOW_RUN_S:
            text += " (the first run compiles the training kernels; this can take a while)"
        self.run_status.setText(text)

    def _on_run_finished(self, question: Question, report) -> None:
        self._elapsed.stop()
        if question is not self.current_question or self.state != RUNNING:
            return
        self.run_report = report
        seconds = time.perf_counter() - self._run_started
        self.run_status.setText(f"Done in {seconds:.1f} s.")
        self._record(question, self.prediction)  # graded from the cached run: instant

    def _on_run_failed(self, question: Question, message: str) -> None:
        self._elapsed.stop()
        if question is not self.current_question or self.state != RUNNING:
            return
        self.run_error = message
        self.run_status.setText("The experiment could not be run.")
        self.feedback.setStyleSheet(
            "#feedback { background: #fff4e0; border: 1px solid #c77800;"
            " border-radius: 6px; color: #1f2328; }"
        )
        self.feedback.setText(
            f"<p><b>The experiment failed:</b> {html.escape(message)}</p>"
            "<p>This question is not counted. Press N to go on.</p>"
        )
        self.feedback.show()
        self.result = None
        self._set_state(FEEDBACK)
        self.status_message.emit(f"Experiment failed: {message}")

    # =============================================================================================
    # Show me
    # =============================================================================================
    def show_me(self) -> bool:
        """Emit ``show_lesson`` with the current question's lesson."""
        question = self.current_question if self.state != FEEDBACK else self._answered_question()
        if question is None or not question.lesson:
            return False
        self.show_lesson.emit(question.lesson)
        return True

    def open_in_app(self) -> bool:
        """Emit ``open_preset`` with the question's preset (experiment questions: once the
        prediction is locked in, so that watching the run does not give the answer away)."""
        question = self.current_question if self.state != FEEDBACK else self._answered_question()
        if question is None:
            return False
        if question.type == "experiment" and self.state == ANSWER:
            return False
        preset = question_preset(question, self.presets)
        if preset is None:
            return False
        self.status_message.emit(
            f"Opening \u201c{preset.title}\u201d in the {preset.tab.title()} tab"
        )
        self.open_preset.emit(preset)
        return True

    def _answered_question(self) -> Question | None:
        """The question the feedback is about (the session has already moved past it)."""
        session = self.session
        if session is None:
            return None
        if self.result is None:  # failed experiment: not moved on
            return session.current
        return session.questions[session.index - 1] if session.index > 0 else None

    # =============================================================================================
    # State and keys
    # =============================================================================================
    def _set_state(self, state: str) -> None:
        self.state = state
        question = self._answered_question() if state == FEEDBACK else self.current_question
        experiment = question is not None and question.type == "experiment"
        if state == IDLE:
            self.pages.setCurrentIndex(0)
        self.submit_button.setVisible(state in (ANSWER, COMMITTED, RUNNING))
        self.submit_button.setEnabled(state == ANSWER)
        self.submit_button.setText(
            "Lock in my prediction  (Enter)" if experiment else "Submit  (Enter)"
        )
        self.next_button.setEnabled(state == FEEDBACK)
        self.skip_button.setEnabled(state in (ANSWER, COMMITTED, RUNNING))
        self.run_panel.setVisible(experiment and state in (ANSWER, COMMITTED, RUNNING, FEEDBACK))
        self.run_button.setEnabled(state == COMMITTED)
        self.run_bar.setVisible(state == RUNNING)
        self.lesson_button.setEnabled(
            state == FEEDBACK and question is not None and bool(question.lesson)
        )
        has_preset = question is not None and question_preset(question, self.presets) is not None
        self.app_button.setEnabled(
            has_preset and (state == FEEDBACK or (experiment and state in (COMMITTED, RUNNING)))
        )
        self.app_button.setToolTip(
            "Watch this experiment in the app"
            if experiment
            else "Open the related experiment in the app"
        )
        self.start_button.setEnabled(bool(self.bank.questions))

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods not in (Qt.KeyboardModifier.NoModifier,):
            super().keyPressEvent(event)
            return
        if key in _DIGITS and self.state == ANSWER:
            if self.choose(_DIGITS[key]):
                event.accept()
                return
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            handled = {
                ANSWER: self.submit,
                COMMITTED: self.run_experiment,
                FEEDBACK: self.next_question,
            }.get(self.state)
            if handled is not None:
                handled()
                event.accept()
                return
        elif key == Qt.Key.Key_N and self.state == FEEDBACK:
            self.next_question()
            event.accept()
            return
        super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Stop the experiment thread (call before the application quits)."""
        self._elapsed.stop()
        self.runner.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)
