"""Lab ``vanishing-gradient``: through a deep sigmoid net the gradient shrinks layer by layer, so
the first layer gets orders of magnitude less than the last; ReLU with He init keeps every
layer's gradient within about one order.

Nets of depth 10 and 20 (hidden layers of width 32) with sigmoid, tanh and ReLU hidden layers,
each with the initializer made for it (Xavier for sigmoid and tanh, He for ReLU: the vanishing
comes from the activation, not from a bad init), trained with SGD (lr 0.02, batch 64) on the data set (default:
the 8x8 digits, standardized). ``MemberStats`` records each dense layer's gradient norm
||dL/dW|| (weights and bias) for every seed at the first step (init) and every few steps after;
the claims compare the first hidden layer with the output layer (the "last layer").
"""

from __future__ import annotations

import math
import statistics

from trainlab import data
from trainlab.ensemble import MemberStats
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import layer_stats, train_seeds
from trainlab.labs.registry import register

DEPTHS = (10, 20)
WIDTH = 32
# activation -> (label, initializer made for it)
NETS = {"sigmoid": ("sigmoid, Xavier", "xavier_uniform"), "tanh": ("tanh, Xavier", "xavier_uniform"),
        "relu": ("ReLU, He", "he_normal")}
# SGD's rate: the largest of 0.1 / 0.05 / 0.02 at which no depth-20 ReLU + He seed diverged over the
# full size's 3,000 steps on the design seeds 0-9 (at 0.1: 4 of 10 reached NaN by step ~1,500; at
# 0.05: 2 of 10): a step-size problem, not a gradient-flow one; the ratios at init do not depend on it
LR = 0.02
VANISHED = 1e-2  # "orders of magnitude below": at least two orders (first / last < 1e-2)
WITHIN = 10.0  # "within about one order": 1/10 <= first / last <= 10


def net_spec(activation: str, depth: int, steps: int) -> dict:
    return {"model": {"mlp": {"hidden": WIDTH, "depth": depth, "activation": activation,
                              "init": NETS[activation][1], "bias_init": "zeros"}},
            "train": {"optimizer": "sgd", "lr": LR, "batch_size": 64, "steps": steps}}


def median(values) -> float:
    """The median of the finite values (a diverged seed's NaN is left out); NaN when none is."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return float(statistics.median(v)) if v else math.nan


def gradient_profile(records: list[dict]) -> dict:
    """From ``MemberStats`` records: per sampled step, each dense layer's gradient norm per seed,
    and each seed's first-layer / output-layer ratio with its median over seeds."""
    steps, layers, grid = layer_stats(records, "grad_norm")  # grid: (steps, layers, K)
    ratios = [[f / l for f, l in zip(row[0], row[-1])] for row in grid]  # (steps, K)
    return {"steps": steps, "layers": layers,
            "norms": grid,
            "median_norms": [[median(k) for k in row] for row in grid],  # (steps, layers)
            "ratios": ratios, "median_ratio": [median(r) for r in ratios]}


def run_net(ctx: Context, ds, activation: str, depth: int, steps: int, every: int) -> dict:
    stats = MemberStats(every=every)
    members = train_seeds(ctx, net_spec(activation, depth, steps), ds, callbacks=[stats])
    prof = gradient_profile(stats.records)
    prof["test_accuracy"] = members.evaluate(ds.test)["accuracy"]
    prof["label"] = NETS[activation][0]
    return prof


