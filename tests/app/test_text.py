"""Marked letters (m̂, v̂) are set in a math font wherever the app shows rich text."""

from app.widgets.text import MATH_FAMILIES, math_marks, rich


def test_marked_letters_get_the_math_font_and_the_rest_stays():
    out = math_marks("<p>average m\u0302 and v\u0302, not m or <b>x</b></p>")
    assert out.count("<span style=") == 2 and "italic" in out
    assert ">m\u0302</span>" in out and ">v\u0302</span>" in out
    assert "not m or <b>x</b></p>" in out
    assert all(name in out for name in MATH_FAMILIES[:2])
    assert rich("a < b & x\u0302\nnext").startswith("a &lt; b &amp; <span")
    assert rich("a\nb").endswith("a<br>b")


def test_quiz_prompt_options_and_feedback_set_hats_in_the_math_font(qtbot, tmp_path):
    from app.quiz.tab import QuizTab

    tab = QuizTab(progress_path=str(tmp_path / "progress.json"))
    qtbot.addWidget(tab)
    tab.start("mixed", ids=["adam-bias-correction"])
    assert ">m\u0302</span>" in tab.prompt_label.text()
    tab.start("mixed", ids=["adam-ingredients"])
    tab.choose(1)
    tab.submit()
    assert ">m\u0302</span>" in tab.feedback.text() and ">v\u0302</span>" in tab.feedback.text()
