"""The training loop's fixed set of events, and the callbacks built on them.

A callback overrides the events it needs; defining a method ``on_<something>`` that is not one
of ``EVENTS`` is an error at class creation, so a typo cannot silently never fire (fastai's
``callback/core.py`` idea). Progress bars, metrics logging, checkpoints, early stopping and the
non-finite guard are all callbacks.
"""

from __future__ import annotations

import copy
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlab.errors import ConfigError, DivergenceError

if TYPE_CHECKING:  # pragma: no cover
    from trainlab.train.trainer import Trainer

EVENTS = ("on_fit_start", "on_epoch_start", "on_batch_start", "on_after_backward", "on_step_end",
          "on_epoch_end", "on_fit_end", "on_exception")


class Callback:
    """Base class: override any of ``EVENTS``; each receives the trainer."""

    order = 0  # lower runs first

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for attr in vars(cls):
            if attr.startswith("on_") and attr not in EVENTS:
                raise TypeError(f"{cls.__name__}.{attr}: unknown training event; valid events: "
                                f"{', '.join(EVENTS)}")

    def state_dict(self) -> dict:
        """State that must survive a resume (saved in checkpoints)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class CallbackList:
    """Dispatches an event to the callbacks that override it (precomputed, so a step with
    no interested callback costs one empty loop)."""

    def __init__(self, callbacks: list[Callback]):
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self._by_event = {e: [getattr(c, e) for c in self.callbacks
                              if getattr(type(c), e, None) is not getattr(Callback, e, None)]
                          for e in EVENTS}

    def __call__(self, event: str, trainer: "Trainer", *args) -> None:
        fns = self._by_event[event]
        if fns:
            for fn in fns:
                fn(trainer, *args)

    def __iter__(self):
        return iter(self.callbacks)


def _noop(self, trainer, *args):  # the base implementations: do nothing
    return None


for _e in EVENTS:
    setattr(Callback, _e, _noop)


class MetricsLogger(Callback):
    """Appends one JSON object per logged step to ``metrics.jsonl``."""

    order = 10

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_fit_start(self, trainer):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # on resume, drop lines past the checkpoint so the file matches an uninterrupted run
        if self.path.exists():
            keep = [ln for ln in self.path.read_text().splitlines()
                    if ln.strip() and json.loads(ln).get("step", 0) <= trainer.step]
            self.path.write_text("".join(ln + "\n" for ln in keep))
        self._fh = self.path.open("a")

    def on_step_end(self, trainer):
        if trainer.metrics is not None:
            self._fh.write(json.dumps(trainer.metrics) + "\n")
            self._fh.flush()

    def on_fit_end(self, trainer):
        self._fh.close()

    def on_exception(self, trainer, exc):
        if hasattr(self, "_fh"):
            self._fh.close()


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` evaluations;
    optionally restore the best weights."""

    order = 20
    MONITORS = {"val_loss": "min", "val_accuracy": "max", "loss": "min"}

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best: bool = True):
        if monitor not in self.MONITORS:
            raise ConfigError(f"early_stopping.monitor: unknown metric {monitor!r}; valid: "
                              f"{', '.join(self.MONITORS)}")
        if not isinstance(patience, int) or patience < 1:
            raise ConfigError(f"early_stopping.patience must be a positive integer, got {patience!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, float(min_delta)
        self.restore_best = bool(restore_best)
        self.sign = 1.0 if self.MONITORS[monitor] == "min" else -1.0
        self.best, self.best_step, self.wait, self.best_state = math.inf, 0, 0, None

    def on_step_end(self, trainer):
        m = trainer.metrics
        if m is None or self.monitor not in m:
            return
        value = self.sign * m[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_step, self.wait = value, trainer.step, 0
            if self.restore_best:
                self.best_state = copy.deepcopy(trainer.model.state_dict())
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                trainer.stop_reason = (f"early stopping: {self.monitor} did not improve for "
                                       f"{self.patience} evaluations (best at step {self.best_step})")

    def on_fit_end(self, trainer):
        if self.restore_best and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def state_dict(self):
        return {"best": self.best, "best_step": self.best_step, "wait": self.wait,
                "best_state": self.best_state}

    def load_state_dict(self, state):
        self.best, self.best_step, self.wait = state["best"], state["best_step"], state["wait"]
        self.best_state = state["best_state"]


class NonFiniteGuard(Callback):
    """Stops the run with a diagnosis as soon as a logged training loss is NaN or infinite."""

    order = -10

    def on_step_end(self, trainer):
        m = trainer.metrics
        if m is not None and not math.isfinite(m["loss"]):
            lr = trainer.optimizer.param_groups[0]["lr"]
            raise DivergenceError(
                f"training diverged: loss is {m['loss']} by step {trainer.step} (lr {lr:g}); "
                f"the learning rate is probably too high: lower it (try 10x smaller) or clip gradients")


class ProgressBar(Callback):
    """A rich progress bar over steps with the latest metrics; silent when not on a terminal."""

    order = 30

    def __init__(self, enabled: bool | None = None, stream: Any = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled

    def on_fit_start(self, trainer):
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                  TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                  console=Console(file=self.stream), transient=False)
        self._task = self._progress.add_task("train", total=trainer.total_steps,
                                             completed=trainer.step, info="")
        self._progress.start()

    def on_step_end(self, trainer):
        if not self.enabled or trainer.metrics is None:
            return
        m = trainer.metrics
        info = " ".join(f"{k}={m[k]:.4g}" for k in ("loss", "val_loss", "val_accuracy") if k in m)
        self._progress.update(self._task, completed=trainer.step, info=info)

    def on_fit_end(self, trainer):
        if self.enabled:
            self._progress.update(self._task, completed=trainer.step)
            self._progress.stop()

    def on_exception(self, trainer, exc):
        if self.enabled and hasattr(self, "_progress"):
            self._progress.stop()
