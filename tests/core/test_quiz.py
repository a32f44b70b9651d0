"""Quiz: the shipped bank, validation of broken files, grading, experiment answers computed by the
engine, saved progress, sessions and the dlopt-quiz command line."""

from __future__ import annotations

import io
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from dlopt_core.cli import quiz as quiz_cli
from dlopt_core.course import quiz
from dlopt_core.course.lessons import load_lessons, load_presets
from dlopt_core.course.quiz import (
    TOPICS,
    TYPES,
    Progress,
    QuizError,
    QuizSession,
    compute_answer,
    format_answer,
    grade,
    load_bank,
    option_order,
    parse_question,
    parse_response,
    pinned_last,
    run_experiment,
    select_questions,
    shuffled,
)
from dlopt_core.train.engine import ModelSpec
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.optimizers import make_optimizer


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def q(**fields):
    """A question from a few fields (the rest filled in)."""
    raw = {
        "id": "q1",
        "type": "single",
        "topic": "challenges",
        "difficulty": 1,
        "prompt": "Pick one.",
        "explanation": "Because.",
        "options": ["a", "b", "c"],
        "answer": 1,
    }
    raw.update(fields)
    for key in [k for k, v in raw.items() if v is None]:
        del raw[key]
    return parse_question(raw, "test.json")


ZERO_INIT = {
    "data": {"kind": "circle", "n_samples": 80, "noise": 0.1},
    "network": {"hidden": [3], "activation": "tanh", "init": "zeros"},
    "optimizer": {"name": "adam", "lr": 0.01},
    "training": {"batch_size": 20, "eval_every": 10},
}


def experiment_question(qid="exp-zero", init="zeros", steps=50):
    preset = json.loads(json.dumps(ZERO_INIT))
    preset["network"]["init"] = init
    return parse_question(
        {
            "id": qid,
            "type": "experiment",
            "topic": "strategies",
            "difficulty": 1,
            "prompt": "Identical?",
            "explanation": "Symmetry.",
            "preset": preset,
            "compute": {"kind": "identical_units", "steps": steps},
        },
        "test.json",
    )


# -- the shipped bank --------------------------------------------------------------------------


def test_shipped_bank_is_valid_and_complete(bank):
    assert bank.errors == []
    assert len(bank.questions) >= 48
    ids = [x.id for x in bank.questions]
    assert len(ids) == len(set(ids))
    assert {x.topic for x in bank.questions} == set(TOPICS)
    assert {x.type for x in bank.questions} == set(TYPES)
    assert sum(x.type == "experiment" for x in bank.questions) >= 4
    for topic in TOPICS:
        assert sum(x.topic == topic for x in bank.questions) >= 4, topic


def test_shipped_answers_are_consistent(bank):
    for x in bank.questions:
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", x.explanation)) <= 3, x.id
        if x.type == "single":
            assert 0 <= x.answer < len(x.options)
        elif x.type == "multiple":
            assert len(set(x.answer)) == len(x.answer) > 0
            assert all(0 <= a < len(x.options) for a in x.answer)
        elif x.type == "yesno":
            assert isinstance(x.answer, bool) and not x.options
        elif x.type == "numeric":
            assert math.isfinite(x.answer) and not x.options
        else:
            assert x.answer is None and x.compute is not None
            Experiment.from_dict(x.preset)


def test_course_review_questions_are_in_the_bank(bank):
    neuron = bank.by_id("real-neuron-inputs-outputs")  # the course's answer: C, both
    assert neuron.options == (
        "A neuron has a single input and a single output only",
        "A neuron has multiple inputs and multiple outputs",
        "Both of the above statements are true",
    )
    assert neuron.answer == 2 and "bipolar cell" in neuron.explanation
    assert bank.by_id("line-is-a-neuron").answer is True
    noisy = bank.by_id("noisy-error-curve")
    assert noisy.options[noisy.answer].startswith("No")


def test_bank_links_point_to_real_lessons_and_presets(bank):
    lesson_ids = {lesson.id for lesson in load_lessons()}
    presets = load_presets()
    for x in bank.questions:
        if x.lesson is not None:
            assert x.lesson in lesson_ids, x.id
        if isinstance(x.preset, str):
            assert x.preset in presets, x.id


