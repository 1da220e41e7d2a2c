"""The rules that turn collected numbers into findings. Thresholds are module constants, each
with where it comes from; medians over the sampled steps make one odd step harmless.

Gradient rules compare each layer's gradient RMS (norm / sqrt(numel)) to the output layer's,
so a wide first layer (784x512) is not "exploding" merely for having more weights; the
evidence also carries the plain norm ratio (``grad_rel``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from trainlab.diagnose import causes
from trainlab.diagnose.findings import Finding, layer_range, rule
from trainlab.diagnose.log import ProbeLog

VANISH, VANISH_ERROR = 1e-3, 1e-5  # gradient RMS ratio to the output layer
ACTIVE = 0.1  # steps whose output-layer gradient is >= 10% of its largest count for the ratios
EXPLODE, EXPLODE_ERROR = 1e2, 1e4
DEAD, DEAD_ERROR = 0.4, 0.7  # CS231n: "as much as 40% of your network can be dead"
SATURATED, SATURATED_ERROR = 0.3, 0.6  # fraction of outputs in the flat tails
COLLAPSE, EXPLODE_ACT = 1e-2, 1e2  # smallest / largest deeper hidden-layer std over the first's
SYMMETRIC = 1e-3  # row spread: 0 = every unit has the same incoming weights
UPDATE_HIGH, UPDATE_LOW = 1e-1, 1e-5  # update/weight ratio per step; CS231n: ~1e-3 is healthy
GAP, GAP_ERROR = 0.10, 0.25  # train - val accuracy
UNDERFIT = 0.5  # final train loss over the chance-level loss
FITS = 0.99  # training accuracy at which a net "fits its training data"
UNDERFIT_ACC = 0.9  # with accuracy: underfitting only below this training accuracy


@dataclass
class Evidence:
    """Everything the rules may read; a missing part switches its rules off."""

    log: ProbeLog | None = None
    checks: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    lr_find: dict | None = None


def _hidden_param_layers(log: ProbeLog) -> list[str]:
    """Parameterised layers that ran, except the output layer."""
    ran = [n for n in log.param_order if n in log.act_order]
    return [n for n in ran if n != log.output_layer]


def _rms_ratio(log: ProbeLog, name: str) -> float:
    """Median over the steps where the output layer still learns (its gradient norm at least
    ACTIVE x its largest): once a stuck net predicts the mean (loss ln 2 on XOR), the output
    gradient dies too and every ratio drifts to ~1, hiding the vanishing that caused it."""
    _, out = log.series("params", log.output_layer, "grad_norm")
    _, rel = log.series("params", name, "grad_rel")
    ok = np.isfinite(out) & np.isfinite(rel)
    if not ok.any():
        return math.nan
    active = ok & (out >= ACTIVE * np.max(out[ok]))
    n, n_out = log.layers[name]["params"], log.layers[log.output_layer]["params"]
    return float(np.median(rel[active])) * math.sqrt(n_out / n) if n else math.nan


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:.1e}" if x != 0 and abs(x) < 1e-3 else f"{x:.2g}"


@rule("vanishing_gradient")
def vanishing_gradient(ev: Evidence) -> list[Finding]:
    log = ev.log
    if not log or not log.output_layer:
        return []
    ratios = {n: _rms_ratio(log, n) for n in _hidden_param_layers(log)}
    low = [n for n, r in ratios.items() if math.isfinite(r) and r < VANISH]
    if not low:
        return []
    worst = min(ratios[n] for n in low)
    sev = "error" if worst < VANISH_ERROR else "warning"
    types = sorted({log.layers[n]["type"] for n in low})
    why, fix = causes.vanishing(log, low)
    names = ", ".join(low) if len(low) <= 4 else f"{low[0]} .. {low[-1]}"
    msg = (f"{len(low)} of {len(ratios) + 1} layers ({names}; {'/'.join(types)}) receive gradients {_fmt(worst)} to "
           f"{_fmt(max(ratios[n] for n in low))} times the output layer's (per weight, median while the output learns): "
           f"the gradient vanishes on its way back through {why}, so these layers barely learn.")
    return [Finding("vanishing_gradient", sev, msg, low,
                    {"grad_rms_ratio": ratios, "grad_rel": {n: log.summary("params", n, "grad_rel") for n in ratios},
                     "threshold": VANISH, "activations": sorted(causes.activations(log)),
                     "init_weight_scale": causes.init_scales(log, low)}, fix)]


@rule("exploding_gradient")
def exploding_gradient(ev: Evidence) -> list[Finding]:
    log = ev.log
    if not log or not log.output_layer:
        return []
    ratios = {n: _rms_ratio(log, n) for n in _hidden_param_layers(log)}
    high = [n for n, r in ratios.items() if math.isfinite(r) and r > EXPLODE]
    growth = _grad_growth(log)
    if not high and growth < EXPLODE_ERROR:
        return []
    worst = max([ratios[n] for n in high] or [0.0])
    sev = "error" if worst > EXPLODE_ERROR or growth >= EXPLODE_ERROR else "warning"
    parts = []
    if high:
        parts.append(f"{_cap(layer_range(high))} receive gradients up to {_fmt(worst)} times the output layer's "
                     f"(per weight): the gradient grows on its way back")
    if growth >= EXPLODE_ERROR:
        parts.append(f"the total gradient norm grew {_fmt(growth)}x during training")
    msg = "; ".join(parts) + ", so updates are dominated by a few huge steps."
    return [Finding("exploding_gradient", sev, msg[0].upper() + msg[1:], high or list(ratios),
                    {"grad_rms_ratio": ratios, "grad_norm_growth": growth, "threshold": EXPLODE})]


def _grad_growth(log: ProbeLog) -> float:
    """Largest total gradient norm over the first sample's (a gradient that blows up in time)."""
    totals = []
    for r in log.records:
        sq = [v["grad_norm"] ** 2 for v in r["params"].values() if v["grad_norm"] is not None
              and math.isfinite(v["grad_norm"])]
        totals.append(math.sqrt(sum(sq)) if sq else math.nan)
    t = np.array(totals)
    if len(t) < 2 or not np.isfinite(t[0]) or t[0] <= 0:
        return math.nan
    return float(np.nanmax(t[1:]) / t[0])


