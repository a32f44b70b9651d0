"""The widgets of the Quiz tab, and how they are laid out.

What the tab looks like, apart from how it behaves (``app.quiz.tab``, which connects these
widgets and fills them), as Qt Designer keeps a form's ``setupUi`` apart: :func:`build_ui` makes
the whole tab and :func:`build_question_page` the page a question is asked on, each widget an
attribute of the tab.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.quiz.widgets import BAD, OptionList, TopicProgress, scaled_font
from app.widgets.banner import Banner
from app.widgets.layout import scroll_area
from dlopt_core.course.quiz import TOPICS

if TYPE_CHECKING:
    from app.quiz.tab import QuizTab


def build_ui(tab: QuizTab) -> None:
    """The two banners, the settings and progress column on the left and the pages on the right
    (welcome, question, summary)."""
    tab.bank_banner = Banner()
    tab.progress_banner = Banner()

    # -- left: new quiz and progress ----------------------------------------------------------
    setup = QGroupBox("New quiz")
    tab.topic_radio = QRadioButton("By topic")
    tab.mixed_radio = QRadioButton("Mixed, random order")
    tab.mistakes_radio = QRadioButton("Review my mistakes")
    tab.topic_radio.setChecked(True)
    tab.topic_radio.setToolTip("Questions of one part of the course, in the order of the bank")
    tab.mixed_radio.setToolTip("Questions from every part, shuffled by the seed")
    tab.mistakes_radio.setToolTip("Only the questions whose last answer was wrong")
    tab.topic_box = QComboBox()
    tab.topic_box.setSizeAdjustPolicy(
        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    )
    tab.topic_box.setMinimumContentsLength(14)
    for topic in tab.bank.topics():
        count = sum(q.topic == topic for q in tab.bank.questions)
        tab.topic_box.addItem(f"{TOPICS[topic]} ({count})", topic)
    tab.seed_box = QSpinBox()
    tab.seed_box.setRange(0, 999_999)
    tab.seed_box.setValue(random.randrange(1000))
    tab.seed_box.setPrefix("seed ")
    tab.seed_box.setToolTip(
        "The order of the questions (mixed) and of every question's "
        "options (all modes): the same seed gives the same quiz. A new "
        "seed is drawn after each quiz."
    )
    tab.count_box = QSpinBox()
    tab.count_box.setRange(1, max(1, len(tab.bank.questions)))
    tab.count_box.setValue(min(10, max(1, len(tab.bank.questions))))
    tab.count_box.setToolTip("How many questions this quiz asks")
    tab.start_button = QPushButton("Start")
    tab.start_button.setToolTip("Start a quiz with these settings (Enter)")
    tab.start_button.setDefault(True)
    tab.start_button.setEnabled(bool(tab.bank.questions))

    form = QVBoxLayout(setup)
    form.addWidget(tab.topic_radio)
    form.addWidget(indented(tab.topic_box))
    form.addWidget(tab.mixed_radio)
    form.addWidget(indented(tab.seed_box))
    form.addWidget(tab.mistakes_radio)
    count_row = QHBoxLayout()
    count_row.addWidget(QLabel("Questions:"))
    count_row.addWidget(tab.count_box)
    count_row.addStretch(1)
    form.addLayout(count_row)
    form.addWidget(tab.start_button)

    progress_box = QGroupBox("Your progress")
    tab.topic_progress = TopicProgress()
    tab.topic_progress.set_topics([(t, TOPICS[t]) for t in tab.bank.topics()])
    tab.totals_label = QLabel()
    tab.totals_label.setWordWrap(True)
    plo = QVBoxLayout(progress_box)
    plo.addWidget(tab.topic_progress)
    plo.addWidget(tab.totals_label)

    left = QWidget()
    llo = QVBoxLayout(left)
    llo.setContentsMargins(0, 0, 4, 0)
    llo.addWidget(setup)
    llo.addWidget(progress_box)
    llo.addStretch(1)
    left_scroll = scroll_area(left, min_width=240, horizontal=False)

    # -- right: welcome, question, summary ----------------------------------------------------
    tab.pages = QStackedWidget()
    tab.welcome = QLabel()
    tab.welcome.setWordWrap(True)
    tab.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
    tab.welcome.setFont(scaled_font(tab, 2))
    tab.welcome.setText(
        "<p>Choose a mode on the left and press <b>Start</b>.</p>"
        "<p>Keys: <b>1</b>\u2013<b>9</b> pick an option, <b>Enter</b> submits, "
        "<b>N</b> goes to the next question.</p>"
        "<p>Questions marked \u201cpredict, then run\u201d ask for a prediction first; "
        "then the simulator runs the experiment and tells you what really happens.</p>"
    )
    tab.welcome.setContentsMargins(40, 40, 40, 40)
    tab.pages.addWidget(tab.welcome)
    tab.pages.addWidget(build_question_page(tab))
    tab.summary = QWidget()
    tab.summary_label = QLabel()
    tab.summary_label.setWordWrap(True)
    tab.summary_label.setFont(scaled_font(tab, 1.5))
    tab.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    tab.review_button = QPushButton("Review my mistakes")
    tab.review_button.setToolTip("A quiz of the questions you got wrong")
    tab.again_button = QPushButton("New quiz")
    tab.again_button.setToolTip("Back to the quiz settings")
    slo = QVBoxLayout(tab.summary)
    slo.setContentsMargins(24, 24, 24, 24)
    slo.addWidget(tab.summary_label)
    brow = QHBoxLayout()
    brow.addWidget(tab.review_button)
    brow.addWidget(tab.again_button)
    brow.addStretch(1)
    slo.addLayout(brow)
    slo.addStretch(1)
    tab.pages.addWidget(tab.summary)

    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left_scroll)
    splitter.addWidget(tab.pages)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes([280, 900])
    splitter.setChildrenCollapsible(False)

    layout = QVBoxLayout(tab)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(tab.bank_banner)
    layout.addWidget(tab.progress_banner)
    layout.addWidget(splitter, 1)


def indented(widget: QWidget) -> QWidget:
    """``widget`` moved in under the radio button it belongs to."""
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(22, 0, 0, 4)
    lay.addWidget(widget, 1)
    return box


def build_question_page(tab: QuizTab) -> QWidget:
    """The question page: header and score, the question with its options or number box, the
    experiment's run row, the feedback, and the buttons under it."""
    page = QWidget()
    tab.header_label = QLabel()
    tab.header_label.setStyleSheet("color: palette(placeholder-text);")
    tab.score_label = QLabel()
    tab.score_label.setFont(scaled_font(tab, 1, bold=True))
    tab.session_bar = QProgressBar()
    tab.session_bar.setTextVisible(False)
    tab.session_bar.setMaximumHeight(6)
    tab.kind_label = QLabel()
    tab.kind_label.setWordWrap(True)
    tab.kind_label.setStyleSheet("color: #2f6db3; font-weight: 600;")
    tab.prompt_label = QLabel()
    tab.prompt_label.setWordWrap(True)
    tab.prompt_label.setFont(scaled_font(tab, 3))
    tab.prompt_label.setTextFormat(Qt.TextFormat.RichText)  # plain text through rich()
    tab.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    tab.options = OptionList()
    tab.numeric_edit = QLineEdit()
    tab.numeric_edit.setPlaceholderText("Type a number, e.g. 0.25 or -1e-3")
    tab.numeric_edit.setFont(scaled_font(tab, 2))
    tab.numeric_edit.setMaximumWidth(320)
    tab.input_error = QLabel()
    tab.input_error.setStyleSheet(f"color: {BAD};")

    tab.run_button = QPushButton("\u25b6  Run the experiment")
    tab.run_button.setToolTip("Train the runs and compute the answer (Enter)")
    tab.run_bar = QProgressBar()
    tab.run_bar.setRange(0, 0)
    tab.run_bar.setMaximumWidth(160)
    tab.run_bar.setMaximumHeight(14)
    tab.run_status = QLabel()
    tab.run_status.setWordWrap(True)
    run_row = QHBoxLayout()
    run_row.addWidget(tab.run_button)
    run_row.addWidget(tab.run_bar)
    run_row.addWidget(tab.run_status, 1)
    tab.run_panel = QWidget()
    tab.run_panel.setLayout(run_row)
    run_row.setContentsMargins(0, 0, 0, 0)

    tab.feedback = QLabel()
    tab.feedback.setWordWrap(True)
    tab.feedback.setTextFormat(Qt.TextFormat.RichText)
    tab.feedback.setFont(scaled_font(tab, 1))
    tab.feedback.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    tab.feedback.setObjectName("feedback")
    tab.feedback.setMargin(10)

    body = QWidget()
    blo = QVBoxLayout(body)
    blo.setContentsMargins(24, 12, 24, 12)
    blo.setSpacing(12)
    blo.addWidget(tab.kind_label)
    blo.addWidget(tab.prompt_label)
    blo.addSpacing(4)
    blo.addWidget(tab.options)
    blo.addWidget(tab.numeric_edit)
    blo.addWidget(tab.input_error)
    blo.addWidget(tab.run_panel)
    blo.addWidget(tab.feedback)
    blo.addStretch(1)
    body.setMaximumWidth(900)
    holder = QWidget()
    hlo = QHBoxLayout(holder)
    hlo.setContentsMargins(0, 0, 0, 0)
    hlo.addWidget(body, 1)
    hlo.addStretch(0)
    scroll = scroll_area(holder)
    scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    tab.question_scroll = scroll

    tab.submit_button = QPushButton("Submit")
    tab.submit_button.setToolTip("Grade the answer and show the explanation (Enter)")
    tab.next_button = QPushButton("Next  (N)")
    tab.next_button.setToolTip("The next question (N)")
    tab.skip_button = QPushButton("Skip")
    tab.skip_button.setToolTip("Go on without answering; a skipped question is not counted")
    tab.lesson_button = QPushButton("Show me the lesson")
    tab.lesson_button.setToolTip("Open the lesson this question comes from (Learn tab)")
    tab.app_button = QPushButton("Open in the app")
    buttons = QHBoxLayout()
    buttons.addWidget(tab.submit_button)
    buttons.addWidget(tab.next_button)
    buttons.addWidget(tab.skip_button)
    buttons.addStretch(1)
    buttons.addWidget(tab.lesson_button)
    buttons.addWidget(tab.app_button)

    top = QHBoxLayout()
    top.addWidget(tab.header_label, 1)
    top.addWidget(tab.score_label)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(12, 8, 12, 8)
    layout.addLayout(top)
    layout.addWidget(tab.session_bar)
    layout.addWidget(scroll, 1)
    layout.addLayout(buttons)
    return page