def test_shipped_experiment_questions_compute_clear_answers(bank):
    for x in bank.questions:
        if x.type != "experiment":
            continue
        report = run_experiment(x)
        assert report.lines
        if x.response_type == "single":
            assert 0 <= report.answer < len(x.options)
            assert not report.values["tied"], x.id
        else:
            assert isinstance(report.answer, bool)


def test_race_answer_matches_a_direct_engine_run(bank):
    question = bank.by_id("experiment-basic-race")
    exp = Experiment.from_dict(question.preset)
    models = [
        ModelSpec(
            make_optimizer(m["name"], **{k: v for k, v in m.items() if k not in ("name", "label")})
        )
        for m in question.compute["models"]
    ]
    assert [m.optimizer.name for m in models] == ["sgd", "adam", "momentum"]
    _, _, engine = exp.build(models=models)
    engine.run(1000)
    reach = engine.history.steps_to_reach(0.3, "val_loss")
    assert (reach >= 0).any()
    expected = int(np.argmin(np.where(reach >= 0, reach, np.iinfo(np.int64).max)))
    assert compute_answer(question) == expected
    lines = run_experiment(question).lines  # in words, as the app says it
    assert all("validation loss ≤ 0.3" in line and "val_loss" not in line for line in lines)


def test_error_metrics_of_a_classifier_read_in_per_cent():
    question = parse_question(
        {
            "id": "errors",
            "type": "experiment",
            "topic": "basic_algorithms",
            "difficulty": 1,
            "prompt": "Which ends lower?",
            "explanation": "Bigger steps.",
            "options": ["η = 0.0001", "η = 0.1"],
            "preset": {**ZERO_INIT, "network": {"hidden": [3]}},
            "compute": {
                "kind": "lower_final",
                "steps": 100,
                "metric": "val_error",
                "models": [{"name": "sgd", "lr": 0.0001}, {"name": "sgd", "lr": 0.1}],
            },
        }
    )
    report = run_experiment(question)
    assert all("final validation error = " in line and line.endswith("%") for line in report.lines)


def test_divergence_answers_match_a_direct_engine_run(bank):
    for qid in ("experiment-sgd-diverges", "experiment-clipping"):
        question = bank.by_id(qid)
        _, _, engine = Experiment.from_dict(question.preset).build()
        engine.run(question.compute["steps"])
        assert compute_answer(question) == (engine.status_name(0) == "diverged")
    assert compute_answer(bank.by_id("experiment-sgd-diverges")) is True
    assert compute_answer(bank.by_id("experiment-clipping")) is False


def test_zero_initialisation_keeps_units_identical():
    zero, xavier = experiment_question(), experiment_question("exp-xavier", "xavier")
    _, _, engine = Experiment.from_dict(zero.preset).build()
    engine.run(50)
    W, b = engine.network.unflatten(engine.theta[0])[0]
    assert np.all(W == W[:, :1]) and np.all(b == b[0])
    assert compute_answer(zero) is True
    assert compute_answer(xavier) is False


def test_answers_are_cached_per_process(monkeypatch):
    question = experiment_question("exp-cache")
    first = run_experiment(question)

    def refuse(*args, **kwargs):
        raise RuntimeError("ran again")

    monkeypatch.setattr(Experiment, "build", refuse)
    assert run_experiment(question) is first
    quiz.clear_cache()
    with pytest.raises(RuntimeError, match="ran again"):
        run_experiment(question)


# -- validation of broken banks ----------------------------------------------------------------


