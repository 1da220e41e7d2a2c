"""Rules over the run as a whole: the checks, the loss curve, the train/val gap, the learning
rate (measured update/weight ratios and the LR range test)."""

from __future__ import annotations

import math

import numpy as np

from trainlab.diagnose.findings import Finding, rule
from trainlab.diagnose.rules import GAP, GAP_ERROR, UNDERFIT, UNDERFIT_ACC, UPDATE_HIGH, UPDATE_LOW, Evidence, _fmt

RISE = 1.05  # the loss ended 5% above where it started
SPIKE = 1.5  # a logged loss (a mean over log_every steps) 1.5x the loss at step 1
FLAT = 0.05  # the loss fell by less than 5%
MARGIN = 3.0  # range-test hints (info) only when the rate is 3x past a regime boundary


def _loss_progress(ev: Evidence) -> tuple[float, float] | None:
    """(loss at step 1, last logged loss), when both are finite."""
    curve = [v for v in ev.training.get("losses", []) if v is not None and math.isfinite(v)]
    first = ev.training.get("initial_loss")
    first = first if first is not None and math.isfinite(first) else (curve[0] if len(curve) > 1 else None)
    return (first, curve[-1]) if curve and first is not None else None


def _update_ratios(ev: Evidence) -> dict[str, float]:
    log = ev.log
    if not log:
        return {}
    names = [n for n in log.param_order if n in log.act_order]
    return {n: log.summary("params", n, "update_ratio") for n in names}


@rule("loss_at_init")
def loss_at_init(ev: Evidence) -> list[Finding]:
    c = ev.checks.get("loss_at_init")
    if not c or c.get("passed") is not False:
        return []
    ratio = c["ratio"]
    sev = "error" if not math.isfinite(ratio) or ratio > 3 or ratio < 0.25 else "warning"
    side = "above" if ratio > 1 else "below"
    msg = (f"The loss at initialization is {_fmt(c['loss'])}, {_fmt(ratio)}x the {_fmt(c['expected'])} "
           f"a fresh model should score ({side} chance): "
           + ("the initial outputs are far from uniform, so the first steps only undo a bad start."
              if ratio > 1 else "the untrained model already scores better than chance: check for a data leak."))
    return [Finding("loss_at_init", sev, msg, [], {k: c[k] for k in ("loss", "expected", "ratio")})]


@rule("lr_too_high")
def lr_too_high(ev: Evidence) -> list[Finding]:
    t, reasons, evidence, severe = ev.training, [], {}, False
    div = t.get("diverged")
    if div and "learning rate" in div.get("cause", ""):
        reasons.append(f"training diverged to NaN/inf at step {div.get('step')}")
        severe = True
    prog = _loss_progress(ev)
    peak = max([v for v in t.get("losses", []) if v is not None and math.isfinite(v)] or [math.nan])
    if prog and not div and prog[1] > RISE * prog[0]:
        reasons.append(f"the training loss rose from {_fmt(prog[0])} to {_fmt(prog[1])}")
        severe = True
    elif prog and not div and peak > SPIKE * prog[0]:
        reasons.append(f"the training loss spiked to {_fmt(peak)} from {_fmt(prog[0])} at the start")
        severe = True
    if prog:
        evidence.update(loss_first_last=list(prog), loss_peak=peak)
    ups = [v for v in _update_ratios(ev).values() if math.isfinite(v)]
    if ups and np.median(ups) > UPDATE_HIGH:
        reasons.append(f"each step changes the weights by {_fmt(float(np.median(ups)))} of their size "
                       f"(median over layers; ~1e-3 is healthy)")
        evidence["update_ratio_median"] = float(np.median(ups))
    lf = ev.lr_find or {}
    past_min = lf.get("regime") == "too_high"
    evidence.update(lr=t.get("lr"), suggestion=lf.get("suggestion"), lr_find_min=lf.get("min_loss_lr"))
    far_past = past_min and lf.get("min_loss_lr") and t.get("lr", 0) >= MARGIN * lf["min_loss_lr"]
    if far_past and not reasons and not div:  # training coped; the range test still advises
        return [Finding("lr_too_high", "info", f"The learning rate {t.get('lr'):g} lies past the loss minimum of the "
                        f"LR range test (at {_fmt(lf.get('min_loss_lr'))}); training coped here, but a rate near "
                        f"{_fmt(lf.get('suggestion'))} is usually steadier.", [], evidence)]
    if past_min and reasons:
        reasons.append(f"it lies past the LR range test's loss minimum ({_fmt(lf.get('min_loss_lr'))})")
    if not reasons:
        return []
    msg = f"The learning rate {t.get('lr'):g} looks too high: " + "; ".join(reasons) + "."
    return [Finding("lr_too_high", "error" if severe else "warning", msg, [], evidence)]


