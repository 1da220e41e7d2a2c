"""Callbacks for stacked training that act per member: the divergence guard, early stopping,
and per-member layer statistics. They use the Trainer's fixed events (``train.callbacks``)."""

from __future__ import annotations

import math

import torch

from trainlab.errors import ConfigError, DivergenceError
from trainlab.train.callbacks import Callback, EarlyStopping


class MemberGuard(Callback):
    """Marks a member diverged when its logged loss is NaN/inf (the others train on: members
    share no arithmetic); stops with the Trainer's diagnosis when every member has diverged."""

    order = -10

    def on_step_end(self, t):
        m = t.metrics
        if m is None:
            return
        for k, v in enumerate(m["per_model"]["loss"]):
            if not math.isfinite(v) and k not in t.diverged:
                t.diverged[k] = t.step
        if len(t.diverged) == t.k:
            lr = t.optimizer.param_groups[0]["lr"]
            raise DivergenceError(
                f"training diverged: every member's loss is non-finite by step {t.step} (lr {lr:g}); "
                f"the learning rate is probably too high: lower it (try 10x smaller) or clip gradients")


class MemberEarlyStopping(Callback):
    """``EarlyStopping`` for each member on its own: a member whose ``monitor`` has not improved
    by ``min_delta`` for ``patience`` evaluations is frozen (``trainer.freeze``); the run stops
    when all are. With ``restore_best`` each member ends with its best weights — what K
    separate runs with early stopping end with."""

    order = 20

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best: bool = True):
        ref = EarlyStopping(monitor, patience, min_delta, restore_best)  # checks the arguments
        self.monitor, self.patience, self.min_delta = ref.monitor, ref.patience, ref.min_delta
        self.restore_best, self.sign = ref.restore_best, ref.sign
        self.best: list[float] | None = None
        self.best_step: list[int] = []
        self.wait: list[int] = []
        self.best_state: dict | None = None

    def on_step_end(self, t):
        m = t.metrics
        if m is None or self.monitor not in m["per_model"]:
            return
        if self.best is None:
            self.best, self.best_step, self.wait = [math.inf] * t.k, [0] * t.k, [0] * t.k
        improved = []
        for k, v in enumerate(m["per_model"][self.monitor]):
            if k in t.stopped or k in t.diverged:
                continue
            if self.sign * v < self.best[k] - self.min_delta:
                self.best[k], self.best_step[k], self.wait[k] = self.sign * v, t.step, 0
                improved.append(k)
            else:
                self.wait[k] += 1
                if self.wait[k] >= self.patience:
                    t.freeze(k)
        if improved and self.restore_best:
            self._keep(t, improved)
        if t.stop_training and t.stop_reason is None:
            t.stop_reason = (f"early stopping: every member's {self.monitor} stopped improving for "
                             f"{self.patience} evaluations")

    @torch.no_grad()
    def _keep(self, t, members: list[int]) -> None:
        state = t.model.state_dict()
        if self.best_state is None:
            self.best_state = {n: v.clone() for n, v in state.items()}
            return
        idx = torch.tensor(members, device=next(iter(state.values())).device)
        for n, v in state.items():
            self.best_state[n][idx] = v[idx]

    @torch.no_grad()
    def on_fit_end(self, t):
        if not (self.restore_best and self.best_state is not None):
            return
        has = [k for k in range(t.k) if self.best_step[k] > 0]
        idx = torch.tensor(has, device=next(iter(self.best_state.values())).device)
        for n, v in t.model.state_dict().items():
            v[idx] = self.best_state[n][idx]

    def state_dict(self):
        return {"best": self.best, "best_step": self.best_step, "wait": self.wait, "best_state": self.best_state}

    def load_state_dict(self, state):
        self.best, self.best_step, self.wait = state["best"], state["best_step"], state["wait"]
        self.best_state = state["best_state"]


class MemberStats(Callback):
    """Per-member layer statistics every ``every`` steps (plus the first): each stacked leaf's
    output mean, std and fraction of exact zeros (dead ReLUs show as zeros downstream), and
    the gradient and weight norms of its parameters — every number a list of K values.

    Forward hooks exist only during a sampled step's forward pass: registered at
    ``on_batch_start``, removed at ``on_after_backward``, so evaluation passes never fire them
    and nothing remains attached after ``fit``. ``records``: one dict per (step, layer).
    """

    order = -5

    def __init__(self, every: int = 10):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ConfigError(f"member stats: every must be a positive integer, got {every!r}")
        self.every = every
        self.records: list[dict] = []
        self._handles: list = []
        self._acts: dict[str, torch.Tensor] = {}

    def _layers(self, t):
        from trainlab.ensemble.layers import StackedLayer

        return [(n, m) for n, m in t.model.named_modules() if isinstance(m, StackedLayer)]

    def on_batch_start(self, t):
        s = t.step + 1
        if s == 1 or s % self.every == 0:
            self._step = s
            for name, mod in self._layers(t):
                self._handles.append(mod.register_forward_hook(self._hook(name)))

    def _hook(self, name):
        def record(module, inputs, out):
            o = out.detach().flatten(1)  # (K, everything else)
            self._acts[name] = torch.stack([o.mean(1), o.std(1), (o == 0).float().mean(1)])  # (3, K)
        return record

    def on_after_backward(self, t):
        if not self._handles:
            return
        self.detach()
        rows = []
        for name, mod in self._layers(t):
            params = list(mod.parameters(recurse=False))
            grads = [p.grad.reshape(t.k, -1) for p in params if p.grad is not None]
            stats = {"act": self._acts.get(name),
                     "grad_norm": torch.cat(grads, 1).norm(dim=1) if grads else None,
                     "weight_norm": torch.cat([p.detach().reshape(t.k, -1) for p in params], 1).norm(dim=1)
                     if params else None}
            rows.append((name, stats))
        for name, st in rows:  # to the host once per layer, lists of K
            rec = {"step": self._step, "layer": name}
            if st["act"] is not None:
                rec.update(zip(("act_mean", "act_std", "zero_fraction"), st["act"].tolist()))
            for key in ("grad_norm", "weight_norm"):
                if st[key] is not None:
                    rec[key] = st[key].tolist()
            self.records.append(rec)
        self._acts.clear()

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def on_fit_end(self, t):
        self.detach()

    def on_exception(self, t, exc):
        self.detach()
