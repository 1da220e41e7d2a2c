"""Synthetic 2-D data: the lecture's 4-point XOR and the TensorFlow Playground sets.

The Playground generators (circle, xor_2d, gauss, spiral) follow playground.tensorflow.org's
``dataset.ts``: points in roughly [-6, 6]^2, labels 0/1, ``noise`` in [0, 1] scaling the jitter.
Every set is generated from its own ``seed`` (default 0) and split 60/20/20 with a fixed
permutation, so the splits do not depend on the training seed.
"""

from __future__ import annotations

import math

import torch

from trainlab.data.base import Dataset, Split, from_arrays
from trainlab import limits
from trainlab.errors import ConfigError


def _check(name: str, n_samples: int, noise: float) -> None:
    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 10:
        raise ConfigError(f"{name}: n_samples must be an integer >= 10, got {n_samples!r}")
    limits.check("data", n_samples * 2, f"{name}: n_samples={n_samples:,} makes")
    if not isinstance(noise, (int, float)) or isinstance(noise, bool) or not 0 <= noise <= 1:
        raise ConfigError(f"{name}: noise must be a number in [0, 1], got {noise!r}")


def xor() -> Dataset:
    """The lecture's XOR: the 4 points, trained and evaluated on the same 4 points
    (x_data = [[0,0],[0,1],[1,0],[1,1]], y_data = [[0],[1],[1],[0]])."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([0, 1, 1, 0])
    s = Split(x, y)
    return Dataset("xor", s, s, s, n_classes=2, params={})


def circle(n_samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Class 1 inside radius 2.5, class 0 on a ring between 3.5 and 5 (Playground 'circle')."""
    _check("circle", n_samples, noise)
    g = torch.Generator().manual_seed(seed)
    half = n_samples // 2
    r = torch.cat([torch.rand(half, generator=g) * 2.5,
                   3.5 + torch.rand(n_samples - half, generator=g) * 1.5])
    angle = torch.rand(n_samples, generator=g) * 2 * math.pi
    x = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
    x = x + (torch.rand(n_samples, 2, generator=g) * 10 - 5) * noise
    y = torch.cat([torch.ones(half, dtype=torch.long), torch.zeros(n_samples - half, dtype=torch.long)])
    return from_arrays("circle", x, y, 2, {"n_samples": n_samples, "noise": noise, "seed": seed})


def xor_2d(n_samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points uniform in [-5, 5]^2 (kept 0.3 away from the axes), label 1 where x*y >= 0."""
    _check("xor_2d", n_samples, noise)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_samples, 2, generator=g) * 10 - 5
    x = x + torch.sign(x) * 0.3
    y = (x[:, 0] * x[:, 1] >= 0).long()  # label from the clean point, then jitter
    x = x + (torch.rand(n_samples, 2, generator=g) * 10 - 5) * noise
    return from_arrays("xor_2d", x, y, 2, {"n_samples": n_samples, "noise": noise, "seed": seed})


def gauss(n_samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two Gaussian blobs centred at (2, 2) and (-2, -2); std grows from 0.5 to 4 with noise."""
    _check("gauss", n_samples, noise)
    g = torch.Generator().manual_seed(seed)
    std = 0.5 + 3.5 * noise
    half = n_samples // 2
    centres = torch.cat([torch.full((half, 2), 2.0), torch.full((n_samples - half, 2), -2.0)])
    x = centres + torch.randn(n_samples, 2, generator=g) * std
    y = torch.cat([torch.ones(half, dtype=torch.long), torch.zeros(n_samples - half, dtype=torch.long)])
    return from_arrays("gauss", x, y, 2, {"n_samples": n_samples, "noise": noise, "seed": seed})


def spiral(n_samples: int = 500, noise: float = 0.1, seed: int = 0, turns: float = 1.75) -> Dataset:
    """Two interleaved spirals, one per class (Playground 'spiral'): r grows 0 -> 5 over `turns`."""
    _check("spiral", n_samples, noise)
    if not isinstance(turns, (int, float)) or isinstance(turns, bool) or turns <= 0:
        raise ConfigError(f"spiral: turns must be a positive number, got {turns!r}")
    g = torch.Generator().manual_seed(seed)
    half = n_samples // 2
    xs, ys = [], []
    for label, delta, n in ((1, 0.0, half), (0, math.pi, n_samples - half)):
        i = torch.arange(n, dtype=torch.float32)
        r = i / n * 5
        t = turns * i / n * 2 * math.pi + delta
        pts = torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1)
        pts = pts + (torch.rand(n, 2, generator=g) * 2 - 1) * noise * 5 * 0.3
        xs.append(pts)
        ys.append(torch.full((n,), label, dtype=torch.long))
    return from_arrays("spiral", torch.cat(xs), torch.cat(ys), 2,
                       {"n_samples": n_samples, "noise": noise, "seed": seed, "turns": turns})


def reg_plane(n_samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Regression (Playground 'plane'): x uniform in [-6, 6]^2, target (x1 + x2) / 10 read at the
    point jittered by ``noise`` x 6; targets roughly in [-1.2, 1.2]."""
    _check("reg_plane", n_samples, noise)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_samples, 2, generator=g) * 12 - 6
    jitter = (torch.rand(n_samples, 2, generator=g) * 12 - 6) * noise
    y = (x + jitter).sum(1) / 10
    return from_arrays("reg_plane", x, y, None, {"n_samples": n_samples, "noise": noise, "seed": seed})


# (centre x1, centre x2, sign) of the six bumps of Playground's 'multi gaussian' regression set
_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def reg_gauss(n_samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Regression (Playground 'multi gaussian'): six bumps of sign +-1 that fall linearly to 0 at
    distance 2 from their centres; a point takes the bump of largest magnitude; targets in [-1, 1]."""
    _check("reg_gauss", n_samples, noise)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_samples, 2, generator=g) * 12 - 6
    at = x + (torch.rand(n_samples, 2, generator=g) * 12 - 6) * noise
    centres = torch.tensor([[c1, c2] for c1, c2, _ in _BUMPS])
    signs = torch.tensor([s for _, _, s in _BUMPS], dtype=torch.float32)
    height = (1 - torch.cdist(at, centres) / 2).clamp(min=0) * signs  # (N, 6)
    y = height.gather(1, height.abs().argmax(1, keepdim=True)).squeeze(1)
    return from_arrays("reg_gauss", x, y, None, {"n_samples": n_samples, "noise": noise, "seed": seed})
