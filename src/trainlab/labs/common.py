"""Small helpers every lab uses, so no lab copies another's code.

    members = train_seeds(ctx, spec, dataset)          # ctx.seeds, stacked when possible
    acc = members.evaluate(dataset.test)["accuracy"]   # one value per seed
    m, s = mean_std(acc); fmt_ms(acc) -> "0.912 ± 0.013"
    curves = member_curves(members, "loss")            # (K, points) of logged values
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

from trainlab.data.base import Dataset
from trainlab.labs.base import Context


def train_seeds(ctx: Context, spec: dict, dataset: Dataset, seeds: Iterable[int] | None = None, **kwargs: Any):
    """Train one member per seed of a run spec (``model``, ``train``) on ``dataset`` through
    ``trainlab.ensemble.train_members``: one stacked computation when the architecture allows,
    else one after another. Member k is exactly a separate run with seed ``seeds[k]``."""
    from trainlab.ensemble import train_members

    kwargs.setdefault("device", ctx.device)
    kwargs.setdefault("progress", False)
    return train_members(spec, dataset, list(ctx.seeds if seeds is None else seeds), **kwargs)


def member_curves(members, key: str = "loss") -> list[list[float]]:
    """Each member's logged ``key`` (``loss``, ``val_accuracy``, ...) over its run: (K, points)."""
    return [[h.get(key, math.nan) for h in members.trainer.member_history(k)] for k in range(members.k)]


def member_steps(members) -> list[int]:
    """The steps at which ``member_curves`` values were logged (member 0's)."""
    return [h["step"] for h in members.trainer.member_history(0)]


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value); NaNs count (they mean 'diverged')."""
    v = torch.tensor([float(x) for x in values], dtype=torch.float64)
    if len(v) == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std()) if len(v) > 1 else 0.0


def fmt_ms(values: Iterable[float], digits: int = 3) -> str:
    m, s = mean_std(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def fraction(flags: Iterable[bool]) -> float:
    flags = [bool(f) for f in flags]
    return sum(flags) / len(flags) if flags else math.nan


def sig(x: float, digits: int = 3) -> str:
    """A number for a report cell: 3 significant digits, scientific when very small or large."""
    if x is None or not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"