def write_bank(folder: Path, files: dict[str, object]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


GOOD = {
    "id": "good-one",
    "type": "yesno",
    "difficulty": 1,
    "prompt": "Yes?",
    "explanation": "Yes.",
    "answer": True,
}


def test_broken_question_is_reported_with_file_and_id(tmp_path):
    bad_index = {**GOOD, "id": "bad-index", "type": "single", "options": ["a", "b"], "answer": 5}
    folder = write_bank(
        tmp_path / "bank",
        {
            "a.json": {"topic": "challenges", "questions": [GOOD, bad_index]},
            "b.json": "{ not json",
        },
    )
    bank = load_bank(folder)
    assert [x.id for x in bank.questions] == ["good-one"]
    assert any(e.startswith("a.json: question 'bad-index':") and "index" in e for e in bank.errors)
    assert any(e.startswith("b.json: not valid JSON") for e in bank.errors)


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"type": "multiple", "options": ["a", "b"], "answer": [0, 0]}, "twice"),
        ({"type": "multiple", "options": ["a", "b"], "answer": [2]}, "index"),
        ({"type": "numeric", "answer": "NaN"}, "finite"),
        ({"type": "single", "options": ["a", "a"], "answer": 0}, "same text"),
        ({"topic": "cooking"}, "topic"),
        ({"difficulty": 4}, "difficulty"),
        ({"id": "Not A Slug"}, "slug"),
        ({"colour": "red"}, "unknown key"),
        (
            {
                "type": "experiment",
                "answer": True,
                "preset": {},
                "compute": {"kind": "diverges", "steps": 10},
            },
            "must not store an answer",
        ),
    ],
)
def test_invalid_questions_are_refused(tmp_path, change, problem):
    raw = {**GOOD, "topic": "challenges", "id": "broken", **change}
    bank = load_bank(
        write_bank(tmp_path / "bank", {"x.json": [GOOD | {"topic": "strategies"}, raw]})
    )
    assert len(bank.questions) == 1
    assert len(bank.errors) == 1
    assert bank.errors[0].startswith("x.json: question")
    assert problem in bank.errors[0]


def test_duplicate_ids_and_keys_are_reported(tmp_path):
    text = (
        '[{"id": "dup-key", "type": "yesno", "topic": "challenges", "difficulty": 1, '
        '"prompt": "p", "explanation": "e", "answer": true, "answer": false}]'
    )
    bank = load_bank(
        write_bank(
            tmp_path / "bank",
            {
                "a.json": {"topic": "challenges", "questions": [GOOD]},
                "b.json": {"topic": "strategies", "questions": [GOOD]},
                "c.json": text,
            },
        )
    )
    assert len(bank.questions) == 1
    assert "b.json: question 'good-one': duplicate id, already used in a.json" in bank.errors
    assert any("c.json: question 'dup-key': key 'answer' is given twice" in e for e in bank.errors)


def test_experiment_compute_spec_is_validated():
    base = {
        "id": "e",
        "type": "experiment",
        "topic": "strategies",
        "difficulty": 1,
        "prompt": "p",
        "explanation": "e",
        "preset": ZERO_INIT,
    }
    with pytest.raises(QuizError, match="compute.kind"):
        parse_question({**base, "compute": {"kind": "fastest", "steps": 10}})
    with pytest.raises(QuizError, match="steps"):
        parse_question({**base, "compute": {"kind": "diverges", "steps": 10**6}})
    with pytest.raises(QuizError, match="one option per run"):
        parse_question(
            {
                **base,
                "options": ["a", "b", "c", "d"],
                "compute": {
                    "kind": "first_to_reach",
                    "steps": 10,
                    "target": 0.3,
                    "models": [{"name": "sgd", "lr": 0.1}, {"name": "adam"}],
                },
            }
        )
    with pytest.raises(QuizError, match="models\\[1\\]"):
        parse_question(
            {
                **base,
                "options": ["a", "b"],
                "compute": {
                    "kind": "lower_final",
                    "steps": 10,
                    "models": [{"name": "sgd"}, {"name": "nope"}],
                },
            }
        )
    with pytest.raises(QuizError, match="preset"):
        parse_question(
            {
                **base,
                "preset": {"data": {"kind": "nope"}},
                "compute": {"kind": "diverges", "steps": 10},
            }
        )
    with pytest.raises(QuizError, match="early_stopping"):
        parse_question({**base, "compute": {"kind": "stops_early", "steps": 10}})


def test_variants_run_separately_and_lower_final_picks_the_lowest():
    question = parse_question(
        {
            "id": "variants",
            "type": "experiment",
            "topic": "basic_algorithms",
            "difficulty": 1,
            "prompt": "Which ends lower?",
            "explanation": "Bigger steps.",
            "options": ["η = 0.0001", "η = 0.1"],
            "preset": {**ZERO_INIT, "network": {"hidden": [3]}},
            "compute": {
                "kind": "lower_final",
                "steps": 100,
                "metric": "train_loss",
                "variants": [
                    {"label": "tiny", "patch": {"optimizer": {"name": "sgd", "lr": 0.0001}}},
                    {"label": "fine", "patch": {"optimizer": {"name": "sgd", "lr": 0.1}}},
                ],
            },
        }
    )
    report = run_experiment(question)
    assert report.answer == 1
    assert report.values["labels"] == ["η = 0.0001", "η = 0.1"]


