"""Stacked trials: a batch of asked trials, grouped by everything but the per-member keys
(``MEMBER_KEYS``: learning rate, weight decay, seed). Each group of two or more shares one
architecture and loop, so it trains as one stacked computation; a group of one trains alone.

    groups = group(params)                   # [[0, 3, 5], [1], [2, 4]] indices into the batch
    outcomes = run_batch(ev, spec, space, trials, params)
"""

from __future__ import annotations

import json
import math

import optuna

from trainlab.search.space import Space
from trainlab.search.trials import MEMBER_KEYS, Evaluator


def stackable(space: Space) -> bool:
    """A batch can contain trials that stack: some key varies per member, and every other key
    takes finitely many values (choices, integers), so two trials may share all of them."""
    keys = [d for d in space.dims if d.key in MEMBER_KEYS]
    return bool(keys) and all(d.key in MEMBER_KEYS or d.kind == "choice" or d.integer for d in space.dims)


def group(params: list[dict]) -> list[list[int]]:
    """Indices of the batch grouped by their values of the keys that are not per-member."""
    out: dict[str, list[int]] = {}
    for i, p in enumerate(params):
        key = json.dumps({k: v for k, v in p.items() if k not in MEMBER_KEYS}, sort_keys=True, default=str)
        out.setdefault(key, []).append(i)
    return list(out.values())


def run_batch(ev: Evaluator, spec: dict, space: Space, trials: list, params: list[dict]) -> list[tuple]:
    """One outcome per trial: ``("complete", value) | ("pruned", None) | ("fail", reason)``."""
    outcomes: list = [None] * len(trials)
    for idx in group(params):
        base = space.apply(spec, params[idx[0]])
        if len(idx) > 1:
            for i, o in zip(idx, ev.stacked([trials[i] for i in idx], base, [params[i] for i in idx])):
                outcomes[i] = o
            continue
        i = idx[0]
        try:
            value = ev.single(trials[i], base)
        except optuna.TrialPruned:
            outcomes[i] = ("pruned", None)
            continue
        diverged = trials[i].user_attrs.get("trainlab", {}).get("diverged")
        outcomes[i] = ("complete", value) if math.isfinite(value) else ("fail", diverged or "non-finite score")
    return outcomes
