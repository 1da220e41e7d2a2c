"""Coarse to fine (CS231n): a few epochs first, then longer, each stage searching where the
previous stage's best trials were. Optuna has no such thing, so each stage is its own study
(``NAME-stage1``, ``NAME-stage2``, ... in the same storage) and this module derives a stage's
space from the one before.

After a stage, every numeric range narrows to the span of its top ``top`` fraction of trials
(in log10 space for log ranges), widened by ``margin`` of the old width on each side and kept
inside the old range. When the stage's best value sits within ``edge`` of an end of its range
(CS231n's "worrying" case: the optimum may lie outside), the search says so and extends that
end by a quarter of the old width instead (never across 0, nor an integer range below 1
when it started at or above 1). Choices are kept as they are.
"""

from __future__ import annotations

import math
from typing import Callable

from trainlab.search.space import Dim, Space

TOP, MARGIN, EDGE, GROW = 0.25, 0.1, 0.05, 0.25


def stage_epochs(final: int, stages: int) -> list[int]:
    """Epochs per stage, geometric from 1 to ``final`` (3 stages of a 20-epoch spec: 1, 4, 20)."""
    if stages == 1:
        return [final]
    out = [max(1, round(final ** (i / (stages - 1)))) for i in range(stages)]
    for i in range(1, stages):
        out[i] = max(out[i], out[i - 1])
    return out


def at_edge(d: Dim, value: float, edge: float = EDGE) -> str | None:
    """``"low"`` / ``"high"`` when ``value`` lies within ``edge`` of that end of ``d``'s range."""
    lo, hi = (_t(d, v) for v in d.values)
    v = _t(d, value)
    if v <= lo + edge * (hi - lo):
        return "low"
    if v >= hi - edge * (hi - lo):
        return "high"
    return None


def narrow(space: Space, trials: list, maximize: bool, ok: Callable[[Dim], bool] = lambda d: True,
           top: float = TOP, margin: float = MARGIN, edge: float = EDGE) -> tuple[Space, list[str]]:
    """The next stage's space from this stage's finished ``trials`` (FrozenTrial with a value),
    and the warnings it printed. ``ok(dim)`` says whether a widened range is valid for the spec
    (e.g. dropout cannot go below 0); an invalid widening keeps the old end and says so."""
    done = sorted((t for t in trials if t.value is not None and math.isfinite(t.value)),
                  key=lambda t: t.value, reverse=maximize)
    if len(done) < 2:
        return space, ["fewer than 2 finished trials: the next stage keeps this stage's ranges"]
    best, keep = done[0], done[:max(2, math.ceil(top * len(done)))]
    dims, warnings = [], []
    for d in space.dims:
        if not d.numeric or d.key not in best.params:
            dims.append(d)
            continue
        lo, hi = (_t(d, v) for v in d.values)
        width = hi - lo
        vals = [_t(d, t.params[d.key]) for t in keep if d.key in t.params]
        new_lo, new_hi = max(lo, min(vals) - margin * width), min(hi, max(vals) + margin * width)
        side = at_edge(d, best.params[d.key], edge)
        if side is not None:
            grown = (lo - width * GROW, new_hi) if side == "low" else (new_lo, hi + width * GROW)
            wide = _dim(d, *grown)
            if wide is not None and _same_sign(d, wide) and ok(wide):
                warnings.append(f"{d.key}: the best value {best.params[d.key]:.4g} is at the {side} edge of "
                                f"{d.describe()}: the optimum may lie outside it; widening to {wide.describe()}")
                dims.append(wide)
                continue
            warnings.append(f"{d.key}: the best value {best.params[d.key]:.4g} is at the {side} edge of "
                            f"{d.describe()}, but the range cannot grow past {d.values[0 if side == 'low' else 1]:g}")
        dims.append(_dim(d, new_lo, new_hi) or d)
    return Space(dims), warnings


def _same_sign(old: Dim, new: Dim) -> bool:
    """Widening never crosses 0 (dropout, weight decay) nor takes a range that began at >= 1
    (depth, width) below 1."""
    if old.values[0] >= 1 and old.integer:
        return new.values[0] >= 1
    return not (old.values[0] >= 0 > new.values[0])


def _t(d: Dim, v: float) -> float:
    return math.log10(v) if d.log else float(v)


def _dim(d: Dim, lo: float, hi: float) -> Dim | None:
    """A dim of ``d``'s kind over [lo, hi] given in transformed space; None if it is empty."""
    if d.log:
        lo, hi = 10 ** lo, 10 ** hi
    if d.integer:
        lo, hi = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
        if d.log:
            lo = max(1, lo)
        if hi <= lo:
            hi = lo + 1
        return Dim(d.key, d.kind, (int(lo), int(hi)))
    if not hi > lo or (d.log and lo <= 0):
        return None
    return Dim(d.key, d.kind, (float(f"{lo:.6g}"), float(f"{hi:.6g}")))
