"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), offline.

Pixels are scaled from 0..16 to [0, 1]; inputs are flat (64,). The split is a fixed, stratified
60/20/20 (seeded by ``split_seed``), so every class appears in every split in proportion.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from trainlab.data.base import Dataset, Split
from trainlab.data.splits import stratified_indices  # noqa: F401 (re-exported)


def digits(split_seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1,078 / 359 / 360 images, flat (64,) in [0, 1]."""
    data, target = _arrays()
    x = torch.tensor(data / 16.0, dtype=torch.float32)  # (1797, 64) in [0, 1]
    y = torch.tensor(target, dtype=torch.long)
    tr, va, te = (torch.from_numpy(i) for i in stratified_indices(target, seed=split_seed))
    return Dataset("digits", Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), 10,
                   {"split_seed": split_seed}, source="scikit-learn (bundled load_digits)")


def _arrays() -> tuple[np.ndarray, np.ndarray]:
    """(pixels 0..16 (1797, 64), labels): scikit-learn's bundled CSV read as its ``load_digits``
    reads it, without importing scikit-learn (~1.3 s a process, for every command on digits);
    its own loader where the file is not where scikit-learn keeps it."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            raw = np.loadtxt(path, delimiter=",")
            return raw[:, :-1], raw[:, -1].astype(int)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target
