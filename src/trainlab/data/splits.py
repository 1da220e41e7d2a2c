"""Stratified, seeded index splits: fixed train/val/test cuts and ``n_train`` subsamples.

Stratified means each class keeps its share: with class counts c_k out of N, a subsample of n
takes floor(n c_k / N) of class k, and the n - sum(floor) left over go to the classes with the
largest remainders (Hamilton's largest-remainder rule), so the total is exactly n.
"""

from __future__ import annotations

import numpy as np


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


def quotas(y: np.ndarray, n: int) -> dict[int, int]:
    """How many of each class a stratified sample of ``n`` takes (largest-remainder rule)."""
    classes, counts = np.unique(y, return_counts=True)
    exact = n * counts / counts.sum()
    take = np.floor(exact).astype(int)
    order = np.argsort(-(exact - take), kind="stable")  # largest remainder first, ties by class
    take[order[: n - take.sum()]] += 1
    return {int(c): int(t) for c, t in zip(classes, take)}


def stratified_sample(y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(chosen, rest)``: sorted index arrays, ``chosen`` a stratified seeded sample of n."""
    rng = np.random.default_rng(seed)
    chosen = []
    for c, k in quotas(y, n).items():
        chosen.append(rng.permutation(np.flatnonzero(y == c))[:k])
    chosen = np.sort(np.concatenate(chosen))
    rest = np.setdiff1d(np.arange(len(y)), chosen, assume_unique=True)
    return chosen, rest


def random_sample(n_total: int, n: int, seed: int) -> np.ndarray:
    """A seeded sample of ``n`` of ``range(n_total)`` (regression targets have no classes)."""
    return np.sort(np.random.default_rng(seed).permutation(n_total)[:n])
