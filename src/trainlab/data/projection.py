"""A 2-D view of a data set before and after preprocessing: the point clouds of CS231n's
data-preprocessing slide (original -> zero-centred -> normalised; decorrelated -> whitened).

2-D data is shown as it is. Higher-dimensional data is projected onto the top-2 principal
axes P (D, 2) of the raw training rows, the same P before and after for transforms that stay in
feature space (center, standardize, scale01/11, zca), so a shift, a rescaling or a whitening shows
as such; ``pca`` outputs are already coordinates on principal axes, so its first two are shown.
The raw projection is not centred: an offset from the origin is part of the picture.
"""

from __future__ import annotations

import numpy as np
import torch

from trainlab.data.preprocess import PCA, Preprocessor, eigh_descending
from trainlab.data.splits import random_sample


def projection_pair(x: torch.Tensor, fitted: Preprocessor, max_points: int = 2000, seed: int = 0) -> dict:
    """``{"before": (n, 2), "after": (n, 2), "index": (n,), "axes_before", "axes_after"}``
    for up to ``max_points`` rows of ``x`` (raw inputs, e.g. the training split)."""
    idx = random_sample(len(x), min(max_points, len(x)), seed)
    rows = x[torch.from_numpy(idx)]
    flat = rows.reshape(len(rows), -1).double()  # (n, D)
    if flat.shape[1] == 2:
        proj, axes = torch.eye(2, dtype=torch.float64), ["x1", "x2"]
    else:
        centred = flat - flat.mean(0)
        _, evecs = eigh_descending(centred.T @ centred / len(flat))
        proj, axes = evecs[:, :2], ["raw PC1", "raw PC2"]
    after = fitted.transform(rows).reshape(len(rows), -1).double()
    if isinstance(fitted, PCA):
        after, axes_after = after[:, :2], ["component 1", "component 2"]
        if after.shape[1] == 1:  # pca with k=1
            after = torch.cat([after, torch.zeros_like(after)], 1)
    else:
        after, axes_after = after @ proj, axes
    return {"before": (flat @ proj).numpy(), "after": after.numpy(), "index": np.asarray(idx),
            "axes_before": axes, "axes_after": axes_after}
