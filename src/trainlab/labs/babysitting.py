"""Lab ``babysitting``: CS231n's "babysitting the learning process" on a 10-class problem.

The lecture's two-layer net (50 ReLUs, weights N(0, 0.01^2), zero biases, vanilla SGD, batch
64, no regularization) on the 8x8 digits, checked the way CS231n checks it:

1. the loss at init is ln 10 = 2.3026 (small weights: every class equally likely);
2. adding L2 regularization (lambda 1e3, CS231n's "crank up regularization") raises it;
3. the net overfits the first 20 training samples to 100% training accuracy;
4. a learning-rate sweep, 1e-6 ... 1e6, every (rate, seed) one member of ONE stacked run:
   1e-6 barely moves the loss, 1e6 explodes it at once (NaN with a textbook softmax), and a
   band in between trains;
5. the first layer's update/weight ratio ||dW1|| / ||W1|| (``diagnose.Probes``) grows about
   linearly with the rate, and the rate at which it is 1e-3 is compared with the band that trains.

The lecture's own band, [1e-5, 1e-3], is for CIFAR-10's 3072 raw pixels; this lab reports its
own band for its own data, and why it differs.
"""

from __future__ import annotations

import math

from trainlab import data
from trainlab.labs.babysitting_steps import (crossing, init_checks, lr_sweep, net_spec, overfit_checks,
                                             update_ratios)
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import fmt_ms, loglog_slope, mean_std, sig
from trainlab.labs.registry import register

CS231N = "CS231n Training NN part 1 (seeds/004)"
LN10 = math.log(10.0)  # -ln(1/10): the loss of uniform predictions over 10 classes
INIT_TOL = 0.01  # the "ln(10) +- 0.01"
L2_LAMBDA = 1e3  # CS231n's sanity check: reg = 1e3 (loss 2.30 -> 3.07 on their net)
OVERFIT_N, OVERFIT_BUDGET = 20, 200  # CS231n: "take the first 20 examples", 200 epochs (full batch)
LRS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0, 1e6)
LOW, HIGH = 1e-6, 1e6  # the lecture's two extremes
BARELY = 0.01  # "loss not going down": it moves by less than 1% of its starting value
TRAINS = LN10 / 2  # "trains": the final training loss is below half the chance loss, every seed
EXPLODE_WITHIN = 5  # "at once": the explosion is seen within the first 5 steps
RATIO_LRS = (1e-3, 1e-2, 1e-1, 1.0)  # 4 rates over 3 decades for the ratio-vs-lr slope
SLOPE_TOL = 0.25  # "scales ~linearly": a log-log slope within 1 +- 0.25
RATIO_TARGET = 1e-3


