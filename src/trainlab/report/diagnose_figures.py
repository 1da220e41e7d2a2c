"""Figures (and TensorBoard events) for what ``trainlab.diagnose`` measured. They read the
diagnosis as plain data — ``Diagnosis.to_dict(probes=True)``, or a saved ``diagnosis.json`` —
so the diagnose layer never imports this one.

* ``activation_histograms``: CS231n's layer-by-layer picture — one panel per layer, a row for
  the first and for the last histogram step; each histogram spans that layer's own [min, max];
* ``gradient_norms`` / ``update_ratios``: per layer over the sampled steps (log scale; the
  update/weight ratio with CS231n's ~1e-3 reference line);
* ``lr_finder``: the LR range test — raw and smoothed loss against the rate, the regimes shaded,
  the suggestion marked;
* ``write_tensorboard``: the same numbers as TensorBoard scalars and histograms.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from trainlab.report.plotting import figure, plain_log_ticks, save

REGIME_COLORS = {"too_low": "#9ecae1", "good": "#a1d99b", "too_high": "#fc9272", "flat": "#d9d9d9"}
MAX_PANELS = 12


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _hist_keys(probes: dict) -> list[str]:
    """Activation outputs (ReLU/sigmoid/tanh modules) when the model has them, else every layer;
    at most MAX_PANELS, evenly spread from first to last."""
    keys = probes["act_order"]
    acts = [k for k in keys if probes["layers"].get(k.split("#")[0], {}).get("rule") and
            not probes["layers"][k.split("#")[0]]["params"]]
    keys = acts or keys
    if len(keys) > MAX_PANELS:
        keys = [keys[int(round(i))] for i in np.linspace(0, len(keys) - 1, MAX_PANELS)]
    return keys


def activation_histograms(d: dict, path: str | Path, shared_scale: bool = False) -> Path:
    """``shared_scale``: every panel on one x-range (the widest), so a layer whose outputs
    collapse shows as a spike at 0 instead of a normal-looking histogram on a tiny range.
    Each panel is labelled with its std either way."""
    probes = d["probes"]
    recs = [r for r in probes["records"] if r.get("hist")]
    if not recs:
        raise ValueError("no histogram step was sampled")
    recs = [recs[0], recs[-1]] if len(recs) > 1 else recs
    keys = _hist_keys(probes)
    span = _shared_range(recs, keys) if shared_scale else None
    width = max(2.1, 7.0 / len(keys))  # one or two panels: room for the figure title
    fig, axes = figure(ncols=len(keys), nrows=len(recs), width=width, height=1.9)
    for row, rec in zip(axes, recs):
        for ax, key in zip(row, keys):
            counts, a = rec["hist"].get(key), rec["acts"].get(key, {})
            lo, hi = _num(a.get("min")), _num(a.get("max"))
            if counts is None or not (math.isfinite(lo) and math.isfinite(hi)):
                ax.text(0.5, 0.5, "no data / non-finite", ha="center", va="center", transform=ax.transAxes, fontsize=7)
            else:
                edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, len(counts) + 1)
                ax.stairs(counts, edges, fill=True, color="#3182bd")  # one artist, not a bar per bin
                if span is not None:
                    ax.set_xlim(*span)
                    if (hi - lo) < (span[1] - span[0]) / 100:  # narrower than a pixel or two: mark it
                        ax.axvline((lo + hi) / 2, color="#3182bd", lw=2)
            kind = probes["layers"].get(key.split("#")[0], {}).get("type", "")
            ax.set_title(f"{key} {kind}\nstep {rec['step']}: mean {_num(a.get('mean')):.2g}", fontsize=7)
            ax.text(0.97, 0.95, f"std {_num(a.get('std')):.2g}", ha="right", va="top", transform=ax.transAxes,
                    fontsize=7, fontweight="bold", bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})
            ax.tick_params(labelsize=6)
            ax.xaxis.set_major_locator(MaxNLocator(4))  # labels that do not run into each other
            ax.set_yticks([])
    scale = "all panels on one x-range" if shared_scale else "each panel spans its own min..max"
    fig.suptitle(f"activations layer by layer ({scale})", fontsize=9)
    _place(fig, top=0.62, title=0.55, left=0.15, right=0.1, bottom=0.25, between=0.25)
    return save(fig, path, tight=False)


def _place(fig, top: float, title: float, left: float, right: float, bottom: float, between: float = 0.0) -> None:
    """Fixed margins, in inches, for a figure whose text sizes are known (fixed font sizes):
    ``top`` above the first row (the figure title), ``title`` above each later row (the panel
    titles), ``between`` between columns. Drawing once, not twice as tight_layout does."""
    w, h = fig.get_size_inches()
    rows = max(1, len(fig.axes) and fig.axes[0].get_subplotspec().get_gridspec().nrows)
    cols = max(1, fig.axes[0].get_subplotspec().get_gridspec().ncols) if fig.axes else 1
    panel_h = (h - top - bottom - title * (rows - 1)) / rows
    panel_w = (w - left - right - between * (cols - 1)) / cols
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h,
                        hspace=title / panel_h, wspace=between / panel_w)


def _shared_range(recs: list[dict], keys: list[str]) -> tuple[float, float] | None:
    lo = [_num(r["acts"].get(k, {}).get("min")) for r in recs for k in keys]
    hi = [_num(r["acts"].get(k, {}).get("max")) for r in recs for k in keys]
    lo, hi = [v for v in lo if math.isfinite(v)], [v for v in hi if math.isfinite(v)]
    if not lo or not hi:
        return None
    a, b = min(lo), max(hi)
    return (a, b) if b > a else (a - 1e-12, a + 1e-12)


def _per_layer(d: dict, path: str | Path, field: str, ylabel: str, title: str, ref: float | None = None) -> Path:
    probes = d["probes"]
    steps = np.array([r["step"] for r in probes["records"]])
    names = probes["param_order"]
    fig, axes = figure(width=6.0, height=3.6)
    ax = axes[0][0]
    colors = _colors(len(names))
    for name, color in zip(names, colors):
        v = np.array([_num(r["params"].get(name, {}).get(field)) for r in probes["records"]])
        ok = np.isfinite(v) & (v > 0)
        if ok.any():
            ax.plot(steps[ok], v[ok], color=color, lw=1.2, label=name)
    if ref is not None:
        ax.axhline(ref, color="k", ls="--", lw=0.8, label=f"{ref:g} (CS231n: healthy)")
    ax.set_yscale("log")
    plain_log_ticks(ax, "y")
    ax.set(xlabel="step", ylabel=ylabel, title=title)
    if len(names) <= 14:
        ax.legend(fontsize=6, ncol=2)
    _place(fig, top=0.3, title=0, left=0.85, right=0.15, bottom=0.5)
    return save(fig, path, tight=False)


def _colors(n: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(i / max(1, n - 1)) for i in range(n)]


def gradient_norms(d: dict, path: str | Path) -> Path:
    return _per_layer(d, path, "grad_norm", "gradient norm", "gradient norm per layer (first layer dark)")


def update_ratios(d: dict, path: str | Path) -> Path:
    return _per_layer(d, path, "update_ratio", "||update|| / ||weights||", "update / weight ratio per layer", ref=1e-3)


def lr_finder(lf: dict, path: str | Path, lr: float | None = None) -> Path:
    """The LR range test's curve; ``lr``: the rate the run uses, drawn for comparison."""
    fig, axes = figure(width=6.0, height=3.6)
    ax = axes[0][0]
    if lf["lrs"]:
        for name, (lo, hi) in lf.get("regimes", {}).items():
            ax.axvspan(lo, hi, color=REGIME_COLORS[name], alpha=0.35, label=name.replace("_", " "))
        ax.plot(lf["lrs"], lf["losses"], color="0.6", lw=0.8, label="loss")
        ax.plot(lf["lrs"], lf["smoothed"], color="k", lw=1.6, label="smoothed")
        if lf.get("suggestion"):
            ax.axvline(lf["suggestion"], color="#31a354", lw=1.5, ls="--", label=f"suggested {lf['suggestion']:.2g}")
        if lr:
            ax.axvline(lr, color="#de2d26", lw=1.0, ls=":", label=f"run's lr {lr:g}")
        top = max(lf["smoothed"][0] * 1.5, min(lf["smoothed"]) * 2)
        ax.set_ylim(min(lf["losses"] + lf["smoothed"]) * 0.9, top)
    ax.set_xscale("log")
    plain_log_ticks(ax, "x")
    ax.set(xlabel="learning rate", ylabel="training loss",
           title=f"LR range test ({lf.get('optimizer')}, stopped: {lf.get('stopped')})")
    ax.legend(fontsize=6)
    _place(fig, top=0.3, title=0, left=0.6, right=0.15, bottom=0.5)
    return save(fig, path, tight=False)


