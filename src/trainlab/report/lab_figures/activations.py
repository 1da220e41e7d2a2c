"""Figures of the ``activations`` lab: learning curves per activation, and the test-accuracy
table of Mishkin & Matas' slide as bars (mean ± std over seeds, n/c hatched)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save


def curves(values: list) -> np.ndarray:
    """(seeds, points) float array; NaN/inf were stored as strings."""
    n = min(len(c) for c in values)
    return np.asarray([[float(v) for v in c[:n]] for c in values])


def draw_curves(runs: dict, chance: float, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=5.0, height=3.8)
    for i, (act, run) in enumerate(runs.items()):
        color, style = f"C{i % 10}", "--" if i >= 10 else "-"
        for ax, key in ((axes[0][0], "loss"), (axes[0][1], "val_accuracy")):
            c = curves(run[key])
            steps = np.asarray(run["steps"][:c.shape[1]])
            ax.plot(steps, c.mean(0), style, color=color, label=act, lw=1.2)
            ax.fill_between(steps, c.min(0), c.max(0), color=color, alpha=0.12)
    axes[0][0].set(title="Training loss (mean, min-max over seeds)", xlabel="step", ylabel="cross-entropy",
                   yscale="log")
    axes[0][1].axhline(chance, color="gray", ls=":", lw=1)
    axes[0][1].set(title="Validation accuracy", xlabel="step", ylabel="accuracy")
    axes[0][1].legend(fontsize=6, ncol=2)
    path = save(fig, out / "activations-curves.png")
    return path.name, ("Learning curves of the same deep MLP with ten activations: sigmoid's loss stays at "
                       "ln 10 (no learning); the others all learn, tanh among the slowest.")


def draw_bars(runs: dict, chance: float, out: Path) -> tuple[str, str]:
    names = list(runs)
    acc = [np.asarray([float(a) for a in runs[n]["acc"]]) for n in names]
    nc = [all(runs[n]["nc"]) for n in names]
    fig, axes = figure(1, width=7.0, height=3.4)
    ax = axes[0][0]
    x = np.arange(len(names))
    err = [a.std(ddof=1) if len(a) > 1 else 0.0 for a in acc]
    bars = ax.bar(x, [a.mean() for a in acc], yerr=err,
                  color=["lightgray" if f else f"C{i}" for i, f in enumerate(nc)], capsize=3)
    for b, f, a, e in zip(bars, nc, acc, err):
        if f:
            b.set_hatch("//")
        ax.text(b.get_x() + b.get_width() / 2, max(a.max(), a.mean() + e) + 0.01, "n/c" if f else f"{a.mean():.2f}",
                ha="center", va="bottom", fontsize=7)
    for xi, a in zip(x, acc):
        ax.plot(np.full(len(a), xi), a, "k.", ms=3)
    ax.axhline(chance, color="gray", ls=":", lw=1, label="chance")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set(title="Test accuracy per activation (mean ± std over seeds; dots: seeds)", ylabel="test accuracy")
    ax.legend(fontsize=7)
    path = save(fig, out / "activations-accuracy.png")
    return path.name, ("Mishkin & Matas' table as bars: sigmoid did not converge (n/c), the ReLU family and "
                       "maxout are at or above tanh.")


@register("activations")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    runs, chance = result["records"]["runs"], float(result["records"]["chance"])
    return [draw_curves(runs, chance, out), draw_bars(runs, chance, out)]
