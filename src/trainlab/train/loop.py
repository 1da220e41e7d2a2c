"""The loop every trainer shares: the step plan, the fixed event order, targets, and the
position/RNG/callback state that makes a resumed run identical to an unbroken one.

``Trainer`` (one model) and ``StackedTrainer`` (K members as one computation) subclass ``Loop``
and supply what differs: ``_new_epoch`` (data order), ``_next_batch``, ``_train_step``,
``evaluate``, and their own extra state (``_extra_state`` / ``_restore_extra``).
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
import torch

from trainlab.data.base import Split
from trainlab.errors import ConfigError
from trainlab.registry import call_with_kwargs
from trainlab.train import optim, schedules
from trainlab.train.callbacks import Callback, CallbackList
from trainlab.train.config import TrainConfig


def plan_steps(cfg: TrainConfig, n_train: int) -> tuple[int, int, int, int]:
    """(batch size, steps per epoch, total steps, log interval) for ``n_train`` samples."""
    batch_size = min(cfg.batch_size or n_train, n_train)
    per_epoch = math.ceil(n_train / batch_size)
    total = cfg.steps if cfg.steps is not None else cfg.epochs * per_epoch
    return batch_size, per_epoch, total, cfg.log_every or max(per_epoch, math.ceil(total / 100))


class Loop:
    """``fit(train, val)`` in one place. Events, in order: on_fit_start, then per step
    [on_epoch_start] on_batch_start (on_after_backward inside the step) on_step_end
    [on_epoch_end], then on_fit_end; on_exception when anything raises."""

    # set by subclasses: config, model, optimizer, device, loss, callbacks, scheduler (None),
    # step/epoch/batch_in_epoch (0), perm (None), history ([]), stop_training/stop_reason,
    # _resume_state (None), _pending ([])

    def _default_lr(self) -> float:
        """The configured rate, or the optimizer's usual default (sgd 0.01, adam 0.001, ...)."""
        cfg = self.config
        return cfg.lr if cfg.lr is not None else optim.default_lr(optim.OPTIMIZERS.split(cfg.optimizer)[0])

    def _callback_list(self, callbacks: list[Callback] | None, guard: Callback, stopping: type) -> CallbackList:
        """The user's callbacks, then the non-finite ``guard`` and, when configured, early
        stopping (``stopping`` built from ``train.early_stopping``)."""
        extra, es = [guard], self.config.early_stopping
        if es is not None:
            if not isinstance(es, dict):
                raise ConfigError(f"train.early_stopping: expected a mapping like {{monitor: val_loss, "
                                  f"patience: 10}}, got {es!r}")
            extra.append(call_with_kwargs(stopping, es, "train.early_stopping"))
        return CallbackList(list(callbacks or []) + extra)

    def _plan(self, n_train: int) -> None:
        cfg = self.config
        self.batch_size, self.steps_per_epoch, self.total_steps, self.log_every = plan_steps(cfg, n_train)
        if self.scheduler is None:
            self.scheduler = schedules.build(cfg.schedule, self.optimizer, self.total_steps)

    def fit(self, train: Split, val: Split | None = None):
        train, val = train.to(self.device), val.to(self.device) if val is not None else None
        train = Split(train.x, self._targets(train.x, train.y))  # e.g. BCE's float (N, 1), once
        if val is not None:  # the same for validation: not again at every logged step
            val = Split(val.x, self._targets(val.x, val.y))
        self._plan(len(train))
        self.val = val  # before the first step's data pass, which may monitor on it
        if self._resume_state is not None:
            self._restore(self._resume_state)
        elif self.step == 0:
            self._before_first_step(train)
        self.t0 = time.perf_counter()
        self.model.train()
        self._losses, self._pending = self._pending, []
        cb, total, per_epoch, n_train = self.callbacks, self.total_steps, self.steps_per_epoch, len(train)
        # the per-step events as lists of bound handlers: an event nobody listens to costs an
        # empty for-loop, not a call (the tiny-net overhead budget: bench/trainer_overhead.py)
        epoch_end, epoch_start, batch_start, step_end = (
            cb.handlers(e) for e in ("on_epoch_end", "on_epoch_start", "on_batch_start", "on_step_end"))
        self._after_backward = cb.handlers("on_after_backward")
        try:
            cb("on_fit_start", self)
            while True:  # one iteration per step
                if self.batch_in_epoch == per_epoch:  # an epoch ended (also: resumed at its end)
                    self.batch_in_epoch = 0
                    self.epoch += 1
                    for fn in epoch_end:
                        fn(self)
                if self.step >= total or self.stop_training:
                    break
                if self.batch_in_epoch == 0:
                    self._new_epoch(n_train)
                    for fn in epoch_start:
                        fn(self)
                batch = self._next_batch(train)
                for fn in batch_start:
                    fn(self)
                self._train_step(*batch)
                for fn in step_end:
                    fn(self)
            self.metrics = None
            self._before_fit_end()
            cb("on_fit_end", self)
        except BaseException as exc:
            cb("on_exception", self, exc)
            raise
        return self

    def _before_first_step(self, train: Split) -> None:
        """A fresh run (not a resume) is about to take its first step."""

    def _before_fit_end(self) -> None:
        """Training stopped; ``on_fit_end`` comes next."""

    @torch.no_grad()
    def _targets(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Targets in the form the loss consumes (needs the network's output width)."""
        was_training = self.model.training
        self.model.eval()
        n_out = self.model(x[:2]).shape[-1]
        self.model.train(was_training)
        return self.loss.prepare(y, n_out)

    # ---- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue exactly: weights, optimizer, schedule, RNG, position
        (plain tensors and lists: loadable with ``weights_only=True``)."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "perm": self.perm.cpu() if self.perm is not None else None,
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                    "numpy": _numpy_state(), "python": _python_state()},
            "callbacks": [c.state_dict() for c in self.callbacks],
            "history": self.history,
            # losses since the last logged step, so the next logged mean matches an unbroken run
            "pending_losses": self._pending_state(),
            "stop_training": self.stop_training, "stop_reason": self.stop_reason,
        }
        self._extra_state(state)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Queue a checkpoint to be restored when ``fit`` starts (it needs the run plan first)."""
        self._resume_state = state

    def restore_now(self, state: dict, n_train: int) -> None:
        """Restore a checkpoint at once (``load_state_dict`` waits for ``fit``), planning for
        ``n_train`` training rows: a checkpoint that does not fit fails here, before ``fit``."""
        self._plan(n_train)
        self._restore(state)

    def _restore(self, s: dict) -> None:
        self.model.load_state_dict(s["model"])
        self.optimizer.load_state_dict(s["optimizer"])
        if self.scheduler is not None and s["scheduler"] is not None:
            self.scheduler.load_state_dict(s["scheduler"])
        self.step, self.epoch, self.batch_in_epoch = s["step"], s["epoch"], s["batch_in_epoch"]
        self.perm = s["perm"].to(self.device) if s["perm"] is not None else None
        torch.set_rng_state(s["rng"]["torch"])
        if s["rng"]["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(s["rng"]["cuda"])
        _set_numpy_state(s["rng"]["numpy"])
        random.setstate(_decode_python_state(s["rng"]["python"]))
        for c, cs in zip(self.callbacks, s["callbacks"]):
            c.load_state_dict(cs)
        self.history = list(s["history"])
        self.stop_training, self.stop_reason = s["stop_training"], s["stop_reason"]
        self._pending = self._pending_from(s["pending_losses"])
        self._restore_extra(s)
        self._resume_state = None

    def _extra_state(self, state: dict) -> None:
        """Add a subclass's own state (data-order generators, ...) to ``state``."""

    def _restore_extra(self, s: dict) -> None:
        pass

    def _no_losses(self) -> torch.Tensor:
        return torch.zeros(0)

    def _pending_state(self) -> torch.Tensor:
        """The step losses not yet logged, as one CPU tensor (floats become float64)."""
        if not self._losses:
            return self._no_losses()
        if isinstance(self._losses[0], float):
            return torch.tensor(self._losses, dtype=torch.float64)
        return torch.stack(self._losses).cpu()

    def _pending_from(self, saved: torch.Tensor) -> list:
        return [t.to(self.device) for t in saved]


# RNG states as plain tensors/lists so checkpoints load with weights_only=True
def _numpy_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _set_numpy_state(s: dict) -> None:
    np.random.set_state(("MT19937", s["keys"].numpy().astype(np.uint32), s["pos"], s["has_gauss"], s["cached"]))


def _python_state() -> list:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _decode_python_state(s: list) -> tuple:
    return (s[0], tuple(s[1]), s[2])
