"""Figures of finished runs: loss and accuracy against the step, one run or several overlaid.

* ``draw_run(RUN_DIR)``: ``RUN_DIR/figures/curves.png`` (``trainlab train`` calls it);
* ``curves(runs, path)``: the curves of several runs (``trainlab.report.runs.load``) in one
  figure — Lecture 10's "sigmoid vs ReLU cost" picture from two runs.

Training loss is solid, validation dashed. The trainer logs the training LOSS at every logged
step but not the training accuracy (that would cost a pass over the training set each time),
so the training accuracy appears once, as a marker at the last step (from ``result.json``).
An ensemble shows its members thin and their mean thick.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from trainlab.report.plotting import figure, save

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def draw_run(directory: str | Path) -> Path:
    """``RUN_DIR/figures/curves.png`` for one run directory."""
    from trainlab.report.runs import load

    d = Path(directory)
    return curves([load(d)], d / "figures" / "curves.png")


def curves(runs: list[dict], path: str | Path, title: str | None = None) -> Path:
    """Loss (left) and accuracy (right, when any run has one) against the step."""
    has_acc = any("val_accuracy" in r["curves"] or "accuracy" in r["curves"] or
                  "train_accuracy" in (r.get("final") or {}) for r in runs)
    fig, axes = figure(ncols=2 if has_acc else 1, width=5.2, height=3.6)
    ax_loss = axes[0][0]
    ax_acc = axes[0][1] if has_acc else None
    for i, run in enumerate(runs):
        color, label = COLORS[i % len(COLORS)], run["name"] if len(runs) > 1 else None
        _draw(ax_loss, run, ("loss", "val_loss"), color, label)
        if ax_acc is not None:
            _draw(ax_acc, run, ("accuracy", "val_accuracy"), color, label)
            final = (run.get("final") or {}).get("train_accuracy")
            steps = run["curves"].get("step") or []
            if final is not None and steps:
                ax_acc.plot([steps[-1]], [final], marker="o", color=color, ls="none")
    ax_loss.set(xlabel="step", ylabel="loss (cost)", title="loss: train solid, validation dashed")
    if _positive(ax_loss):
        ax_loss.set_yscale("log")
    if ax_acc is not None:
        ax_acc.set(xlabel="step", ylabel="accuracy", title="accuracy: validation dashed, train (end) dot")
        ax_acc.set_ylim(-0.02, 1.02)
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        if len(runs) > 1 and ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return save(fig, path)


def _draw(ax, run: dict, keys: tuple[str, str], color: str, label: str | None) -> None:
    c = run["curves"]
    steps = np.asarray(c.get("step", []), dtype=float)
    members = run.get("members") or {}
    for key, ls in zip(keys, ("-", "--")):
        for m in members.get(key, []):  # ensemble members, thin
            ax.plot(steps[:len(m)], np.asarray(m, dtype=float), color=color, lw=0.5, alpha=0.35, ls=ls)
        if key in c and len(c[key]) == len(steps):
            v = np.asarray(c[key], dtype=float)
            if np.isfinite(v).any():
                name = None if label is None else f"{label} ({'train' if ls == '-' else 'val'})"
                ax.plot(steps, v, color=color, lw=1.8, ls=ls, label=name)


def _positive(ax) -> bool:
    ys = [y for line in ax.get_lines() for y in line.get_ydata() if math.isfinite(y)]
    return bool(ys) and min(ys) > 0 and max(ys) / min(ys) > 20
