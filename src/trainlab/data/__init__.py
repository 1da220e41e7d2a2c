"""Data sets by name: ``load("spiral")``, ``load({"name": "circle", "noise": 0.2})``."""

from __future__ import annotations

import inspect
from typing import Any

from trainlab.data import sequences, synthetic
from trainlab.data.digits import digits
from trainlab.data.base import Dataset, Split, from_arrays, split_indices
from trainlab.registry import Registry, call_with_kwargs

DATASETS = Registry("dataset")
for _name in ("xor", "circle", "xor_2d", "gauss", "spiral"):
    DATASETS.register(_name, getattr(synthetic, _name))
DATASETS.register("digits", digits)
for _name in ("adding", "remember_first"):
    DATASETS.register(_name, getattr(sequences, _name))


def load(spec: Any) -> Dataset:
    """Build a data set from a name or ``{"name": ..., **params}``."""
    name, kwargs = DATASETS.split(spec)
    return call_with_kwargs(DATASETS.lookup(name), kwargs, f"dataset {name!r}")


def defaults(name: str) -> dict:
    """The data set's parameters and their defaults (for resolved specs and --set checks)."""
    sig = inspect.signature(DATASETS.lookup(name))
    return {n: p.default for n, p in sig.parameters.items() if p.default is not p.empty}


def names() -> list[str]:
    return DATASETS.names()


__all__ = ["Dataset", "Split", "DATASETS", "load", "defaults", "names", "from_arrays", "split_indices"]
