"""The way the lessons write numbers: ``2.4 × 10⁻⁴``, ``−0.50``, ``1,050,625``, ``57 %``."""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def sci(x: float, digits: int = 2) -> str:
    """``2.4 × 10⁻⁴``: ``digits`` significant digits, a power of ten when it is below 0.01 or
    at least 10 000, plain otherwise."""
    if x == 0.0 or not math.isfinite(x):
        return f"{x:g}"
    exponent = math.floor(math.log10(abs(x)))
    if -2 <= exponent < 4:
        return fixed(x, max(digits - 1 - exponent, 0))
    mantissa = round(x / 10.0**exponent, digits - 1)
    if abs(mantissa) >= 10.0:
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.{digits - 1}f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def fixed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals (a minus sign, not a hyphen)."""
    return f"{x:.{decimals}f}".replace("-", "−")


def count(n: int) -> str:
    """An integer with thousands separated by commas: ``1,050,625``."""
    return f"{int(n):,}"


def percent(x: float) -> str:
    """A fraction as a whole percentage: ``57 %``."""
    return f"{100.0 * x:.0f} %"
