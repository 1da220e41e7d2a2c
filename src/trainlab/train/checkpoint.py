"""Atomic writes and checkpoints loaded with ``weights_only=True``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
import yaml

from trainlab.train.callbacks import Callback


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


def save(path: str | Path, state: dict) -> None:
    atomic_write(path, lambda fh: torch.save(state, fh))


def load(path: str | Path, map_location: Any = "cpu") -> dict:
    return torch.load(path, map_location=map_location, weights_only=True)


class Checkpointer(Callback):
    """Saves the whole training state to ``dir/last.pt`` every ``every`` steps (default: at each
    logged step) and at the end, atomically."""

    order = 40

    def __init__(self, directory: str | Path, every: int | None = None):
        self.directory = Path(directory)
        self.every = every

    @property
    def path(self) -> Path:
        return self.directory / "last.pt"

    def on_step_end(self, trainer):
        due = trainer.metrics is not None if self.every is None else trainer.step % self.every == 0
        if due and not trainer.stop_training:
            save(self.path, trainer.state_dict())

    def on_fit_end(self, trainer):
        save(self.path, trainer.state_dict())
