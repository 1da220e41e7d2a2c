"""One training loop for every run: losses, optimizers, schedules, full- or mini-batch,
gradient clipping, max-norm, early stopping, callbacks, exact resume.

Data sets that fit in memory live on the device as tensors and are batched by index
permutations (no per-sample DataLoader). The loop keeps per-step work to the optimizer step
itself; metrics are reduced only at logged steps, so a watched run costs what an unwatched one does.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
import torch
from torch import nn

from trainlab.data import batching
from trainlab.data.base import Split
from trainlab.nn import Maxout, Network, Parallel, Residual
from trainlab.errors import ConfigError
from trainlab.train import losses, optim
from trainlab.train.callbacks import Callback, EarlyStopping, NonFiniteGuard
from trainlab.train.config import TrainConfig
from trainlab.train.loop import Loop, plan_steps  # noqa: F401 (plan_steps: part of this module's API)


MODE_FREE = {nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Flatten, nn.Identity, nn.Sequential,
             nn.ModuleList, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU,
             nn.GELU, nn.SiLU, nn.Mish, nn.Softplus, nn.Hardtanh, nn.LayerNorm, nn.MaxPool2d,
             nn.AvgPool2d, Maxout, Network, Residual, Parallel}


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ConfigError(f"device: unknown device {device!r}; valid devices: auto, cpu, cuda")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device: {device!r} requested but CUDA is not available here; use cpu or auto")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer(Loop):
    """``Trainer(model, config).fit(train, val)``; ``evaluate(split)``; ``state_dict()`` for resume."""

    def __init__(self, model: nn.Module, config: TrainConfig | dict | None = None, *,
                 task: str = "classification", callbacks: list[Callback] | None = None,
                 device: str = "auto", seed: int = 0):
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        self.task = task
        self.loss_name = losses.resolve(self.config.loss, task)
        self.loss = losses.get(self.loss_name)
        cfg = self.config
        self.lr = self._default_lr()
        self.optimizer = optim.build(cfg.optimizer, model, self.lr, cfg.weight_decay)
        self.callbacks = self._callback_list(callbacks, NonFiniteGuard(), EarlyStopping)
        self.shuffle = torch.Generator().manual_seed(seed + 1)  # data order, separate from init RNG
        self.step = self.epoch = self.batch_in_epoch = 0
        self.perm: torch.Tensor | None = None
        self.metrics: dict | None = None  # set only on logged steps
        self.batch: tuple | None = None  # (x, y) of the current step, for callbacks (diagnostics)
        self.step_loss: torch.Tensor | None = None  # the current step's loss, from on_after_backward
        # on the CPU the step's loss is read once as a float (~1 us): the non-finite guard checks
        # it and the log averages the floats; on an accelerator it stays a tensor (no sync)
        self._host = self.device.type == "cpu"
        self.step_value: float | None = None
        self.history: list[dict] = []
        self.stop_training, self.stop_reason = False, None
        self.scheduler = None
        self._constrained = [m.weight for m in model.modules()
                             if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
        self._resume_state: dict | None = None
        self._pending: list[torch.Tensor] = []  # step losses not yet logged, restored on resume
        # Module.train()/eval() walks every module (~80 us for a 20-layer net): skip the switch
        # when no module behaves differently in training and evaluation.
        self._mode_matters = any(type(m) not in MODE_FREE for m in model.modules())

    # ---- the loop (Loop.fit) ---------------------------------------------------------------
    def _before_first_step(self, train: Split) -> None:
        if hasattr(self.model, "data_init"):  # LSUV, DBN pre-training: once, on the training inputs
            self.init_records = []  # the pass's per-epoch records (pre-training), for the metrics log
            val = self.val.x if self.val is not None else None
            self.model.data_init(train.x, val=val, log=self.init_records.append)

    def _new_epoch(self, n: int) -> None:
        full = self.batch_size >= n
        self.perm = None if full else batching.permutation(n, self.shuffle, self.device)

    def _next_batch(self, data: Split) -> tuple[torch.Tensor, torch.Tensor]:
        if self.perm is None:
            return data.x, data.y
        return batching.take(data.x, data.y, self.perm, self.batch_in_epoch, self.batch_size)

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        # the hot path: keep it to what a hand-written loop does (bench/trainer_overhead.py)
        cfg, opt = self.config, self.optimizer
        opt.zero_grad(set_to_none=True)
        loss = self.loss.fn(self.model(xb), yb)
        loss.backward()
        self.batch, self.step_loss = (xb, yb), loss
        if self._host:
            self.step_value = loss.item()
        for fn in self._after_backward:
            fn(self)
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        opt.step()
        lr = opt.param_groups[0]["lr"]  # the rate this step used (logged before the schedule moves)
        if cfg.max_norm is not None:
            self._apply_max_norm(cfg.max_norm)
        if self.scheduler is not None:
            self.scheduler.step()
        self.step += 1
        self.batch_in_epoch += 1
        self._losses.append(self.step_value if self._host else loss.detach())  # reduced at logged steps only
        self.metrics = self._log(lr) if (self.step % self.log_every == 0 or self.step == self.total_steps) else None

    @torch.no_grad()
    def _apply_max_norm(self, c: float) -> None:
        # Srivastava et al. 2014: each unit's incoming weight vector (a row) has norm <= c
        for w in self._constrained:
            w.copy_(torch.renorm(w.flatten(1), 2, 0, c).view_as(w))

    def _log(self, lr: float) -> dict:
        m = {"step": self.step, "epoch": self.epoch + self.batch_in_epoch / self.steps_per_epoch,
             "loss": math.fsum(self._losses) / len(self._losses) if self._host
             else torch.stack(self._losses).mean().item(),
             "lr": lr}
        self._losses.clear()
        if self.val is not None and math.isfinite(m["loss"]):
            m.update(self._prefixed(self.evaluate(self.val), "val"))
        m["seconds"] = round(time.perf_counter() - self.t0, 4)
        self.history.append(m)
        return m

    @staticmethod
    def _prefixed(d: dict, prefix: str) -> dict:
        return {f"{prefix}_{k}": v for k, v in d.items()}

    @torch.inference_mode()  # cheaper than no_grad per op: no view or version tracking; returns floats only
    def evaluate(self, data: Split) -> dict:
        """Mean loss (and accuracy for classification) over a split, in eval mode."""
        data = data.to(self.device)
        was_training = self.model.training
        if self._mode_matters:
            self.model.eval()
        bs, classify, n = self.config.eval_batch_size, self.task == "classification", len(data)
        chunks = [(data.x, data.y)] if n <= bs else [(data.x[i:i + bs], data.y[i:i + bs]) for i in range(0, n, bs)]
        sums = []  # per chunk: (loss * rows, correct); one host sync at the end
        for x, y in chunks:
            out = self.model(x)
            if y.dtype == torch.long or y.ndim == 1:  # raw labels (fit passes targets already prepared)
                y = self.loss.prepare(y, out.shape[-1])
            loss = self.loss.fn(out, y) * len(x)
            sums.append(torch.stack([loss, self.loss.correct(out, y).to(loss.dtype)]) if classify else loss[None])
        if self._mode_matters:
            self.model.train(was_training)
        totals = (sums[0] if len(sums) == 1 else torch.stack(sums).sum(0)).tolist()
        n = max(1, n)
        return {"loss": totals[0] / n, "accuracy": totals[1] / n} if classify else {"loss": totals[0] / n}

    # ---- checkpoints (Loop.state_dict / load_state_dict) --------------------------------
    def _extra_state(self, state: dict) -> None:
        state["rng"]["shuffle"] = self.shuffle.get_state()

    def _restore_extra(self, s: dict) -> None:
        self.shuffle.set_state(s["rng"]["shuffle"])

    def _pending_from(self, saved: torch.Tensor) -> list:
        return saved.tolist() if self._host else super()._pending_from(saved)
