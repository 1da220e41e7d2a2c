"""Lab ``init``: CS231n's weight-initialisation experiment, plus zero init and SELU at depth 100.

1,000 standard Gaussian inputs go through 10 layers of 500 units (zero biases) once, no
training, and the per-layer activation statistics are measured with the diagnose probes:

* tanh, W ~ N(0, 0.01^2): each layer multiplies the std by ~0.01 * sqrt(500) = 0.22, so it
  collapses toward 0;
* tanh, W ~ N(0, 1): pre-activations have std ~ sqrt(500) = 22, so almost every unit sits in
  tanh's flat tails (|a| > 0.97, where tanh' < 0.06);
* tanh, Xavier (Var W = 1 / fan_in here, = 2 / (fan_in + fan_out) for 500 x 500): healthy;
* ReLU, Xavier: ReLU zeroes half of each layer, so E[a^2] halves per layer (std x 1 / sqrt 2);
* ReLU, He (Var W = 2 / fan_in): the factor 2 puts it back, stable.

Then SELU with LeCun-normal init keeps mean ~0 and std ~1 through 100 layers, while ReLU with
the same init decays by orders of magnitude; and a small net trained from zero weights keeps
all hidden units identical (``init_symmetry``).
"""

from __future__ import annotations

import math

from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import fmt_ms, sig
from trainlab.labs.init_stats import forward_stats, gaussian_inputs, geometric_ratio, plain_net
from trainlab.labs.init_symmetry import HIDDEN, RUNS, claim_symmetry, symmetry_runs
from trainlab.labs.registry import register

N, WIDTH, DEPTH = 1000, 500, 10  # CS231n: np.random.randn(1000, 500), 10 layers of 500
CS231N = {  # name -> (activation, weight init)
    "tanh, W x 0.01": ("tanh", {"normal": {"std": 0.01}}),
    "tanh, W x 1.0": ("tanh", {"normal": {"std": 1.0}}),
    "tanh, Xavier": ("tanh", "xavier_normal"),  # gain 1: std 1/sqrt(500), CS231n's randn / sqrt(fan_in)
    "relu, Xavier": ("relu", "xavier_normal"),
    "relu, He": ("relu", "he_normal"),  # gain sqrt 2 from the relu that follows: randn / sqrt(fan_in / 2)
}
DEEP = {"selu, LeCun normal": ("selu", "lecun_normal"), "relu, LeCun normal": ("relu", "lecun_normal")}
SHRINK = 0.01 * math.sqrt(WIDTH)  # tanh ~ identity near 0: std x 0.01 * sqrt(fan_in) per layer


@register
class Init(Lab):
    name = "init"
    title = "Weight init: too small collapses, too large saturates, Xavier/He keep activations alive"
    lecture = (
        Quote("CS231n Training NN part 1", "W를 곱하면 곱할수록 모든 활성함수 결과가 0이 되어버림.",
              "the more layers multiply by (small) W, the more every activation becomes 0."),
        Quote("CS231n Training NN part 1", "가중치를 큰 값으로 초기화했을 때 => 출력이 항상 1 아니면 -1이 됨.",
              "with large initial weights the outputs are always 1 or -1."),
        Quote("CS231n Training NN part 1", "ReLU는 출력의 절반을 죽이고 그 절반은 매번 0이 되기 때문에 출력의 분산을 반토막 내버림",
              "ReLU kills half of the outputs, so the output variance is halved (at every layer)."),
        Quote("CS231n Training NN part 1", "해결하기 위해 : 2로 나눠줌 => 좋은 분포 형성",
              "the fix: divide by 2 (He init), which gives a good distribution."),
        Quote("CS231n Training NN part 1", "모든 가중치=0 => 모든 뉴련이 같은 일을 할 것.",
              "all weights 0: every neuron will do the same thing."),
        Quote("CS231n Training NN part 1", "Symmetry breaking이 일어날 수 없다.", "symmetry can never break."),
        Quote("모두를 위한 딥러닝 Lecture 10", "초기값을 0을 주면 안됨", "never initialise (the weights) to 0."),
    )
    data = ()
    seeds = {"quick": 2, "standard": 3, "full": 5}

    def run(self, ctx: Context) -> None:
        deep_depth, deep_width, deep_n = 100, ctx.pick(256, WIDTH), ctx.pick(500, N)
        sym_steps = ctx.pick(150, 300, 1000)
        ctx.setup(cs231n=f"{N} x {WIDTH} N(0,1) inputs, {DEPTH} layers of {WIDTH}, zero biases, one forward pass",
                  deep=f"{deep_n} inputs through {deep_depth} layers of {deep_width}",
                  zero_init=f"digits, mlp [32, 32], sgd momentum 0.9 lr 0.1, batch 64, {sym_steps} steps",
                  seeds=f"every statistic on each of {len(ctx.seeds)} seeds (claims hold for the worst)")
        stats = {}
        for name, (act, init) in CS231N.items():
            ctx.step(f"forward pass: {name}")
            stats[name] = [forward_stats(plain_net(DEPTH, WIDTH, act, init), gaussian_inputs(N, WIDTH, s), s)
                           for s in ctx.seeds]
        for name, (act, init) in DEEP.items():
            ctx.step(f"forward pass, {deep_depth} layers: {name}")
            stats[name] = [forward_stats(plain_net(deep_depth, deep_width, act, init),
                                         gaussian_inputs(deep_n, deep_width, s), s, hist=False) for s in ctx.seeds]
        sym = symmetry_runs(ctx, sym_steps)
        record_all(ctx, stats, sym)
        claim_tanh(ctx, stats)
        claim_relu(ctx, stats)
        claim_selu(ctx, stats, deep_depth)
        claim_symmetry(ctx, sym)
        zero_init_notes(ctx, sym)
        if ctx.quick:
            ctx.note(f"quick size: the {deep_depth}-layer part uses width {deep_width} and {deep_n} inputs "
                     f"(standard/full: {WIDTH} and {N}).")