def draw_all(d: dict, out: str | Path, shared_scale: bool = False) -> dict[str, Path]:
    """Every figure the diagnosis supports, into ``out``; returns name -> path."""
    out, files = Path(out), {}
    if d.get("probes", {}).get("records"):
        if any(r.get("hist") for r in d["probes"]["records"]):
            files["activations"] = activation_histograms(d, out / "activations.png", shared_scale=shared_scale)
        files["gradients"] = gradient_norms(d, out / "gradients.png")
        files["updates"] = update_ratios(d, out / "updates.png")
    if d.get("lr_find"):
        files["lr_find"] = lr_finder(d["lr_find"], out / "lr_find.png", lr=d.get("training", {}).get("lr"))
    return files


def tensorboard_available() -> bool:
    from trainlab.diagnose.tensorboard import available

    return available()


def write_tensorboard(d: dict, logdir: str | Path, records: bool = True) -> Path:
    """Scalars (activation, gradient, update statistics per layer; the loss; the LR sweep) and
    activation histograms as TensorBoard event files: ``tensorboard --logdir LOGDIR``.
    ``records=False``: the LR sweep only (the run's own events came from the ``TensorBoard``
    callback while it trained)."""
    from trainlab.diagnose.tensorboard import Events, write_record

    logdir = Path(logdir)
    w = Events(logdir)
    try:
        for r in d.get("probes", {}).get("records", []) if records else []:
            write_record(w, r)
            w.write(r["step"])
        lf = d.get("lr_find") or {}
        for i, (lr, s) in enumerate(zip(lf.get("lrs", []), lf.get("smoothed", []))):
            w.scalar("lr_find/smoothed_loss", s)
            w.scalar("lr_find/lr", lr)
            w.write(i)
    finally:
        w.close()
    return logdir