PLANE = {
    "data": {"kind": "plane", "n_samples": 60, "noise": 0.1},
    "network": {"hidden": []},
    "training": {"batch_size": 20, "eval_every": 10},
}


def test_a_diverged_run_never_wins_lower_final():
    question = parse_question(
        {
            "id": "diverged-loses",
            "type": "experiment",
            "topic": "challenges",
            "difficulty": 1,
            "prompt": "Which ends lower?",
            "explanation": "Too large a rate diverges.",
            "options": ["η = 5", "η = 0.1"],
            "preset": PLANE,
            "compute": {
                "kind": "lower_final",
                "steps": 300,
                "models": [{"name": "sgd", "lr": 5.0}, {"name": "sgd", "lr": 0.1}],
            },
        }
    )
    report = run_experiment(question)
    assert report.answer == 1 and report.values["final"][0] == math.inf
    assert "diverged at step" in report.lines[0]


def test_first_to_reach_with_a_none_option():
    question = parse_question(
        {
            "id": "nobody",
            "type": "experiment",
            "topic": "basic_algorithms",
            "difficulty": 1,
            "prompt": "Who reaches zero loss?",
            "explanation": "Nobody: noise.",
            "options": ["SGD", "Adam", "None of them"],
            "preset": PLANE,
            "compute": {
                "kind": "first_to_reach",
                "steps": 50,
                "target": 0.0,
                "models": [{"name": "sgd", "lr": 0.1}, {"name": "adam", "lr": 0.01}],
            },
        }
    )
    assert compute_answer(question) == 2


# -- responses and grading ---------------------------------------------------------------------


def test_grading_each_type():
    single = q()
    assert grade(single, 1).correct and not grade(single, 0).correct
    assert grade(single, 0).correct_text == "2. b"
    multiple = q(type="multiple", answer=[2, 0])
    assert grade(multiple, [0, 2]).correct and grade(multiple, {2, 0}).correct
    assert not grade(multiple, [0]).correct and not grade(multiple, [0, 1, 2]).correct
    yesno = q(type="yesno", options=None, answer=False)
    assert grade(yesno, False).correct and not grade(yesno, True).correct
    assert grade(yesno, True).correct_text == "no"
    numeric = q(type="numeric", options=None, answer=0.04, tolerance=1e-6)
    assert grade(numeric, 0.0400001).correct and not grade(numeric, 0.041).correct
    relative = q(type="numeric", options=None, answer=117.39, tolerance={"rel": 0.02})
    assert grade(relative, 115.5).correct and not grade(relative, 110).correct
    exact = q(type="numeric", options=None, answer=3)
    assert grade(exact, 3.0).correct and not grade(exact, 3.01).correct
    result = grade(single, 1)
    assert result.explanation == "Because." and result.correct_answer == 1


def test_grading_an_experiment_question_uses_the_computed_answer():
    question = experiment_question("exp-grade")
    assert question.response_type == "yesno"
    result = grade(question, True)
    assert result.correct and result.correct_answer is True and result.details
    assert not grade(question, False).correct


def test_responses_of_the_wrong_kind_are_refused():
    with pytest.raises(QuizError):
        grade(q(), "b")
    with pytest.raises(QuizError):
        grade(q(type="yesno", options=None, answer=True), 1)
    with pytest.raises(QuizError):
        grade(q(type="numeric", options=None, answer=1.0), float("nan"))


def test_parse_response():
    single = q()
    assert parse_response(single, "2") == 1 and parse_response(single, "C") == 2
    with pytest.raises(QuizError, match="1 to 3"):
        parse_response(single, "4")
    multiple = q(type="multiple", answer=[0])
    assert parse_response(multiple, "1, 3") == [0, 2] and parse_response(multiple, "a c") == [0, 2]
    yesno = q(type="yesno", options=None, answer=True)
    assert parse_response(yesno, "Y") is True and parse_response(yesno, "no") is False
    with pytest.raises(QuizError):
        parse_response(yesno, "maybe")
    numeric = q(type="numeric", options=None, answer=1.0)
    assert parse_response(numeric, "−2.5") == -2.5 and parse_response(numeric, "1e-3") == 0.001
    with pytest.raises(QuizError):
        parse_response(numeric, "two")


