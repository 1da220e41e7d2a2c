"""Atomic file writes: write a temp file beside the target, fsync, rename over it. A reader, or
a process killed mid-write, never sees a half-written file. Used by every layer."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def atomic_write(path: str | Path, write) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then rename over it, so
    a reader (or a killed process) never sees a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write(path, lambda fh: fh.write((json.dumps(obj, indent=2) + "\n").encode()))


def write_yaml(path: str | Path, obj: Any) -> None:
    atomic_write(path, lambda fh: fh.write(yaml.safe_dump(obj, sort_keys=False).encode()))
