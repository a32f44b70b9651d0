"""The quiz: a bank of questions, answers computed by running the engine, grading, saved progress
and sessions. Nothing here needs Qt. ``dl.quiz`` gathers the names of its modules:

- ``questions``: ``Question``, ``QuizError`` and the words of the question files;
- ``validation``: a question read from a file, checked field by field (``parse_question``);
- ``bank``: the question files and ``QuizBank`` (``load_bank``);
- ``answers``: experiment questions, answered by training their preset (``run_experiment``);
- ``grading``: responses parsed and graded (``parse_response``, ``grade``, ``format_answer``);
- ``progress``: the saved results (``Progress``, ``default_progress_path``);
- ``sessions``: which questions a quiz asks, in which option order (``QuizSession``,
  ``select_questions``, ``shuffled``).
"""

from dlopt_core.course.quiz.answers import (
    RunReport,
    clear_cache,
    compute_answer,
    experiment_runs,
    run_experiment,
)
from dlopt_core.course.quiz.bank import (
    QuizBank,
    default_bank_dir,
    load_bank,
)
from dlopt_core.course.quiz.grading import (
    Result,
    format_answer,
    grade,
    parse_response,
)
from dlopt_core.course.quiz.progress import (
    MAX_COUNT,
    MAX_SESSION_SEED,
    MAX_SESSIONS_KEPT,
    PROGRESS_VERSION,
    Progress,
    default_progress_path,
)
from dlopt_core.course.quiz.questions import (
    CHOICE_KINDS,
    COMPUTE_KINDS,
    DEFAULT_TOLERANCE,
    MAX_EXPERIMENT_STEPS,
    METRIC_WORDS,
    METRICS,
    TOPICS,
    TYPES,
    YESNO_KINDS,
    Question,
    QuizError,
)
from dlopt_core.course.quiz.sessions import (
    MODES,
    QuizSession,
    option_order,
    pinned_last,
    select_questions,
    shuffled,
)
from dlopt_core.course.quiz.validation import (
    DUPLICATES,
    is_int,
    is_number,
    pairs_hook,
    parse_question,
    repeated_key,
)

__all__ = [
    "CHOICE_KINDS",
    "COMPUTE_KINDS",
    "DEFAULT_TOLERANCE",
    "DUPLICATES",
    "MAX_COUNT",
    "MAX_EXPERIMENT_STEPS",
    "MAX_SESSIONS_KEPT",
    "MAX_SESSION_SEED",
    "METRICS",
    "METRIC_WORDS",
    "MODES",
    "PROGRESS_VERSION",
    "Progress",
    "Question",
    "QuizBank",
    "QuizError",
    "QuizSession",
    "Result",
    "RunReport",
    "TOPICS",
    "TYPES",
    "YESNO_KINDS",
    "clear_cache",
    "compute_answer",
    "default_bank_dir",
    "default_progress_path",
    "experiment_runs",
    "format_answer",
    "grade",
    "is_int",
    "is_number",
    "load_bank",
    "option_order",
    "pairs_hook",
    "parse_question",
    "parse_response",
    "pinned_last",
    "repeated_key",
    "run_experiment",
    "select_questions",
    "shuffled",
]
