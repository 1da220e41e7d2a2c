"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), offline.

Pixels are scaled from 0..16 to [0, 1]; inputs are flat (64,). The split is a fixed, stratified
60/20/20 (seeded by ``split_seed``), so every class appears in every split in proportion.
"""

from __future__ import annotations

import torch

from trainlab.data.base import Dataset, Split
from trainlab.data.splits import stratified_indices  # noqa: F401 (re-exported)


def digits(split_seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1,078 / 359 / 360 images, flat (64,) in [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.data / 16.0, dtype=torch.float32)  # (1797, 64) in [0, 1]
    y = torch.tensor(bunch.target, dtype=torch.long)
    tr, va, te = (torch.from_numpy(i) for i in stratified_indices(bunch.target, seed=split_seed))
    return Dataset("digits", Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), 10,
                   {"split_seed": split_seed}, source="scikit-learn (bundled load_digits)")