@register
class VanishingGradient(Lab):
    name = "vanishing-gradient"
    title = "The gradient vanishes through deep sigmoid nets; ReLU + He keeps it"
    lecture = (
        Quote("모두를 위한 딥러닝 Lecture 10-1", "최종단 근처에 있는 쪽의 경사나 기울기는 조금 나타난다. "
              "그러나, 단수가 깊어질수록, 끝에는 경사도가 사라져버린다.",
              "Near the output the gradient still shows; the deeper the net, the more it vanishes "
              "at the far end."),
        Quote("모두를 위한 딥러닝 Lab 10", "chain rule을 적용하기 때문에 1보다 작은 (0.01, 0.03, ...) 값이 "
              "계속 곱해지게 됨점점 더 작아지게 되고 최종적인 결과에서 0에 가까운 값이 됨",
              "By the chain rule, values below 1 keep being multiplied, so the gradient gets smaller "
              "and ends up close to 0."),
        Quote("모두를 위한 딥러닝 Lab 10-1", "Sigmoid는 x가 -∞나 ∞로 갈수록 미분값이 0에 수렴(거의 0)하기 때문",
              "Because sigmoid's derivative goes to 0 as x goes to -inf or +inf."),
        Quote("모두를 위한 딥러닝 Lab 10-1", "장점 : x가 0보다 클 때의 미분값은 항상 1이기 때문에, "
              "loss가 상실되는 경우가 없다.",
              "ReLU's advantage: its derivative is always 1 for x > 0, so the loss signal is not lost."),
    )
    data = ("digits", "mnist1d")
    seeds = {"quick": 3, "standard": 5, "full": 10}

    def run(self, ctx: Context) -> None:
        ds = data.load({"name": ctx.data, "preprocess": "standardize"})
        steps, every = ctx.pick(150, 1000, 3000), ctx.pick(50, 100, 250)
        ctx.setup(data=f"{ctx.data}, standardized", width=WIDTH, depths=list(DEPTHS),
                  nets={a: v[0] for a, v in NETS.items()}, optimizer=f"sgd lr {LR}, batch 64", steps=steps,
                  sampled_every=every, gradient="||dL/dW|| of each dense layer (weights and bias), per seed",
                  ratio="first hidden layer / output layer")
        res = {}
        for depth in DEPTHS:
            for act in NETS:
                ctx.step(f"depth {depth}, {NETS[act][0]}: {len(ctx.seeds)} seeds, {steps} steps")
                res[(depth, act)] = run_net(ctx, ds, act, depth, steps, every)
        self._claims(ctx, res)
        self._tables(ctx, res)
        ctx.record("profiles", {str(d): {a: {k: res[(d, a)][k] for k in
                                             ("label", "steps", "median_norms", "median_ratio", "ratios")}
                                         for a in NETS} for d in DEPTHS})
        ctx.record("thresholds", {"vanished": VANISHED, "within": WITHIN})
        self._notes(ctx, res, steps)

    def _notes(self, ctx: Context, res: dict, steps: int) -> None:
        d = DEPTHS[0]
        factor = res[(d, "sigmoid")]["median_ratio"][0] ** (1 / d)
        acc = {k: sum(r["test_accuracy"]) / len(r["test_accuracy"]) for k, r in res.items()}
        ctx.note(f"Sigmoid at depth {d}: the gradient shrinks by a factor of about {factor:.2f} per layer at "
                 f"init (sigmoid's derivative is at most 0.25). After {steps} "
                 f"steps the sigmoid nets' test accuracy is {acc[(d, 'sigmoid')]:.2f} (depth {d}) and "
                 f"{acc[(DEPTHS[1], 'sigmoid')]:.2f} (depth {DEPTHS[1]}) against tanh {acc[(d, 'tanh')]:.2f} "
                 f"and ReLU {acc[(d, 'relu')]:.2f} at depth {d}.")
        tanh = [x for dd in DEPTHS for x in res[(dd, "tanh")]["median_ratio"]]
        ctx.note(f"tanh with Xavier init: first/last ratio between {min(tanh):.2g} and {max(tanh):.2g} at every "
                 f"sampled step of both depths. Its slope is 1 at 0 and Xavier keeps its inputs small, so it "
                 f"passes the gradient on while it is not saturated (CS231n: saturated tanh kills it too).")

    def _claims(self, ctx: Context, res: dict) -> None:
        for depth in DEPTHS:
            sg, rl = res[(depth, "sigmoid")]["median_ratio"], res[(depth, "relu")]["median_ratio"]
            every = res[(depth, "relu")]["ratios"]  # (steps, K): each seed, not the median
            diverged = sum(not all(map(math.isfinite, seed)) for seed in zip(*every))
            every = [[x for x in row if math.isfinite(x)] or [math.nan] for row in every]
            ctx.claim(f"sigmoid_vanishes_d{depth}", f"depth {depth}, sigmoid: the first layer's gradient is "
                      f"orders of magnitude below the output layer's, at init and throughout training",
                      passed=all(r < VANISHED for r in sg),  # NaN fails
                      measured={"ratio_at_init": sg[0], "ratio_max_during_training": max(sg),
                                "ratio_min_during_training": min(sg)},
                      expected=f"median first/last ratio < {VANISHED:g} at every sampled step",
                      lecture="단수가 깊어질수록, 끝에는 경사도가 사라져버린다")
            ctx.claim(f"relu_he_flat_d{depth}", f"depth {depth}, ReLU + He: the first and the output layer's "
                      f"gradients stay within about one order of magnitude, at init and throughout training",
                      passed=all(1 / WITHIN <= r <= WITHIN for r in rl) and not diverged,
                      measured={"ratio_at_init": rl[0], "ratio_min": min(rl), "ratio_max": max(rl),
                                "any_seed_min": min(map(min, every)), "any_seed_max": max(map(max, every)),
                                "diverged_seeds": diverged},
                      expected=f"{1 / WITHIN:g} <= median first/last ratio <= {WITHIN:g} at every sampled step, "
                               f"no seed diverged (NaN)",
                      lecture="x가 0보다 클 때의 미분값은 항상 1")
        shallow, deep = (res[(d, "sigmoid")]["median_ratio"][0] for d in DEPTHS)
        ctx.claim("deeper_vanishes_more", f"sigmoid: {DEPTHS[1]} layers lose far more of the gradient than "
                  f"{DEPTHS[0]}: the first/last ratio at init drops by at least another order of magnitude",
                  passed=deep < shallow / 10,
                  measured={f"ratio_depth_{DEPTHS[0]}": shallow, f"ratio_depth_{DEPTHS[1]}": deep,
                            "drop": shallow / deep if deep > 0 else math.inf},
                  expected=f"ratio(depth {DEPTHS[1]}) < ratio(depth {DEPTHS[0]}) / 10 "
                           f"(the chain rule's bound: 0.25 per extra sigmoid layer)",
                  lecture="단수가 깊어질수록 ... 경사도가 사라져버린다")

    def _tables(self, ctx: Context, res: dict) -> None:
        rows = []
        for (depth, act), r in res.items():
            m = r["median_ratio"]
            acc = r["test_accuracy"]
            rows.append([depth, r["label"], m[0], min(m[1:] or m), max(m[1:] or m),
                         r["median_norms"][0][0], r["median_norms"][0][-1], sum(acc) / len(acc)])
        ctx.table("ratios", "First-layer / output-layer gradient norm (median over seeds)",
                  ["depth", "net", "ratio at init", "min during training", "max during training",
                   "first layer |g| at init", "output layer |g| at init", "test accuracy (mean)"], rows)
        depth = DEPTHS[0]
        init = {a: res[(depth, a)]["median_norms"][0] for a in NETS}
        ctx.table("layers", f"Gradient norm per layer at init, depth {depth} (median over seeds)",
                  ["layer", *[NETS[a][0] for a in NETS]],
                  [[i + 1 if i < depth else "output", *[init[a][i] for a in NETS]] for i in range(depth + 1)])
