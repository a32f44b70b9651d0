"""Issue 9's reproducers for the core and the command lines: no input crashes a loader, hangs it,
exhausts memory or escapes as anything but the loader's own error."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from dlopt_core.cli import progress as progress_bar
from dlopt_core.cli import quiz as quiz_cli
from dlopt_core.cli import train as cli
from dlopt_core.course import lessons, quiz
from dlopt_core.course.lessons import LessonError, load_presets, markdown_to_html
from dlopt_core.course.quiz import Progress, load_bank
from dlopt_core.data import csv_files
from dlopt_core.data.datasets import DatasetError, load_csv
from dlopt_core.data.resources import ResourceError
from dlopt_core.studies import compare
from dlopt_core.train import chunks
from dlopt_core.train.experiment import (
    MAX_MEMORY_BYTES,
    Experiment,
    ExperimentError,
    example,
    memory_estimate,
)

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "9" * 5000


def tiny(**patch) -> dict:
    raw = example().to_dict()
    raw["data"].update(n_samples=60)
    raw["network"]["hidden"] = [4]
    raw["training"].update(batch_size=10, eval_every=5)
    for key, value in patch.items():
        if isinstance(value, dict) and key != "optimizer":
            raw[key] = {**raw.get(key, {}), **value}
        else:
            raw[key] = value
    return raw


# -- 5. deep nesting and huge integers become the loaders' own errors ---------------------------
@pytest.mark.parametrize("value", [DEEP, HUGE_INT, "1e400", "Infinity", "NaN"])
def test_experiment_files_refuse_deep_nesting_and_numbers_out_of_range(tmp_path, value):
    path = tmp_path / "exp.json"
    path.write_text('{"name": "x", "seed": ' + value + "}")
    with pytest.raises(ExperimentError) as info:
        Experiment.load(path)
    assert str(info.value).startswith(f"{path}: line 1, column ")
    with pytest.raises(ExperimentError):
        Experiment.from_json('{"seed": ' + value + "}")


def test_experiment_files_accept_a_bom_and_refuse_repeated_keys(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + example().to_json().encode())
    assert Experiment.load(path) == example()
    path.write_text('{"seed": 1, "data": {"kind": "moons", "kind": "xor"}}')
    with pytest.raises(ExperimentError, match=r"\(data\): key 'kind' is given twice"):
        Experiment.load(path)


def test_validation_errors_of_a_file_name_the_file(tmp_path):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps({"data": {"noise": "big"}}))
    with pytest.raises(ExperimentError, match=rf"^{path}: data.noise: expected a number"):
        Experiment.load(path)


def test_a_relative_data_path_is_read_beside_the_experiment_file(tmp_path, monkeypatch):
    folder = tmp_path / "handout"
    folder.mkdir()
    rows = ["a,b,label"] + [f"{i % 7},{i % 5},{i % 2}" for i in range(40)]
    (folder / "points.csv").write_text("\n".join(rows) + "\n")
    (folder / "exercise.json").write_text(
        json.dumps(tiny(data={"kind": "csv", "path": "points.csv"}))
    )
    monkeypatch.chdir(tmp_path)  # elsewhere: the working folder has no points.csv
    exp = Experiment.load("handout/exercise.json")
    assert exp.data.path == str(folder.resolve() / "points.csv")
    assert exp.dataset().n_train > 0


def test_the_quiz_bank_reports_a_question_whose_topic_is_not_a_name(tmp_path):
    good = {
        "id": "good",
        "type": "yesno",
        "topic": "challenges",
        "difficulty": 1,
        "prompt": "Yes?",
        "explanation": "Yes.",
        "answer": True,
    }
    folder = tmp_path / "bank"
    folder.mkdir()
    questions = [
        good,
        {**good, "id": "listed", "topic": ["challenges"]},
        {**good, "id": "object", "topic": {"a": 1}},
    ]
    (folder / "a.json").write_text(json.dumps(questions))
    (folder / "b.json").write_text(
        '{"topic": ["x"], "questions": ['
        + json.dumps({k: v for k, v in good.items() if k != "topic"} | {"id": "inherits"})
        + "]}"
    )
    (folder / "c.json").write_text('{"questions": ' + DEEP + "}")
    (folder / "d.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([{**good, "id": "bom"}]).encode())
    bank = load_bank(folder)
    assert sorted(q.id for q in bank.questions) == ["bom", "good"]
    assert len(bank.errors) == 4
    assert any(e.startswith("a.json: question 'listed': topic") for e in bank.errors)
    assert any(e.startswith("a.json: question 'object': topic") for e in bank.errors)
    assert any(e.startswith("b.json: question 'inherits': topic") for e in bank.errors)
    assert any(e.startswith("c.json: line 1") and "nested" in e for e in bank.errors)


# -- 2 and 6: a damaged progress file is moved aside; entries are validated ---------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"version": 1, "topics": {"challenges": {"right": 1e400}}}',
        '{"version": 1, "topics": {"challenges": {"right": Infinity}}}',
        '{"version": 1, "topics": ' + DEEP + "}",
        '{"version": 1, "questions": {"q1": {"right": "x"}}}',
        '{"version": 1, "questions": {"q1": {"last": "maybe"}}}',
        '{"version": 1, "sessions": [{"answered": "many"}]}',
        '{"version": 1, "topics": {"challenges": {"right": -3}}}',
        '{"version": 1, "topics": {"challenges": {"right": ' + HUGE_INT + "}}}",
    ],
)
def test_a_damaged_progress_file_is_moved_aside_and_recording_works(tmp_path, text):
    path = tmp_path / "progress.json"
    path.write_text(text)
    progress = Progress.load(path)
    assert progress.load_error and "moved aside to progress.json.damaged" in progress.load_error
    assert (tmp_path / "progress.json.damaged").read_text() == text
    assert progress.topics == {} and progress.questions == {}
    question = quiz.parse_question(
        {
            "id": "q1",
            "type": "yesno",
            "topic": "challenges",
            "difficulty": 1,
            "prompt": "p",
            "explanation": "e",
            "answer": True,
        }
    )
    progress.record(question, True)  # raised TypeError for {"right": "x"} before
    assert Progress.load(path).questions["q1"]["right"] == 1


def test_valid_progress_loads_unchanged(tmp_path):
    path = tmp_path / "progress.json"
    question = quiz.parse_question(
        {
            "id": "q1",
            "type": "yesno",
            "topic": "challenges",
            "difficulty": 1,
            "prompt": "p",
            "explanation": "e",
            "answer": True,
        }
    )
    progress = Progress(path)
    sid = progress.start_session("mixed", None, 3)
    progress.record(question, False, sid)
    again = Progress.load(path)
    assert again.load_error is None
    assert again.to_dict() == progress.to_dict()


def test_a_progress_path_that_is_no_regular_file_is_left_alone(tmp_path):
    folder = tmp_path / "progress.json"
    folder.mkdir()
    progress = Progress.load(folder)
    assert progress.path is None and "not saved this time" in progress.load_error
    assert folder.is_dir()


# -- 2: presets.json -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({"start": 5}, "start must be a list of two numbers"),
        ({"start": [1, "a"]}, "start must be a list of two numbers"),
        ({"start": [1, True]}, "start must be a list of two numbers"),
        ({"function": ["rosenbrock"]}, "function must be a name"),
    ],
)
def test_a_bad_landscape_preset_is_a_lesson_error(tmp_path, patch, problem):
    shipped = json.loads(lessons.default_presets_path().read_text(encoding="utf-8"))
    pid, preset = next((k, v) for k, v in shipped["presets"].items() if v["tab"] == "landscape")
    path = tmp_path / "presets.json"
    path.write_text(json.dumps({"version": 1, "presets": {pid: {**preset, **patch}}}))
    with pytest.raises(LessonError, match=problem):
        load_presets(path)


def test_deeply_nested_presets_are_a_lesson_error(tmp_path):
    path = tmp_path / "presets.json"
    path.write_text('{"version": 1, "presets": ' + DEEP + "}")
    with pytest.raises(LessonError, match="presets.json: line 1.*nested"):
        load_presets(path)


# -- 4 and 7: data files -------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_data_is_refused_at_once(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(DatasetError, match="character device, not a regular file"):
        load_csv(device)
    exp = Experiment.from_dict(tiny(data={"kind": "csv", "path": device}))
    with pytest.raises(DatasetError):
        exp.build()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_as_data_is_refused_instead_of_blocking(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    outcome = []

    def build():
        try:
            Experiment.from_dict(tiny(data={"kind": "csv", "path": str(fifo)})).build()
        except DatasetError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=build, daemon=True)
    worker.start()
    worker.join(60)  # a guard against hanging the suite: the refusal is immediate
    if worker.is_alive():
        with open(fifo, "w"):
            pass
        pytest.fail("reading the FIFO blocked")
    assert outcome and "FIFO" in outcome[0]


def test_a_data_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,0\n2,1\n" * 100)
    monkeypatch.setattr(csv_files, "MAX_CSV_BYTES", 500)
    with pytest.raises(DatasetError, match=r"the file is .* the limit is 500 bytes"):
        load_csv(path)


@pytest.mark.parametrize("huge", ["1e308", "-1.7e308", "2e150"])
def test_values_too_large_to_standardise_are_a_data_problem(tmp_path, huge):
    rows = ["a,b,label"] + [f"{i},{i % 3},{i % 2}" for i in range(30)]
    rows[5] = f"{huge},1,0"
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from an overflow either
        with pytest.raises(DatasetError, match=f'line 6: field 1 "{huge}" is too large'):
            load_csv(path)


def test_the_largest_allowed_values_standardise_to_finite_numbers(tmp_path):
    rows = ["a,b,label"] + [f"{(-1) ** i * 1e150},{i},{i % 2}" for i in range(30)]
    path = tmp_path / "edge.csv"
    path.write_text("\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_csv(path)
    assert np.all(np.isfinite(data.X_train)) and np.all(np.isfinite(data.X_val))


def test_a_first_line_mixing_numbers_and_text_is_an_error_naming_the_field(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("1,abc,0\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)))
    with pytest.raises(DatasetError, match='line 1: field 2 "abc" is not a number; a header'):
        load_csv(path)
    path.write_text("x1,,label\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)))
    assert load_csv(path).feature_names == ("x1", "x2")  # no number at all: a header


# -- 4: memory limits ----------------------------------------------------------------------------
def test_a_sweep_too_large_for_memory_is_refused_with_the_estimate():
    exp = Experiment.from_dict(tiny(network={"hidden": [256] * 6}))
    with pytest.raises(ValueError) as info:
        compare.lr_sweep(exp, ["sgd", "adam"], 1e-3, 1.0, n=512, steps=10)
    message = str(info.value)
    assert "1024 models of a 2-256-256-256-256-256-256-1 network" in message
    assert re.search(r"need about 2\d\.\d GB of memory; the limit is 4 GB", message)
    assert memory_estimate([2, 256, 256, 256, 256, 256, 256, 1], 1024, 10) > MAX_MEMORY_BYTES


def test_every_engine_is_checked_and_small_ones_pass():
    exp = Experiment.from_dict(tiny(network={"hidden": [256] * 6}))
    _, _, engine = exp.build()  # one model of this network: about 20 MB
    assert engine.n_models == 1
    with pytest.raises(ExperimentError, match="300 models of a 2-256.* the limit is 4 GB"):
        exp.build(models=[engine.specs[0]] * 300)


# -- 4: dlopt-train keeps memory flat and writes every row ---------------------------------------
def test_long_runs_hold_a_bounded_chunk_of_metrics():
    for every, models in ((1, 8), (1, 1), (10, 8), (1, 3)):
        limit = chunks.chunk_limit(every, models, 6)
        chunk = every
        for _ in range(40):  # chunks that take no time grow, up to the limit
            chunk = chunks.next_chunk(chunk, 0.0, cli.CHUNK_S, every, limit)
        rows = chunk // every
        assert rows * models * 6 <= chunks.MAX_CHUNK_VALUES
        assert chunk >= every


def test_the_metrics_file_has_every_recorded_row_of_a_long_run(tmp_path, capsys):
    config = tmp_path / "exp.json"
    config.write_text(json.dumps(tiny(training={"eval_every": 1})))
    out = tmp_path / "metrics.csv"
    steps = 12_000  # three times what the engine's history keeps
    assert (
        cli.main([str(config), "--steps", "1.2e4", "--out", str(out), "--compare", "adam,sgd"]) == 0
    )
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * (steps + 1)
    assert [int(r["step"]) for r in rows[::2]] == list(range(steps + 1))


# -- issue 10, 11: how a dlopt-train run ended, and output on a pipe ------------------------------
def run_train(tmp_path, raw, *args) -> int:
    config = tmp_path / "exp.json"
    config.write_text(json.dumps(raw))
    code = cli.main([str(config), *args])
    return code


def test_the_summary_says_how_each_run_ended(tmp_path, capsys):
    assert run_train(tmp_path, tiny(), "--steps", "40") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].split()[:2] == ["adam", "finished"]
    assert "running" not in "\n".join(out)

    plane = tiny(
        data={"kind": "plane", "n_samples": 60},
        network={"activation": "relu"},
        optimizer={"name": "momentum", "lr": 10.0, "momentum": 0.9},
    )
    assert run_train(tmp_path, plane, "--steps", "200") == 0
    assert "diverged at step" in capsys.readouterr().out

    target = tiny(target_loss=5.0)  # met at the first evaluation
    assert run_train(tmp_path, target, "--steps", "400") == 0
    out = capsys.readouterr().out
    assert "reached the target at step 5" in out

    early = tiny(
        training={"early_stopping": 1, "eval_every": 1}, optimizer={"name": "sgd", "lr": 0.5}
    )
    assert run_train(tmp_path, early, "--steps", "300") == 0
    assert "early stopped at step" in capsys.readouterr().out


def test_a_terminal_gets_a_progress_bar_and_a_pipe_does_not(tmp_path, capsys, monkeypatch):
    assert run_train(tmp_path, tiny(), "--steps", "30") == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress_bar, "_is_terminal", lambda stream: True)
    assert run_train(tmp_path, tiny(), "--steps", "30") == 0
    err = capsys.readouterr().err
    assert "100.0% 30/30 steps" in err and "steps/s" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", ""], "--compare: name at least one optimizer"),
        (["--compare", " "], "--compare: name at least one optimizer"),
        (["--out", ""], "--out: name a file"),
        (["--out", "."], "is a folder"),
        (["--steps", "1e400"], "--steps"),
        (["--steps", "2.5"], "not a whole number"),
        (["--steps", "1e13"], "out of range"),
    ],
)
def test_empty_and_impossible_options_are_refused(tmp_path, capsys, args, message):
    config = tmp_path / "exp.json"
    config.write_text(json.dumps(tiny()))
    argv = [str(config), "--steps", "5", *args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize("value", [DEEP, HUGE_INT, "1e400"])
def test_dlopt_train_refuses_hostile_files_in_one_line(tmp_path, capsys, value):
    config = tmp_path / "exp.json"
    config.write_text('{"seed": ' + value + "}")
    assert cli.main([str(config), "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"dlopt-train: error: {config}: line 1")


# -- dlopt-quiz ----------------------------------------------------------------------------------
def test_dlopt_quiz_with_stdin_closed_ends_with_the_score(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)  # what Python sets when file descriptor 0 is closed
    code = quiz_cli.main(["--n", "2", "--progress", str(tmp_path / "p.json")])
    out = capsys.readouterr()
    assert code == 0
    assert "Score: no questions answered." in out.out and "Traceback" not in out.err


def test_dlopt_quiz_with_damaged_progress_warns_once_and_runs(tmp_path, capsys, monkeypatch):
    path = tmp_path / "p.json"
    path.write_text('{"version": 1, "questions": {"x": {"right": "x"}}}')
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\n"))
    code = quiz_cli.main(
        ["--n", "1", "--progress", str(path), "--mode", "topic", "--topic", "challenges"]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.count("\n") == 1 and "moved aside" in captured.err
    assert "Score: 1/1" in captured.out or "Score: 0/1" in captured.out
    assert Progress.load(path).load_error is None


# -- 8: lesson Markdown in linear time ------------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "**a " * 2000,
        "*a " * 2000,
        "_a " * 2000,
        "__a " * 2000,
        "[a " * 2000,
        "# a" + " " * 5000 + "b",
    ],
)
def test_unclosed_markup_renders_as_text(line):
    html = markdown_to_html(line)
    assert "<b>" not in html and "<i>" not in html and "<a " not in html


def test_emphasis_pairs_as_commonmark_says():
    assert markdown_to_html("**bold** and *it* and __b__ _i_ **a *b* c**") == (
        "<p><b>bold</b> and <i>it</i> and <b>b</b> <i>i</i> <b>a <i>b</i> c</b></p>"
    )
    # "*" may emphasise inside a word, "_" may not; a "*" between spaces is no emphasis
    assert markdown_to_html("a*b*c 2 * 3 * 4 snake_case_name") == (
        "<p>a<i>b</i>c 2 * 3 * 4 snake_case_name</p>"
    )
    assert markdown_to_html("# Title ##") == "<h1>Title</h1>"
    assert markdown_to_html("see [Try it: x](preset:abc) [and [b](#c)]") == (
        '<p>see <a href="preset:abc">Try it: x</a> [and <a href="#c">b</a>]</p>'
    )


def test_lessons_have_a_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.md"
    path.write_text("---\nid: big\ntitle: Big\norder: 1\n---\n" + "text " * 100)
    monkeypatch.setattr(lessons.loading, "MAX_LESSON_BYTES", 100)
    with pytest.raises(LessonError, match="big.md: the file is .* the limit is 100 bytes"):
        lessons.load_lesson(path)


def test_the_shipped_resources_load_through_the_bounded_reader(tmp_path):
    copy = tmp_path / "res"
    shutil.copytree(lessons.resources_dir(), copy)
    assert not load_bank(copy / "quiz").errors
    assert load_presets(copy / "lessons" / "presets.json")
    assert Path(copy / "quiz").is_dir()


def _damaged_resources(tmp_path, monkeypatch, name: str, text: str) -> Path:
    """A copy of the resources with ``landscape/<name>`` replaced by ``text``, in use."""
    copy = tmp_path / "res"
    shutil.copytree(lessons.resources_dir(), copy)
    (copy / "landscape" / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("DLOPT_RESOURCES", str(copy))
    return copy


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("challenges.json", "{", "landscape/challenges.json: "),
        ("challenges.json", "[1, 2]", r"landscape/challenges.json: expected \{"),
        ("challenges.json", '{"c": {"title": "T"}}', "landscape/challenges.json: c: missing"),
        ("challenges.json", '{"c": {"start": 3}}', "landscape/challenges.json: c: "),
        ("situations.json", '{"s": {"kind": "mlp", "title": 3}}', "landscape/situations.json: s"),
        (
            "network_situations.json",
            '{"n": {"title": "T", "explanation": "E", "target": "compare", "config": {}, '
            '"variants": [{"label": "x"}]}}',
            "landscape/network_situations.json: n: missing 'patch'",
        ),
    ],
)
def test_a_damaged_landscape_file_is_named_in_the_error(tmp_path, monkeypatch, name, text, problem):
    """The Landscape's content files are data a teacher may edit: a broken one raises a
    ``ResourceError`` that names the file and the entry, never a bare KeyError."""
    from dlopt_core.course.network_presets import load_network_presets
    from dlopt_core.studies.landscape.challenges import load_challenges
    from dlopt_core.studies.landscape.situations import paper_situations

    _damaged_resources(tmp_path, monkeypatch, name, text)
    load = {
        "challenges.json": load_challenges,
        "situations.json": paper_situations,
        "network_situations.json": load_network_presets,
    }[name]
    with pytest.raises(ResourceError, match=problem):
        load()


def test_a_damaged_situations_file_is_a_lesson_preset_error(tmp_path, monkeypatch):
    """A lesson preset that names a paper situation cannot be checked against a damaged
    situations file: the Learn tab's own error says so (not a traceback)."""
    copy = _damaged_resources(tmp_path, monkeypatch, "situations.json", "{")
    with pytest.raises(LessonError, match="situation cannot be checked: landscape/situations.json"):
        load_presets(copy / "lessons" / "presets.json")


