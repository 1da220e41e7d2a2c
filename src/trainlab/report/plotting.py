"""Shared matplotlib set-up: the Agg backend (no screen needed) and atomic PNG writes."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from trainlab.atomic import atomic_write  # noqa: E402


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.0, height: float = 3.2, **kw):
    """``plt.subplots`` sized per panel; returns (fig, axes)."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)


def save(fig, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))
    return Path(path)
