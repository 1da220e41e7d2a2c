"""Figures of the ``dropout`` lab: train/test accuracy curves without and with dropout, and each
seed's final test accuracy (paired), drawn from ``result["records"]``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

COLORS = {"plain": "tab:red", "dropout": "tab:blue"}


def _band(ax, x, curves, color, label, style):
    """Mean over seeds with a min-max band. ``curves``: (K, points)."""
    a = np.asarray(curves, dtype=float)
    ax.plot(x, a.mean(0), style, color=color, label=label, lw=1.6)
    if len(a) > 1:
        ax.fill_between(x, a.min(0), a.max(0), color=color, alpha=0.15, lw=0)


@register("dropout")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    rec = result["records"]
    curves, final, lecture = rec["curves"], rec["final"], rec["lecture"]
    fig, axes = figure(2, width=5.0, height=3.8)
    ax = axes[0][0]
    for name, c in curves.items():
        label = "no dropout" if name == "plain" else f"dropout p={c['p']}"
        _band(ax, c["epochs"], c["train"], COLORS[name], f"train, {label}", "--")
        _band(ax, c["epochs"], c["test"], COLORS[name], f"test, {label}", "-")
    ax.axhline(lecture["test"], color="gray", ls=":", lw=1, label=f"lecture's test acc {lecture['test']}")
    ax.set(xlabel="epoch", ylabel="accuracy", title="Train vs test accuracy (mean, min-max over seeds)")
    ax.set_ylim(0.6, 1.01)
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[0][1]
    seeds = rec["seeds"]
    x = np.arange(len(seeds))
    for name, off in (("plain", -0.18), ("dropout", 0.18)):
        ax.bar(x + off, final[name]["test"], width=0.36, color=COLORS[name],
               label="no dropout" if name == "plain" else "dropout")
    lo = min(min(final["plain"]["test"]), min(final["dropout"]["test"]))
    ax.set_ylim(max(0.0, lo - 0.05), 1.0)
    ax.set_xticks(x, [str(s) for s in seeds], fontsize=7)
    ax.set(xlabel="seed", ylabel="final test accuracy", title="Test accuracy per seed (same init, same data order)")
    ax.legend(fontsize=7)
    path = save(fig, out / "dropout.png")
    return [(path.name, "Without dropout the net reaches train accuracy 1.0 while test accuracy stalls; with "
                        "dropout (off at evaluation) the test curve ends higher, seed by seed.")]
