"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), offline.

Pixels are scaled from 0..16 to [0, 1]; inputs are flat (64,). The split is a fixed, stratified
60/20/20 (seeded by ``split_seed``), so every class appears in every split in proportion.
"""

from __future__ import annotations

import numpy as np
import torch

from trainlab.data.base import Dataset, Split


def stratified_indices(y: np.ndarray, fractions=(0.6, 0.2, 0.2), seed: int = 0) -> tuple[np.ndarray, ...]:
    """Per class, a seeded permutation cut by ``fractions``: train / val / test index arrays."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_tr, n_va = int(round(fractions[0] * len(idx))), int(round(fractions[1] * len(idx)))
        for part, chunk in zip(parts, (idx[:n_tr], idx[n_tr:n_tr + n_va], idx[n_tr + n_va:])):
            part.append(chunk)
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def digits(split_seed: int = 0) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.data / 16.0, dtype=torch.float32)  # (1797, 64) in [0, 1]
    y = torch.tensor(bunch.target, dtype=torch.long)
    tr, va, te = (torch.from_numpy(i) for i in stratified_indices(bunch.target, seed=split_seed))
    return Dataset("digits", Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), 10,
                   {"split_seed": split_seed})
