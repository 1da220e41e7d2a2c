"""Lab ``activations``: ten activation functions in one deep MLP, several seeds each — the
lecture's slide "Activation functions on CIFAR-10" (Mishkin & Matas 2015) rebuilt as a table.

Every activation gets the same net (``DEPTH`` hidden layers of ``WIDTH`` units; maxout as its
block: a dense layer to 2 x WIDTH features and the max over pairs, so it keeps WIDTH outputs at
twice the weights, as CS231n says), the same optimizer (SGD with momentum 0.9, the optimizer of
Mishkin & Matas' table) and the init the lecture recommends for it: He-normal with the
activation's own gain (Var(W) = gain^2 / fan_in: sigmoid 1, tanh 5/3, relu sqrt 2, ...), and
LeCun-normal for SELU (Klambauer et al. 2017's prescription). Each activation's seeds train as
one stacked computation (``train_seeds``).

"Did not converge" (the table's n/c): the final test accuracy is below chance + 5 points
(15% on 10 classes) — the net has learned nothing beyond guessing.

Claims, each as strong as its sentence: sigmoid does not converge at all (every seed n/c) and,
reported apart, trails the ReLU family by 10 points or more; every other activation converges;
each ReLU-family member beats tanh by more than 2 standard errors (tanh "a little worse"); maxout
is not significantly below ReLU ("fine too"). The setup (depth, width, steps, lr) was chosen on
seeds 0-9; the default seeds start at 1000 (``SEED_BASE``).
"""

from __future__ import annotations

import math

from trainlab import data
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import diff_se, fmt_ms, mean_std, member_curves, member_steps, train_seeds
from trainlab.labs.registry import register

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "very_leaky_relu", "prelu", "elu", "selu",
               "maxout", "gelu")
RELU_FAMILY = ("relu", "leaky_relu", "very_leaky_relu", "prelu")
DEPTH, WIDTH = 8, 64
NC_MARGIN = 0.05  # n/c: test accuracy < chance + 5 points
FAR_BEHIND = 0.10  # "trails far behind": 10 points below every ReLU-family mean
LR, MOMENTUM, BATCH = 0.01, 0.9, 128


def init_for(activation: str) -> str:
    """He-normal with the activation's gain; SELU needs LeCun-normal to self-normalise."""
    return "lecun_normal" if activation == "selu" else "he_normal"


def deep_mlp(activation: str, input_rank: int = 1, depth: int = DEPTH, width: int = WIDTH) -> dict:
    """The model spec: [flatten] + depth x (dense -> activation) + dense(classes)."""
    items: list = ["flatten"] if input_rank > 1 else []
    for _ in range(depth):
        if activation == "maxout":  # dense to 2 * width, max over pairs -> width outputs
            items.append({"maxout": {"units": width, "pieces": 2}})
        else:
            items += [{"dense": width}, {"activation": activation}]
    items.append({"dense": "auto"})
    return {"layers": items, "init": init_for(activation)}


def did_not_converge(accuracy: float, n_classes: int) -> bool:
    return not accuracy >= 1.0 / n_classes + NC_MARGIN  # NaN (diverged) counts as n/c


@register
class Activations(Lab):
    name = "activations"
    title = "Activation functions in a deep net: sigmoid does not converge, the ReLU family beats tanh, maxout is fine"
    lecture = (
        Quote("모두를 위한 딥러닝 Lecture 10-1", "**sigmoid** 안 된다. 수렴이 아예 안된다. cost 함수가 안내려간다.",
              "sigmoid does not work: it does not converge at all, the cost does not go down."),
        Quote("모두를 위한 딥러닝 Lecture 10-1",
              "**tanh** 조금 떨어지고, **ReLU**, **VLReLU**(Very Leaky ReLU) 굉장히 잘 된다.",
              "tanh is a little worse; ReLU and VLReLU (very leaky ReLU) work very well."),
        Quote("모두를 위한 딥러닝 Lecture 10-1", "**maxout**도 괜찮다.", "maxout is fine too."),
        Quote("CS231n Training NN part 1", "파라미터가 2개라 연산이 2배",
              "(maxout) has two sets of parameters, so twice the computation."),
    )
    data = ("mnist1d", "cifar10")
    seeds = {"quick": 3, "standard": 5, "full": 10}

    def run(self, ctx: Context) -> None:
        ds = load_data(ctx)
        steps = ctx.pick(150, 600, 3000)
        ctx.setup(net=f"{DEPTH} hidden layers x {WIDTH} units (maxout: {WIDTH} outputs of 2 pieces)",
                  init="he_normal with the activation's gain (sigmoid 1, tanh 5/3, relu sqrt 2, ...); "
                       "lecun_normal for selu",
                  optimizer=f"sgd momentum {MOMENTUM}, lr {LR}, batch {BATCH}", steps=steps,
                  data=f"{ds.name}: {len(ds.train)} train / {len(ds.test)} test, standardized",
                  not_converged=f"test accuracy < chance + {NC_MARGIN:.2f} ({1 / ds.n_classes + NC_MARGIN:.2f})")
        runs = {}
        for act in ACTIVATIONS:
            ctx.step(f"training {len(ctx.seeds)} x {act}")
            runs[act] = train_one(ctx, ds, act, steps)
        report(ctx, runs, ds)
        claim_sigmoid(ctx, runs, ds.n_classes)
        claim_others_converge(ctx, runs)
        claim_relu_family_beats_tanh(ctx, runs)
        claim_maxout_fine(ctx, runs)
        note_fit_vs_test(ctx, runs)
        if ctx.size == "full":
            sigmoid_variants(ctx, ds, steps, runs["sigmoid"]["acc"])
        ctx.note(f"{ctx.size}: {steps} SGD steps of batch {BATCH} per run; members trained "
                 f"{runs['relu']['mode']}. Accuracies are on the {len(ds.test)} test examples.")


