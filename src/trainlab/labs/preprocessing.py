"""Lab ``preprocessing``: CS231n's data preprocessing — raw vs zero-centred vs standardized vs
PCA-whitened inputs, and how fast the same net trains on each.

Data: the 8x8 digits with the pixel values scikit-learn ships (0 ... 16, mean ~4.9: every
input positive and far from the origin). Each preprocessing is fitted on the training split
only (``trainlab.data.preprocess``). The net is the same for all: 64-50-10, ReLU, PyTorch's
default init, vanilla SGD, batch 64.

Raw inputs change which learning rates work, so comparing at one rate would be unfair to
someone: every preprocessing gets a grid of rates (one stack of rates x seeds each) and is
judged at its own best rate. Speed = the first logged step at which the training loss (mean
of the last 5 batches) falls to ``THRESHOLD``, fixed before measuring.
"""

from __future__ import annotations

import copy

import torch

from trainlab import data
from trainlab.data.base import Split
from trainlab.data.projection import projection_pair
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import first_step, fmt_ms, groups, mean_std, member_curves, member_steps, sig, train_lr_grid
from trainlab.labs.registry import register

CS231N = "CS231n Training NN part 1 (seeds/004)"
THRESHOLD = 0.3  # "trained": training loss <= 0.3 (ln 10 / 7.7; ~95% training accuracy)
LOG_EVERY = 5  # steps per logged (averaged) training loss
RAW_SCALE = 16.0  # the loader scales pixels to [0, 1]; x 16 gives back scikit-learn's 0..16
# label -> preprocess spec (trainlab.data.preprocess)
PREPROCESS = {"raw": "none", "centered": "center", "standardized": "standardize",
              "PCA-whitened": {"pca": {"whiten": True}}}
LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0)


def raw_digits(ds):
    """The digits with the pixel values scikit-learn ships (0 ... 16), not scaled to [0, 1]."""
    ds = copy.copy(ds)
    ds.train, ds.val, ds.test = (Split(s.x * RAW_SCALE, s.y) for s in (ds.train, ds.val, ds.test))
    return ds


def net_spec(steps: int) -> dict:
    return {"model": {"mlp": {"hidden": [50], "activation": "relu"}},
            "train": {"optimizer": "sgd", "batch_size": 64, "steps": steps, "log_every": LOG_EVERY}}


def top_eigenvalue(x: torch.Tensor) -> float:
    """The largest eigenvalue of the inputs' second moment E[x x^T] (D, D): for a first layer
    trained by SGD it bounds the stable rate (an off-centre mean adds ~|mean|^2 to it)."""
    flat = x.reshape(len(x), -1).double()
    return float(torch.linalg.eigvalsh(flat.T @ flat / len(flat))[-1])


def best_rate(lrs: list[float], steps: list[list[int | None]], budget: int) -> int:
    """Index of the rate with the fewest mean steps to the threshold (a seed that never gets
    there counts as the whole budget plus one log interval)."""
    cost = [mean_std([budget + LOG_EVERY if s is None else s for s in row])[0] for row in steps]
    return min(range(len(lrs)), key=lambda i: cost[i])


def run_one(ctx: Context, raw, label: str, steps: int) -> dict:
    """Preprocess, train every (rate, seed) as one stack, and measure the steps to the threshold."""
    ds = data.apply_preprocess(copy.copy(raw), PREPROCESS[label])
    members = train_lr_grid(ctx, net_spec(steps), ds, LRS, val=False)
    at, k = member_steps(members), len(ctx.seeds)
    curves = groups(member_curves(members, "loss"), k)  # (lrs, seeds, points)
    reach = [[first_step(at, c, lambda v: v <= THRESHOLD) for c in row] for row in curves]
    best = best_rate(list(LRS), reach, steps)
    final = groups(members.evaluate(ds.train)["loss"], k)
    return {"label": label, "steps": at, "reach": reach, "best": best, "lr": LRS[best],
            "best_steps": reach[best], "best_curve": [sum(v) / k for v in zip(*curves[best])],
            "final": final, "top_eig": top_eigenvalue(ds.train.x), "mean": float(ds.train.x.mean()), "transform": ds.transform, "mode": members.mode}


