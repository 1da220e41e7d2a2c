"""Figures for ``vanishing-gradient``: the gradient norm of every layer (first hidden layer to the
output layer) at init and at the end of training, one panel per depth; and the first/output
ratio over training, with the claims' bands."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.ticker import MaxNLocator

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

COLORS = {"sigmoid": "tab:red", "tanh": "tab:purple", "relu": "tab:blue"}


@register("vanishing-gradient")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    profiles = result["records"]["profiles"]
    return [_layers(profiles, out), _ratios(profiles, result["records"]["thresholds"], out)]


def _layers(profiles: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(len(profiles), width=5.0, height=3.8)
    for ax, (depth, nets) in zip(axes[0], profiles.items()):
        for act, p in nets.items():
            layers = list(range(1, len(p["median_norms"][0]) + 1))
            ax.plot(layers, p["median_norms"][0], "o-", ms=3, color=COLORS.get(act), label=f"{p['label']}: init")
            ax.plot(layers, p["median_norms"][-1], "--", color=COLORS.get(act),
                    label=f"{p['label']}: step {p['steps'][-1]}")
        ax.set(yscale="log", xlabel="layer (1 = first hidden, last = output)", ylabel="||dL/dW|| (median over seeds)",
               title=f"Gradient norm per layer, depth {depth}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=6)
    path = save(fig, Path(out) / "vanishing-gradient-layers.png")
    return path.name, ("Gradient norm per layer (log scale), solid at init and dashed after training: under "
                       "sigmoid it shrinks layer by layer toward the input; tanh (Xavier) and ReLU (He) keep it "
                       "roughly flat.")


def _ratios(profiles: dict, thresholds: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(1, width=5.6, height=3.8)
    ax = axes[0][0]
    for depth, nets in profiles.items():
        for act, p in nets.items():
            ax.plot(p["steps"], p["median_ratio"], "o-" if depth == "10" else "s--", ms=3,
                    color=COLORS.get(act), label=f"{p['label']}, depth {depth}")
    w = thresholds["within"]
    ax.axhspan(1 / w, w, color="tab:blue", alpha=0.08, label="within one order")
    ax.axhline(thresholds["vanished"], color="tab:red", ls=":", lw=1, label="two orders below")
    ax.set(yscale="log", xlabel="step", ylabel="first layer / output layer ||dL/dW||",
           title="Gradient reaching the first layer, during training")
    ax.legend(fontsize=6, loc="center right")
    path = save(fig, Path(out) / "vanishing-gradient-ratio.png")
    down = ", ".join(f"{-math.log10(nets['sigmoid']['median_ratio'][0]):.0f} at depth {d}"
                     for d, nets in profiles.items() if "sigmoid" in nets)
    return path.name, ("First-layer / output-layer gradient ratio over training (median over seeds): "
                       f"sigmoid's first layer gets orders of magnitude less ({down}); ReLU + He stays near 1.")
