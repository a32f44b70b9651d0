"""The Quiz tab: answering, keys, saved progress, a broken bank and experiment questions."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import shutil  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from app.quiz.presets import question_preset  # noqa: E402
from app.quiz.tab import ANSWER, COMMITTED, FEEDBACK, RUNNING, QuizTab  # noqa: E402
from dlopt_core.course.lessons import Preset  # noqa: E402
from dlopt_core.course.quiz import default_bank_dir, load_bank  # noqa: E402

RUN_TIMEOUT = 60_000  # ms; the first experiment may compile the Numba kernels
BANK = load_bank()
SINGLE = BANK.by_id("momentum-narrow-valley")  # basic_algorithms, has a lesson and a preset
NUMERIC = BANK.by_id("sgd-one-step")  # answer 1.1
YESNO = next(q for q in BANK.questions if q.type == "yesno")


@pytest.fixture
def make_tab(qtbot, tmp_path):
    tabs = []

    def make(**kwargs) -> QuizTab:
        kwargs.setdefault("progress_path", tmp_path / "progress.json")
        t = QuizTab(**kwargs)
        qtbot.addWidget(t)
        t.resize(1100, 760)
        t.show()
        tabs.append(t)
        return t

    yield make
    for t in tabs:
        t.shutdown()
        assert t.runner.thread is None or t.runner.thread.isFinished()


def test_right_and_wrong_answers_show_score_and_explanation(make_tab):
    tab = make_tab()
    assert tab.bank_banner.isHidden()
    assert tab.start(ids=[SINGLE.id, SINGLE.id]) == 2
    assert tab.state == ANSWER and tab.current_question.id == SINGLE.id
    assert not tab.submit()  # nothing chosen yet: a message, no grade
    assert "choose" in tab.input_error.text().lower()
    shown = tab.current_question  # the options in this session's order
    tab.choose(shown.answer)
    assert tab.submit()
    assert tab.state == FEEDBACK and tab.score_text() == "Score 1 / 1"
    text = tab.feedback_text()
    assert "Right" in text and SINGLE.explanation in text
    assert tab.next_question() and tab.state == ANSWER
    tab.choose((tab.current_question.answer + 1) % len(SINGLE.options))
    tab.submit()
    text = tab.feedback_text()
    assert tab.score_text() == "Score 1 / 2"
    assert "Not quite" in text and SINGLE.options[SINGLE.answer] in text
    assert SINGLE.explanation in text
    tab.next_question()
    assert tab.pages.currentIndex() == 2 and "1 of 2" in tab.summary_label.text()


def test_show_me_and_open_in_the_app(make_tab, qtbot):
    tab = make_tab()
    tab.start(ids=[SINGLE.id])
    tab.choose(0)
    tab.submit()
    with qtbot.waitSignal(tab.show_lesson, timeout=1000) as signal:
        qtbot.mouseClick(tab.lesson_button, Qt.MouseButton.LeftButton)
    assert signal.args == [SINGLE.lesson]
    with qtbot.waitSignal(tab.open_preset, timeout=1000) as signal:
        qtbot.mouseClick(tab.app_button, Qt.MouseButton.LeftButton)
    preset = signal.args[0]
    assert isinstance(preset, Preset) and preset.id == SINGLE.preset


def test_keys_choose_submit_and_go_on(make_tab, qtbot):
    tab = make_tab()
    tab.start(ids=[SINGLE.id, NUMERIC.id, YESNO.id])
    right = tab.current_question.answer
    key = getattr(Qt.Key, f"Key_{right + 1}")
    qtbot.keyClick(tab, key)
    assert tab.options.selected() == [right]
    other = (right + 1) % len(SINGLE.options)
    # keys pressed on an option still reach the tab
    qtbot.keyClick(tab.options.buttons[0], getattr(Qt.Key, f"Key_{other + 1}"))
    assert tab.options.selected() == [other]
    qtbot.keyClick(tab, Qt.Key.Key_9)  # no such option: nothing changes
    assert tab.options.selected() == [other]
    tab.choose(right)
    qtbot.keyClick(tab, Qt.Key.Key_Return)
    assert tab.state == FEEDBACK and tab.score_text() == "Score 1 / 1"
    qtbot.keyClick(tab, Qt.Key.Key_N)
    assert tab.current_question.id == NUMERIC.id and tab.numeric_edit.isVisibleTo(tab)
    qtbot.keyClicks(tab.numeric_edit, "1.1")  # digits type into the box
    assert tab.numeric_edit.text() == "1.1"
    qtbot.keyClick(tab.numeric_edit, Qt.Key.Key_Return)
    assert tab.state == FEEDBACK and tab.score_text() == "Score 2 / 2"
    qtbot.keyClick(tab, Qt.Key.Key_Enter)  # Enter also goes on after the feedback
    assert tab.current_question.id == YESNO.id
    qtbot.keyClick(tab, Qt.Key.Key_1 if YESNO.answer else Qt.Key.Key_2)
    qtbot.keyClick(tab, Qt.Key.Key_Return)
    assert tab.score_text() == "Score 3 / 3"


def test_progress_is_saved_after_every_answer_and_reloaded(make_tab, tmp_path):
    path = tmp_path / "progress.json"
    tab = make_tab(progress_path=path)
    tab.start(ids=[SINGLE.id, NUMERIC.id, YESNO.id])
    tab.choose(tab.current_question.answer)
    tab.submit()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["topics"][SINGLE.topic] == {"right": 1, "wrong": 0}
    tab.next_question()
    tab.numeric_edit.setText("-7")
    tab.submit()
    tab.next_question()
    tab.choose(0 if YESNO.answer else 1)
    tab.submit()
    counts = tab.topic_counts()
    assert counts[SINGLE.topic] == (1, 1)
    assert sum(r + w for r, w in counts.values()) == 3
    label = tab.topic_progress.counts_text(SINGLE.topic)
    assert label == "1 right \u00b7 1 wrong"
    assert "(1)" in tab.mistakes_radio.text()

    again = make_tab(progress_path=path)  # a restart of the tab
    assert again.topic_counts() == counts
    assert again.topic_progress.counts_text(SINGLE.topic) == label
    assert again.start("mistakes") == 1 and again.current_question.id == NUMERIC.id


def test_a_broken_question_file_is_reported_and_the_rest_loads(make_tab, tmp_path):
    bank = tmp_path / "quiz"
    bank.mkdir()
    shutil.copy(default_bank_dir() / "basic_algorithms.json", bank)
    broken = {
        "topic": "challenges",
        "questions": [
            {
                "id": "fine-one",
                "type": "yesno",
                "difficulty": 1,
                "prompt": "Is 2 > 1?",
                "answer": True,
                "explanation": "Yes.",
            },
            {
                "id": "bad-answer",
                "type": "single",
                "difficulty": 1,
                "prompt": "Pick one",
                "options": ["a", "b"],
                "answer": 5,
                "explanation": "x",
            },
        ],
    }
    (bank / "broken.json").write_text(json.dumps(broken), encoding="utf-8")
    (bank / "garbled.json").write_text("{not json", encoding="utf-8")
    tab = make_tab(bank_dir=bank)
    text = tab.bank_errors_text()
    assert "broken.json" in text and "bad-answer" in text and "garbled.json" in text
    ids = {q.id for q in tab.bank.questions}
    assert "fine-one" in ids and "bad-answer" not in ids
    assert {q.id for q in load_bank(bank).questions} == ids
    assert tab.topic_box.count() == 2  # basic_algorithms and challenges
    assert tab.start("topic", topic="challenges") == 1
    tab.choose(0)
    tab.submit()
    assert tab.score_text() == "Score 1 / 1"


def test_experiment_question_predict_then_run(make_tab, qtbot):
    question = BANK.by_id("experiment-zero-init")  # the fastest run: 300 steps, 4 units
    tab = make_tab()
    tab.start(ids=[question.id])
    assert not tab.run_button.isEnabled() and not tab.app_button.isEnabled()
    assert not tab.open_in_app()  # not before the prediction is locked in
    tab.choose(0)  # predict "yes": the units stay identical
    qtbot.keyClick(tab, Qt.Key.Key_Return)
    assert tab.state == COMMITTED and tab.run_button.isEnabled()
    assert not any(b.isEnabled() for b in tab.options.buttons)
    with qtbot.waitSignal(tab.open_preset, timeout=1000) as signal:
        qtbot.mouseClick(tab.app_button, Qt.MouseButton.LeftButton)
    preset = signal.args[0]
    assert preset.tab == "playground" and preset.experiment["max_steps"] == 300
    preset.build_experiment()
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert tab.state == RUNNING and tab.run_bar.isVisibleTo(tab)
    qtbot.waitUntil(lambda: tab.state == FEEDBACK, timeout=RUN_TIMEOUT)
    assert tab.result is not None and tab.result.correct
    text = tab.feedback_text()
    assert "prediction was right" in text and "hidden layer 1" in text
    assert question.explanation in text
    assert tab.score_text() == "Score 1 / 1"
    assert tab.topic_counts()[question.topic] == (1, 0)


def test_an_optimizer_race_opens_in_the_compare_tab():
    preset = question_preset(BANK.by_id("experiment-basic-race"), {})
    assert preset.tab == "compare" and len(preset.optimizers) == 3
    assert [s.label for s in preset.model_specs()] == ["SGD", "Adam", "Momentum"]


def test_starting_from_the_panel_and_a_damaged_progress_file(make_tab, qtbot, tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{damaged", encoding="utf-8")
    tab = make_tab(progress_path=path)
    assert not tab.progress_banner.isHidden() and "progress" in tab.progress_banner.text()
    assert (tmp_path / "progress.json.damaged").exists()
    assert not tab.mistakes_radio.isEnabled()  # nothing to review yet
    tab.mixed_radio.setChecked(True)
    tab.seed_box.setValue(7)
    tab.count_box.setValue(3)
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    first = [q.id for q in tab.session.questions]
    assert len(first) == 3 and tab.state == ANSWER
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert [q.id for q in tab.session.questions] == first  # the same seed, the same order
    tab.topic_radio.setChecked(True)
    tab.topic_box.setCurrentIndex(tab.topic_box.findData("strategies"))
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert {q.topic for q in tab.session.questions} == {"strategies"}
    assert tab.skip() and tab.session.index == 1


def test_options_are_shown_in_the_seeds_order_and_graded_by_what_is_clicked(make_tab):
    tab = make_tab()
    orders = {}
    for seed in range(12):
        tab.start(ids=[SINGLE.id], seed=seed)
        shown = tab.current_question
        assert tab.options.texts == list(shown.options)
        assert sorted(shown.options) == sorted(SINGLE.options)
        orders[seed] = tuple(shown.options)
        right = shown.options.index(SINGLE.options[SINGLE.answer])
        wrong = (right + 1) % len(shown.options)
        tab.choose(wrong if seed % 2 else right)
        tab.submit()
        assert tab.result.correct == (seed % 2 == 0)
        if seed % 2:
            assert f"{right + 1}. {SINGLE.options[SINGLE.answer]}" in tab.feedback_text()
        assert tab.options.labels[right].text().startswith("\u2713")  # marked as the right one
    assert len(set(orders.values())) > 3
    tab.start(ids=[SINGLE.id], seed=5)
    assert tuple(tab.current_question.options) == orders[5]  # the same seed, the same order
    assert tab.topic_counts()[SINGLE.topic] == (6, 6)


def test_a_finished_quiz_draws_a_new_seed(make_tab):
    tab = make_tab()
    tab.seed_box.setValue(123)
    assert tab.seed_box.isEnabled()  # it orders the options in every mode
    tab.start(ids=[YESNO.id])
    tab.choose(0)
    tab.submit()
    tab.next_question()
    assert "Seed 123" in tab.summary_label.text()
    assert tab.seed_box.value() != 123 or tab.seed_box.maximum() == 0


def test_an_experiment_prediction_is_graded_at_the_position_it_was_shown(make_tab, qtbot):
    question = BANK.by_id("experiment-adagrad-rmsprop")  # RMSProp wins; "Neither" stays last
    tab = make_tab()
    seen = set()
    for seed in (0, 1, 2, 3):
        tab.start(ids=[question.id], seed=seed)
        shown = tab.current_question
        assert shown.options[-1].startswith("Neither")
        seen.add(shown.options)
        tab.choose(shown.options.index("RMSProp"))
        tab.submit()
        tab.run_experiment()
        qtbot.waitUntil(lambda: tab.state == FEEDBACK, timeout=RUN_TIMEOUT)
        assert tab.result.correct, seed
        number = shown.options.index("RMSProp") + 1
        assert f"The experiment gave: {number}. RMSProp" in tab.feedback_text()
    assert len(seen) == 2
