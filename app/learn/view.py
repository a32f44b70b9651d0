"""A lesson reader: a QTextBrowser with a readable style and a capped line length."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QFrame, QTextBrowser, QWidget

from app.widgets.text import MATH_FAMILIES, families_css, math_marks

# Fonts with wide Unicode coverage first, so that θ, ∇, η, ², ≤ and friends render everywhere.
TEXT_FAMILIES = ["Segoe UI", "Noto Sans", "DejaVu Sans", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FAMILIES = [
    "Cascadia Mono",
    "Consolas",
    "Menlo",
    "DejaVu Sans Mono",
    "Noto Sans Mono",
    "monospace",
]
MAX_TEXT_PX = 780  # about 80 characters per line at the reading size
MIN_MARGIN_PX = 18


_families = families_css


def reading_point_size() -> float:
    """The body size of lessons: a little above the application's font, at least 11 pt."""
    base = QGuiApplication.font().pointSizeF()
    return max(11.0, (base if base > 0 else 10.0) + 1.5)


def lesson_css(point_size: float, dark: bool = False) -> str:
    """The style sheet of a lesson document (the subset of CSS QTextDocument understands)."""
    p = point_size
    ink, soft = ("#e6e6e6", "#b8c4d0") if dark else ("#1f2328", "#3b4a5a")
    formula_bg, code_bg, rule = (
        ("#2b3138", "#2a2a2a", "#4a5560") if dark else ("#f3f6fa", "#f4f4f4", "#c9d2dc")
    )
    link = "#7fb3ff" if dark else "#1a5fb4"
    return f"""
body {{ font-family: {_families(TEXT_FAMILIES)}; font-size: {p:.1f}pt; color: {ink}; }}
p {{ margin-top: 0px; margin-bottom: {p * 0.8:.0f}px; line-height: 145%; }}
li {{ margin-bottom: {p * 0.35:.0f}px; line-height: 140%; }}
h1 {{ font-size: {p * 1.75:.1f}pt; font-weight: 600; margin-top: 4px; margin-bottom: 14px; }}
h2 {{ font-size: {p * 1.3:.1f}pt; font-weight: 600; color: {soft}; margin-top: 20px;
      margin-bottom: 8px; }}
h3 {{ font-size: {p * 1.12:.1f}pt; font-weight: 600; margin-top: 14px; margin-bottom: 6px; }}
blockquote {{ font-family: {_families(MATH_FAMILIES)}; font-size: {p * 1.12:.1f}pt;
      background-color: {formula_bg}; margin-left: 28px; margin-right: 28px; margin-top: 6px;
      margin-bottom: 14px; line-height: 160%; }}
code {{ font-family: {_families(MONO_FAMILIES)}; font-size: {p * 0.92:.1f}pt;
      background-color: {code_bg}; }}
pre {{ font-family: {_families(MONO_FAMILIES)}; font-size: {p * 0.9:.1f}pt;
      background-color: {code_bg}; margin-left: 12px; margin-bottom: 12px; }}
table {{ margin-top: 4px; margin-bottom: 14px; border-color: {rule}; }}
th {{ background-color: {formula_bg}; font-weight: 600; }}
a {{ color: {link}; text-decoration: none; font-weight: 600; }}
"""


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128


class LessonView(QTextBrowser):
    """Shows one lesson's HTML; ``preset:ID`` links are reported, web links open the browser.

    The text is kept at most ``MAX_TEXT_PX`` wide and centred, however wide the widget is.
    """

    presetClicked = Signal(str)  # preset id
    lessonClicked = Signal(str)  # lesson id, for ``lesson:ID`` links

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.anchorClicked.connect(self._on_anchor)
        self._margin = -1
        self.apply_style()

    def apply_style(self) -> None:
        size = reading_point_size()
        font = QFont()
        font.setFamilies(TEXT_FAMILIES)
        font.setPointSizeF(size)
        self.document().setDefaultFont(font)
        self.document().setDefaultStyleSheet(lesson_css(size, is_dark(self)))

    def set_lesson_html(self, body: str) -> None:
        """Show an HTML fragment (the lesson body) from the top; marked letters (m̂) in the
        math font."""
        self.setHtml(f"<html><body>{math_marks(body)}</body></html>")
        self._margin = -1
        self._fit_width()
        self.verticalScrollBar().setValue(0)

    def text_margin(self) -> int:
        """The current left (and right) margin of the text, in pixels."""
        return self._margin

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_width()

    def _fit_width(self) -> None:
        width = self.viewport().width()
        margin = max(MIN_MARGIN_PX, (width - MAX_TEXT_PX) // 2)
        if margin == self._margin:
            return
        self._margin = margin
        root = self.document().rootFrame()
        fmt = root.frameFormat()
        fmt.setLeftMargin(margin)
        fmt.setRightMargin(margin)
        fmt.setTopMargin(14)
        fmt.setBottomMargin(24)
        root.setFrameFormat(fmt)

    def _on_anchor(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == "preset":
            self.presetClicked.emit(url.path() or url.toString()[len("preset:") :])
        elif scheme == "lesson":
            self.lessonClicked.emit(url.path())
        elif scheme in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
        elif url.hasFragment() and not scheme:
            self.scrollToAnchor(url.fragment())
