"""Figures of lab ``babysitting``: the training loss per learning rate (curves and final loss
against the rate, with the band that trains and the lecture's band) and the update/weight ratio
against the rate (log-log, with the 1e-3 rule)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, set_labels, plt, save


def _num(values) -> np.ndarray:
    """Recorded numbers as floats ("nan"/"inf" strings included)."""
    return np.array([float(v) for v in values], dtype=float)


@register("babysitting")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    figures = []
    sweep, ratios = result["records"].get("sweep"), result["records"].get("ratios")
    if sweep:
        figures.append(_loss_figure(sweep, out))
    if ratios:
        figures.append(_ratio_figure(ratios, out))
    return figures


def _loss_figure(sw: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=5.2, height=4.0)
    ax, ax2 = axes[0]
    steps, lrs = _num(sw["steps"]), sw["lrs"]
    colours = plt.cm.viridis(np.linspace(0, 0.95, len(lrs)))
    for lr, curve, c in zip(lrs, sw["curves"], colours):
        y = _num(curve)
        y = np.where(np.isfinite(y), y, np.nan)
        ax.plot(steps, y, color=c, lw=1.3, label=f"lr {lr:g}")
    ax.axhline(math.log(10), color="0.4", ls=":", lw=1)
    ax.set_yscale("log")
    set_labels(ax, "step", "training loss (mean over seeds)", "Loss per learning rate (dotted: ln 10)", title_size=None, legend=None)
    ax.legend(fontsize=6, ncol=2)
    final = [np.nanmean(_num(v)) for v in sw["final_loss"]]
    ax2.plot(lrs, final, "o-", color="C0")
    if sw["band"]:
        ax2.axvspan(min(sw["band"]), max(sw["band"]), color="C2", alpha=0.2, label="trains (this lab)")
    ax2.axvspan(*sw["lecture_band"], color="C1", alpha=0.15, label="lecture's range (CIFAR-10)")
    ax2.axhline(sw["trains_below"], color="0.4", ls="--", lw=1, label="trains below ln(10)/2")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    set_labels(ax2, "learning rate", "final training loss", "Final loss against the learning rate", title_size=None)
    name = save(fig, out / "babysitting-lr.png").name
    return name, ("Training loss of the two-layer net for each learning rate: 1e-6 stays at ln 10, 1e6 explodes "
                  "after one step, a middle band trains (shaded), to the right of the lecture's CIFAR-10 range.")


def _ratio_figure(r: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(1, width=5.2, height=4.0)
    ax = axes[0][0]
    lrs = np.array(r["lrs"], dtype=float)
    for key, label, c in (("first", "first layer W1", "C0"), ("last", "output layer W2", "C3")):
        vals = np.array([[float(v) for v in seeds] for seeds in r[key]])  # (lrs, seeds)
        ax.errorbar(lrs, vals.mean(1), yerr=vals.std(1), fmt="o-", color=c, label=label, capsize=3)
    ref = np.array(r["first"][0], dtype=float).mean()
    ax.plot(lrs, ref * lrs / lrs[0], ":", color="0.5", label="slope 1 (∝ lr)")
    ax.axhline(r["target"], color="C2", ls="--", lw=1, label="CS231n's ~1e-3")
    if r["band"]:
        ax.axvspan(min(r["band"]), max(r["band"]), color="C2", alpha=0.15, label="rates that train")
    if r["lr_at_target"]:
        ax.axvline(float(r["lr_at_target"]), color="C2", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    set_labels(ax, "learning rate", "median ||dW|| / ||W|| per step", f"Update/weight ratio against the rate (W1 slope {float(r['slope']):.2f})", title_size=None)
    name = save(fig, out / "babysitting-ratio.png").name
    return name, ("Median update/weight ratio over a run against the learning rate (log-log): it grows about "
                  "linearly with the rate; the vertical line marks where W1's ratio is 1e-3.")
