"""Figures of the ``dbn`` lab: the first RBM's filters, a Gibbs chain, the pre-training monitors,
the RBM likelihood curves, and test error by depth with and without pre-training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, set_labels, save
from trainlab.report.pretrain_figures import draw_filters, draw_monitor, draw_samples


@register("dbn")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    rec, data = result["records"], result["data"]
    figs = [(draw_filters(rec["filters"], out / "dbn-filters.png", f"First RBM's filters on {data} (first 64 units)").name,
             "Each hidden unit's incoming weights of the first RBM, as an image (scaled per tile): the classic RBM "
             "picture of strokes and blobs it learned without labels."),
            (draw_samples(rec["samples"], out / "dbn-samples.png", "Gibbs chain of the first RBM").name,
             "Rows: validation images, then the chain's mean visible state every 50 Gibbs sweeps of the first RBM."),
            (draw_monitor(rec["monitor"], out / "dbn-monitor.png", "Pre-training: reconstruction error").name,
             "Per RBM of the first seed's stack: reconstruction error and the free-energy gap between validation "
             "and training data (Hinton's overfitting monitor) per epoch.")]
    figs.append(_likelihood(rec["rbm"], data, out))
    figs.append(_depths(rec["depths"], out))
    return figs


def _likelihood(rbm: dict, data: str, out: Path) -> tuple[str, str]:
    fig, axes = figure(2, width=4.4, height=3.3)
    ll, recon = axes[0][0], axes[0][1]
    for runs, style, name in ((rbm["exact"], "o-", f"{rbm['exact_hidden']} hidden, exact"),
                              (rbm["ais"], "s--", f"{rbm['ais_hidden']} hidden, AIS")):
        for i, r in enumerate(runs):
            ends = len(r["ll"]) == 2  # scored at the init and the end only: markers, no line between them
            xs = [0, len(r["recon"])] if ends else list(range(len(r["ll"])))
            ll.plot(xs, r["ll"], style[0] if ends else style, ms=4 if ends else 3,
                    color="C0" if "exact" in name else "C1",
                    label=(name + (" (init and end)" if ends else "")) if i == 0 else None)
            recon.plot(range(1, len(r["recon"]) + 1), r["recon"], style, ms=3,
                       color="C0" if "exact" in name else "C1", label=name if i == 0 else None)
    set_labels(ll, "epoch (0: Hinton's init)", "held-out mean log p(v) (nats)", f"RBM log-likelihood on binarized {data}")
    set_labels(recon, "epoch", "reconstruction error", "Reconstruction error")
    name = save(fig, out / "dbn-likelihood.png").name
    return name, ("Held-out log-likelihood (exact for the small RBM; AIS for the wider one, at the init and the "
                  "end, and at full size after every epoch with fewer intermediate distributions) and reconstruction "
                  "error per epoch, one line per seed.")


def _depths(depths: dict, out: Path) -> tuple[str, str]:
    fig, axes = figure(1, width=5.0, height=3.5)
    ax = axes[0][0]
    ds = sorted(int(d) for d in depths)
    for key, color, label in (("pre", "C2", "DBN pre-trained"), ("random", "C3", "random init (U(±1/√fan_in))")):
        errs = [[1 - a for a in depths[str(d)][key]] for d in ds]
        ax.plot(ds, [np.mean(e) for e in errs], "o-", color=color, label=label)
        for d, e in zip(ds, errs):
            ax.plot([d] * len(e), e, ".", color=color, alpha=0.6)
    ax.set_xticks(ds)
    set_labels(ax, "hidden layers (sigmoid)", "test error", "Erhan et al. 2010: pre-training's advantage by depth")
    name = save(fig, out / "dbn-depths.png").name
    return name, ("Test error of the same sigmoid MLPs fine-tuned identically from a DBN or from random init, by "
                  "depth (line: mean over seeds; dots: each seed).")
