"""Reading the user's files within bounds: one reader for every file and JSON value dlopt reads.

``read_bytes`` opens regular files only (a folder, ``/dev/zero``, a FIFO or a socket is refused at
once, without blocking) and reads at most a size limit. ``parse_json`` and ``load_json`` add what
JSON needs: a UTF-8 byte-order mark is accepted; nesting deeper than :data:`MAX_JSON_DEPTH`, a key
given twice in one object, ``NaN``/``Infinity``, numbers beyond the float range (``1e400``) and
integers of more than :data:`MAX_INT_DIGITS` digits are refused. The depth and numbers are checked
by a linear scan before ``json`` sees the text, so neither its recursion nor Python's slow
conversion of huge integers is ever reached.

The checks run at C speed on valid files (regular expressions and a pass over the brackets
outside strings, then ``json.loads`` and a count of the keys); only a file they flag is scanned
token by token, to say where the problem is.
Every failure is raised as the caller's own error type (``error(message)``), with a message that
names the file (or value), the place (line and column, and the key path where there is one) and
the reason.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MAX_JSON_BYTES = 4 * 2**20
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 20  # every 64-bit integer; Python would spend quadratic time on longer ones

ErrorType = Callable[[str], Exception]

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def size_text(n: float) -> str:
    """``n`` bytes for a message: ``512 bytes``, ``3.2 MB``, ``4 GB`` (powers of 1024)."""
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024.0
        if n < 1024 or unit == "TB":
            return f"{n:.3g} {unit}"
    raise AssertionError("unreachable")


def read_bytes(
    path: str | os.PathLike[str], limit: int, error: ErrorType, source: str | None = None
) -> bytes:
    """The contents of the regular file ``path``, at most ``limit`` bytes.

    The file is opened without blocking (a FIFO without a writer would wait forever) and refused
    unless it is a regular file; it is read up to ``limit + 1`` bytes, so a file that grows while
    it is read cannot exhaust memory either. ``source`` names it in messages (default: the path).
    """
    name = str(path) if source is None else source
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_NOCTTY", 0)
        | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(os.fspath(path), flags)
    except FileNotFoundError:
        raise error(f"{name}: no such file") from None
    except IsADirectoryError:
        raise error(f"{name}: not a file but a folder") from None
    except PermissionError:
        raise error(f"{name}: cannot be read (permission denied)") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the name
        raise error(f"{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((text for test, text in _KINDS if test(info.st_mode)), "not a file")
            raise error(f"{name}: {kind}, not a regular file")
        if info.st_size > limit:
            raise error(
                f"{name}: the file is {size_text(info.st_size)}; the limit is {size_text(limit)}"
            )
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise error(f"{name}: cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise error(f"{name}: the file is larger than the limit of {size_text(limit)}")
    return data


def decode_text(data: bytes, source: str, error: ErrorType) -> str:
    """UTF-8 text (a leading byte-order mark dropped); a bad byte is named with its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{source}: line {line}: not a text file (not UTF-8: byte "
            f"0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None


def load_json(
    path: str | os.PathLike[str],
    error: ErrorType,
    *,
    source: str | None = None,
    limit: int = MAX_JSON_BYTES,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The JSON value in the file ``path`` (see the module docstring for what is refused);
    ``source`` names it in messages (default: the path)."""
    source = str(path) if source is None else source
    data = read_bytes(path, limit, error, source)
    return parse_json(data, source, error, limit=limit, object_pairs_hook=object_pairs_hook)


def parse_json(
    data: str | bytes,
    source: str,
    error: ErrorType,
    *,
    limit: int = MAX_JSON_BYTES,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The JSON value in ``data``; ``source`` names it in messages (a file name, "the session").

    A key given twice in one object is refused, unless ``object_pairs_hook`` is given: it then
    receives every object's pairs, repeats included (for a caller that reports them per item).
    """
    size = len(data)
    if size > limit:
        raise error(f"{source}: {size_text(size)} of JSON; the limit is {size_text(limit)}")
    text = decode_text(data, source, error) if isinstance(data, bytes) else data.lstrip("\ufeff")
    outside = _STRING.sub('""', text)  # what is left outside strings: structure and numbers
    check_keys = object_pairs_hook is None
    if _too_deep(outside) or _SUSPECT_NUMBER.search(outside):
        _refuse(text, source, error, check_keys)
    try:
        value = json.loads(text, parse_constant=_no_constant, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        raise error(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:  # the checks above come first: a safety net
        raise error(f"{source}: not usable JSON ({exc})") from None
    if check_keys and _key_count(value) != outside.count(":"):  # a repeated key collapsed
        _refuse(text, source, error, check_keys)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _too_deep(outside: str) -> bool:
    """Whether the brackets of ``outside`` (the text without its strings) nest deeper than
    ``MAX_JSON_DEPTH``."""
    if outside.count("[") + outside.count("{") <= MAX_JSON_DEPTH:
        return False
    codes = np.frombuffer(outside.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    step = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE)
    return int(np.cumsum(step).max()) > MAX_JSON_DEPTH


def _key_count(value: Any) -> int:
    """Keys of every object inside ``value`` (no recursion: the depth is bounded anyway)."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return count


def _refuse(text: str, source: str, error: ErrorType, check_keys: bool) -> None:
    """Raise the message of the first problem of ``text``: where and why. Returns only when the
    token scan finds none (a suspicious-looking number that is fine)."""
    problem = _scan(text, not check_keys)
    if problem is not None:
        pos, where, reason = problem
        place = f" ({where})" if where else ""
        raise error(f"{source}: {_position(text, pos)}{place}: {reason}")


def _position(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - text.rfind(chr(10), 0, pos)}"


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)  # complete or not, as json reads it
# numbers that may be out of range: a long run of digits, a large exponent, NaN or Infinity
_SUSPECT_NUMBER = re.compile(rf"\d{{{MAX_INT_DIGITS + 1},}}|[eE][-+]?\d{{3,}}|NaN|Infinity")
_OPEN = np.array([ord("["), ord("{")], dtype=np.uint32)
_CLOSE = np.array([ord("]"), ord("}")], dtype=np.uint32)
# strings (complete or not), punctuation, and bare words (numbers, true, false, null, junk)
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[{}\[\],:]|[^\s{}\[\],:"]+', re.S)
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


def _scan(text: str, duplicates: bool) -> tuple[int, str, str] | None:
    """``(offset, key path, reason)`` of the first problem json would not catch, or None.

    A linear pass over the tokens keeps a stack of the open containers: for each, whether it is
    an object, the keys seen, its path and, in an object, whether a key comes next.
    """
    stack: list[list[Any]] = []  # [is_object, keys, path, expect_key, last_key, index]
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        top = stack[-1] if stack else None
        if first in "{[":
            if len(stack) >= MAX_JSON_DEPTH:
                return (
                    match.start(),
                    _path(stack),
                    (f"nested more than {MAX_JSON_DEPTH} levels deep"),
                )
            stack.append([first == "{", set(), _path(stack), first == "{", None, 0])
        elif first in "}]":
            if stack:
                stack.pop()
        elif first == ",":
            if top is not None:
                top[3] = top[0]
                top[5] += 1
        elif first == '"':
            if top is not None and top[0] and top[3]:
                top[3] = False
                try:
                    key = json.loads(token)
                except ValueError:
                    return None  # a broken string: json's own message says where
                if key in top[1] and not duplicates:
                    return match.start(), top[2], f"key {key!r} is given twice"
                top[1].add(key)
                top[4] = key
        elif first != ":":
            reason = _number_problem(token)
            if reason is not None:
                return match.start(), _path(stack), reason
    return None


def _path(stack: list[list[Any]]) -> str:
    """The key path of the value being read: ``data.hidden[2]``."""
    if not stack:
        return ""
    top = stack[-1]
    if top[0]:
        key = top[4]
        if key is None:
            return top[2]
        return f"{top[2]}.{key}" if top[2] else str(key)
    return f"{top[2]}[{top[5]}]"


def _number_problem(token: str) -> str | None:
    if token in ("NaN", "Infinity", "-Infinity"):
        return f"{token} is not allowed (JSON numbers are finite)"
    if _INTEGER.match(token):
        digits = len(token.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            return f"an integer of {digits} digits; at most {MAX_INT_DIGITS} are allowed"
        return None
    if _NUMBER.match(token) and not math.isfinite(float(token)):
        return (
            f"the number {token[:24]}{'...' if len(token) > 24 else ''} is beyond the "
            "range of a float (about ±1.8e308)"
        )
    return None


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file (following links); False if it cannot be looked at."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def move_aside(path: str | os.PathLike[str], suffix: str = ".damaged") -> Path | None:
    """Rename the damaged regular file ``path`` to ``<name><suffix>`` (replacing an older one),
    so that it is kept for the user but not read again; the new path, or None if it is not a
    regular file or could not be moved."""
    path = Path(path)
    target = path.with_name(path.name + suffix)
    if not is_regular_file(path):
        return None
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target
