"""Synthetic sequence tasks with long-range dependencies (for recurrent nets).

``adding``: Hochreiter & Schmidhuber 1997 / Le et al. 2015. Each step is (value, marker);
values ~ U(0, 1), exactly two markers are 1 (one in each half); the target is the sum of the two
marked values (regression, mse). Predicting the mean (1.0) gives mse ~0.167.

``remember_first``: steps of N(0, 1) noise with 1 feature; the class is the sign of step 0.
The answer sits ``length - 1`` steps before the end, so a net must carry it through time.
"""

from __future__ import annotations

import torch

from trainlab.data.base import Dataset, from_arrays
from trainlab import limits
from trainlab.errors import ConfigError


def _check(name: str, n_samples: int, length: int) -> None:
    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 10:
        raise ConfigError(f"{name}: n_samples must be an integer >= 10, got {n_samples!r}")
    if not isinstance(length, int) or isinstance(length, bool) or length < 2:
        raise ConfigError(f"{name}: length must be an integer >= 2, got {length!r}")
    limits.check("data", n_samples * 2 * length, f"{name}: n_samples={n_samples:,}, length={length:,} make")


def adding(n_samples: int = 2000, length: int = 50, seed: int = 0) -> Dataset:
    """The adding problem: (T, 2) sequences, target the sum of the two marked values (regression)."""
    _check("adding", n_samples, length)
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(n_samples, length, generator=g)
    half = length // 2
    first = torch.randint(0, half, (n_samples,), generator=g)
    second = torch.randint(half, length, (n_samples,), generator=g)
    markers = torch.zeros(n_samples, length)
    rows = torch.arange(n_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)  # (N, T, 2)
    y = (values[rows, first] + values[rows, second]).unsqueeze(-1)  # (N, 1)
    return from_arrays("adding", x, y, None, {"n_samples": n_samples, "length": length, "seed": seed})


def remember_first(n_samples: int = 2000, length: int = 50, seed: int = 0) -> Dataset:
    """Noise sequences (T, 1); the class is the sign of step 0 (memory across T steps)."""
    _check("remember_first", n_samples, length)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_samples, length, 1, generator=g)
    y = (x[:, 0, 0] > 0).long()
    return from_arrays("remember_first", x, y, 2, {"n_samples": n_samples, "length": length, "seed": seed})
