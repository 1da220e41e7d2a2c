"""The measurements behind lab ``babysitting`` (CS231n's "babysitting the learning process"):
the sanity checks at init, the learning-rate sweep (one stack, a rate per member) and the
update/weight ratio of the first layer read by ``trainlab.diagnose.Probes``.

The diagnostics layer does the work (``loss_at_init``, ``l2_raises_loss``, ``overfit_small``,
``Probes``); this module only runs them on the lab's net and reduces what they return.
"""

from __future__ import annotations

import math

import torch

from trainlab.diagnose import Probes, l2_raises_loss, loss_at_init, overfit_small
from trainlab.labs.common import groups, member_curves, member_steps, train_lr_grid
from trainlab.nn import build
from trainlab.train import Trainer, seed_everything

EXPLODE = 4.0  # a loss above 4x its starting value has exploded (lr_find's ``diverge`` rule)


def net_spec(steps: int, lr: float | None = None) -> dict:
    """CS231n's two-layer net (one hidden layer of 50 ReLUs), small weights N(0, 0.01^2) and
    zero biases, trained by vanilla mini-batch SGD (batch 64) with no regularization."""
    model = {"mlp": {"hidden": [50], "activation": "relu", "init": {"normal": {"std": 0.01}},
                     "bias_init": "zeros"}}
    train = {"optimizer": "sgd", "batch_size": 64, "steps": steps}
    return {"model": model, "train": {**train, **({"lr": lr} if lr is not None else {})}}


def fresh_model(spec: dict, ds, seed: int):
    """The untrained net of ``spec`` for ``seed``."""
    seed_everything(seed)
    return build(spec["model"], ds.input_shape, ds.n_classes)


def init_checks(spec: dict, ds, seeds: list[int], lam: float) -> list[dict]:
    """Per seed: the loss at init (vs ln C) and the loss with an L2 penalty of strength ``lam``."""
    rows = []
    for s in seeds:
        model = fresh_model(spec, ds, s)
        init, l2 = loss_at_init(model, ds, "cross_entropy"), l2_raises_loss(model, ds, "cross_entropy", lam=lam)
        rows.append({"seed": s, "loss": init["loss"], "expected": init["expected"], "loss_with_l2": l2["loss_with_l2"]})
    return rows


def overfit_checks(spec: dict, ds, seeds: list[int], lr: float, n: int, budget: int) -> list[dict]:
    """Per seed: does the net reach 100% training accuracy on the first ``n`` samples (SGD at
    ``lr``, no regularization, full batch) within ``budget`` steps?"""
    cfg = {"optimizer": "sgd", "lr": lr}
    return [{"seed": s, **overfit_small(fresh_model(spec, ds, s), ds, cfg, n=n, budget=budget, seed=s)} for s in seeds]


def textbook_softmax_loss(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Cross-entropy through exp(z) / sum exp(z) WITHOUT the max-shift (float32): what a
    hand-written softmax computes; exp overflows to inf past z ~ 88 and inf / inf is NaN."""
    e = logits.float().exp()  # (N, C)
    p = e / e.sum(1, keepdim=True)
    return float(-p.gather(1, y[:, None]).log().mean())


def lr_sweep(ctx, ds, lrs: list[float], steps: int) -> dict:
    """All (lr, seed) pairs as one stack; the per-step training loss of each member (logged
    every step: the loss of that step's batch before its update), its final training loss and
    accuracy, the step its loss first exploded, and the textbook-softmax cost at the end."""
    spec = net_spec(steps)
    spec["train"]["log_every"] = 1
    members = train_lr_grid(ctx, spec, ds, lrs, val=False)
    k = len(ctx.seeds)
    ev = members.evaluate(ds.train)
    at, curves = member_steps(members), member_curves(members, "loss")
    logits = members.outputs(ds.train.x)  # (K, N, C)
    explode = [first_explosion(at, c) for c in curves]
    textbook = [textbook_softmax_loss(z, ds.train.y) for z in logits]
    return {"lrs": lrs, "steps": at, "mode": members.mode,
            "loss": groups(ev["loss"], k), "accuracy": groups(ev["accuracy"], k),
            "curves": groups(curves, k), "explode_step": groups(explode, k),
            "textbook": groups(textbook, k), "max_logit": groups(logits.abs().amax((1, 2)).tolist(), k)}


def first_explosion(steps: list[int], losses: list[float]) -> int | None:
    """The first step whose loss is NaN/inf or above ``EXPLODE`` x the first step's loss."""
    start = losses[0]
    return next((s for s, v in zip(steps, losses) if not math.isfinite(v) or v > EXPLODE * start), None)


def update_ratios(spec: dict, ds, lrs: list[float], seeds: list[int], device: str = "cpu") -> dict:
    """Median over a run of the first layer's update/weight ratio ||dW|| / ||W|| (CS231n's W1),
    as ``Probes`` measures it every 10 steps, for each lr and seed: {lr: [per seed]}; also the
    output layer's, for the table."""
    first, last = {}, {}
    for lr in lrs:
        first[lr], last[lr] = [], []
        for s in seeds:
            probes = Probes(every=10, hist_every=10 * spec["train"]["steps"])  # histograms: step 1 only
            cfg = {**spec["train"], "lr": lr}
            Trainer(fresh_model(spec, ds, s), cfg, task=ds.task, callbacks=[probes], seed=s, device=device).fit(ds.train)
            names = probes.log.param_order  # parameterised layers in forward order: W1 first
            first[lr].append(probes.log.summary("params", names[0], "update_ratio"))
            last[lr].append(probes.log.summary("params", names[-1], "update_ratio"))
    return {"first": first, "last": last}


def crossing(xs: list[float], ys: list[float], target: float) -> float | None:
    """The x at which y reaches ``target``, interpolated linearly in log-log between the first
    pair of neighbouring points that brackets it (xs ascending); None when none does."""
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if min(y0, y1) <= target <= max(y0, y1) and y0 != y1:
            t = (math.log10(target) - math.log10(y0)) / (math.log10(y1) - math.log10(y0))
            return 10 ** (math.log10(x0) + t * (math.log10(x1) - math.log10(x0)))
    return None
