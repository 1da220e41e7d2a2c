"""Figures of the ``batchnorm`` lab: the (init scale x lr) grid with and without batch norm,
Lab 10-6-style validation curves, and running vs data statistics, from ``result["records"]``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

COLORS = {"plain": "tab:red", "batchnorm": "tab:blue"}
LABELS = {"plain": "no batch norm", "batchnorm": "batch norm"}


def _grid(result: dict, out: Path) -> Path:
    g = result["records"]["grid"]
    fig, axes = figure(2, width=4.2, height=3.8)
    for ax, name in zip(axes[0], ("plain", "batchnorm")):
        acc = np.asarray(g[name]["mean"], dtype=float)  # (scales, lrs)
        ax.imshow(acc, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower", aspect="auto")
        for i in range(acc.shape[0]):
            for j in range(acc.shape[1]):
                mark = "✓" if g[name]["trains"][i][j] else ""
                ax.text(j, i, f"{acc[i, j]:.2f}{mark}", ha="center", va="center", fontsize=8,
                        color="white" if acc[i, j] < 0.6 else "black")
        ax.set_xticks(range(len(g["lrs"])), [str(v) for v in g["lrs"]])
        ax.set_yticks(range(len(g["scales"])), [str(v) for v in g["scales"]])
        ax.set(xlabel="learning rate (SGD)", ylabel="init scale (x He normal)",
               title=f"{LABELS[name]}: val accuracy (✓ >= {g['threshold']})")
    return save(fig, out / "batchnorm-grid.png")


def _curves(result: dict, out: Path) -> Path:
    c = result["records"]["curves"]
    fig, axes = figure(2, width=4.5, height=3.5)
    for name in ("plain", "batchnorm"):
        for ax, key in zip(axes[0], ("val_accuracy", "val_loss")):
            a = np.asarray(c[name][key], dtype=float)  # (K, points)
            x = c[name]["epochs"]
            ax.plot(x, np.nanmean(a, 0), "-o", ms=3, color=COLORS[name], label=LABELS[name])
            if len(a) > 1:
                ax.fill_between(x, np.nanmin(a, 0), np.nanmax(a, 0), color=COLORS[name], alpha=0.15, lw=0)
    scale, lr = c["cell"]
    axes[0][0].set(xlabel="epoch", ylabel="validation accuracy", title=f"Lab 10-6 style: scale {scale}, lr {lr}")
    axes[0][1].set(xlabel="epoch", ylabel="validation loss", title="validation loss", yscale="log")
    axes[0][0].legend(fontsize=8)
    return save(fig, out / "batchnorm-curves.png")


def _stats(result: dict, out: Path) -> Path:
    s, b = result["records"]["running_stats"], result["records"]["batch_stats"]
    fig, axes = figure(2, width=4.0, height=3.6)
    for ax, key in zip(axes[0], ("mean", "var")):
        data = np.asarray(s[f"data_{key}"], dtype=float)
        ax.scatter(data, s[f"running_{key}"], s=12, color="tab:blue", label="running (eval mode)")
        ax.scatter(data, b[key], s=12, color="tab:orange", marker="x", label="one batch (train mode)")
        lim = [min(data.min(), 0.0), data.max() * 1.05]
        ax.plot(lim, lim, color="gray", lw=1, ls=":")
        ax.set(xlabel=f"training-set {key} of the layer's input", ylabel=f"{key} used by batch norm",
               title=f"First BN layer: per-channel {key}")
        ax.legend(fontsize=7)
    return save(fig, out / "batchnorm-stats.png")


@register("batchnorm")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    return [(_grid(result, out).name, "Validation accuracy over initial weight scale x learning rate: the plain "
             "deep net trains only near He scale at a moderate lr; with batch norm most cells train."),
            (_curves(result, out).name, "Validation accuracy and loss per epoch with and without batch norm "
             "(mean, min-max over seeds), as in Lab 10-6."),
            (_stats(result, out).name, "Running statistics (used in eval mode) sit on the diagonal of the "
             "training data's own; a single batch's statistics (used in train mode) scatter around it.")]
