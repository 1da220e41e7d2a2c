"""Checkpoints: written atomically, loaded with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainlab.atomic import atomic_write, write_json, write_yaml  # noqa: F401 (re-exported)
from trainlab.errors import DivergenceError
from trainlab.safe_io import load_tensors
from trainlab.train.callbacks import Callback


def save(path: str | Path, state: dict) -> None:
    atomic_write(path, lambda fh: torch.save(state, fh))


def load(path: str | Path, map_location: Any = "cpu") -> dict:
    """A checkpoint, loaded with ``weights_only=True``; any failure is one ConfigError line."""
    return load_tensors(path, "checkpoint", map_location=map_location)


def all_finite(obj: Any) -> bool:
    """True when every floating-point tensor in ``obj`` (nested dicts, lists, tuples) is finite:
    weights, batch-norm running statistics, optimizer moments alike."""
    if isinstance(obj, torch.Tensor):
        return not (obj.is_floating_point() or obj.is_complex()) or bool(torch.isfinite(obj).all())
    if isinstance(obj, dict):
        return all(all_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(all_finite(v) for v in obj)
    return True


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

    saved_step: int | None = None  # the step of the last checkpoint this run wrote

    def on_step_end(self, trainer):
        due = trainer.metrics is not None if self.every is None else trainer.step % self.every == 0
        if due and not trainer.stop_training:
            self._save(trainer)

    def on_fit_end(self, trainer):
        self._save(trainer)

    def _save(self, trainer) -> None:
        """Never overwrite a good checkpoint with a state holding NaN/inf anywhere: weights,
        buffers (batch-norm running statistics), optimizer and schedule state (a diverging run
        keeps its last good one)."""
        state = trainer.state_dict()
        if all_finite({k: state[k] for k in ("model", "optimizer", "scheduler")}):
            save(self.path, state)
            self.saved_step = trainer.step

    def on_exception(self, trainer, exc):
        if isinstance(exc, DivergenceError) and self.path.exists() and exc.args:
            when = f"step {self.saved_step}" if self.saved_step is not None else "an earlier run"
            exc.args = (f"{exc.args[0]}; the last good checkpoint ({when}) is kept in {self.path}", *exc.args[1:])
            exc.checkpoint = str(self.path)
