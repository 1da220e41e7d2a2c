"""Figure of the ``ensemble`` lab: test accuracy against the number of members combined, beside
the mean and best single member and the lecture's "2-5% higher" band."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save


@register("ensemble")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    rec = result["records"]
    curves, members, summary = rec["curves"], rec["members"], rec["summary"]
    low, high = rec["gain"]["lecture"]
    side = rec.get("mnist")  # the same ensemble on MNIST, when it was on disk
    fig, axes = figure(3 if side else 2, width=4.8, height=3.6)
    _curve(axes[0][0], curves, summary, (low, high), result["data"])
    if side:
        _curve(axes[0][2], side["curves"], side["summary"], (low, high), "MNIST")
    dots, mean = axes[0][1], summary["member_mean"]
    k = np.arange(len(members))
    dots.bar(k, members, color="#9ecae1", label="each member")
    dots.axhline(summary["ensemble"], color="#1f77b4", lw=2, label=f"ensemble of all {len(members)}")
    dots.axhline(mean, color="gray", ls=":", label="mean member")
    span = max(members) - min(min(members), mean)
    dots.set_ylim(min(members) - max(0.02, span), max(summary["ensemble"], max(members)) + 0.01)
    dots.set_xticks(k, [str(s) for s in result["seeds"]])
    dots.set_xlabel("member (seed)")
    dots.set_ylabel("test accuracy")
    dots.set_title("Members alone vs combined")
    dots.legend(fontsize=6, loc="lower right")
    name = save(fig, out / "ensemble.png").name
    gain = 100 * rec["gain"]["gain"]
    return [(name, f"Test accuracy of the mean-probability ensemble as members are added (averaged over member "
                   f"orderings), and each member alone: combining all gains {gain:.1f} points over the mean "
                   "member (lecture: 2-5%).")]


def _curve(ax, curves: dict, summary: dict, lecture: tuple, data: str) -> None:
    """Ensemble accuracy vs members combined, over the mean/best member and the lecture's band."""
    n = np.arange(1, len(curves["mean"]) + 1)
    mean = summary["member_mean"]
    ax.axhspan(mean + lecture[0], mean + lecture[1], color="#2ca02c", alpha=0.15,
               label="lecture: mean member + 2-5%")
    ax.plot(n, curves["mean"], "o-", color="#1f77b4", label="ensemble (mean of probabilities)")
    ax.plot(n, curves["vote"], "s--", ms=4, color="#ff7f0e", label="ensemble (majority vote)")
    ax.axhline(mean, color="gray", ls=":", label="mean member")
    ax.axhline(summary["best_member"], color="black", ls="-.", lw=0.8, label="best member")
    ax.set_xlabel("number of members combined")
    ax.set_ylabel("test accuracy")
    ax.set_xticks(n)
    ax.set_title(f"Accuracy vs members ({data})")
    ax.legend(fontsize=6, loc="best")