def report(ctx: Context, runs: dict, ds) -> None:
    """The table in Mishkin & Matas' shape, and the data behind the figures."""
    ctx.table("activations", f"Test accuracy over {len(ctx.seeds)} seeds (Mishkin & Matas' table, {ds.name})",
              ["activation", "init", "test accuracy (mean ± std)", "n/c seeds", "final train loss"],
              [[a, init_for(a), fmt_ms(r["acc"]), f"{sum(r['nc'])}/{len(r['nc'])}"
                + (" (did not converge)" if all(r["nc"]) else ""), fmt_ms(r["train_loss"])]
               for a, r in runs.items()])
    ctx.record("runs", {a: {k: r[k] for k in ("acc", "nc", "train_loss", "steps", "loss", "val_accuracy")}
                        for a, r in runs.items()})
    ctx.record("chance", 1.0 / ds.n_classes)


def load_data(ctx: Context):
    if ctx.data == "cifar10":  # flattened images; smaller sizes train on a stratified subset
        n_train = None if ctx.size == "full" else ctx.pick(5000, 20000)
        return data.load({"name": "cifar10", "preprocess": "standardize", "n_train": n_train})
    return data.load({"name": ctx.data, "preprocess": "standardize"})


def train_one(ctx: Context, ds, activation: str, steps: int) -> dict:
    """Train ctx.seeds members of the deep net with ``activation``; per-seed results and curves."""
    spec = {"model": deep_mlp(activation, len(ds.input_shape)),
            "train": {"optimizer": {"name": "sgd", "momentum": MOMENTUM}, "lr": LR, "steps": steps,
                      "batch_size": BATCH}}
    members = train_seeds(ctx, spec, ds)
    acc = members.evaluate(ds.test)["accuracy"]
    return {"acc": acc, "nc": [did_not_converge(a, ds.n_classes) for a in acc],
            "train_loss": members.evaluate(ds.train)["loss"], "steps": member_steps(members),
            "loss": member_curves(members, "loss"), "val_accuracy": member_curves(members, "val_accuracy"),
            "mode": members.mode}


def note_fit_vs_test(ctx: Context, runs: dict) -> None:
    """Say so when tanh fits the training set better than ReLU yet tests worse (overfitting)."""
    tanh, relu = (mean_std(runs[a]["train_loss"])[0] for a in ("tanh", "relu"))
    if tanh < relu:
        ctx.note(f"tanh ends with a LOWER training loss than relu ({tanh:.3f} vs {relu:.3f}) but a lower test "
                 f"accuracy: on this small data set its deficit is generalisation, not optimisation. The "
                 f"claims compare test accuracy, as Mishkin & Matas' table does.")


def sigmoid_variants(ctx: Context, ds, steps: int, base: list) -> None:
    """(full only) Is sigmoid's failure only its learning rate or optimizer? SGD with 10x the
    learning rate, and Adam, whose per-weight step size undoes the vanishing gradient's scale."""
    rows = [[f"sgd momentum {MOMENTUM}, lr {LR} (the table's run)", fmt_ms(base),
             f"{sum(did_not_converge(a, ds.n_classes) for a in base)}/{len(base)}"]]
    for label, train in ((f"sgd momentum {MOMENTUM}, lr {10 * LR:g}",
                          {"optimizer": {"name": "sgd", "momentum": MOMENTUM}, "lr": 10 * LR}),
                         ("adam, lr 0.001", {"optimizer": "adam", "lr": 1e-3})):
        ctx.step(f"sigmoid with {label}")
        spec = {"model": deep_mlp("sigmoid", len(ds.input_shape)),
                "train": {**train, "steps": steps, "batch_size": BATCH}}
        acc = train_seeds(ctx, spec, ds).evaluate(ds.test)["accuracy"]
        rows.append([label, fmt_ms(acc), f"{sum(did_not_converge(a, ds.n_classes) for a in acc)}/{len(acc)}"])
    ctx.table("sigmoid_variants", "The deep sigmoid net with other optimizer settings",
              ["optimizer", "test accuracy (mean ± std)", "n/c seeds"], rows)
    adam = rows[-1]
    if not adam[2].startswith(f"{len(base)}/"):
        ctx.note(f"with Adam the deep sigmoid net does learn (test accuracy {adam[1]}, n/c {adam[2]}): its "
                 f"failure under SGD is the vanishing gradients' scale, which Adam's per-weight step size "
                 f"undoes; a 10x larger SGD learning rate does not help ({rows[1][1]}).")