@register
class Babysitting(Lab):
    name = "babysitting"
    title = "Babysitting the learning process: loss at init, overfit 20 samples, find the learning rate"
    lecture = (
        Quote(CS231N, "Step 1 : Preprocess the data 데이터 전처리 ... Step 2 : Choose the architecture",
              "Babysitting the learning process: preprocess the data, choose the architecture, then "
              "check the loss and train with a few learning rates."),
        Quote(CS231N, "learning rate=1e-6 (작음) => loss not going down",
              "With learning rate 1e-6 (small) the loss does not go down."),
        Quote(CS231N, "learning rate = e^6 (큼) => NaN = loss exploding",
              "With learning rate 1e6 (large) the cost is NaN: the loss explodes."),
        Quote(CS231N, "learning rate = 3*e-3 => still too high",
              "3e-3 is still too high (on the lecture's CIFAR-10 net)."),
        Quote(CS231N, "=> Rough range for learning rate = [1e-3 ... 1e-5]",
              "So the rough range of learning rates to search is 1e-5 to 1e-3 (on the lecture's net)."),
    )
    data = ("digits", "mnist1d")
    seeds = {"quick": 3, "standard": 5, "full": 10}

    def run(self, ctx: Context) -> None:
        ds = data.load(ctx.data)
        steps = ctx.pick(300, 1000, 3000)
        spec = net_spec(steps)
        ctx.setup(data=f"{ds.name}: {len(ds.train)} training samples, {ds.input_shape[0]} features, {ds.n_classes} classes",
                  net="input-50-10, ReLU, weights N(0, 0.01^2), zero biases",
                  optimizer=f"vanilla SGD, batch 64, {steps} steps, no regularization",
                  learning_rates=list(LRS), seeds=ctx.seeds)
        ctx.step("sanity checks at init")
        self.check_init(ctx, spec, ds)
        ctx.step(f"learning-rate sweep: {len(LRS)} rates x {len(ctx.seeds)} seeds, one stack")
        sweep = lr_sweep(ctx, ds, list(LRS), steps)
        band = self.check_sweep(ctx, sweep)
        best = self.best_lr(sweep)
        ctx.step(f"overfit {OVERFIT_N} samples at lr {best:g}")
        self.check_overfit(ctx, spec, ds, best)
        ctx.step("update/weight ratios")
        self.check_ratios(ctx, ds, steps, band, best)

    # ---- 1-2: the loss at init, and with L2 ----------------------------------------------
    def check_init(self, ctx: Context, spec: dict, ds) -> None:
        rows = init_checks(spec, ds, ctx.seeds, L2_LAMBDA)
        loss = [r["loss"] for r in rows]
        ctx.claim("loss_at_init", f"with small weights the loss at init is ln 10 = {LN10:.4f} (10 classes)",
                  passed=all(abs(v - LN10) <= INIT_TOL for v in loss),
                  measured={"loss": loss, "max_abs_error": max(abs(v - LN10) for v in loss)},
                  expected=f"|loss - ln 10| <= {INIT_TOL} for every seed",
                  lecture="CS231n: loss ~2.3 at init = -ln(1/10)")
        l2 = [r["loss_with_l2"] for r in rows]
        ctx.claim("l2_raises_loss", f"adding L2 regularization (lambda {L2_LAMBDA:g}) raises the loss at init",
                  passed=all(b > a for a, b in zip(loss, l2)),
                  measured={"loss": loss, "loss_with_l2": l2},
                  expected="loss with L2 > loss without, every seed",
                  lecture="CS231n: reg 1e3 raises the loss 2.30 -> 3.07 ('loss went up, good')")

    # ---- 3: overfit a tiny subset ----------------------------------------------------------
    def check_overfit(self, ctx: Context, spec: dict, ds, lr: float) -> None:
        rows = overfit_checks(spec, ds, ctx.seeds, lr, OVERFIT_N, OVERFIT_BUDGET)
        ctx.claim("overfit_20", f"the net overfits the first {OVERFIT_N} samples: 100% training accuracy",
                  passed=all(r["passed"] for r in rows),
                  measured={"steps_to_fit": [r["steps"] for r in rows], "accuracy": [r.get("accuracy") for r in rows],
                            "lr": lr},
                  expected=f"accuracy 1.0 on {OVERFIT_N} samples within {OVERFIT_BUDGET} full-batch steps, every seed",
                  lecture="CS231n: 20 samples, 200 epochs, train acc 1.00")

    # ---- 4: the learning-rate sweep ---------------------------------------------------------
    def check_sweep(self, ctx: Context, sw: dict) -> list[float]:
        lrs, i_low, i_high = sw["lrs"], sw["lrs"].index(LOW), sw["lrs"].index(HIGH)
        starts = [[c[0] for c in cs] for cs in sw["curves"]]  # (lr, seed) loss at step 1
        moved = [abs(f - s) / s for f, s in zip(sw["loss"][i_low], starts[i_low])]
        ctx.claim("lr_1e-6_flat", "learning rate 1e-6: the loss barely moves",
                  passed=all(m < BARELY for m in moved),
                  measured={"relative_change": moved, "final_loss": sw["loss"][i_low]},
                  expected=f"|final - initial| / initial < {BARELY:.0%} every seed",
                  lecture="learning rate=1e-6 => loss not going down")
        boom = sw["explode_step"][i_high]
        textbook = sw["textbook"][i_high]
        ctx.claim("lr_1e6_explodes", "learning rate 1e6: the loss explodes at once (NaN through a textbook softmax)",
                  passed=all(b is not None and b <= EXPLODE_WITHIN for b in boom) and all(math.isnan(t) for t in textbook),
                  measured={"explosion_step": boom, "loss_at_step_2": [c[1] for c in sw["curves"][i_high]],
                            "final_loss_log_softmax": sw["loss"][i_high], "final_cost_textbook_softmax": textbook,
                            "max_abs_logit": sw["max_logit"][i_high]},
                  expected=f"loss > 4x its start (or NaN/inf) by step {EXPLODE_WITHIN}, every seed; textbook softmax cost NaN",
                  lecture="learning rate = e^6 => NaN = loss exploding")
        trains = [all(v < TRAINS for v in losses) for losses in sw["loss"]]
        band = [lr for lr, t in zip(lrs, trains) if t]
        idx = [i for i, t in enumerate(trains) if t]
        contiguous = bool(idx) and idx == list(range(idx[0], idx[-1] + 1))
        ctx.claim("lr_band", "a middle band of learning rates trains; neither extreme does",
                  passed=contiguous and not trains[i_low] and not trains[i_high],
                  measured={"band": [band[0], band[-1]] if band else None,
                            "final_loss_by_lr": {f"{lr:g}": mean_std(v)[0] for lr, v in zip(lrs, sw["loss"])}},
                  expected=f"a contiguous band of rates whose final training loss < ln(10)/2 = {TRAINS:.3f} every seed, "
                           "strictly between 1e-6 and 1e6",
                  lecture="rough range [1e-5, 1e-3] (CIFAR-10 net); 3e-3 still too high")
        self.sweep_table(ctx, sw, trains)
        ctx.record("sweep", {"lrs": lrs, "steps": _thin(sw["steps"]), "band": band, "lecture_band": [1e-5, 1e-3],
                             "curves": [_thin(_mean_curve(cs)) for cs in sw["curves"]],
                             "final_loss": sw["loss"], "trains_below": TRAINS})
        if band:
            above = lrs[idx[-1] + 1] if idx[-1] + 1 < len(lrs) else None
            ctx.note(f"This lab's band is [{band[0]:g}, {band[-1]:g}] (every seed's loss < {TRAINS:.3f} after "
                     f"{sw['steps'][-1]} steps), not the lecture's [1e-5, 1e-3]: CS231n fed 3072 raw CIFAR-10 pixels "
                     "(values ~+-100 after mean subtraction), so its gradients were orders of magnitude larger than "
                     "for 64 digit pixels in [0, 1]. Here 1e-3 is far too low (final loss "
                     f"{mean_std(sw['loss'][lrs.index(1e-3)])[0]:.4f}) and the too-high side starts at {above:g}.")
        finite = [v for v in sw["loss"][i_high] if math.isfinite(v)]
        if finite:
            ctx.note(f"At 1e6 PyTorch's cross_entropy stays finite on {len(finite)}/{len(sw['loss'][i_high])} seeds "
                     f"(final loss {sig(min(finite))} to {sig(max(finite))}): it uses log-softmax, which is finite for "
                     "any finite logit. The lecture's NaN is what exp(z)/sum exp(z) gives once a logit passes ~88 (exp "
                     "overflows float32, inf/inf = NaN): measured here on the same exploded nets.")
        if band and idx[-1] + 1 < i_high:
            stuck = [f"{lrs[i]:g}: loss {fmt_ms(sw['loss'][i], 3)}, accuracy {fmt_ms(sw['accuracy'][i], 3)}"
                     for i in range(idx[-1] + 1, i_high) if all(map(math.isfinite, sw["loss"][i]))]
            if stuck:
                ctx.note(f"Just above the band the final loss does not explode for long (ln 10 = {LN10:.3f}; "
                         "a few huge steps can kill every ReLU and leave the loss near ln 10): " + "; ".join(stuck) + ".")
        return band

    def sweep_table(self, ctx: Context, sw: dict, trains: list[bool]) -> None:
        band = [lr for lr, ok in zip(sw["lrs"], trains) if ok]
        rows = []
        for lr, loss, acc, boom, ok in zip(sw["lrs"], sw["loss"], sw["accuracy"], sw["explode_step"], trains):
            exploded = [b for b in boom if b is not None]
            regime = ("trains" if ok else "too low" if not band or lr < band[0]
                      else "explodes" if len(exploded) == len(boom) else "too high")
            rows.append([f"{lr:g}", fmt_ms(loss, 4) if all(map(math.isfinite, loss)) else str(loss),
                         fmt_ms(acc), f"{len(exploded)}/{len(boom)}" + (f" (step {min(exploded)})" if exploded else ""),
                         regime])
        ctx.table("sweep", "Learning-rate sweep: final training loss and accuracy over seeds",
                  ["lr", "final train loss", "train accuracy", "seeds exploded", "regime"], rows)

    @staticmethod
    def best_lr(sw: dict) -> float:
        """The rate with the lowest mean final training loss among those no seed exploded at."""
        ok = [(mean_std(l)[0], lr) for lr, l, b in zip(sw["lrs"], sw["loss"], sw["explode_step"])
              if all(x is None for x in b) and all(map(math.isfinite, l))]
        return min(ok)[1]

    # ---- 5: the update/weight ratio ---------------------------------------------------------
    def check_ratios(self, ctx: Context, ds, steps: int, band: list[float], best: float) -> None:
        ratio_steps = ctx.pick(300, 500, 1000)
        lrs = sorted(set(RATIO_LRS) | {best})
        seeds = ctx.seeds[:ctx.pick(2, 3, len(ctx.seeds))]
        r = update_ratios(net_spec(ratio_steps), ds, lrs, seeds, ctx.device)
        med = [mean_std(r["first"][lr])[0] for lr in lrs]  # mean over seeds of each run's median
        slope = loglog_slope(lrs, med)
        ctx.claim("ratio_linear", "the update/weight ratio ||dW1|| / ||W1|| scales about linearly with the learning rate",
                  passed=abs(slope - 1) <= SLOPE_TOL,
                  measured={"slope": slope, "ratio_by_lr": {f"{lr:g}": m for lr, m in zip(lrs, med)}},
                  expected=f"log-log slope 1 +- {SLOPE_TOL} (SGD: update = lr x gradient) over {len(lrs)} rates")
        at = crossing(lrs, med, RATIO_TARGET)
        ok = at is not None and bool(band) and band[0] <= at <= band[-1]
        ctx.claim("ratio_1e-3_in_band", "the learning rate giving an update/weight ratio of ~1e-3 is one that trains",
                  passed=ok,
                  measured={"lr_at_ratio_1e-3": at, "band": [band[0], band[-1]] if band else None,
                            "ratio_at_best_lr": {f"{best:g}": med[lrs.index(best)]}},
                  expected="the rate where the W1 ratio crosses 1e-3 (log-log interpolation) lies in the band that trains",
                  lecture="CS231n: ratio ~1e-3 is about right (0.0002 / 0.02)")
        rows = [[f"{lr:g}", fmt_ms(r["first"][lr], 6), fmt_ms(r["last"][lr], 6)] for lr in lrs]
        ctx.table("ratios", f"Median update/weight ratio over {ratio_steps} steps (mean ± std over seeds)",
                  ["lr", "first layer ||dW1||/||W1||", "output layer"], rows)
        ctx.record("ratios", {"lrs": lrs, "first": [r["first"][lr] for lr in lrs], "last": [r["last"][lr] for lr in lrs],
                              "slope": slope, "lr_at_target": at, "target": RATIO_TARGET, "band": band})
        if not ok:
            ctx.note(f"The 1e-3 rule points at lr {sig(at) if at else 'none'}, below the band that trains "
                     f"({band[0]:g}-{band[-1]:g}) in this budget; at the best rate {best:g} the W1 ratio is "
                     f"{sig(med[lrs.index(best)])}. The small N(0, 0.01^2) init starts the net on a plateau (W1's "
                     "gradient is scaled by the tiny W2), so a rate that makes 1e-3-sized updates spends the "
                     "budget there: the ratio rule is an order-of-magnitude guide for a net that is already "
                     "learning, not a way to find this net's rate." if band else "No band to compare with.")


def _mean_curve(curves: list[list[float]]) -> list[float]:
    """The mean over seeds at each step (NaN/inf stays NaN/inf: it means 'exploded')."""
    return [sum(v) / len(v) for v in zip(*curves)]


def _thin(values: list, points: int = 200) -> list:
    """At most ~``points`` evenly spaced values (always the first and the last)."""
    stride = max(1, math.ceil(len(values) / points))
    out = values[::stride]
    return out if (len(values) - 1) % stride == 0 else out + [values[-1]]