@rule("dead_units")
def dead_units(ev: Evidence) -> list[Finding]:
    log = ev.log
    if not log:
        return []
    half = max(1, len(log) // 2)  # units die during training: judge the second half
    dead = {k: log.summary("acts", k, "dead", last=half) for k in log.act_order}
    bad = [k for k, v in dead.items() if math.isfinite(v) and v >= DEAD]
    if not bad:
        return []
    worst = max(dead[k] for k in bad)
    msg = (f"{_cap(layer_range(bad))}: {worst:.0%} of the ReLU units output zero on every sample of a batch "
           f"(median over the second half of training): dead units pass no gradient and never recover.")
    return [Finding("dead_units", "error" if worst >= DEAD_ERROR else "warning", msg, bad,
                    {"dead_fraction": {k: dead[k] for k in bad}, "threshold": DEAD})]


@rule("saturated_units")
def saturated_units(ev: Evidence) -> list[Finding]:
    """Judged at initialization and over the first half of training: a net that grows confident
    late, once it fits, saturates its tanh units by design (not a problem to report)."""
    log = ev.log
    if not log:
        return []
    half = max(1, len(log) // 2)
    early = {k: log.summary("acts", k, "saturated", first=half) for k in log.act_order}
    init = {k: log.summary("acts", k, "saturated", first=1) for k in log.act_order}
    fits = (ev.training.get("train_accuracy") or 0.0) >= FITS
    bad = [k for k in log.act_order if (init[k] >= SATURATED) or (early[k] >= SATURATED and not fits)]
    if not bad:
        return []
    worst = max(max(early[k], init[k]) for k in bad)
    rules = sorted({log.layers[k.split("#")[0]]["rule"] for k in bad})
    msg = (f"{_cap(layer_range(bad))}: {worst:.0%} of the {'/'.join(rules)} outputs sit in the flat tails "
           f"(sigmoid < 0.03 or > 0.97, |tanh| > 0.97), where the local gradient is nearly zero "
           f"(at initialization: {max(init[k] for k in bad):.0%}; median over the first half of training: "
           f"{max(early[k] for k in bad):.0%}).")
    return [Finding("saturated_units", "error" if worst >= SATURATED_ERROR else "warning", msg, bad,
                    {"saturated_fraction": {k: early[k] for k in bad}, "at_init": {k: init[k] for k in bad},
                     "threshold": SATURATED})]


def _std_profile(log: ProbeLog) -> dict[str, float]:
    """Median output std of the hidden parameterised layers (not norms), in forward order."""
    names = [n for n in _hidden_param_layers(log) if log.layers[n]["rule"] is None
             and log.layers[n]["type"] not in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm")]
    return {n: log.summary("acts", n, "std") for n in names}


@rule("collapsing_activations")
def collapsing_activations(ev: Evidence) -> list[Finding]:
    return _std_trend(ev, collapse=True)


@rule("exploding_activations")
def exploding_activations(ev: Evidence) -> list[Finding]:
    return _std_trend(ev, collapse=False)


def _std_ratio(log: ProbeLog, collapse: bool, first: int | None) -> tuple | None:
    """(values, deepest extreme's name, its std, ratio to the first hidden layer's) or None."""
    vals = [(n, log.summary("acts", n, "std", first=first)) for n in _std_profile(log)]
    vals = [(n, v) for n, v in vals if math.isfinite(v)]
    if len(vals) < 3 or vals[0][1] <= 0:
        return None
    name, extreme = (min if collapse else max)(vals[1:], key=lambda nv: nv[1])
    return vals, name, extreme, extreme / vals[0][1]


def _std_trend(ev: Evidence, collapse: bool) -> list[Finding]:
    """Compare the deepest extreme of the std profile with the first hidden layer's, over the run
    and at initialization (a collapse at init that the optimizer later repairs still costs the
    first steps, and names the init as the cause)."""
    log = ev.log
    if not log or not log.output_layer:
        return []
    bad = (lambda r: r < COLLAPSE) if collapse else (lambda r: r > EXPLODE_ACT)
    run, init = _std_ratio(log, collapse, None), _std_ratio(log, collapse, 1)
    run_bad, init_bad = run is not None and bad(run[3]), init is not None and bad(init[3])
    if not (run_bad or init_bad):
        return []
    vals, name, extreme, ratio = run if run_bad else init
    kind = "collapsing_activations" if collapse else "exploding_activations"
    severe = (lambda r: r < COLLAPSE ** 2) if collapse else (lambda r: r > EXPLODE_ACT ** 2)
    sev = "error" if run_bad and severe(ratio) else "warning"
    verb = "shrinks" if collapse else "grows"
    effect = ("deep layers see nearly constant inputs, so their gradients vanish too." if collapse
              else "deep layers see huge inputs, which saturate units or overflow.")
    why, fix = causes.collapse(log, [n for n, _ in vals])
    init_words = f"the cause is the init: {why}" if why else "the cause is the init"
    if run_bad:
        msg = (f"The activation std {verb} layer after layer, from {_fmt(vals[0][1])} at {vals[0][0]} to "
               f"{_fmt(extreme)} at {name} ({_fmt(ratio)}x, median over the run): {effect}")
        if init_bad:
            msg += f" At initialization: {_fmt(init[3])}x; {init_words}."
    else:
        msg = (f"At initialization the activation std {verb} layer after layer, from {_fmt(vals[0][1])} at "
               f"{vals[0][0]} to {_fmt(extreme)} at {name} ({_fmt(ratio)}x): {effect} {_cap(init_words)}. "
               f"Training later repaired it (median over the run: {_fmt(run[3]) if run else 'n/a'}x), "
               f"after steps spent undoing the start.")
    evidence = {"std": dict(vals), "ratio": ratio, "at_init": dict(init[0]) if init else None,
                "ratio_at_init": init[3] if init else None,
                "init_weight_scale": causes.init_scales(log, [n for n, _ in vals])}
    return [Finding(kind, sev, msg, [n for n, _ in vals], evidence, fix if init_bad or collapse else "")]


@rule("symmetric_units")
def symmetric_units(ev: Evidence) -> list[Finding]:
    log = ev.log
    if not log:
        return []
    spread = {n: log.summary("params", n, "row_spread", how="last") for n in _hidden_param_layers(log)}
    bad = [n for n, v in spread.items() if math.isfinite(v) and v < SYMMETRIC]
    if not bad:
        return []
    msg = (f"{_cap(layer_range(bad))}: every unit has the same incoming weights (row spread "
           f"{_fmt(max(spread[n] for n in bad))}), so all units compute the same thing and get the same update "
           f"— the layer acts like a single unit.")
    return [Finding("symmetric_units", "error", msg, bad, {"row_spread": {n: spread[n] for n in bad},
                                                           "threshold": SYMMETRIC})]


@rule("nonfinite")
def nonfinite(ev: Evidence) -> list[Finding]:
    div = ev.training.get("diverged")
    if div:
        layers = [div["layer"]] if div.get("layer") else []
        return [Finding("nonfinite", "error", div["message"], layers, {k: v for k, v in div.items() if k != "message"})]
    log = ev.log
    if not log:
        return []
    for r in log.records:
        bad = [k for k, a in r["acts"].items() if not all(math.isfinite(a[f]) for f in ("mean", "min", "max"))]
        bad += [k for k, p in r["params"].items() if p["grad_norm"] is not None and not math.isfinite(p["grad_norm"])]
        if bad:
            msg = f"At step {r['step']} {layer_range(bad)} produced NaN/inf activations or gradients."
            return [Finding("nonfinite", "error", msg, bad, {"step": r["step"]})]
    return []
