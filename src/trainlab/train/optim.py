"""The optimizer registry. Weight decay is L2 on weights only (ndim >= 2): biases and norm
scales are not decayed, as in the lectures' L2 term sum(W^2)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import math

from trainlab.errors import ConfigError, one_line, short
from trainlab.registry import Registry, check_kinds

OPTIMIZERS = Registry("optimizer")
# name -> (torch class, default lr, fixed kwargs)
_TABLE = {
    "sgd": (torch.optim.SGD, 0.01, {}),
    "momentum": (torch.optim.SGD, 0.01, {"momentum": 0.9}),
    "nesterov": (torch.optim.SGD, 0.01, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (torch.optim.Adagrad, 0.01, {}),
    "rmsprop": (torch.optim.RMSprop, 0.001, {}),
    "adam": (torch.optim.Adam, 0.001, {}),
    "adamw": (torch.optim.AdamW, 0.001, {}),
}
for _name, _entry in _TABLE.items():
    OPTIMIZERS.register(_name, _entry)
# torch classes with a fused implementation: the whole update in one kernel over each tensor
# instead of a dozen elementwise passes. Used wherever torch has the kernel for the parameters'
# device and dtype; it matters most where the optimizer state outgrows the cache (a stack of
# 16 MNIST-1D MLPs under Adam: 1.7x faster per epoch on 2 CPU cores, bench/stacked.py).
FUSED = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.Adagrad)


def default_lr(name: str) -> float:
    return OPTIMIZERS.lookup(name)[1]


def build(spec: Any, model: nn.Module, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``spec`` is a name or ``{name: ..., **torch kwargs}`` (e.g. ``{name: momentum, momentum: 0.95}``)."""
    name, kwargs = OPTIMIZERS.split(spec)
    cls, _, fixed = OPTIMIZERS.lookup(name)
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr < math.inf:
        raise ConfigError(f"train.lr must be a positive, finite number, got {short(lr)}")
    if not isinstance(weight_decay, (int, float)) or isinstance(weight_decay, bool) or not 0 <= weight_decay < math.inf:
        raise ConfigError(f"train.weight_decay must be a finite number >= 0, got {short(weight_decay)}")
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": float(weight_decay)},
              {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if not weight_decay:  # one group: each optimizer step then runs once, not per group
        # weight_decay explicit: AdamW's own default (0.01) would otherwise decay everything
        groups = [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": 0.0}]
    kwargs = {**fixed, **kwargs}
    check_kinds(cls, kwargs, f"optimizer {name!r}")
    betas = kwargs.get("betas")
    if betas is not None and not (isinstance(betas, (list, tuple)) and len(betas) == 2 and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
        raise ConfigError(f"optimizer {name!r}: betas must be two numbers in [0, 1), got {short(betas)}")
    if cls in FUSED and not {"fused", "foreach", "differentiable"} & kwargs.keys():
        try:
            return cls(groups, lr=float(lr), fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError, IndexError):
            pass  # no fused kernel for this device or dtype (or a bad kwarg, reported below)
    try:
        return cls(groups, lr=float(lr), **kwargs)
    except (TypeError, ValueError, IndexError) as e:  # an unknown argument; torch's range checks (momentum < 0, betas: [0.9])
        raise ConfigError(f"optimizer {name!r}: {one_line(e, 200)}") from None