def claim_sigmoid(ctx: Context, runs: dict, n_classes: int) -> None:
    """Two outcomes, reported apart: the lecture's "does not converge at all" (every seed n/c),
    and the weaker "trails far behind the ReLU family" (which a net that learns a little passes)."""
    sig = runs["sigmoid"]
    measured = {"sigmoid_test_accuracy": sig["acc"], "not_converged": f"{sum(sig['nc'])}/{len(sig['nc'])}",
                "sigmoid_train_loss": sig["train_loss"], "ln_classes": math.log(n_classes)}
    ctx.claim("sigmoid_does_not_converge", "the deep sigmoid net does not converge at all: every seed ends "
              f"below chance + {NC_MARGIN:.2f} test accuracy",
              all(sig["nc"]), measured,
              f"n/c (test accuracy < {1 / n_classes + NC_MARGIN:.2f}) on every seed",
              lecture="sigmoid 안 된다. 수렴이 아예 안된다 (n/c in Mishkin & Matas' table)")
    gaps = {a: mean_std(runs[a]["acc"])[0] - mean_std(sig["acc"])[0] for a in RELU_FAMILY}
    ctx.claim("sigmoid_far_behind", f"the deep sigmoid net's mean test accuracy is at least {FAR_BEHIND:.2f} below "
              "every ReLU-family mean",
              min(gaps.values()) >= FAR_BEHIND,
              {"sigmoid": fmt_ms(sig["acc"]), **{f"gap_to_{a}": round(g, 4) for a, g in gaps.items()}},
              f"mean(acc_a) - mean(acc_sigmoid) >= {FAR_BEHIND:.2f} for a in {', '.join(RELU_FAMILY)}",
              lecture="ReLU, VLReLU 굉장히 잘 된다; sigmoid n/c")


def claim_others_converge(ctx: Context, runs: dict) -> None:
    others = [a for a in ACTIVATIONS if a != "sigmoid"]
    failed = {a: f"{sum(runs[a]['nc'])}/{len(runs[a]['nc'])}" for a in others if any(runs[a]["nc"])}
    ctx.claim("others_converge", "every other activation (tanh, ReLU family, ELU, SELU, maxout, GELU) converges "
              "on every seed",
              not failed, {"not_converged": failed or "none",
                           "lowest_mean_accuracy": min((mean_std(runs[a]["acc"])[0], a) for a in others)},
              "no seed n/c for any of the 9 other activations",
              lecture="only sigmoid is n/c in the table")


def claim_relu_family_beats_tanh(ctx: Context, runs: dict) -> None:
    """The lecture: tanh "a little worse", the ReLU family "very well" — each beats tanh above the noise."""
    tanh = runs["tanh"]["acc"]
    rows = {a: diff_se(runs[a]["acc"], tanh) for a in RELU_FAMILY}
    ctx.claim("relu_family_beats_tanh", "ReLU, leaky ReLU, very leaky ReLU and PReLU each beat tanh: mean test "
              "accuracy higher by more than 2 standard errors of the difference",
              all(d > 2 * se for d, se in rows.values()),
              {"tanh": fmt_ms(tanh), **{a: f"{fmt_ms(runs[a]['acc'])} (diff {d:+.3f} ± {se:.3f})"
                                      for a, (d, se) in rows.items()}},
              "mean(acc) - mean(acc_tanh) > 2 SE of the difference (Welch), for each of the four",
              lecture="tanh 조금 떨어지고, ReLU, VLReLU 굉장히 잘 된다 (tanh a little worse)")


def claim_maxout_fine(ctx: Context, runs: dict) -> None:
    """"maxout is fine too", beside ReLU's "very well": not significantly below ReLU."""
    d, se = diff_se(runs["maxout"]["acc"], runs["relu"]["acc"])
    ctx.claim("maxout_fine", "maxout is fine too: its mean test accuracy is not significantly below ReLU's "
              "(at most 2 standard errors of the difference below)",
              d >= -2 * se,
              {"relu": fmt_ms(runs["relu"]["acc"]), "maxout": fmt_ms(runs["maxout"]["acc"]),
               "difference": f"{d:+.3f} ± {se:.3f}"},
              "mean(acc_maxout) - mean(acc_relu) >= -2 SE of the difference (Welch)",
              lecture="maxout도 괜찮다 (maxout is fine too)")
