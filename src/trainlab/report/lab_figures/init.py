"""Figures of the ``init`` lab: CS231n's per-layer activation histograms, the mean / std per
layer, SELU vs ReLU through 100 layers, and zero init's learning curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

CS231N = ("tanh, W x 0.01", "tanh, W x 1.0", "tanh, Xavier", "relu, Xavier", "relu, He")
DEEP = ("selu, LeCun normal", "relu, LeCun normal")


def num(v) -> float:
    """A recorded number (NaN/inf are stored as strings)."""
    return float(v)


def rebin(rows: list[dict], bins: int = 40) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each layer's histogram (counts over its own [min, max]) moved onto edges shared by the
    row, so layers can be compared on one x axis: the cumulative count, linear within each own
    bin, is read off at the shared edges. Returns the edges and each layer's fractions."""
    lo, hi = min(num(r["min"]) for r in rows), max(num(r["max"]) for r in rows)
    edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, bins + 1)
    out = []
    for r in rows:
        counts = np.asarray(r["hist"], dtype=float)
        own = np.linspace(num(r["min"]), num(r["max"]), len(counts) + 1)
        if own[-1] <= own[0]:  # a constant layer: all mass in one bin
            h = np.histogram([own[0]], bins=edges)[0].astype(float)
        else:
            h = np.diff(np.interp(edges, own, np.concatenate([[0.0], np.cumsum(counts)])))
        out.append(h / max(h.sum(), 1e-30))
    return edges, out


def draw_histograms(layers: dict, out: Path) -> tuple[str, str]:
    names = [n for n in CS231N if n in layers]
    depth = len(layers[names[0]])
    fig, axes = figure(depth, len(names), width=1.35, height=1.35, sharey="row")
    for i, name in enumerate(names):
        edges, hists = rebin(layers[name])
        for j, h in enumerate(hists):
            ax = axes[i][j]
            ax.bar(edges[:-1], h, width=np.diff(edges), align="edge", color=f"C{i}")
            ax.set_xlim(edges[0], edges[-1])
            ax.tick_params(labelsize=5)
            ax.set_title(f"L{j + 1}  std {num(layers[name][j]['std']):.2g}", fontsize=6)
            if j == 0:
                ax.set_ylabel(name, fontsize=7)
    fig.suptitle("Activation histograms per layer (CS231n: 1000 N(0,1) inputs, 10 x 500)", fontsize=9)
    path = save(fig, out / "init-histograms.png")
    return path.name, ("Per-layer activation histograms (one row per init, shared x range per row): W x 0.01 "
                       "collapses to a spike at 0, W x 1.0 piles up at -1 and +1, Xavier stays spread for "
                       "tanh; under ReLU Xavier shrinks layer by layer while He keeps its shape.")


def draw_stats(layers: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2)
    for i, name in enumerate(n for n in CS231N if n in layers):
        rows = layers[name]
        x = np.arange(1, len(rows) + 1)
        axes[0][0].plot(x, [num(r["mean"]) for r in rows], "o-", color=f"C{i}", label=name, ms=3)
        axes[0][1].semilogy(x, [num(r["std"]) for r in rows], "o-", color=f"C{i}", label=name, ms=3)
    axes[0][0].set(title="Mean of the activations", xlabel="layer", ylabel="mean")
    axes[0][1].set(title="Std of the activations (log)", xlabel="layer", ylabel="std")
    axes[0][1].legend(fontsize=7)
    path = save(fig, out / "init-mean-std.png")
    return path.name, "Mean and standard deviation of each layer's activations for the five inits."


def draw_deep(layers: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(2)
    for i, name in enumerate(n for n in DEEP if n in layers):
        rows = layers[name]
        x = np.arange(1, len(rows) + 1)
        axes[0][0].plot(x, [num(r["mean"]) for r in rows], color=f"C{i + 5}", label=name)
        axes[0][1].semilogy(x, [num(r["std"]) for r in rows], color=f"C{i + 5}", label=name)
    axes[0][0].set(title="Mean per layer", xlabel="layer", ylabel="mean")
    axes[0][1].axhline(1.0, color="gray", lw=0.8, ls="--")
    axes[0][1].set(title="Std per layer (log)", xlabel="layer", ylabel="std")
    axes[0][1].legend(fontsize=7)
    path = save(fig, out / "init-selu-deep.png")
    return path.name, ("Through 100 layers with LeCun-normal init, SELU holds mean ~0 and std ~1 while "
                       "ReLU's std decays by ~15 orders of magnitude.")


def draw_zero(sym: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(1, width=5.0)
    ax = axes[0][0]
    for i, (name, run) in enumerate(sym.items()):
        curves = np.asarray([[num(v) for v in c] for c in run["val_accuracy"]])  # (seeds, points)
        steps = run["steps"][:curves.shape[1]]
        ax.plot(steps, curves.mean(0), color=f"C{i}", label=name)
        ax.fill_between(steps, curves.min(0), curves.max(0), color=f"C{i}", alpha=0.2)
    ax.set(title="Zero init vs random init (digits, validation accuracy)", xlabel="step",
           ylabel="validation accuracy", ylim=(0, 1))
    ax.legend(fontsize=7)
    path = save(fig, out / "init-zero.png")
    return path.name, ("From zero weights the hidden units stay identical: the 32-unit net computes what a "
                       "net with one unit per layer computes (tanh: learns nothing at all), far below random init.")


@register("init")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    rec = result["records"]
    layers = rec["layers"]
    figs = [draw_histograms(layers, out), draw_stats(layers, out), draw_deep(layers, out)]
    if rec.get("symmetry"):
        figs.append(draw_zero(rec["symmetry"], out))
    return figs

