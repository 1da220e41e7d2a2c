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


def save(fig, path: str | Path, dpi: int = 110, tight: bool = True) -> Path:
    """Write ``fig`` as PNG atomically and close it. ``tight=False``: the caller placed the axes
    (``fig.subplots_adjust``), so the figure is drawn once, not twice (tight_layout draws it to
    measure the text)."""
    buf = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))
    return Path(path)


def plain_log_ticks(ax, axis: str = "y") -> None:
    """Log-axis tick labels as plain numbers (0.001, 1e-05) instead of mathtext powers of ten,
    whose parser costs about 0.3 s of CPU the first time a process draws one. Call after the
    scale is set; minor ticks are labelled when the axis spans too few decades, as by default."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x, pos=None):
            text = super().__call__(x, pos)
            try:
                return f"{float(text.replace(chr(0x2212), '-')):g}" if text else text
            except ValueError:
                return text

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(Plain())
    target.set_minor_formatter(Plain(labelOnlyBase=False))


def set_labels(ax, xlabel: str, ylabel: str, title: str, title_size: float | None = 9, legend: float | None = 7) -> None:
    """An axes' labels, title and (when ``legend`` is a font size) legend, as every lab figure sets them."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title_size:
        ax.set_title(title, fontsize=title_size)
    else:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize=legend)