def zero_init_notes(ctx: Context, sym: dict) -> None:
    """What the zero-init numbers mean beyond the claims (measured, so said only when true)."""
    tanh = sym["zeros, tanh"]
    if max(tanh["max_hidden_w"]) == 0.0:
        ctx.note(f"zero init under tanh is worse than symmetric: tanh(0) = 0 makes every hidden output and "
                 f"every hidden gradient 0, so the hidden weights stay exactly 0 and only the output "
                 f"biases learn (test accuracy {fmt_ms(tanh['acc'])}: the class prior).")
    one, zero = (sum(sym[k]["acc"]) / len(sym[k]["acc"]) for k in ("one unit per layer, sigmoid", "zeros, sigmoid"))
    if zero > one:
        ctx.note(f"the zero-init net ({zero:.3f}) beats one-unit-per-layer nets trained from random init "
                 f"({one:.3f}) although it computes exactly a one-unit-per-layer function: its {HIDDEN} "
                 f"identical units move together, so the equivalent single unit takes larger steps. Same "
                 f"function class, different optimisation.")


def col(rows: list[dict], key: str) -> list[float]:
    return [r[key] for r in rows]


def sat_cell(rows: list[dict]) -> str:
    """Max saturated fraction over layers ("-" where the probes define none: ReLU)."""
    values = [v for v in col(rows, "saturated") if math.isfinite(v)]
    return sig(max(values)) if values else "-"


def record_all(ctx: Context, stats: dict, sym: dict) -> None:
    """Seed 0's per-layer statistics and histograms (figures), tables of every config."""
    ctx.record("layers", {name: [{k: v for k, v in r.items()} for r in per_seed[0]]
                          for name, per_seed in stats.items()})
    ctx.record("symmetry", {k: v for k, v in sym.items() if not k.startswith("_")})
    ctx.table("cs231n", f"Activation std per layer ({N} inputs, {DEPTH} x {WIDTH}, seed {ctx.seeds[0]})",
              ["init"] + [f"L{i + 1}" for i in range(DEPTH)] + ["saturated (max)"],
              [[name] + [sig(s) for s in col(rows[0], "std")] + [sat_cell(rows[0])]
               for name, rows in stats.items() if name in CS231N])
    deep = [n for n in stats if n not in CS231N]
    ctx.table("deep", "Activation mean / std at layers 1, 10, 50, 100",
              ["net", "layer 1", "layer 10", "layer 50", "layer 100"],
              [[n] + [f"{sig(stats[n][0][i]['mean'])} / {sig(stats[n][0][i]['std'])}" for i in (0, 9, 49, -1)]
               for n in deep])
    ctx.table("zero_init", f"Zero init on {sym['_data']}",
              ["run", "test accuracy per seed", "unit spread (max)", "max |hidden w|"],
              [[n, ", ".join(f"{a:.3f}" for a in sym[n]["acc"]), sig(max(sym[n]["spread"])),
                sig(max(sym[n]["max_hidden_w"]))] for n in RUNS])


