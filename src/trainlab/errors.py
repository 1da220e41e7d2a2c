"""Errors that mean "the user asked for something wrong", as opposed to bugs.

The CLI turns these into one line `error: ...` and exit status 2; everything else is a bug
and keeps its traceback.

``short(value)`` is how every error message shows a value the user gave: a ``repr`` bounded in
depth, items and characters, computed without ever rendering the whole value (a YAML alias bomb
expands to millions of items; its full ``repr`` alone would exhaust memory). ``ConfigError``
itself keeps its message to one line of bounded length, whatever was put into it.
"""

from __future__ import annotations

import reprlib

MAX_MESSAGE = 600  # characters of an error message; longer ones keep their head and tail

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def short(value: object, limit: int = 80) -> str:
    """A ``repr`` of ``value`` of at most about ``limit`` characters, on one line.

    >>> short(list(range(10**6)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int past Python's 4,300-digit str() limit
        text = f"<an integer of {int(value.bit_length() * 0.30103) + 1} digits>"
    return one_line(text, limit)


# every character str.splitlines() breaks at, and the other control characters, shown escaped
_ESCAPES = {c: repr(chr(c))[1:-1] for c in [*range(32), *range(0x7F, 0xA0), 0x2028, 0x2029] if c != 9}


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with line breaks and control characters made visible (``\\n``, ``\\x0c``) and
    the middle cut past ``limit`` characters."""
    text = str(text).translate(_ESCAPES)
    if len(text) > limit:
        keep = max(limit - 20, 10)
        head, tail = text[: keep * 2 // 3], text[-(keep - keep * 2 // 3):]
        text = f"{head} ...[{len(text) - keep} chars]... {tail}"
    return text


class ConfigError(ValueError):
    """A bad name, value, key or file in what the user asked for. Its message is one line of
    at most ``MAX_MESSAGE`` characters."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class ShapeError(ConfigError):
    """A block received an input shape it cannot take."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss: the run stops with a diagnosis."""