@register
class Preprocessing(Lab):
    name = "preprocessing"
    title = "Zero-centred, standardized or whitened inputs train faster than raw ones"
    lecture = (
        Quote(CS231N, "### - Data Preprocessing 데이터 전처리",
              "Data preprocessing: zero-centre the data (subtract the mean), normalize it (divide by the "
              "standard deviation), or decorrelate it with PCA and whiten it (unit variance along every "
              "principal axis); statistics come from the training set only."),
        Quote(CS231N, "Step 1 : Preprocess the data 데이터 전처리",
              "Babysitting the learning process starts by preprocessing the data."),
    )
    data = ("digits",)
    seeds = {"quick": 3, "standard": 5, "full": 10}

    def run(self, ctx: Context) -> None:
        raw = raw_digits(data.load(ctx.data))
        steps = ctx.pick(150, 300, 1000)
        ctx.setup(data=f"digits, raw pixel values 0..16: {len(raw.train)} training images, 64 features, 10 classes",
                  net="64-50-10, ReLU, PyTorch default init", optimizer=f"vanilla SGD, batch 64, {steps} steps",
                  learning_rates=list(LRS), threshold=f"training loss <= {THRESHOLD} (mean of {LOG_EVERY} batches)",
                  preprocessing={k: v for k, v in PREPROCESS.items()}, seeds=ctx.seeds)
        runs = {}
        for label in PREPROCESS:
            ctx.step(f"{label}: {len(LRS)} rates x {len(ctx.seeds)} seeds, one stack")
            runs[label] = run_one(ctx, raw, label, steps)
        self.claims(ctx, runs, steps)
        self.tables(ctx, runs, steps)
        self.records(ctx, raw, runs)

    def claims(self, ctx: Context, runs: dict, steps: int) -> None:
        base = runs["raw"]
        for label, key in (("centered", "center"), ("standardized", "standardize"), ("PCA-whitened", "whiten")):
            r = runs[label]
            pairs = list(zip(r["best_steps"], base["best_steps"]))
            ok = all(p is not None and (b is None or p < b) for p, b in pairs)
            raw_mean, mean = _mean_steps(base["best_steps"]), _mean_steps(r["best_steps"])
            ctx.claim(f"{key}_faster", f"{label} inputs reach training loss {THRESHOLD} in fewer steps than raw inputs",
                      passed=ok,
                      measured={"steps": r["best_steps"], "raw_steps": base["best_steps"], "lr": r["lr"],
                                "raw_lr": base["lr"], "speedup": raw_mean / mean if mean else None},
                      expected=f"fewer steps than raw for every seed, each at its own best rate of {list(LRS)}, "
                               f"within {steps} steps",
                      lecture="CS231n: zero-centre and normalize the data before training")

    def tables(self, ctx: Context, runs: dict, steps: int) -> None:
        base = _mean_steps(runs["raw"]["best_steps"])
        rows = []
        for label, r in runs.items():
            mean = _mean_steps(r["best_steps"])
            trains = [lr for lr, reach in zip(LRS, r["reach"]) if all(s is not None for s in reach)]
            rows.append([label, sig(r["top_eig"]), f"{r['lr']:g}", _fmt_steps(r["best_steps"]),
                         f"{base / mean:.2f}x" if mean else "—", f"{max(trains):g}" if trains else "—",
                         fmt_ms(r["final"][r["best"]], 4)])
        ctx.table("speed", f"Steps to training loss {THRESHOLD}, each preprocessing at its best rate",
                  ["inputs", "λmax of E[x xᵀ]", "best lr", "steps (mean ± std)", "speed-up vs raw",
                   "largest lr that trains", f"train loss after {steps} steps"], rows)
        grid = [[f"{lr:g}"] + [_fmt_steps(runs[label]["reach"][i]) for label in runs] for i, lr in enumerate(LRS)]
        ctx.table("grid", f"Steps to training loss {THRESHOLD} by learning rate ('—': not every seed within {steps})",
                  ["lr"] + list(runs), grid)
        speed = {label: _mean_steps(r["best_steps"]) for label, r in runs.items()}
        fastest = min((v, k) for k, v in speed.items() if v is not None)[1]
        ctx.note(f"Raw pixels (0..16, all >= 0, mean {runs['raw']['mean']:.2f}) put one huge eigenvalue in E[x xᵀ] "
                 f"({sig(runs['raw']['top_eig'])} vs {sig(runs['centered']['top_eig'])} once centred): the rate must stay "
                 "small for that one direction (above it the ReLUs die and the loss sticks at ln 10), so every other "
                 f"direction learns slowly. Centring removes it; standardizing ({sig(runs['standardized']['top_eig'])}) "
                 f"and whitening ({sig(runs['PCA-whitened']['top_eig'])}) also equalize the scales. Fastest here: "
                 f"{fastest} (CS231n: for images, centring is the usual choice; PCA and whitening are rarely used).")

    def records(self, ctx: Context, raw, runs: dict) -> None:
        labels = raw.train.y
        clouds = {}
        for label, r in runs.items():
            if r["transform"] is not None:
                pair = projection_pair(raw.train.x, r["transform"], max_points=ctx.pick(300, 600), seed=0)
                clouds[label] = {k: pair[k] for k in ("before", "after", "axes_before", "axes_after")}
                clouds[label]["labels"] = labels[torch.from_numpy(pair["index"])]
        ctx.record("clouds", clouds)
        ctx.record("speed", {"lrs": list(LRS), "threshold": THRESHOLD, "steps": runs["raw"]["steps"],
                             "runs": {label: {"reach": [_mean_steps(s) for s in r["reach"]], "lr": r["lr"],
                                              "curve": r["best_curve"]} for label, r in runs.items()}})


def _mean_steps(steps: list[int | None]) -> float | None:
    """Mean steps over seeds; None unless every seed got there."""
    return None if any(s is None for s in steps) else mean_std(steps)[0]


def _fmt_steps(steps: list[int | None]) -> str:
    got = [s for s in steps if s is not None]
    if len(got) < len(steps):
        return f"— ({len(got)}/{len(steps)})" if got else "—"
    m, s = mean_std(got)
    return f"{m:.0f} ± {s:.0f}"