@pytest.mark.parametrize(
    ("name", "get"),
    [("challenges.json", "get_challenges"), ("network_situations.json", "get_network_presets")],
)
def test_content_is_read_on_first_use_and_a_damaged_file_fails_only_there(
    tmp_path, monkeypatch, name, get
):
    """``get_challenges`` and ``get_network_presets`` read their file when first called (not
    at import), keep what they read, and say what is wrong with a damaged file on every call
    until it is mended."""
    from dlopt_core.course import network_presets
    from dlopt_core.studies.landscape import challenges

    accessor = getattr(challenges if get == "get_challenges" else network_presets, get)
    accessor.cache_clear()
    shipped = lessons.resources_dir() / "landscape" / name
    try:
        copy = _damaged_resources(tmp_path, monkeypatch, name, '{"x": {"title": 1}}')
        for _ in range(2):
            with pytest.raises(ResourceError, match=f"landscape/{name}: x: "):
                accessor()
        shutil.copy(shipped, copy / "landscape" / name)  # mended
        read = accessor()
        assert len(read) > 3 and accessor() is read  # read once, then kept
        with pytest.raises(TypeError):
            read["new"] = None  # shared by every caller: read-only
    finally:
        accessor.cache_clear()


@pytest.mark.parametrize("name", ["challenges.json", "network_situations.json", "situations.json"])
def test_a_damaged_content_file_never_stops_the_package_from_importing(tmp_path, name):
    """Importing the package and every module of the Landscape's content works with a damaged
    file (the application must start and say what is wrong, not die with a traceback)."""
    copy = tmp_path / "res"
    shutil.copytree(lessons.resources_dir(), copy)
    (copy / "landscape" / name).write_text('{"x": {"start": ', encoding="utf-8")
    code = (
        "import dlopt_core as dl\n"
        "import dlopt_core.course.network_presets, dlopt_core.course.demos\n"
        "import dlopt_core.studies.landscape.challenges\n"
        "assert dl.landscape.get_challenges is not None\n"
    )
    env = {**os.environ, "DLOPT_RESOURCES": str(copy)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
