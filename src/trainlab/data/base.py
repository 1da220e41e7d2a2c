"""What every data set returns: fixed train/val/test tensors plus what the model builder needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Split:
    x: torch.Tensor  # (N, *input_shape)
    y: torch.Tensor  # (N,) int64 class labels, or (N, *target_shape) floats for regression

    def __len__(self) -> int:
        return len(self.x)

    def to(self, device) -> "Split":
        return Split(self.x.to(device), self.y.to(device))


@dataclass
class Dataset:
    name: str
    train: Split
    val: Split
    test: Split
    n_classes: int | None  # None for regression
    params: dict = field(default_factory=dict)  # resolved parameters, written to config.yaml
    source: str = "generated"  # where the tensors came from (a folder, a URL, the package registry)
    classes: list[str] | None = None  # class names, where the data set has them
    transform: Any = None  # the preprocessing fitted on train (trainlab.data.preprocess), or None
    options: dict = field(default_factory=dict)  # the generic options used: n_train, preprocess

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    @property
    def task(self) -> str:
        return "regression" if self.n_classes is None else "classification"

    def summary(self) -> dict:
        return {"name": self.name, "n_train": len(self.train), "n_val": len(self.val),
                "n_test": len(self.test), "input_shape": list(self.input_shape),
                "n_classes": self.n_classes, **self.params, "source": self.source,
                **({"preprocess": self.options["preprocess"]} if self.transform is not None else {})}


def split_indices(n: int, fractions: tuple[float, float, float], seed: int) -> tuple[torch.Tensor, ...]:
    """A fixed, seeded permutation of range(n) cut into train/val/test index tensors."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]


def from_arrays(name: str, x: torch.Tensor, y: torch.Tensor, n_classes: int | None, params: dict,
                fractions=(0.6, 0.2, 0.2), split_seed: int = 0) -> Dataset:
    tr, va, te = split_indices(len(x), fractions, split_seed)
    return Dataset(name, Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), n_classes, params)
