"""Figures of the ``lego`` lab: fast forward (training curves of plain vs residual nets), split &
merge (curves and accuracy at equal parameters), recurrent (gradient reaching each time step,
and the training loss against the mean-predictor baseline)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

COLORS = ("tab:gray", "tab:red", "tab:blue", "tab:green", "tab:purple")


def _arr(rows) -> np.ndarray:
    """Recorded lists (NaN stored as "nan") as a float array."""
    return np.array([[float(v) for v in row] for row in rows], dtype=float)


def _curves(ax, runs: dict, title: str, ylabel: str) -> None:
    """Each run's per-seed curves (thin) and their mean (thick), log y."""
    for color, (name, r) in zip(COLORS, runs.items()):
        y = _arr(r["curves"])
        steps = r["steps"][: y.shape[1]]
        for row in y:
            ax.plot(steps, row, color=color, lw=0.6, alpha=0.35)
        ax.plot(steps, np.nanmean(y, axis=0), color=color, lw=2, label=name)
    ax.set_yscale("log")
    ax.set(title=title, xlabel="step", ylabel=ylabel)
    ax.legend(fontsize=8)


def _fast_forward(rec: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=4.6)
    _curves(axes[0][0], rec, "Fast forward: training loss", "training loss (batch mean, log)")
    ax = axes[0][1]
    names = list(rec)
    for i, (color, name) in enumerate(zip(COLORS, names)):
        train = [float(v) for v in rec[name]["train"]]
        ax.scatter([i] * len(train), train, color=color, s=18)
        ax.plot([i - 0.25, i + 0.25], [np.median(train)] * 2, color=color, lw=2)
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_yscale("log")
    ax.set(title="Final training loss per seed (bar: median)", ylabel="training loss (log)")
    path = save(fig, out / "lego-fast-forward.png")
    return path.name, ("A 30-layer plain ReLU net trains to a higher loss than a 4-layer one; its residual twin "
                       "(same layers, a skip every 2 layers) trains far lower.")


def _split_merge(rec: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=4.6)
    labels = {f"{n} ({r['params']} params)": r for n, r in rec.items()}
    _curves(axes[0][0], labels, "Split & merge: training loss", "training loss (batch mean, log)")
    ax = axes[0][1]
    for i, (color, (name, r)) in enumerate(zip(COLORS, rec.items())):
        acc = [float(v) for v in r["test"]]
        ax.scatter([i] * len(acc), acc, color=color, s=18)
        ax.errorbar([i + 0.15], [np.mean(acc)], yerr=[np.std(acc)], color=color, fmt="o", capsize=4)
    ax.set_xticks(range(len(rec)), list(rec), fontsize=8)
    ax.set(title="Test accuracy at equal parameters", ylabel="test accuracy")
    path = save(fig, out / "lego-split-merge.png")
    return path.name, "Two parallel branches merged by concat or sum, at the single branch's parameter count."


def _geomean(rows: np.ndarray) -> np.ndarray:
    """Geometric mean over seeds, ignoring NaNs (a step where every seed is NaN stays NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.exp(np.nanmean(np.log(rows), axis=0))


def _recurrent(rec: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(3, width=4.3)
    for ax, when in zip(axes[0][:2], ("init", "trained")):
        for color, cell in zip(COLORS[1:], rec[when]):
            g = _arr(rec[when][cell])  # (seeds, T)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = g / g[:, -1:]  # relative to the last step's gradient
            rel[~(np.isfinite(rel) & (rel > 0))] = np.nan  # 0 = float32 underflow: nothing to draw on a log axis
            t = np.arange(g.shape[1])
            for row in rel:
                ax.plot(t, row, color=color, lw=0.6, alpha=0.35)
            ax.plot(t, _geomean(rel), color=color, lw=2, label=cell.upper())
        ax.axhline(1e-2, color="k", ls=":", lw=1, label="1/100")
        ax.set_yscale("log")
        ax.set(title=f"||dL/dx_t|| / ||dL/dx_T-1|| {'at init' if when == 'init' else 'after training'}",
               xlabel="time step t", ylabel="gradient relative to the last step (log)")
        ax.legend(fontsize=8)
    ax = axes[0][2]
    for color, cell in zip(COLORS[1:], rec["curves"]):
        y = _arr(rec["curves"][cell])
        steps = rec["steps"][cell][: y.shape[1]]
        for row in y:
            ax.plot(steps, row, color=color, lw=0.6, alpha=0.35)
        ax.plot(steps, np.nanmean(y, axis=0), color=color, lw=2, label=cell.upper())
    ax.axhline(float(rec["baseline"]), color="k", ls="--", lw=1, label="predict the mean")
    ax.set_yscale("log")
    ax.set(title=f"Adding problem (T={rec['length']}): training mse", xlabel="step", ylabel="mse (log)")
    ax.legend(fontsize=8)
    path = save(fig, out / "lego-recurrent.png")
    return path.name, ("How much of the loss's gradient reaches each time step of the adding problem, at init and "
                       "after training, and the training loss against the mean-predictor baseline.")


@register("lego")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    rec = result["records"]
    figs = []
    if "fast_forward" in rec:
        figs.append(_fast_forward(rec["fast_forward"], out))
    if "split_merge" in rec:
        figs.append(_split_merge(rec["split_merge"], out))
    if "recurrent" in rec:
        figs.append(_recurrent(rec["recurrent"], out))
    return figs
