"""What the data layer tells the user while it finds, downloads and extracts files.

Messages (which source is tried, where files went) go to stderr, so ``--json`` output on stdout
stays machine-readable; a rich progress bar shows byte counts on a terminal. Tests and library
users swap the reporter with ``set_reporter`` (e.g. a list that records messages).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator


class Reporter:
    """Default: one line per message on stderr; a progress bar when stderr is a terminal."""

    def __init__(self, stream=None, bars: bool | None = None):
        self.stream = stream
        self.bars = bars

    def message(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(text + "\n")
        stream.flush()

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        """Yields ``advance(n_bytes)``; draws a bar on a terminal, nothing otherwise."""
        stream = self.stream or sys.stderr
        bars = self.bars if self.bars is not None else stream.isatty()
        if not bars:
            yield lambda n: None
            return
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=Console(file=stream), transient=False) as bar:
            tid = bar.add_task(description, total=total)
            yield lambda n: bar.advance(tid, n)


class Recorder(Reporter):
    """Keeps messages in ``self.lines`` (for tests), no bars."""

    def __init__(self):
        super().__init__(bars=False)
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)


_current: Reporter = Reporter()


def reporter() -> Reporter:
    return _current


def set_reporter(r: Reporter) -> Reporter:
    """Install ``r``; returns the previous reporter so a caller can restore it."""
    global _current
    previous, _current = _current, r
    return previous
