"""Figures of the ``mnist`` lab: measured test accuracy beside Lab 10's published numbers, and
the training cost per epoch of the six nets (log scale: N(0, 1) starts hundreds of times higher)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

COLORS = ("#7f7f7f", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")


@register("mnist")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    variants = result["records"]["variants"]
    data = result["data"]
    return [_accuracy(variants, data, out), _costs(variants, data, out)]


def _accuracy(variants: list[dict], data: str, out: Path) -> tuple[str, str]:
    fig, axes = figure(1, width=7.5, height=3.6)
    ax = axes[0][0]
    x = np.arange(len(variants))
    means = [float(np.mean(v["accuracy"])) for v in variants]
    stds = [float(np.std(v["accuracy"], ddof=1)) if len(v["accuracy"]) > 1 else 0.0 for v in variants]
    ax.bar(x - 0.2, means, 0.4, yerr=stds, capsize=3, color=COLORS, label=f"measured ({data}, mean ± std)")
    ax.bar(x + 0.2, [v["published"] for v in variants], 0.4, color="white", edgecolor="black", hatch="//",
           label="published (Lab 10, MNIST)")
    for i, v in enumerate(variants):  # every seed as a dot: the spread behind the bar
        ax.plot([x[i] - 0.2] * len(v["accuracy"]), v["accuracy"], "k.", ms=3)
    low = min(min(means) - 0.05, 0.85)
    ax.set_ylim(max(0.0, low), 1.0)
    ax.set_xticks(x, [v["label"] for v in variants], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy")
    ax.set_title("Lab 10's progression: measured vs published")
    ax.legend(fontsize=7, loc="lower right")
    name = save(fig, out / "mnist-accuracy.png").name
    return name, (f"Test accuracy of the six nets on {data} (bars: mean over seeds, dots: each seed) beside "
                  "Lab 10's published MNIST numbers (hatched).")


def _costs(variants: list[dict], data: str, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=4.6, height=3.4)
    cost, val = axes[0][0], axes[0][1]
    for v, color in zip(variants, COLORS):
        cost.plot(v["epochs"], v["loss_curve"], "o-", ms=3, color=color, label=v["label"])
        val.plot(v["epochs"], v["val_curve"], "o-", ms=3, color=color, label=v["label"])
    cost.set_yscale("log")
    cost.set_xlabel("epoch")
    cost.set_ylabel("mean training cost over the epoch (log)")
    cost.set_title("Cost per epoch: N(0,1) starts far higher")
    cost.legend(fontsize=6)
    val.set_xlabel("epoch")
    val.set_ylabel("validation accuracy")
    val.set_title("Validation accuracy per epoch")
    name = save(fig, out / "mnist-cost.png").name
    return name, (f"Mean training cost per epoch (log scale) and validation accuracy on {data}, averaged over "
                  "seeds: the nets started at N(0, 1) begin hundreds of times above Xavier's cost.")
