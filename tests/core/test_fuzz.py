"""A hypothesis fuzzer for every loader and both command lines (issue 9).

Each property feeds hostile input (broken, deep, huge or duplicated JSON, bytes that are not
text, CSV with anything in it, options with any value) and asserts that only the documented
error type escapes, that a command line ends with exit code 0 or 2 and then with one line on
stderr and no traceback, and that a failure changes nothing (files stay as they were; a damaged
progress file is only moved aside, intact). Bounded: few examples, derandomized, no deadline.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlopt_core.cli import quiz as quiz_cli
from dlopt_core.cli import train as cli
from dlopt_core.course.lessons import LessonError, load_lesson, load_presets
from dlopt_core.course.quiz import Progress, load_bank, parse_question
from dlopt_core.data import files
from dlopt_core.data.datasets import DatasetError, load_csv
from dlopt_core.train.experiment import Experiment, ExperimentError, example

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(FUZZ, max_examples=20)

# values a file may hold where a number, a name or an object belongs
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(["", "x", "adam", "csv", "relu", "1e400", "-1"]),
    st.just([]),
    st.just({}),
    st.just([1, "a"]),
    st.just({"a": [1]}),
)
# raw tokens that json.dumps never writes: they go into the text itself
RAW_TOKENS = [
    "1e400",
    "-1e999",
    "NaN",
    "Infinity",
    "9" * 5000,
    "[" * 40,
    "{" * 40,
    '"seed": 1, "seed": 2, ',
    "\ufeff",
    "\x00",
    "}",
    "]",
    ",",
    ":",
    '"',
    "\\u12",
    '"\ud800"',
    "/dev/zero",
    "[" * 100_000,
]


def _replace(value, path: list[int], leaf):
    """``value`` with the node chosen by ``path`` (indices into keys or items) replaced."""
    if not path or not isinstance(value, dict | list) or not value:
        return leaf
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    out = dict(value) if isinstance(value, dict) else list(value)
    out[key] = _replace(value[key], path[1:], leaf)
    return out


@st.composite
def mutated_json(draw, base) -> str:
    """``base`` (a JSON value) with a few nodes replaced and a few raw tokens spliced in."""
    value = base
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.lists(st.integers(0, 20), min_size=1, max_size=4))
        value = _replace(value, path, draw(LEAVES))
    text = json.dumps(value)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(RAW_TOKENS)) + text[at:]
    return text


def hostile(base) -> st.SearchStrategy:
    """Text or bytes for a file that should hold ``base``-like JSON."""
    return st.one_of(
        mutated_json(base),
        st.recursive(
            LEAVES,
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
            max_leaves=8,
        ).map(json.dumps),
        st.binary(max_size=80),
        st.text(max_size=80),
    )


def write(path: Path, content: str | bytes) -> bytes:
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    path.write_bytes(data)
    return data


def loads_or_refuses(load, path: Path, content: str | bytes, error: type[Exception]):
    """``load(path)``'s value, or None when it raised ``error`` naming the file; either way
    the file is left as it was."""
    data = write(path, content)
    try:
        value = load(path)
    except error as exc:
        assert str(exc).startswith((path.name, str(path)))
        value = None
    assert path.read_bytes() == data
    return value


def tiny_config() -> dict:
    raw = example().to_dict()
    raw["data"].update(n_samples=40)
    raw["network"]["hidden"] = [3]
    raw["training"].update(batch_size=8, eval_every=2)
    return raw


GOOD_QUESTION = {
    "id": "fuzzed",
    "type": "single",
    "topic": "challenges",
    "difficulty": 1,
    "prompt": "Which?",
    "explanation": "Because.",
    "options": ["a", "b", "c"],
    "answer": 1,
}
PROGRESS = {
    "version": 1,
    "topics": {"challenges": {"right": 2, "wrong": 1}},
    "questions": {
        "fuzzed": {
            "right": 2,
            "wrong": 1,
            "last": "right",
            "topic": "challenges",
            "time": "2024-01-01T00:00:00",
        }
    },
    "sessions": [
        {
            "id": "s1",
            "mode": "mixed",
            "topic": None,
            "started": "t",
            "total": 3,
            "answered": 3,
            "right": 2,
        }
    ],
}


# -- the reader itself ------------------------------------------------------------------------
class Refused(ValueError):
    pass


@FUZZ
@given(hostile(tiny_config()))
def test_parse_json_agrees_with_json_or_refuses(content):
    try:
        value = files.parse_json(content, "fuzz", Refused)
    except Refused as exc:
        assert str(exc).startswith("fuzz: ")
        return
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    assert value == json.loads(text)


# -- the loaders ------------------------------------------------------------------------------
@FUZZ
@given(hostile(tiny_config()))
def test_experiment_files(tmp_path, content):
    exp = loads_or_refuses(Experiment.load, tmp_path / "exp.json", content, ExperimentError)
    if exp is not None:
        assert Experiment.from_dict(exp.to_dict()) == exp


@FUZZ
@given(
    hostile(
        [
            GOOD_QUESTION,
            {**GOOD_QUESTION, "id": "other", "type": "yesno", "answer": True, "options": None},
        ]
    )
)
def test_question_files(tmp_path, content):
    folder = tmp_path / "bank"
    folder.mkdir(exist_ok=True)
    data = write(folder / "fuzz.json", content)
    (folder / "good.json").write_text(json.dumps([{**GOOD_QUESTION, "id": "kept"}]))
    bank = load_bank(folder)
    assert "kept" in [q.id for q in bank.questions]
    assert all(e.startswith("fuzz.json: ") for e in bank.errors)
    assert (folder / "fuzz.json").read_bytes() == data
    for question in bank.questions:  # what loaded can be graded
        assert question.id and question.topic in ("challenges",)


@FUZZ
@given(hostile(PROGRESS))
def test_progress_files(tmp_path, content):
    path = tmp_path / "progress.json"
    data = write(path, content)
    progress = Progress.load(path)
    if progress.load_error is None:
        assert path.read_bytes() == data
    else:
        assert (tmp_path / "progress.json.damaged").read_bytes() == data
        assert not path.exists() and progress.topics == {} and progress.questions == {}
    question = parse_question(GOOD_QUESTION)
    sid = progress.start_session("mixed", None, 1)
    progress.record(question, True, sid)  # never raises on what was loaded
    assert Progress.load(path).load_error is None


@FUZZ
@given(
    hostile(
        {
            "version": 1,
            "presets": {
                "bowl": {
                    "title": "t",
                    "tab": "landscape",
                    "description": "d",
                    "experiment": tiny_config(),
                    "optimizers": [{"name": "adam", "lr": 0.1}],
                    "function": "quadratic",
                    "start": [1, 2],
                    "steps": 5,
                }
            },
        }
    )
)
def test_presets_files(tmp_path, content):
    loads_or_refuses(load_presets, tmp_path / "presets.json", content, LessonError)


@FEW
@given(
    st.one_of(
        st.text(max_size=300).map(lambda body: "---\nid: a\ntitle: T\norder: 1\n---\n" + body),
        st.text(max_size=200),
        st.binary(max_size=100),
        st.sampled_from(
            [
                "---\nid: a\ntitle: T\norder: " + "9" * 5000 + "\n---\n",
                "---\nid: a\ntitle: T\norder: 1\n---\n" + "**a " * 3000 + "[b " * 3000,
            ]
        ),
    )
)
def test_lesson_files(tmp_path, content):
    loads_or_refuses(load_lesson, tmp_path / "lesson.md", content, LessonError)


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["", "x", "1e308", "-1.7e308", "1e151", '"3"', " 2 ", "nan", "0x10", "1,5", ";", "\t"]
    ),
)


@FUZZ
@given(
    st.one_of(
        st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=12).map(
            lambda rows: "\n".join(",".join(r) for r in rows)
        ),
        st.text(max_size=120),
        st.binary(max_size=80),
    )
)
def test_csv_files(tmp_path, content):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks from a standardisation either
        dataset = loads_or_refuses(load_csv, tmp_path / "data.csv", content, DatasetError)
    if dataset is not None:
        for a in (dataset.X_train, dataset.X_val, dataset.y_train, dataset.y_val):
            assert a.size == 0 or bool(abs(a).max() < float("inf"))


# -- the command lines ------------------------------------------------------------------------
def one_line_or_success(code: int, err: str, prog: str) -> None:
    assert "Traceback" not in err
    assert code in (0, 2)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith(f"{prog}: error: ")


OPTION = st.one_of(
    st.tuples(
        st.just("--steps"),
        st.sampled_from(["1", "3", "0", "-1", "1e400", "x", "2.5", "", "1e13", "9" * 40]),
    ),
    st.tuples(
        st.just("--compare"),
        st.sampled_from(
            [
                "",
                "adam",
                "sgd:lr=0.1,adam",
                "sgd:lr=",
                "adam:lr=1e400",
                "adam:lr=nan",
                "x,,y",
                "adam,adam",
                "momentum:betas=1/2",
                "adam:amsgrad=true",
            ]
        ),
    ),
    st.tuples(st.just("--out"), st.sampled_from(["", ".", "OUT", "/no/such/dir/m.csv", "OUT\x00"])),
    st.tuples(st.just("--seed"), st.sampled_from(["0", "-1", "99999999999999999999999", "x"])),
    st.tuples(st.just("--backend"), st.sampled_from(["cpu", "tpu", "auto"])),
    st.tuples(st.sampled_from(["--quiet", "--example", "--bogus"])),
)


@FUZZ
@given(hostile(tiny_config()), st.lists(OPTION, max_size=4))
def test_dlopt_train(tmp_path, capsys, content, options):
    config = tmp_path / "exp.json"
    write(config, content)
    out = tmp_path / "metrics.csv"
    out.unlink(missing_ok=True)
    argv = [str(config)]
    for option in options:
        argv += [
            str(out) if a == "OUT" else str(out) + "\x00" if a == "OUT\x00" else a for a in option
        ]
    if "--steps" not in argv:
        argv += ["--steps", "2"]
    code = cli.main(argv)
    captured = capsys.readouterr()
    one_line_or_success(code, captured.err, "dlopt-train")
    if code != 0:
        assert not out.exists()


QUIZ_OPTION = st.one_of(
    st.tuples(st.just("--topic"), st.sampled_from(["challenges", "nope", ""])),
    st.tuples(st.just("--mode"), st.sampled_from(["mixed", "topic", "mistakes", "x"])),
    st.tuples(st.just("--n"), st.sampled_from(["1", "0", "-3", "x", "9" * 30])),
    st.tuples(st.just("--seed"), st.sampled_from(["0", "-5", "x", "9" * 30])),
)


@FUZZ
@given(
    hostile([GOOD_QUESTION]),
    hostile(PROGRESS),
    st.lists(QUIZ_OPTION, max_size=3),
    st.one_of(st.none(), st.text(max_size=40)),
)
def test_dlopt_quiz(tmp_path, capsys, monkeypatch, bank_file, progress_file, options, answers):
    bank = tmp_path / "bank"
    bank.mkdir(exist_ok=True)
    write(bank / "q.json", bank_file)
    progress = tmp_path / "progress.json"
    for stale in (progress, tmp_path / "progress.json.damaged"):
        stale.unlink(missing_ok=True)
    write(progress, progress_file)
    monkeypatch.setattr(sys, "stdin", None if answers is None else io.StringIO(answers))
    argv = ["--bank", str(bank), "--progress", str(progress)]
    for option in options:
        argv += list(option)
    code = quiz_cli.main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert code in (0, 2)
    if code == 2:
        assert captured.err.splitlines()[-1].startswith("dlopt-quiz: error: ")
        assert captured.err.count("dlopt-quiz: error:") == 1
    for line in captured.err.splitlines():  # warnings name the file they are about
        assert line.startswith(
            (
                "dlopt-quiz: warning: q.json",
                "dlopt-quiz: warning: progress",
                "dlopt-quiz: error: ",
                "dlopt-quiz: could not run",
            )
        )
