"""Figures of lab ``preprocessing``: the point clouds before and after each preprocessing
(``trainlab.report.data_figures.preprocess_figure``, CS231n's picture) and the convergence
speed of the same net on each."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.data_figures import preprocess_figure
from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, set_labels, save


@register("preprocessing")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    figures = []
    speed = result["records"].get("speed")
    if speed:
        figures.append(_speed_figure(speed, out))
    for label, cloud in result["records"].get("clouds", {}).items():
        pair = {k: np.asarray(cloud[k], dtype=float) if k in ("before", "after") else cloud[k] for k in cloud}
        slug = label.lower().replace(" ", "-")
        path = preprocess_figure(out / f"preprocessing-{slug}.png", pair, np.asarray(cloud["labels"]),
                                 name=label, dataset=result.get("data") or "digits")
        figures.append((path.name, f"Training images on their top-2 principal axes, raw (pixels 0..16) and {label}: "
                                   "coloured by digit; the origin is marked."))
    return figures


def _speed_figure(sp: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=5.0, height=3.9)
    ax, ax2 = axes[0]
    lrs, steps = np.array(sp["lrs"], dtype=float), np.array(sp["steps"], dtype=float)
    for i, (label, r) in enumerate(sp["runs"].items()):
        reach = np.array([np.nan if v is None else float(v) for v in r["reach"]])
        ax.plot(lrs, reach, "o-", color=f"C{i}", label=label)
        curve = np.array([float(v) for v in r["curve"]])
        ax2.plot(steps, np.where(np.isfinite(curve), curve, np.nan), color=f"C{i}", label=f"{label} (lr {r['lr']:g})")
    ax.set_xscale("log")
    set_labels(ax, "learning rate", f"steps to training loss {sp['threshold']}", "Speed by learning rate (gaps: some seed never got there)")
    ax2.axhline(sp["threshold"], color="0.4", ls="--", lw=1)
    ax2.set_yscale("log")
    set_labels(ax2, "step", "training loss (mean over seeds)", "Each preprocessing at its best learning rate")
    name = save(fig, out / "preprocessing-speed.png").name
    return name, ("Steps the same 64-50-10 ReLU net needs to reach the loss threshold, by learning rate and at each "
                  "preprocessing's best rate: centred, standardized and whitened inputs train faster than raw pixels.")
