"""The training loop's fixed set of events, and the callbacks built on them.

A callback overrides the events it needs; defining a method ``on_<something>`` that is not one
of ``EVENTS`` is an error at class creation, so a typo cannot silently never fire (fastai's
``callback/core.py`` idea). Progress bars, metrics logging, checkpoints, early stopping and the
non-finite guard are all callbacks.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from trainlab.atomic import atomic_write
from trainlab.errors import ConfigError, DivergenceError
from trainlab.registry import Registry
from trainlab.safe_io import read_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from trainlab.train.trainer import Trainer

EVENTS = ("on_fit_start", "on_epoch_start", "on_batch_start", "on_after_backward", "on_step_end",
          "on_epoch_end", "on_fit_end", "on_exception")


# Callbacks a spec switches on by a ``train`` key (``train.tensorboard: true``), registered by
# the layer that owns them (``trainlab.diagnose`` registers ``tensorboard``): name ->
# ``factory(run_directory, spec) -> Callback``. ``trainlab.train.run`` adds them to a run.
SPEC_CALLBACKS = Registry("spec callback")


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

    def handlers(self, event: str) -> list:
        """The bound methods that handle ``event``, in order (for loops that dispatch inline)."""
        return self._by_event[event]

    def __iter__(self):
        return iter(self.callbacks)


def _noop(self, trainer, *args):  # the base implementations: do nothing
    return None


for _e in EVENTS:
    setattr(Callback, _e, _noop)


class MetricsLogger(Callback):
    """Appends one JSON object per logged step to ``metrics.jsonl`` (append-only while a run
    trains; on resume the rows past the checkpoint are dropped by an atomic rewrite)."""

    order = 10

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_fit_start(self, trainer):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # on resume, drop lines past the checkpoint so the file matches an uninterrupted run.
        # Rewritten atomically (temp file, rename): a kill now leaves the old file or the new
        # one, never an emptied one; a line a kill cut short during appending is unreadable
        # and skipped here by the tolerant reader.
        if self.path.exists():
            fresh = bool(getattr(trainer, "init_records", None))  # a data pass ran again: drop its old records
            rows, _ = read_jsonl(self.path, "metrics.jsonl")
            keep = [r for r in rows if isinstance(r.get("step", 0), int) and r.get("step", 0) <= trainer.step
                    and not (fresh and "phase" in r)]
            atomic_write(self.path, lambda fh: fh.write("".join(json.dumps(r) + "\n" for r in keep).encode()))
        self._fh = self.path.open("a")
        for record in getattr(trainer, "init_records", None) or ():  # a data pass's records (DBN pre-training)
            self._fh.write(json.dumps(record) + "\n")
        trainer.init_records = []

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
    """Stops the run with a diagnosis when the training loss turns NaN or infinite.

    On the CPU it reads each step's loss (one scalar read, ~1 us a step); on an accelerator it
    checks the logged loss only, since a per-step read would stall the device. When it fires it
    drops that step's gradients (the optimizer then leaves the weights as they were), runs the
    batch again with forward hooks to name the first layer whose output is NaN/inf, and raises
    ``DivergenceError`` naming the step, the layer and the likely cause (also as its ``step``,
    ``layer``, ``cause`` and ``lr`` attributes). Checkpoints never take a non-finite state.
    """

    order = -10

    def __init__(self):
        self._fired: tuple | None = None  # (loss value, lr, layer, cause) from on_after_backward

    def on_after_backward(self, trainer):
        value = getattr(trainer, "step_value", None)  # the Trainer's float read (CPU only)
        if value is None:
            loss = getattr(trainer, "step_loss", None)
            if loss is None or trainer.device.type != "cpu":
                return
            value = loss.item()
        if math.isfinite(value):
            return
        self._fired = (value, trainer.optimizer.param_groups[0]["lr"], *locate_nonfinite(trainer))
        for p in trainer.model.parameters():
            p.grad = None  # skip this update: the weights stay the last finite ones

    def on_step_end(self, trainer):
        fired, self._fired = self._fired, None
        if fired is None:
            m = trainer.metrics
            if m is None or math.isfinite(m["loss"]):
                return
            fired = (m["loss"], m["lr"], *locate_nonfinite(trainer))
        value, lr, layer, cause = fired
        where = f"layer {layer}: " if layer else ""
        err = DivergenceError(f"training diverged: loss is {value} by step {trainer.step} (lr {lr:g}); {where}{cause}")
        err.step, err.layer, err.cause, err.lr = trainer.step, layer, cause, lr
        raise err


def locate_nonfinite(trainer) -> tuple[str | None, str]:
    """(layer, likely cause) of a non-finite loss: bad inputs, weights an earlier update
    broke, or the first module (in forward order) whose output overflowed."""
    model, batch = trainer.model, getattr(trainer, "batch", None)
    high_lr = "the learning rate is probably too high: lower it (try 10x smaller) or clip gradients"
    if batch is not None and batch[0].is_floating_point() and not torch.isfinite(batch[0]).all():
        return None, "the input batch itself contains NaN/inf: clean or impute the data"
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            return (name.rpartition(".")[0] or name,
                    f"its parameter {name} is already NaN/inf: an earlier update overflowed (exploding gradient); {high_lr}")
    if batch is None:
        return None, high_lr
    first = _first_nonfinite_output(model, batch[0])
    if first is None:
        return None, ("the outputs are finite but the loss is not (log of 0, division by zero, or targets out "
                      f"of range?); if not, {high_lr}")
    name, module, in_max = first
    if not math.isfinite(in_max):
        return name, f"its input was already NaN/inf (an operation outside any module overflowed); {high_lr}"
    w_max = max((float(p.detach().abs().max()) for p in model.parameters() if p.numel()), default=0.0)
    return name, (f"its {type(module).__name__} output overflowed from finite inputs (largest input |x| "
                  f"{in_max:.3g}, largest weight |w| {w_max:.3g}): activations grew too large; {high_lr}")


@torch.no_grad()
def _first_nonfinite_output(model, x) -> tuple | None:
    """Run ``x`` through ``model`` with temporary forward hooks; the first module to finish with a
    NaN/inf output, as (name, module, largest |input|). Buffers (batch-norm statistics) are restored."""
    found: list = []

    def hook(name, module, args, out):
        out = out[0] if isinstance(out, (tuple, list)) and out else out
        if not found and isinstance(out, torch.Tensor) and out.is_floating_point() and not torch.isfinite(out).all():
            ins = [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point() and a.numel()]
            found.append((name or "model", module, max((float(a.abs().max()) for a in ins), default=0.0)))

    buffers = {n: b.clone() for n, b in model.named_buffers()}
    handles = [m.register_forward_hook(functools.partial(hook, n)) for n, m in model.named_modules()]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
        for n, b in model.named_buffers():
            b.copy_(buffers[n])
    return found[0] if found else None


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
