"""``dlopt-quiz``: the question bank in a terminal.

    dlopt-quiz [--topic T] [--mode mixed|topic|mistakes] [--n N] [--seed S] [--bank DIR]
               [--progress FILE]

The options of a question come in an order of the session's own, drawn from ``--seed`` (random
when not given, and printed so that a session can be repeated); "all of the above"-style options
stay last. Answers: an option number (``2``, or its letter ``b``), several for multiple choice
(``1,3``), ``y`` / ``n``, or a number; ``skip`` moves on, ``quit`` (or end of input, or Ctrl-C)
ends the quiz with the score. Experiment questions ask for a prediction first, then run the
experiment. Results are saved after every answer (``--progress``, default: the user's data
folder). Bad arguments end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from dlopt_core.course.quiz import (
    MODES,
    TOPICS,
    Progress,
    Question,
    QuizError,
    QuizSession,
    default_bank_dir,
    default_progress_path,
    format_answer,
    load_bank,
    parse_response,
    run_experiment,
)

EXIT_USAGE = 2
_HINTS = {
    "single": "an option number",
    "multiple": "option numbers, e.g. 1,3",
    "yesno": "y or n",
    "numeric": "a number",
}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, like dlopt-train
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dlopt-quiz", description="Quiz yourself on optimization for deep learning.")
    p.add_argument("--topic", help=f"one of: {', '.join(TOPICS)}")
    p.add_argument("--mode", help="mixed (default), topic (needs --topic) or mistakes")
    p.add_argument("--n", type=int, help="ask at most N questions")
    p.add_argument(
        "--seed",
        type=int,
        help="order of the questions (mixed mode) and of the "
        "options (default: a random seed, printed at the start)",
    )
    p.add_argument("--bank", help="folder of question files (default: the shipped bank)")
    p.add_argument("--progress", help="progress file (default: in your user data folder)")
    return p


def _options(args: argparse.Namespace) -> tuple[str, str | None, Path, Path]:
    if args.topic is not None and args.topic not in TOPICS:
        raise UsageError(f"--topic: {args.topic!r} is not one of {', '.join(TOPICS)}")
    mode = args.mode or ("topic" if args.topic else "mixed")
    if mode not in MODES:
        raise UsageError(f"--mode: {mode!r} is not one of {', '.join(MODES)}")
    if mode == "topic" and args.topic is None:
        raise UsageError("--mode topic needs --topic")
    if args.n is not None and args.n < 1:
        raise UsageError(f"--n: must be at least 1, got {args.n}")
    bank = Path(args.bank) if args.bank else default_bank_dir()
    if not bank.is_dir():
        raise UsageError(f"--bank: {bank} is not a folder")
    progress = Path(args.progress) if args.progress else default_progress_path()
    if progress.is_dir():
        raise UsageError(f"--progress: {progress} is a folder, not a file")
    return mode, args.topic, bank, progress


def _ask(prompt: str, out: TextIO) -> str:
    """One line from stdin; ``EOFError`` at the end of input, or when there is no input at all
    (stdin closed: Python then has no ``sys.stdin``)."""
    out.write(prompt)
    out.flush()
    stream = sys.stdin
    if stream is None:
        raise EOFError
    try:
        line = stream.readline()
    except (OSError, ValueError):  # a closed or unreadable stream ends the input too
        raise EOFError from None
    if not line:
        raise EOFError
    if not _interactive():
        out.write(line.strip() + "\n")  # echo piped answers so the transcript reads well
    return line.strip()


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _show(question: Question, number: int, total: int, out: TextIO) -> None:
    dots = "●" * question.difficulty + "○" * (3 - question.difficulty)
    out.write(f"\nQuestion {number}/{total} · {question.topic_title} · {dots}\n")
    out.write(question.prompt + "\n")
    for i, option in enumerate(question.options, start=1):
        out.write(f"  {i}. {option}\n")


def _read_response(question: Question, out: TextIO) -> object | None:
    """A parsed response, or None for ``skip``; ``EOFError`` for ``quit`` or end of input."""
    word = "prediction" if question.type == "experiment" else "answer"
    hint = _HINTS[question.response_type]
    while True:
        text = _ask(f"Your {word} ({hint}): ", out)
        if text.lower() in ("quit", "exit"):
            raise EOFError
        if text.lower() == "skip":
            return None
        try:
            return parse_response(question, text)
        except QuizError as exc:
            out.write(f"  {exc}; try again ({hint}, 'skip' or 'quit').\n")


def _score_line(session: QuizSession) -> str:
    if session.answered == 0:
        return "Score: no questions answered."
    pct = 100.0 * session.score / session.answered
    rest = "" if session.answered == session.total else f" (of {session.total} questions)"
    return f"Score: {session.score}/{session.answered} right, {pct:.0f} %{rest}"


def run_quiz(session: QuizSession, out: TextIO, err: TextIO) -> None:
    """Ask the session's questions until it is over or the input ends."""
    try:
        while not session.finished:
            question = session.current
            assert question is not None
            _show(question, session.index + 1, session.total, out)
            response = _read_response(question, out)
            if response is None:
                session.skip()
                continue
            if question.type == "experiment":
                out.write("running the experiment…\n")
                out.flush()
                try:
                    report = run_experiment(question)
                except (QuizError, ValueError) as exc:
                    err.write(f"dlopt-quiz: could not run the experiment: {exc}\n")
                    session.skip()
                    continue
                for line in report.lines:
                    out.write(f"  {line}\n")
            result = session.answer(response)
            if result.correct:
                out.write(f"Right! {format_answer(question, result.correct_answer)}\n")
            else:
                out.write(f"Wrong. The answer is: {result.correct_text}\n")
            out.write(f"  {result.explanation}\n")
    except (EOFError, KeyboardInterrupt):
        out.write("\n")
    out.write(_score_line(session) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        mode, topic, bank_dir, progress_path = _options(args)
        bank = load_bank(bank_dir)
        for problem in bank.errors:
            sys.stderr.write(f"dlopt-quiz: warning: {problem}\n")
        progress = Progress.load(progress_path)
        if progress.load_error:
            sys.stderr.write(f"dlopt-quiz: warning: {progress.load_error}\n")
        seed = args.seed if args.seed is not None else random.randrange(1_000_000)
        session = QuizSession(bank.questions, progress, mode=mode, topic=topic, n=args.n, seed=seed)
    except UsageError as exc:
        sys.stderr.write(f"dlopt-quiz: error: {exc}\n")
        return EXIT_USAGE
    except QuizError as exc:
        sys.stderr.write(f"dlopt-quiz: error: {exc}\n")
        return EXIT_USAGE
    if session.total == 0:
        what = "no earlier mistakes to revisit" if mode == "mistakes" else "no questions found"
        sys.stdout.write(f"Nothing to ask: {what}.\n")
        return 0
    sys.stdout.write(
        f"Seed {seed} (--seed {seed} repeats this quiz: the same questions and "
        "options in the same order).\n"
    )
    try:
        run_quiz(session, sys.stdout, sys.stderr)
    except OSError as exc:  # e.g. the progress file cannot be written
        sys.stderr.write(f"dlopt-quiz: error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