@rule("lr_too_low")
def lr_too_low(ev: Evidence) -> list[Finding]:
    t, lf = ev.training, ev.lr_find or {}
    prog = _loss_progress(ev)
    if not prog or t.get("diverged"):
        return []
    if prog[0] - prog[1] > FLAT * abs(prog[0]):  # the loss moved: at most a hint from the range test
        flat_until = lf.get("regimes", {}).get("too_low", [0, 0])[1]
        deep_in_flat = lf.get("regime") == "too_low" and t.get("lr", math.inf) * MARGIN <= flat_until
        if not deep_in_flat or prog[1] < 0.5 * prog[0]:  # or it trained well anyway
            return []
        return [Finding("lr_too_low", "info", f"The learning rate {t.get('lr'):g} sits where the LR range test's "
                        f"loss is still flat; training progressed, but a rate near {_fmt(lf.get('suggestion'))} "
                        f"would likely train faster.", [], {"lr": t.get("lr"), "suggestion": lf.get("suggestion")})]
    ups = {n: v for n, v in _update_ratios(ev).items() if math.isfinite(v)}
    biggest = max(ups.values()) if ups else math.nan
    reasons = []
    if math.isfinite(biggest) and biggest < UPDATE_LOW:
        reasons.append(f"even the fastest-moving layer changes by only {_fmt(biggest)} of its weights per step "
                       f"(~1e-3 is healthy)")
    if lf.get("regime") == "too_low":
        reasons.append(f"the LR range test finds the loss flat at lr {t.get('lr'):g}")
    if not reasons:
        return []
    msg = (f"The learning rate {t.get('lr'):g} looks too low: the training loss barely moved "
           f"({_fmt(prog[0])} -> {_fmt(prog[1])}); " + "; ".join(reasons) + ".")
    return [Finding("lr_too_low", "warning", msg, [],
                    {"lr": t.get("lr"), "update_ratio_max": biggest, "loss_first_last": list(prog),
                     "suggestion": lf.get("suggestion")})]


@rule("overfitting")
def overfitting(ev: Evidence) -> list[Finding]:
    t = ev.training
    if t.get("diverged") or "val_loss" not in t:
        return []
    if t.get("train_accuracy") is not None and t.get("val_accuracy") is not None:
        gap = t["train_accuracy"] - t["val_accuracy"]
        if gap < GAP:
            return []
        msg = (f"Training accuracy {t['train_accuracy']:.1%} vs validation {t['val_accuracy']:.1%} (gap "
               f"{gap:.1%}): the model memorizes the training set rather than learning what generalizes.")
        return [Finding("overfitting", "error" if gap >= GAP_ERROR else "warning", msg, [],
                        {"train_accuracy": t["train_accuracy"], "val_accuracy": t["val_accuracy"], "gap": gap})]
    ratio = t["val_loss"] / t["train_loss"] if t.get("train_loss") else math.nan
    if not (ratio > 2):
        return []
    msg = f"Validation loss {_fmt(t['val_loss'])} is {_fmt(ratio)}x the training loss {_fmt(t['train_loss'])}."
    return [Finding("overfitting", "warning", msg, [], {"train_loss": t["train_loss"], "val_loss": t["val_loss"]})]


@rule("underfitting")
def underfitting(ev: Evidence) -> list[Finding]:
    t = ev.training
    chance, loss = t.get("chance_loss"), t.get("train_loss")
    if t.get("diverged") or not chance or loss is None or not loss > UNDERFIT * chance:
        return []
    if t.get("train_accuracy") is not None and t["train_accuracy"] >= UNDERFIT_ACC:
        return []  # it fits its training data; its outputs are merely unconfident
    acc = f" (training accuracy {t['train_accuracy']:.1%})" if t.get("train_accuracy") is not None else ""
    msg = (f"After {t.get('steps')} steps the training loss is {_fmt(loss)}{acc}, {loss / chance:.0%} of the "
           f"{_fmt(chance)} that predicting the class frequencies scores: the model does not fit even its training data.")
    return [Finding("underfitting", "warning", msg, [], {"train_loss": loss, "chance_loss": chance,
                                                        "train_accuracy": t.get("train_accuracy")})]


@rule("checks")
def failed_checks(ev: Evidence) -> list[Finding]:
    """The sanity checks that map one-to-one onto a finding when they fail."""
    out = []
    table = {"overfit_small": ("cannot_overfit", "error"), "input_independent": ("input_independent", "warning"),
             "gradcheck": ("gradcheck_failed", "error"), "l2_raises_loss": ("l2_no_effect", "warning")}
    for name, (kind, sev) in table.items():
        c = ev.checks.get(name)
        if c and c.get("passed") is False:
            layers = list(c.get("failed", []))
            evidence = {k: v for k, v in c.items() if k not in ("message", "modules", "passed")}
            out.append(Finding(kind, sev, c["message"][0].upper() + c["message"][1:] + ".", layers, evidence))
    return out

