"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates", section 3.3).

Train for ``steps`` mini-batches while the learning rate grows exponentially from ``start_lr``
to ``end_lr`` (lr_i = start * (end/start)^(i/(steps-1))), recording the loss. The curve is
smoothed with a bias-corrected exponential moving average (beta 0.9: a window of ~10 steps,
about one decade of lr at the default 100 steps over 8 decades; fastai uses 0.98 over longer sweeps);
the sweep stops when the smoothed loss exceeds ``diverge`` x its best or a loss is NaN/inf —
the NaN is never recorded, so it cannot move the suggestion. Afterwards the model's weights,
buffers and the RNG state are restored exactly.

Regimes (CS231n): *too low* — the loss is flat (it has not yet fallen by 10% of its total drop);
*good* — it falls; *too high* — past the minimum it rises, then explodes or turns NaN; *flat* —
the loss fell at no rate at all (something other than the rate holds training back). The
suggestion is the lr at the minimum of the smoothed loss / 10 (a rate that is still safely on
the falling side), never below the start of the good regime.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from trainlab.data.base import Split
from trainlab.errors import ConfigError
from trainlab.train import losses, optim


@dataclass
class LRFind:
    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped: str  # "end" | "diverged" | "nonfinite"
    suggestion: float | None = None
    steepest: float | None = None
    min_loss_lr: float | None = None
    regimes: dict = field(default_factory=dict)  # name -> [lr_low, lr_high]
    optimizer: str = "adam"

    def regime(self, lr: float) -> str | None:
        """'too_low' | 'good' | 'too_high' for a learning rate inside the swept range; 'flat'
        when the loss fell at no rate of the sweep (the rate is not what holds training back)."""
        for name in ("flat", "too_low", "good", "too_high"):
            lo, hi = self.regimes.get(name, (None, None))
            if lo is not None and lo <= lr <= hi:
                return name
        if self.stopped != "end" and self.lrs and lr > self.lrs[-1]:
            return "too_high"  # beyond where the sweep blew up
        return None

    def to_dict(self) -> dict:
        return asdict(self)


def _check(start_lr, end_lr, steps, beta, diverge) -> None:
    if not (isinstance(start_lr, (int, float)) and isinstance(end_lr, (int, float)) and 0 < start_lr < end_lr):
        raise ConfigError(f"lr_find: need 0 < start_lr < end_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 5:
        raise ConfigError(f"lr_find: steps must be an integer >= 5, got {steps!r}")
    if not 0 <= beta < 1:
        raise ConfigError(f"lr_find: beta must be in [0, 1), got {beta!r}")
    if not diverge > 1:
        raise ConfigError(f"lr_find: diverge must be > 1, got {diverge!r}")


def lr_find(model: nn.Module, train: Split, loss: str = "auto", task: str = "classification",
            optimizer="adam", start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100,
            batch_size: int | None = 64, beta: float = 0.9, diverge: float = 4.0, seed: int = 0,
            device="cpu") -> LRFind:
    """Sweep, then restore the model exactly (weights, buffers, train/eval mode, torch RNG)."""
    _check(start_lr, end_lr, steps, beta, diverge)
    saved, rng, was_training = copy.deepcopy(model.state_dict()), torch.get_rng_state(), model.training
    loss_fn = losses.get(losses.resolve(loss, task))
    try:
        opt = optim.build(optimizer, model, start_lr)
        lrs, raw, smooth, stopped = _sweep(model, opt, loss_fn, train, start_lr, end_lr, steps,
                                           batch_size, beta, diverge, seed, device)
    finally:
        model.load_state_dict(saved)
        model.zero_grad(set_to_none=True)
        model.train(was_training)
        torch.set_rng_state(rng)
    name = optimizer if isinstance(optimizer, str) else optim.OPTIMIZERS.split(optimizer)[0]
    result = LRFind(lrs, raw, smooth, stopped, optimizer=name)
    analyse(result)
    return result


def _sweep(model, opt, loss_fn, train: Split, start_lr, end_lr, steps, batch_size, beta, diverge, seed, device):
    x, y = train.x.to(device), train.y.to(device)
    model.train()
    with torch.no_grad():
        y = loss_fn.prepare(y, model(x[:2]).shape[-1])
    n = len(x)
    bs = min(batch_size or n, n)
    gen = torch.Generator().manual_seed(seed)
    perm, pos = torch.randperm(n, generator=gen), 0
    gamma = (end_lr / start_lr) ** (1.0 / (steps - 1))
    lrs, raw, smooth = [], [], []
    avg, best, stopped = 0.0, math.inf, "end"
    for i in range(steps):
        lr = start_lr * gamma ** i
        for g in opt.param_groups:
            g["lr"] = lr
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos:pos + bs].to(device)
        pos += bs
        opt.zero_grad(set_to_none=True)
        loss = loss_fn.fn(model(x[idx]), y[idx])
        value = loss.detach().item()
        if not math.isfinite(value):
            stopped = "nonfinite"
            break
        loss.backward()
        opt.step()
        avg = beta * avg + (1 - beta) * value
        s = avg / (1 - beta ** (i + 1))  # bias-corrected
        lrs.append(lr), raw.append(value), smooth.append(s)
        best = min(best, s)
        if i > 0 and s > diverge * best:
            stopped = "diverged"
            break
    return lrs, raw, smooth, stopped


def analyse(r: LRFind) -> LRFind:
    """Fill in the regimes and the suggestion from the smoothed curve."""
    if len(r.smoothed) < 3:
        r.regimes = {"too_high": [r.lrs[0], r.lrs[-1]]} if r.lrs else {}
        return r
    s, lrs = np.array(r.smoothed), np.array(r.lrs)
    i_min = int(np.argmin(s))
    drop = s[0] - s[i_min]
    r.min_loss_lr = float(lrs[i_min])
    if drop <= 0.02 * abs(s[0]):  # never fell: no rate helps ("flat"), until it rises
        rising = np.flatnonzero(s > s[0] + 0.1 * abs(s[0]))
        i_rise = int(rising[0]) if len(rising) else len(s) - 1
        r.regimes = {"flat": [float(lrs[0]), float(lrs[i_rise])]}
        if len(rising) or r.stopped != "end":
            r.regimes["too_high"] = [float(lrs[i_rise]), float(lrs[-1])]
        return r
    # the flat start ends where the loss falls 10% of the way down for good (noise may dip earlier)
    above = np.flatnonzero(s[:i_min + 1] > s[0] - 0.1 * drop)
    i_start = min(int(above[-1]) + 1, i_min) if len(above) else 0
    r.regimes = {"too_low": [float(lrs[0]), float(lrs[i_start])],
                 "good": [float(lrs[i_start]), float(lrs[i_min])],
                 "too_high": [float(lrs[i_min]), float(lrs[-1])]}
    slope = np.gradient(s, np.log(lrs))  # d loss / d ln lr
    j = i_start + int(np.argmin(slope[i_start:i_min + 1]))
    r.steepest = float(lrs[j])
    r.suggestion = float(max(lrs[i_min] / 10, lrs[i_start]))
    return r