# -- progress and sessions ---------------------------------------------------------------------


def test_progress_persists_atomically(tmp_path):
    path = tmp_path / "data" / "progress.json"
    progress = Progress.load(path)
    sid = progress.start_session("mixed")
    progress.record(q(id="one"), True, sid)
    progress.record(q(id="two", topic="strategies"), False, sid)
    again = Progress.load(path)
    assert again.topic_score("challenges") == (1, 0)
    assert again.topic_score("strategies") == (0, 1)
    assert again.last_result("one") == "right" and again.last_result("two") == "wrong"
    assert again.sessions[-1]["answered"] == 2 and again.sessions[-1]["right"] == 1
    assert sorted(os.listdir(path.parent)) == ["progress.json"]  # no temporary file left


def test_a_saved_session_records_its_seed_and_questions_and_replays_the_same(tmp_path, bank):
    path = tmp_path / "progress.json"
    session = QuizSession(bank.questions, Progress.load(path), mode="mixed", n=6, seed=4711)
    asked = [(q.id, q.options, q.answer) for q in session.questions]
    session.answer(session.current.answer)  # saved with the first answer
    entry = Progress.load(path).session(session.session_id)
    assert entry["seed"] == 4711 and entry["shuffle"] is True
    assert entry["questions"] == [qid for qid, *_ in asked]
    again = QuizSession.replay(entry, bank.questions)
    assert [(q.id, q.options, q.answer) for q in again.questions] == asked
    assert [
        q.options for q in QuizSession(bank.questions, mode="mixed", n=6, seed=4712).questions
    ] != [o for _, o, _ in asked]
    # an entry of an older file, or one naming a question the bank lost, says why it cannot
    old = {k: v for k, v in entry.items() if k not in ("seed", "shuffle", "questions")}
    with pytest.raises(QuizError, match="without its seed"):
        QuizSession.replay(old, bank.questions)
    with pytest.raises(QuizError, match="no longer has question 'gone'"):
        QuizSession.replay({**entry, "questions": ["gone"]}, bank.questions)
    # a damaged seed is reported like every other damaged entry
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["sessions"][-1]["seed"] = "x"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert "seed" in Progress.load(path).load_error


