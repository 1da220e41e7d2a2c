"""Figures about data: the before/after point clouds of preprocessing (CS231n's picture).

Draws only; the projection comes from ``trainlab.data.projection.projection_pair``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.plotting import figure, save


def preprocess_figure(path: str | Path, pair: dict, labels: np.ndarray | None = None,
                      name: str = "preprocess", dataset: str = "") -> Path:
    """Two scatter panels, ``before`` and ``after`` (each (n, 2)), coloured by class, with the
    origin marked and equal axis scales, so centring, scaling and whitening are visible."""
    fig, axes = figure(ncols=2, width=4.4, height=4.2)
    colour = labels if labels is not None and labels.ndim == 1 else None
    for ax, key, title in ((axes[0][0], "before", "raw"), (axes[0][1], "after", f"after {name}")):
        pts = np.asarray(pair[key], dtype=float)
        ax.scatter(pts[:, 0], pts[:, 1], c=colour, cmap="tab10" if colour is not None else None,
                   s=5, alpha=0.6, linewidths=0)
        ax.axhline(0, color="0.3", lw=0.7)
        ax.axvline(0, color="0.3", lw=0.7)
        ax.set_aspect("equal", adjustable="datalim")
        cov = np.cov(pts.T)
        corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) if cov[0, 0] > 0 and cov[1, 1] > 0 else 0.0
        ax.set_title(f"{title}\nmean ({pts[:, 0].mean():.2g}, {pts[:, 1].mean():.2g})  "
                     f"var ({cov[0, 0]:.2g}, {cov[1, 1]:.2g})  corr {corr:.2f}", fontsize=8)
        labels_xy = pair[f"axes_{key}"]
        ax.set_xlabel(labels_xy[0], fontsize=8)
        ax.set_ylabel(labels_xy[1], fontsize=8)
    fig.suptitle(f"{dataset}: training split before and after {name}".strip(": "), fontsize=10)
    return save(fig, path)
