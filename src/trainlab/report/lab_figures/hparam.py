"""Figures of lab ``hparam``: Bergstra & Bengio's grid-vs-random picture made from the lab's
real trials, and CS231n's babysitting picture (loss curves by learning rate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import matplotlib
from matplotlib import cm, colors

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save


@register("hparam")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    figures = []
    rec = result["records"]
    if rec.get("random_grid", {}).get("picture"):
        figures.append(_grid_vs_random(rec["random_grid"]["picture"], out))
    if rec.get("babysit"):
        figures.append(_babysit(rec["babysit"], out))
    return figures


def _value(v) -> float:
    return float(v) if isinstance(v, (int, float)) else np.nan


def _grid_vs_random(picture: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, nrows=2, width=4.6, height=3.0, gridspec_kw={"height_ratios": [1, 2]})
    norm = colors.Normalize(0.0, 1.0)
    for col, sampler in enumerate(("grid", "random")):
        pts = np.array([[_value(x) for x in row] for row in picture[sampler]], dtype=float)  # (N, 3): lr, wd, acc
        top, ax = axes[0][col], axes[1][col]
        order = [i for i in np.argsort(pts[:, 0]) if np.isfinite(pts[i, 2])]
        top.plot(pts[order, 0], pts[order, 2], "o-", color="C0" if sampler == "grid" else "C1", ms=4)
        top.set_xscale("log")
        top.set_ylim(0, 1)
        top.set_ylabel("val accuracy")
        top.set_title(f"{sampler}: {len(pts)} trials, {len(set(pts[:, 0]))} distinct learning rates", fontsize=9)
        ok = np.isfinite(pts[:, 2])
        sc = ax.scatter(pts[ok, 0], pts[ok, 1], c=pts[ok, 2], cmap="viridis", norm=norm, s=40, edgecolors="k",
                        linewidths=0.4)
        if (~ok).any():
            ax.scatter(pts[~ok, 0], pts[~ok, 1], marker="x", color="C3", s=50, label="NaN (diverged)")
            top.plot(pts[~ok, 0], np.zeros((~ok).sum()), "x", color="C3")
            ax.legend(fontsize=7, loc="upper left")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate (important)")
        ax.set_ylabel("weight decay (unimportant)")
        top.set_xlim(ax.get_xlim())
    fig.colorbar(sc, ax=axes[1][1], label="validation accuracy")
    name = save(fig, out / "hparam-grid-vs-random.png").name
    return name, ("Bergstra & Bengio's Figure 1 from real trials (first repeat, 9 trials each): the grid tries 3 "
                  "learning rates, random search 9; above, validation accuracy against the important parameter.")


def _babysit(trials: list, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=5.0, height=3.8)
    ax, ax2 = axes[0]
    lrs = np.array([t[0] for t in trials], dtype=float)
    norm = colors.LogNorm(lrs.min(), lrs.max())
    cmap = matplotlib.colormaps["plasma"]
    for lr, value, curve, diverged in trials:
        c = np.array([[_value(x) for x in p] for p in curve], dtype=float) if curve else np.zeros((0, 3))
        if len(c):
            ax.plot(c[:, 0], c[:, 1], color=cmap(norm(lr)), lw=1.2, ls="--" if diverged else "-")
    ax.axhline(np.log(10), color="0.4", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_ylim(top=30)  # exploding runs reach 1e30: the flat and falling curves stay readable
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (logged)")
    ax.set_title("Loss by learning rate (dotted: ln 10; cut at 30)", fontsize=9)
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="learning rate")
    acc = np.array([_value(t[1]) if t[1] is not None else np.nan for t in trials])
    bad = ~np.isfinite(acc) | np.array([bool(t[3]) for t in trials])
    ax2.plot(lrs[~bad], acc[~bad], "o", color="C0", label="trained")
    if bad.any():
        ax2.plot(lrs[bad], np.zeros(bad.sum()), "x", color="C3", ms=8, label="NaN (diverged)")
    ax2.set_xscale("log")
    ax2.set_xlabel("learning rate")
    ax2.set_ylabel("validation accuracy")
    ax2.set_ylim(-0.05, 1)
    ax2.legend(fontsize=7)
    ax2.set_title("Too low: nothing moves; too high: it explodes", fontsize=9)
    name = save(fig, out / "hparam-babysitting.png").name
    return name, ("CS231n's babysitting picture from the search's learning-rate trials (1e-6 to 10): low rates leave "
                  "the loss flat, the highest explode; the best rate lies inside the range.")