def claim_tanh(ctx: Context, stats: dict) -> None:
    small = stats["tanh, W x 0.01"]
    ratios = [geometric_ratio(col(rows, "std")) for rows in small]
    decreasing = all(all(b < a for a, b in zip(col(r, "std"), col(r, "std")[1:])) for r in small)
    last = max(r[-1]["std"] for r in small)
    ctx.claim("tanh_small_collapses", "tanh with W x 0.01: the activations collapse toward 0 layer after layer",
              decreasing and last < 1e-4 and all(abs(q / SHRINK - 1) < 0.05 for q in ratios),
              {"std_per_layer_seed0": [sig(s) for s in col(small[0], "std")], "layer10_std_max": last,
               "shrink_per_layer": ratios, "predicted_shrink": SHRINK},
              f"std falls at every layer, by {SHRINK:.3f} (0.01 x sqrt 500) +- 5% per layer, to < 1e-4 at layer 10",
              lecture="CS231n slide: std 0.213, 0.048, 0.011, 0.0024, ... -> 0.000000 at layer 10")
    large = stats["tanh, W x 1.0"]
    sat = min(min(col(r, "saturated")) for r in large)
    ctx.claim("tanh_large_saturates", "tanh with W x 1.0: nearly every unit saturates at -1 or +1",
              sat >= 0.9,
              {"min_saturated_fraction": sat, "saturated_seed0": [sig(s) for s in col(large[0], "saturated")]},
              "at every layer >= 90% of |a| > 0.97 (z ~ N(0, 500 E[a^2]) predicts ~92%)",
              lecture="출력이 항상 1 아니면 -1이 됨 (outputs always 1 or -1)")
    xav = stats["tanh, Xavier"]
    low = min(r[-1]["std"] for r in xav)
    sat_x = max(max(col(r, "saturated")) for r in xav)
    ctx.claim("tanh_xavier_healthy", "tanh with Xavier init: activations stay spread out, neither 0 nor saturated",
              low >= 0.1 and sat_x <= 0.05,
              {"std_per_layer_seed0": [sig(s) for s in col(xav[0], "std")], "layer10_std_min": low,
               "max_saturated_fraction": sat_x},
              "layer-10 std >= 0.1 (slow shrink allowed, far from 0) and <= 5% saturated at every layer",
              lecture="Xavier: 입출력의 분산을 맞춰준다 (it matches the input and output variance)")


def claim_relu(ctx: Context, stats: dict) -> None:
    xav = [geometric_ratio(col(r, "second_moment")) for r in stats["relu, Xavier"]]
    ctx.claim("relu_xavier_halves", "ReLU with Xavier init: the variance halves at every layer",
              all(0.45 <= q <= 0.55 for q in xav),
              {"E[a^2]_ratio_per_layer": xav,
               "std_per_layer_seed0": [sig(s) for s in col(stats["relu, Xavier"][0], "std")]},
              "E[a^2] shrinks by 0.5 +- 10% per layer (std by 1/sqrt 2 = 0.71)",
              lecture="출력의 분산을 반토막 (the output variance is halved)")
    he = [geometric_ratio(col(r, "second_moment")) for r in stats["relu, He"]]
    ctx.claim("relu_he_stable", "ReLU with He init: the variance stays the same layer after layer",
              all(0.9 <= q <= 1.1 for q in he),
              {"E[a^2]_ratio_per_layer": he, "std_per_layer_seed0": [sig(s) for s in col(stats["relu, He"][0], "std")]},
              "E[a^2] ratio per layer 1 +- 10%",
              lecture="2로 나눠줌 => 좋은 분포 형성 (divide by 2: a good distribution)")


def claim_selu(ctx: Context, stats: dict, depth: int) -> None:
    selu, relu = stats["selu, LeCun normal"], stats["relu, LeCun normal"]
    mean = max(max(abs(m) for m in col(r, "mean")) for r in selu)
    std_dev = max(max(abs(s - 1) for s in col(r, "std")) for r in selu)
    decay = max(r[-1]["std"] / r[0]["std"] for r in relu)
    ctx.claim("selu_self_normalizes", f"SELU with LeCun-normal init keeps mean ~0 and std ~1 through {depth} "
              "layers; ReLU with the same init decays", mean < 0.1 and std_dev < 0.2 and decay < 1e-6,
              {"selu_max_abs_mean": mean, "selu_max_abs_std_minus_1": std_dev,
               "selu_layer100_mean_std": [selu[0][-1]["mean"], selu[0][-1]["std"]],
               "relu_std_layer100_over_layer1": decay},
              "SELU: |mean| < 0.1 and |std - 1| < 0.2 at every layer; ReLU: std(layer 100) / std(layer 1) < 1e-6",
              lecture="not in the lecture (Lab 10 only lists selu); Klambauer et al. 2017's fixed point "
                      "(mean 0, variance 1)")
