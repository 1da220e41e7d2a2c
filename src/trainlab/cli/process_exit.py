"""Ending the ``trainlab`` process without Python's module teardown, where a command allows it.

Once a command has printed its result, CPython's shutdown tears down every module and frees
their objects one by one; with torch, torch._dynamo, sympy and matplotlib loaded that costs
about 1 s of CPU (``trainlab diagnose`` on LeNet: 7.9 s of CPU when ``main`` returns, 9.0 s when
the process ends). A command that opts in (``allow()``: diagnose, check, lr-find) is ended by
``finish`` with ``os._exit`` after doing what shutdown must for it: the ``atexit`` handlers run,
every open file is flushed, stdout and stderr too. While another thread still runs (shutdown
would wait for it), or for any other command, the exit is the normal one.
"""

from __future__ import annotations

import atexit
import gc
import io
import os
import sys
import threading

_allowed = False


def allow() -> None:
    """Called by a command whose process may end without module teardown."""
    global _allowed
    _allowed = True


_FILES = (io.TextIOWrapper, io.BufferedWriter, io.BufferedRandom, io.BufferedRWPair, io.FileIO)


def _flush_open_files() -> None:
    """Teardown would flush (and close) the files nobody closed: a user's model may hold one.
    (Matched by exact type: an isinstance check on each of ~350k objects costs 0.3 s.)"""
    files = set(_FILES)
    for obj in gc.get_objects():
        if type(obj) in files and not obj.closed:
            try:
                obj.flush()
            except (OSError, ValueError):
                pass


def finish(code: int) -> int:
    """End the process now with ``code`` when allowed and safe; else return ``code``."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if not _allowed or others:  # shutdown waits for non-daemon threads: leave that to it
        return code
    atexit._run_exitfuncs()  # noqa: SLF001 - the handlers os._exit would skip; a public API has none
    _flush_open_files()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def entry() -> None:
    """The ``trainlab`` program (console script and ``python -m trainlab``)."""
    from trainlab.cli.main import main

    raise SystemExit(finish(main()))
