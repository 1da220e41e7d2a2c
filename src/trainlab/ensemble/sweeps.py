"""Small sweeps: a grid of settings x seeds, every group that can share one stack trained as one.

    rows = sweep(spec, dataset, seeds=range(5),
                 grid={"model.mlp.activation": ["sigmoid", "relu"], "lr": [0.01, 0.1]})

``lr``, ``weight_decay`` and ``init_scale`` vary per member inside one stack. Any other key is a
dotted path into the spec (``model.mlp.activation``, ``train.batch_size``): it changes the
architecture or the loop, so each of its values gets its own stack. The example trains 2 stacks
of 2 x 5 = 10 members. Each row: the setting, its seeds, each seed's score, mean and std.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

from trainlab.data.base import Dataset
from trainlab.ensemble.members import train_members
from trainlab.errors import ConfigError

MEMBER_KEYS = ("lr", "weight_decay", "init_scale")
SPLITS = ("train", "val", "test")


def sweep(spec: dict, dataset: Dataset, seeds=(0, 1, 2), grid: dict | None = None,
          split: str = "val", **kwargs: Any) -> list[dict]:
    """Train every (setting, seed) of ``grid`` x ``seeds`` and score each on ``split``.

    Returns one row per setting: ``{**setting, "seeds", "metric", "values", "mean", "std",
    "mode"}``; ``kwargs`` go to ``train_members`` (device, progress, data_order, ...).
    """
    grid = dict(grid or {})
    if split not in SPLITS:
        raise ConfigError(f"sweep: split must be one of {', '.join(SPLITS)}, got {split!r}")
    for key, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ConfigError(f"sweep: grid[{key!r}] must be a non-empty list of values, got {values!r}")
    seeds = list(seeds)
    member_keys = [k for k in grid if k in MEMBER_KEYS]
    spec_keys = [k for k in grid if k not in MEMBER_KEYS]
    rows = []
    for outer in itertools.product(*(grid[k] for k in spec_keys)):
        setting = dict(zip(spec_keys, outer))
        inner = [dict(zip(member_keys, v)) for v in itertools.product(*(grid[k] for k in member_keys))]
        rows += _one_stack(_override(spec, setting), dataset, seeds, setting, inner, split, kwargs)
    return rows


def _one_stack(spec: dict, dataset: Dataset, seeds: list[int], setting: dict, inner: list[dict],
               split: str, kwargs: dict) -> list[dict]:
    """Members = inner settings x seeds, in that order, trained as one stack when possible."""
    all_seeds = [s for _ in inner for s in seeds]
    per = {key: [row[key] for row in inner for _ in seeds] for key in inner[0]} if inner[0] else {}
    hparams = {k: v for k, v in per.items() if k != "init_scale"}
    members = train_members(spec, dataset, all_seeds, hparams=hparams or None,
                            init_scale=per.get("init_scale"), **kwargs)
    ev = members.evaluate(getattr(dataset, split))
    metric = "accuracy" if "accuracy" in ev else "loss"
    rows = []
    for i, row in enumerate(inner):
        values = ev[metric][i * len(seeds):(i + 1) * len(seeds)]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        rows.append({**setting, **row, "seeds": list(seeds), "metric": f"{split}_{metric}", "values": values,
                     "mean": mean, "std": std, "mode": members.mode})
    return rows


def _override(spec: dict, setting: dict) -> dict:
    """A copy of ``spec`` with dotted paths set (``model.mlp.activation``); the model builder
    and TrainConfig then check names and values as for any spec."""
    spec = copy.deepcopy(spec)
    for path, value in setting.items():
        parts = path.split(".")
        if parts[0] not in ("model", "train") or len(parts) < 2:
            raise ConfigError(f"sweep: unknown grid key {path!r}; use {', '.join(MEMBER_KEYS)} or a "
                              f"dotted path under model. or train. (e.g. model.mlp.activation)")
        node = spec.setdefault(parts[0], {})
        for i, part in enumerate(parts[1:-1], start=1):
            if not isinstance(node, dict) or part not in node:
                where = ".".join(parts[:i])
                valid = ", ".join(node) if isinstance(node, dict) else "(none)"
                raise ConfigError(f"sweep: grid key {path!r}: {where} has no {part!r}; valid keys: {valid}")
            node = node[part]
        node[parts[-1]] = value
    return spec
