"""Lab ``xor-deep``: a 2-5-4-1 sigmoid net learns XOR; the lecture's 10-hidden-layer sigmoid net
is stuck at cost ln 2; the same net with ReLU hidden layers learns — and how reliably.

Four nets, each trained from many seeds at once (stacked) on the lecture's four XOR points with
full-batch gradient descent, lr 0.1, binary cross-entropy (Lab 10's TensorFlow code):

    shallow   2-5-4-1, sigmoid, uniform(-1, 1) weights, zero biases   (Lecture 9's net)
    sigmoid   2-10x10-1, sigmoid, uniform(-1, 1)                     ("9 hidden layers!")
    relu      2-10x10-1, ReLU hidden layers, the same uniform(-1, 1) init
    relu_he   2-10x10-1, ReLU hidden layers, He (normal) init

Each seed ends in one of four outcomes: solved (accuracy 1.0), stuck (cost within 0.01 of
ln 2: every output ~0.5), diverged (NaN cost) or partial (anything else). The per-seed table and
the success rates are the point: the lecture shows one run of each.
"""

from __future__ import annotations

import math
import statistics

import torch

from trainlab import data
from trainlab.diagnose.hooks import Hooks
from trainlab.diagnose.layers import discover
from trainlab.diagnose.stats import dead_fraction
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import first_step, fraction, member_curves, member_steps, train_seeds
from trainlab.labs.registry import register

LN2 = math.log(2.0)  # the cost of predicting 0.5 for every point: 0.693147...
STUCK_TOL = 0.01  # "cost [0.69314718]": a final cost within 0.01 of ln 2 is the lecture's plateau
LECTURE_INIT = {"uniform": {"low": -1.0, "high": 1.0}}  # tf.random_uniform([..], -1.0, 1.0)

# name -> (label, hidden widths, hidden activation, weight init)
NETS = {
    "shallow": ("2-5-4-1 sigmoid, uniform(-1,1)", [5, 4], "sigmoid", LECTURE_INIT),
    "sigmoid": ("10x10 sigmoid, uniform(-1,1)", [10] * 10, "sigmoid", LECTURE_INIT),
    "relu": ("10x10 ReLU, uniform(-1,1)", [10] * 10, "relu", LECTURE_INIT),
    "relu_he": ("10x10 ReLU, He init", [10] * 10, "relu", "he_normal"),
}
OUTCOMES = ("solved", "stuck", "diverged", "partial")
MAJORITY = 0.5  # "learns": more than half of the seeds reach accuracy 1.0 (a typical seed learns)
RELIABLE = 0.9  # "reliably": at least 9 seeds in 10 reach accuracy 1.0


