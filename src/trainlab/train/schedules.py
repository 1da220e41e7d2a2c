"""The learning-rate schedule registry. Every schedule advances once per optimizer step and is
written in steps (with full-batch training a step is an epoch)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

from trainlab.errors import ConfigError, short
from trainlab.registry import Registry, call_with_kwargs

SCHEDULES = Registry("schedule")


def _positive(name: str, high: float = math.inf, **values) -> None:
    """Each value a number in (0, high] (finite: NaN and infinities are refused here, not
    reported later as a divergence blamed on the learning rate)."""
    for k, v in values.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= high or math.isinf(v):
            bound = "a positive, finite number" if high == math.inf else f"a number in (0, {high:g}]"
            raise ConfigError(f"schedule {name!r}: {k} must be {bound}, got {short(v)}")


@SCHEDULES.register("step")
def step(opt, total_steps: int, step_size: int = 1000, gamma: float = 0.1) -> LRScheduler:
    """Multiply the lr by ``gamma`` every ``step_size`` steps."""
    _positive("step", 1, gamma=gamma)  # a decay: raising the lr is one_cycle's or warmup's job
    if not isinstance(step_size, int) or isinstance(step_size, bool) or step_size < 1:
        raise ConfigError(f"schedule 'step': step_size must be a positive integer, got {step_size!r}")
    return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)


@SCHEDULES.register("exponential")
def exponential(opt, total_steps: int, gamma: float = 0.999) -> LRScheduler:
    """lr_t = lr * gamma^t."""
    _positive("exponential", 1, gamma=gamma)
    return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)


@SCHEDULES.register("cosine")
def cosine(opt, total_steps: int, min_lr: float = 0.0) -> LRScheduler:
    """Cosine annealing from lr to ``min_lr`` over the whole run (Loshchilov & Hutter 2017)."""
    if not isinstance(min_lr, (int, float)) or isinstance(min_lr, bool) or not 0 <= min_lr < math.inf:
        raise ConfigError(f"schedule 'cosine': min_lr must be a finite number >= 0, got {short(min_lr)}")
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total_steps), eta_min=min_lr)


@SCHEDULES.register("one_cycle")
def one_cycle(opt, total_steps: int, max_lr: float | None = None, pct_start: float = 0.3) -> LRScheduler:
    """Smith's one-cycle policy: warm up to ``max_lr`` (default: the configured lr), then anneal."""
    max_lr = max_lr if max_lr is not None else opt.param_groups[0]["lr"]
    _positive("one_cycle", max_lr=max_lr)
    _positive("one_cycle", 0.99, pct_start=pct_start)
    # cycle momentum only where the optimizer has one: plain sgd / rmsprop must stay momentum-free
    has_momentum = "betas" in opt.defaults or any(g.get("momentum", 0) > 0 for g in opt.param_groups)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=max(2, total_steps),
                                               pct_start=pct_start, cycle_momentum=has_momentum)


@SCHEDULES.register("warmup")
def warmup(opt, total_steps: int, warmup_steps: int = 100, then: str = "constant") -> LRScheduler:
    """Linear warm-up from 0 over ``warmup_steps``, then ``constant`` or ``cosine`` decay to 0."""
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps < 1:
        raise ConfigError(f"schedule 'warmup': warmup_steps must be a positive integer, got {short(warmup_steps)}")
    if then not in ("constant", "cosine"):
        raise ConfigError(f"schedule 'warmup': then must be 'constant' or 'cosine', got {short(then)}")
    w = int(warmup_steps)

    def factor(t: int) -> float:
        if t < w:
            return (t + 1) / w
        if then == "constant":
            return 1.0
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (t - w) / max(1, total_steps - w))))

    return LambdaLR(opt, factor)


def check(spec: Any) -> None:
    """Build ``spec`` once on a throwaway optimizer, so its arguments are checked when the
    config is read, before a run folder is written."""
    if spec is None or spec == "none":
        return
    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01, momentum=0.9)
    build(spec, probe, 1000)


def build(spec: Any, opt: torch.optim.Optimizer, total_steps: int) -> LRScheduler | None:
    if spec is None or spec == "none":
        return None
    name, kwargs = SCHEDULES.split(spec)
    return call_with_kwargs(SCHEDULES.lookup(name), {"opt": opt, "total_steps": total_steps, **kwargs},
                            f"schedule {name!r}")