def test_damaged_progress_is_moved_aside(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{ half written", encoding="utf-8")
    progress = Progress.load(path)
    assert progress.load_error and progress.questions == {}
    assert (tmp_path / "progress.json.damaged").exists()


def test_mistakes_mode_revisits_wrong_answers_until_answered_right(tmp_path):
    questions = [q(id=f"q{i}") for i in range(4)]
    progress = Progress(tmp_path / "p.json")
    session = QuizSession(questions, progress, mode="topic", topic="challenges")
    for right in (True, False, False, True):  # q1 and q2 wrong
        shown = session.current
        session.answer(shown.answer if right else (shown.answer + 1) % len(shown.options))
    assert session.score == 2 and session.finished
    reloaded = Progress.load(tmp_path / "p.json")
    retry = QuizSession(questions, reloaded, mode="mistakes")
    assert [x.id for x in retry.questions] == ["q1", "q2"]
    retry.answer(retry.current.answer)
    assert [x.id for x in select_questions(questions, "mistakes", progress=reloaded)] == ["q2"]


def test_select_questions_modes():
    questions = [
        q(id=f"q{i}", topic="challenges" if i % 2 else "strategies", difficulty=3 - i % 3)
        for i in range(12)
    ]
    by_topic = select_questions(questions, "topic", "strategies")
    assert {x.topic for x in by_topic} == {"strategies"}
    assert [x.difficulty for x in by_topic] == sorted(x.difficulty for x in by_topic)
    mixed = select_questions(questions, "mixed", seed=1)
    assert sorted(x.id for x in mixed) == sorted(x.id for x in questions)
    assert mixed == select_questions(questions, "mixed", seed=1)
    assert mixed != select_questions(questions, "mixed", seed=2)
    assert len(select_questions(questions, "mixed", n=5)) == 5
    with pytest.raises(QuizError):
        select_questions(questions, "topic")
    with pytest.raises(QuizError):
        select_questions(questions, "random")


# -- option order: shuffled per session, answers mapped -------------------------------------------


def test_option_order_is_seeded_and_keeps_options_about_the_others_last():
    question = q(options=["red", "green", "blue", "pink", "None of the above"], answer=2)
    assert pinned_last(question) == 1
    orders = {option_order(question, seed) for seed in range(40)}
    assert all(sorted(o) == list(range(5)) and o[-1] == 4 for o in orders)
    assert len(orders) > 10  # the four free options really move
    assert option_order(question, 7) == option_order(question, 7)
    # the order depends on the question too, so two questions do not move in step
    other = q(id="q2", options=["red", "green", "blue", "pink", "None of the above"], answer=2)
    assert any(option_order(question, s) != option_order(other, s) for s in range(10))
    both = q(options=["one input", "many inputs", "Both of the above"], answer=2)
    assert {option_order(both, s)[-1] for s in range(20)} == {2}
    assert option_order(q(type="yesno", options=None, answer=True), 3) == ()


def test_the_stored_bank_spreads_right_answers_over_the_positions(bank):
    """Shuffling hides the position in the app; the files themselves must not give it away
    either (a teacher's printout, dlopt-quiz with --seed of an old version)."""
    singles = [x for x in bank.questions if x.type == "single" and len(x.options) == 4]
    positions = [x.answer for x in singles]
    assert len(singles) >= 20
    for p in range(4):  # a uniform spread would give 25 % each
        assert 0.15 <= positions.count(p) / len(singles) <= 0.35, (p, positions)
    multiple = [x for x in bank.questions if x.type == "multiple"]
    leading = [x.id for x in multiple if list(x.answer) == list(range(len(x.answer)))]
    assert len(leading) <= len(multiple) // 3, leading
    for x in bank.questions:  # options about the others come last in the files
        if x.options:
            n = pinned_last(x)
            about = [
                i for i, o in enumerate(x.options) if quiz.sessions._ABOUT_THE_OTHERS.search(o)
            ]
            assert all(i >= len(x.options) - n for i in about), x.id


def test_a_shuffled_question_grades_what_is_shown(bank):
    for x in bank.questions:
        if x.type not in ("single", "multiple"):
            continue
        for seed in range(6):
            shown = shuffled(x, seed)
            assert sorted(shown.options) == sorted(x.options)
            assert shown.bank_options == x.options
            right = {shown.answer} if x.type == "single" else set(shown.answer)
            bank_right = {x.answer} if x.type == "single" else set(x.answer)
            assert {shown.options[i] for i in right} == {x.options[i] for i in bank_right}
            response = shown.answer if x.type == "single" else list(shown.answer)
            assert grade(shown, response).correct, (x.id, seed)
            assert grade(shown, response).correct_text == format_answer(shown, shown.answer)
            wrong = next(i for i in range(len(x.options)) if i not in right)
            assert not grade(shown, wrong if x.type == "single" else [wrong]).correct
            # shuffling again starts from the bank's order: the same seed, the same question
            assert shuffled(shown, seed) == shown
            assert shuffled(shown, seed + 1) == shuffled(x, seed + 1)


def test_an_experiment_answer_maps_to_where_its_option_is_shown():
    preset = {
        "data": {"kind": "moons", "n_samples": 80, "noise": 0.1},
        "network": {"hidden": [4], "activation": "tanh"},
        "training": {"batch_size": 10, "eval_every": 10},
    }
    question = parse_question(
        {
            "id": "exp-race",
            "type": "experiment",
            "topic": "basic_algorithms",
            "difficulty": 1,
            "prompt": "Who wins?",
            "explanation": "The faster one.",
            "preset": preset,
            "options": ["tiny rate", "good rate", "None of them within 200 steps"],
            "compute": {
                "kind": "first_to_reach",
                "steps": 200,
                "target": 0.6,
                "models": [
                    {"name": "sgd", "lr": 1e-4, "label": "tiny"},
                    {"name": "adam", "lr": 0.05, "label": "good"},
                ],
            },
        },
        "test.json",
    )
    assert pinned_last(question) == 1  # the "none of them" option of first_to_reach
    report = run_experiment(question)
    assert question.options[report.answer] == "good rate"
    seeds = [s for s in range(20) if option_order(question, s)[0] == 1]
    assert seeds, "some seed shows the good rate first"
    shown = shuffled(question, seeds[0])
    assert shown.options == ("good rate", "tiny rate", "None of them within 200 steps")
    assert compute_answer(shown) == 0
    assert grade(shown, 0).correct and not grade(shown, 1).correct
    assert grade(shown, 0).correct_text == "1. good rate"
    assert run_experiment(shown).lines == report.lines  # labels in the order of the runs


def test_a_session_shows_shuffled_options_and_records_by_id(tmp_path):
    questions = [q(id=f"q{i}", options=["w", "x", "y", "z"], answer=i % 4) for i in range(8)]
    progress = Progress(tmp_path / "p.json")
    session = QuizSession(questions, progress, mode="mixed", seed=11)
    assert [x.id for x in session.questions] == [
        x.id for x in select_questions(questions, "mixed", seed=11)
    ]
    assert any(x.order for x in session.questions)
    again = QuizSession(questions, Progress(None), mode="mixed", seed=11)
    assert [x.options for x in again.questions] == [x.options for x in session.questions]
    plain = QuizSession(questions, Progress(None), mode="mixed", seed=11, shuffle=False)
    assert all(x.options == ("w", "x", "y", "z") for x in plain.questions)
    first = session.current
    assert session.answer(first.answer).correct
    second = session.current
    assert not session.answer((second.answer + 1) % 4).correct
    assert progress.last_result(first.id) == "right"
    assert progress.mistakes() == {second.id}
    review = QuizSession(questions, progress, mode="mistakes", seed=12)
    assert [x.id for x in review.questions] == [second.id]
    given = QuizSession(questions[:3], Progress(None), seed=5, given=True)
    assert [x.id for x in given.questions] == ["q0", "q1", "q2"]


def test_default_progress_path_uses_the_data_folder(monkeypatch, tmp_path):
    """The user's data folder as platformdirs names it; on Linux it follows XDG_DATA_HOME."""
    from platformdirs import user_data_dir

    expected = Path(user_data_dir("dlopt", appauthor=False)) / "progress.json"
    assert quiz.default_progress_path() == expected
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
        assert quiz.default_progress_path() == tmp_path / "dlopt" / "progress.json"


# -- dlopt-quiz --------------------------------------------------------------------------------


@pytest.fixture
def small_bank(tmp_path):
    questions = [
        {
            "id": "a-first",
            "type": "single",
            "difficulty": 1,
            "prompt": "Pick b.",
            "options": ["a", "b"],
            "answer": 1,
            "explanation": "It is b.",
        },
        {
            "id": "b-second",
            "type": "yesno",
            "difficulty": 2,
            "prompt": "Yes?",
            "answer": True,
            "explanation": "It is yes.",
        },
    ]
    return write_bank(
        tmp_path / "bank", {"q.json": {"topic": "challenges", "questions": questions}}
    )


def run_cli(monkeypatch, capsys, argv, answers):
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    code = quiz_cli.main(argv)
    return code, capsys.readouterr()


def shown_number(bank_folder: Path, qid: str, option: str, seed: int) -> int:
    """The number (from 1) under which dlopt-quiz --seed shows ``option``."""
    question = load_bank(bank_folder).by_id(qid)
    return shuffled(question, seed).options.index(option) + 1


def test_cli_right_and_wrong_answers(monkeypatch, capsys, small_bank, tmp_path):
    progress = tmp_path / "progress.json"
    b = shown_number(small_bank, "a-first", "b", 3)
    code, out = run_cli(
        monkeypatch,
        capsys,
        [
            "--topic",
            "challenges",
            "--bank",
            str(small_bank),
            "--progress",
            str(progress),
            "--seed",
            "3",
        ],
        f"{b}\nn\n",
    )
    assert code == 0
    assert "Seed 3 (--seed 3 repeats this quiz" in out.out
    assert "Question 1/2" in out.out and f"  {b}. b" in out.out
    assert "Right!" in out.out and "Wrong. The answer is: yes" in out.out
    assert "It is yes." in out.out and "Score: 1/2 right" in out.out
    saved = json.loads(progress.read_text(encoding="utf-8"))
    assert saved["questions"]["b-second"]["last"] == "wrong"
    code, out = run_cli(
        monkeypatch,
        capsys,
        ["--mode", "mistakes", "--bank", str(small_bank), "--progress", str(progress)],
        "y\n",
    )
    assert code == 0 and "Question 1/1" in out.out and "Score: 1/1 right" in out.out


def test_cli_reasks_after_a_bad_answer_and_ends_cleanly_at_eof(
    monkeypatch, capsys, small_bank, tmp_path
):
    b = shown_number(small_bank, "a-first", "b", 0)
    code, out = run_cli(
        monkeypatch,
        capsys,
        [
            "--topic",
            "challenges",
            "--bank",
            str(small_bank),
            "--progress",
            str(tmp_path / "p.json"),
            "--seed",
            "0",
        ],
        f"7\n{b}\n",
    )
    assert code == 0
    assert "choose an option from 1 to 2" in out.out
    assert "Score: 1/1 right, 100 % (of 2 questions)" in out.out


def test_cli_experiment_question_runs_after_the_prediction(monkeypatch, capsys, tmp_path):
    question = {
        "id": "exp-cli",
        "type": "experiment",
        "difficulty": 1,
        "prompt": "Identical?",
        "explanation": "Symmetry.",
        "preset": ZERO_INIT,
        "compute": {"kind": "identical_units", "steps": 30},
    }
    folder = write_bank(
        tmp_path / "bank", {"e.json": {"topic": "strategies", "questions": [question]}}
    )
    code, out = run_cli(
        monkeypatch, capsys, ["--bank", str(folder), "--progress", str(tmp_path / "p.json")], "y\n"
    )
    assert code == 0
    assert out.out.index("Your prediction") < out.out.index("running the experiment")
    assert "Right!" in out.out and "Score: 1/1" in out.out


def test_cli_shows_the_options_in_the_seeds_order_and_grades_them(monkeypatch, capsys, tmp_path):
    race = {
        "id": "exp-cli-race",
        "type": "experiment",
        "difficulty": 1,
        "prompt": "Who wins?",
        "explanation": "The faster one.",
        "preset": {
            "data": {"kind": "moons", "n_samples": 80, "noise": 0.1},
            "network": {"hidden": [4], "activation": "tanh"},
            "training": {"batch_size": 10, "eval_every": 10},
        },
        "options": ["tiny rate", "good rate", "None of them within 200 steps"],
        "compute": {
            "kind": "first_to_reach",
            "steps": 200,
            "target": 0.6,
            "models": [{"name": "sgd", "lr": 1e-4}, {"name": "adam", "lr": 0.05}],
        },
    }
    pick = {
        "id": "pick-c",
        "type": "single",
        "difficulty": 1,
        "prompt": "Pick c.",
        "options": ["a", "b", "c", "d"],
        "answer": 2,
        "explanation": "It is c.",
    }
    folder = write_bank(
        tmp_path / "bank", {"e.json": {"topic": "strategies", "questions": [race, pick]}}
    )
    transcripts = []
    for seed in (0, 1, 2, 0):
        good = shown_number(folder, "exp-cli-race", "good rate", seed)
        c = shown_number(folder, "pick-c", "c", seed)
        order = [x.id for x in select_questions(load_bank(folder).questions, seed=seed)]
        answers = "\n".join(str(good if qid == "exp-cli-race" else c) for qid in order) + "\n"
        code, out = run_cli(
            monkeypatch,
            capsys,
            ["--bank", str(folder), "--seed", str(seed), "--progress", str(tmp_path / "p.json")],
            answers,
        )
        assert code == 0 and "Score: 2/2 right" in out.out, out.out
        assert out.out.index(f"  {good}. good rate") < out.out.index("running the experiment")
        assert "  3. None of them within 200 steps" in out.out
        transcripts.append(out.out)
    assert transcripts[0] == transcripts[3]  # the same seed, the same quiz
    assert len({t.split("Score")[0] for t in transcripts[:3]}) > 1


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "sometimes"],
        ["--topic", "cooking"],
        ["--mode", "topic"],
        ["--n", "0"],
        ["--n", "x"],
        ["--bank", "/no/such/folder"],
        ["--unknown"],
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(monkeypatch, capsys, argv, tmp_path):
    code, out = run_cli(monkeypatch, capsys, [*argv, "--progress", str(tmp_path / "p.json")], "")
    assert code == 2
    assert out.err.count("\n") == 1 and out.err.startswith("dlopt-quiz: error:")