def net_spec(name: str, steps: int) -> dict:
    """The run spec of net ``name``: the lecture's optimizer, loss and learning rate."""
    _, hidden, activation, init = NETS[name]
    return {"model": {"mlp": {"hidden": hidden, "activation": activation, "init": init, "bias_init": "zeros"}},
            "train": {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": steps}}


def outcome(loss: float, accuracy: float) -> str:
    """What one seed's final (cost, accuracy) on the four XOR points means."""
    if not math.isfinite(loss):
        return "diverged"
    if accuracy == 1.0:
        return "solved"
    if abs(loss - LN2) < STUCK_TOL:
        return "stuck"
    return "partial"


def run_net(ctx: Context, ds, name: str, steps: int) -> dict:
    """Train net ``name`` from every seed (stacked); per-seed outcomes and curves."""
    members = train_seeds(ctx, net_spec(name, steps), ds)
    ev = members.evaluate(ds.train)  # the four points are train, val and test alike
    p = members.probabilities(ds.train.x)[..., 1]  # (K, 4): P(y = 1)
    at = member_steps(members)
    outcomes = [outcome(l, a) for l, a in zip(ev["loss"], ev["accuracy"])]
    return {"loss": ev["loss"], "accuracy": ev["accuracy"], "outcome": outcomes,
            "solved_frac": fraction(o == "solved" for o in outcomes),
            "spread": (p - 0.5).abs().amax(1).tolist(),  # max |p - 0.5| over the 4 points
            "first_solved": [first_step(at, c, lambda a: a == 1.0) for c in member_curves(members, "val_accuracy")],
            "steps": at, "curves": member_curves(members, "loss"), "mode": members.mode,
            "dead_layers": [dead_layers(m, ds.train.x) for m in members.models()]}


def dead_layers(model, x) -> int:
    """How many ReLU layers of ``model`` output 0 in every unit for every row of ``x``: such a
    layer cuts the input off (constant output, zero gradient below it) — CS231n's dead ReLU."""
    relus = [(l.name, l.module) for l in discover(model) if l.rule == "relu"]
    dead = []
    with torch.no_grad(), Hooks(relus, lambda name, m, args, out: dead.append(float(dead_fraction(out)) == 1.0)):
        model(x.to(next(model.parameters()).device))
    return sum(dead)


def median(values: list) -> float | None:
    """The median of the finite values (None where there are none: no seed solved, all diverged)."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    return statistics.median(v) if v else None


@register
class XorDeep(Lab):
    name = "xor-deep"
    title = "Deep sigmoid nets cannot learn XOR; the same net with ReLU can"
    lecture = (
        Quote("모두를 위한 딥러닝 Lecture 10-1", "2~3단 정도의 그래프는 네트워크를 잘 학습한다. "
              "오늘 우리가 사용했던 것처럼 9~10단 -> 학습이 안 된다.",
              "Nets of 2-3 layers learn well; with 9-10 layers, as today, they do not learn."),
        Quote("모두를 위한 딥러닝 Lecture 10-1", "첫 번째가 cost [0.69314718] 이거 cost가 떨어지지 않고, "
              "최종 결과 accuracy 0.5",
              "The cost is 0.69314718 and does not go down; the final accuracy is 0.5."),
        Quote("모두를 위한 딥러닝 Lab 10", "hidden layer를 9개 만들어서 실행시켰는데 Accuracy가 0.5로 나옴",
              "With 9 hidden layers the accuracy comes out 0.5."),
        Quote("모두를 위한 딥러닝 Lecture 10-1", "9단, sigmoid 대신 Relu ... 아주 잘 되었다. Accuracy가 1로 나온다.",
              "Nine layers with ReLU instead of sigmoid: it works very well, the accuracy is 1."),
        Quote("모두를 위한 딥러닝 Lecture 10-1", "ReLU를 여러 번 돌려보니 전반적으로 굉장히 빨리 떨어진다. "
              "sigmoid는 아예 떨어지지 않는다는 것을 알 수 있다.",
              "Run ReLU several times: the cost falls very fast; sigmoid's does not fall at all."),
    )
    seeds = {"quick": 64, "standard": 64, "full": 256}

    def run(self, ctx: Context) -> None:
        ds = data.load("xor")
        deep_steps = ctx.pick(1000, 10_001)  # quick: most ReLU nets solve within 1,000 steps; sigmoid is flat
        shallow_steps = 10_001  # the 2-5-4-1 net needs them (median seed solves at ~5,800); it is cheap
        ctx.setup(data="xor: the lecture's 4 points", optimizer="gradient descent, lr 0.1, full batch",
                  loss="binary cross-entropy", biases="zeros", deep_steps=deep_steps,
                  shallow_steps=shallow_steps, seeds=len(ctx.seeds),
                  nets={k: v[0] for k, v in NETS.items()})
        res = {}
        for name in NETS:
            ctx.step(f"{NETS[name][0]}: {len(ctx.seeds)} seeds")
            res[name] = run_net(ctx, ds, name, shallow_steps if name == "shallow" else deep_steps)
        self._claims(ctx, res, deep_steps)
        self._tables(ctx, res)
        ctx.record("curves", {n: {"label": NETS[n][0], "steps": r["steps"], "loss": r["curves"],
                                  "first_solved": r["first_solved"]} for n, r in res.items()})
        ctx.record("outcomes", {n: {o: r["outcome"].count(o) for o in OUTCOMES} for n, r in res.items()})
        ctx.record("ln2", LN2)
        self._notes(ctx, res)

    def _claims(self, ctx: Context, res: dict, deep_steps: int) -> None:
        sh, sg, rl, he = (res[n] for n in NETS)
        ctx.claim("shallow_learns", "the 2-5-4-1 sigmoid net (uniform(-1,1) init, GD lr 0.1, 10,001 steps) "
                  "learns XOR: most seeds reach accuracy 1.0",
                  passed=sh["solved_frac"] > MAJORITY,
                  measured={"solved_fraction": sh["solved_frac"], "outcomes": counts(sh)},
                  expected=f"solved fraction > {MAJORITY} (a typical seed learns)",
                  lecture="2~3단 정도의 그래프는 네트워크를 잘 학습한다")
        costs = [l for l in sg["loss"] if math.isfinite(l)]
        ctx.claim("deep_sigmoid_stuck", f"the 10-hidden-layer sigmoid net is stuck after {deep_steps:,} steps: "
                  "every seed's cost stays at ln 2 and no seed solves XOR",
                  passed=len(costs) == len(sg["loss"]) and max(abs(c - LN2) for c in costs) < STUCK_TOL
                  and sg["solved_frac"] == 0.0,
                  measured={"cost_min": min(costs, default=math.nan), "cost_max": max(costs, default=math.nan),
                            "solved_fraction": sg["solved_frac"], "outcomes": counts(sg),
                            "accuracies": {str(a): sg["accuracy"].count(a) for a in sorted(set(sg["accuracy"]))}},
                  expected=f"|cost - ln 2| < {STUCK_TOL} for every seed, solved fraction 0",
                  lecture={"cost": 0.69314718, "accuracy": 0.5})
        ctx.claim("relu_learns", "the same 10-layer net with ReLU hidden layers and the lecture's "
                  "uniform(-1,1) init learns XOR: most seeds reach accuracy 1.0",
                  passed=rl["solved_frac"] > MAJORITY,
                  measured={"solved_fraction": rl["solved_frac"], "outcomes": counts(rl)},
                  expected=f"solved fraction > {MAJORITY}; the lecture shows one run",
                  lecture={"accuracy": 1.0})
        ctx.claim("relu_he_reliable", "with He init the ReLU net learns XOR reliably",
                  passed=he["solved_frac"] >= RELIABLE,
                  measured={"solved_fraction": he["solved_frac"], "outcomes": counts(he),
                            "lecture_init_solved_fraction": rl["solved_frac"]},
                  expected=f"solved fraction >= {RELIABLE} (at least 9 seeds in 10)")

    def _tables(self, ctx: Context, res: dict) -> None:
        rows = []
        for name, r in res.items():
            rows.append([NETS[name][0], f"{sum(o == 'solved' for o in r['outcome'])}/{len(r['outcome'])}",
                         *[r["outcome"].count(o) for o in OUTCOMES[1:]], median(r["loss"]),
                         as_step(median(r["first_solved"])), sum(d > 0 for d in r["dead_layers"])])
        ctx.table("summary", "Seeds reaching accuracy 1.0 on XOR",
                  ["net", "solved", "stuck at ln 2", "diverged (NaN)", "partial", "median final cost",
                   "median first step at accuracy 1.0", "seeds with a dead layer"], rows)
        cells = lambda r, k: f"{r['outcome'][k]}: acc {r['accuracy'][k]:.2f}, cost {r['loss'][k]:.4g}"
        ctx.table("seeds", "Each seed's final accuracy and cost",
                  ["seed", *[NETS[n][0] for n in res]],
                  [[s, *[cells(r, k) for r in res.values()]] for k, s in enumerate(ctx.seeds)])

    def _notes(self, ctx: Context, res: dict) -> None:
        sg, rl = res["sigmoid"], res["relu"]
        ctx.note(f"Deep sigmoid: every output stays within {max(sg['spread']):.1e} of 0.5 (max over seeds "
                 f"and points), so its accuracy ({sorted(set(sg['accuracy']))}) is decided by rounding-level "
                 f"differences: the lecture's 0.5 is chance, the cost ln 2 is the real signal.")
        stuck = [d for o, d in zip(rl["outcome"], rl["dead_layers"]) if o == "stuck"]
        ctx.note(f"ReLU with the lecture's uniform(-1,1) init: {counts(rl)}. {sum(d > 0 for d in stuck)} of the "
                 f"{len(stuck)} seeds stuck at ln 2 end with a dead layer (all 10 ReLUs output 0 on all four "
                 f"points: the output is constant and no gradient passes). With width 10, uniform(-1,1) "
                 f"multiplies the activation variance by about 10 x 1/3 x 1/2 = 1.67 per ReLU layer "
                 f"(~170 over 10), so the first updates are large: units die, and some seeds blow up to NaN "
                 f"at lr 0.1. He init (variance 2/fan_in) keeps the scale at 1.")
        ctx.note(f"Training: {res['sigmoid']['mode']} ({len(ctx.seeds)} seeds per net in one batched run).")


def as_step(x: float | None) -> int | None:
    return None if x is None else int(round(x))


def counts(r: dict) -> dict:
    return {o: r["outcome"].count(o) for o in OUTCOMES}
