"""Zero init never breaks symmetry, for the ``init`` lab: every hidden unit of a layer starts
with the same weights, gets the same gradient, and so stays the same as its neighbours for
ever — the trained net is exactly a net with ONE unit per hidden layer.

``symmetric_spread(net)`` measures how far apart a layer's units are (0: identical);
``collapse(net)`` builds that one-unit-per-layer net, whose outputs equal the wide net's.
"""

from __future__ import annotations

import torch
from torch import nn

from trainlab import data
from trainlab.labs.common import diff_se, member_curves, member_steps, train_seeds

HIDDEN = 32
# Plain SGD with momentum: Adam's per-weight normalisation amplifies the float32 rounding
# differences between units (a spread of ~6e-3 after 300 steps in our runs), which hides the
# exact-arithmetic statement; SGD keeps identical units identical to rounding level (~1e-7).
OPT, LR_SYM = {"name": "sgd", "momentum": 0.9}, 0.1
# "Identical": a spread 1000x below a random init's (~1). Exact arithmetic gives 0; in float32 the
# units start ~1e-7 apart after a few steps and training amplifies it (~2e-7 at 300 steps, ~1e-5 at
# 1,000 in our runs), so a rounding-level bound (1e-5) would test float noise, not symmetry.
SPREAD_TOL = 1e-3


def hidden_linears(net: nn.Module) -> list[nn.Linear]:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    return linears[:-1]  # the last one is the output layer


def symmetric_spread(net: nn.Module) -> float:
    """max over hidden layers and units of |w_i - w_0| and |b_i - b_0|, relative to the
    largest |w| (0.0 exactly when every unit of every hidden layer has the same weights)."""
    spread, scale = 0.0, 0.0
    for lin in hidden_linears(net):
        w, b = lin.weight.detach(), lin.bias.detach()
        spread = max(spread, float((w - w[:1]).abs().max()), float((b - b[:1]).abs().max()))
        scale = max(scale, float(w.abs().max()))
    return spread / scale if scale > 0 else spread


def max_hidden_weight(net: nn.Module) -> float:
    return max(float(lin.weight.detach().abs().max()) for lin in hidden_linears(net))


def collapse(net: nn.Module) -> nn.Sequential:
    """The one-unit-per-hidden-layer net computing the same function as ``net`` when every
    hidden layer's units are identical: keep unit 0 of each hidden layer; a layer fed by H
    identical inputs sees one input with weight sum_j W[:, j]."""
    mods, linears, first = [], [m for m in net.modules() if isinstance(m, nn.Linear)], True
    for m in (m for m in net.modules() if not list(m.children())):
        if not isinstance(m, nn.Linear):
            mods.append(m)
            continue
        w, b = m.weight.detach(), m.bias.detach()
        if not first:
            w = w.sum(1, keepdim=True)  # (out, 1): H identical inputs act as one
        if m is not linears[-1]:
            w, b = w[:1], b[:1]  # (1, in): one unit stands for the H identical ones
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(w), lin.bias.copy_(b)
        mods.append(lin)
        first = False
    return nn.Sequential(*mods)


def collapse_check(nets: list[nn.Module], x: torch.Tensor) -> dict:
    """How far each net is from its one-unit-per-layer collapse: the largest logit gap, and the
    fraction of inputs on which both predict the same class (the worst net)."""
    with torch.no_grad():
        pairs = [(n(x), collapse(n)(x)) for n in nets]
    return {"collapse_gap": max(float((a - b).abs().max()) for a, b in pairs),
            "collapse_agreement": min(float((a.argmax(-1) == b.argmax(-1)).float().mean()) for a, b in pairs)}


def mlp_spec(hidden: list[int], activation: str, init, steps: int) -> dict:
    return {"model": {"mlp": {"hidden": hidden, "activation": activation, "init": init}},
            "train": {"optimizer": OPT, "lr": LR_SYM, "steps": steps, "batch_size": 64}}


RUNS = {  # name -> (hidden sizes, activation, weight init)
    "zeros, sigmoid": ([HIDDEN, HIDDEN], "sigmoid", "zeros"),
    "zeros, tanh": ([HIDDEN, HIDDEN], "tanh", "zeros"),
    "random (he_normal), sigmoid": ([HIDDEN, HIDDEN], "sigmoid", "he_normal"),
    "one unit per layer, sigmoid": ([1, 1], "sigmoid", "he_normal"),
}


def symmetry_runs(ctx, steps: int) -> dict:
    """Train every RUNS entry for ctx.seeds on digits; per-run accuracies, spreads, curves."""
    ds = data.load({"name": "digits", "preprocess": "standardize"})
    out = {}
    for name, (hidden, act, init) in RUNS.items():
        ctx.step(f"zero-init symmetry: {name}")
        members = train_seeds(ctx, mlp_spec(hidden, act, init, steps), ds)
        nets = members.models()
        x = ds.test.x
        out[name] = {"acc": members.evaluate(ds.test)["accuracy"],
                     "spread": [symmetric_spread(n) for n in nets],
                     "max_hidden_w": [max_hidden_weight(n) for n in nets], **collapse_check(nets, x),
                     "steps": member_steps(members), "val_accuracy": member_curves(members, "val_accuracy")}
    out["_data"] = f"digits: {len(ds.train)} train / {len(ds.test)} test, 8x8 = 64 inputs, 10 classes"
    return out


def claim_symmetry(ctx, runs: dict) -> None:
    z, t = runs["zeros, sigmoid"], runs["zeros, tanh"]
    ok = max(z["spread"]) <= SPREAD_TOL and min(z["max_hidden_w"]) > 0 and max(t["max_hidden_w"]) == 0.0
    ctx.claim("zero_init_symmetric", "from zero weights the hidden units stay identical: symmetry never breaks",
              ok, {"sigmoid_unit_spread": max(z["spread"]), "sigmoid_max_hidden_weight": z["max_hidden_w"],
                   "tanh_max_hidden_weight_after_training": max(t["max_hidden_w"]),
                   "random_init_unit_spread": min(runs["random (he_normal), sigmoid"]["spread"])},
              f"sigmoid: unit spread <= {SPREAD_TOL:g} (1000x below a random init's ~1) although the weights "
              "moved (> 0); tanh: hidden weights stay exactly 0 (tanh(0) = 0 kills every hidden gradient)",
              lecture="모든 가중치=0 => 모든 뉴련이 같은 일을 할 것 ... Symmetry breaking이 일어날 수 없다")
    rnd = runs["random (he_normal), sigmoid"]["acc"]
    d, se = diff_se(z["acc"], rnd)
    ctx.claim("zero_init_one_unit", f"the trained zero-init {HIDDEN}-unit net is a net with one unit per hidden "
              f"layer, far below the same net from random init",
              z["collapse_agreement"] == 1.0 and d < -2 * se,
              {"prediction_agreement_with_one_unit_net": z["collapse_agreement"],
               "max_logit_gap": z["collapse_gap"], "zero_init": z["acc"], "random_init": rnd,
               "diff": d, "se": se, "one_unit_nets_trained_from_random_init":
                   runs["one unit per layer, sigmoid"]["acc"]},
              "its one-unit-per-layer collapse predicts the same class on 100% of the test set, and its "
              "accuracy is below the random-init net's by more than 2 SE",
              lecture="w를 0으로 줄 때 문제 ... 초기값을 0을 주면 안됨")
