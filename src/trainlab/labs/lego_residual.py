"""Part 1 of the ``lego`` lab: "Fast forward" (He et al. 2015) — a signal skips two layers ahead.

Three nets of one width on the same data, every one with the lecture's own fixes (ReLU, He init,
Adam): a shallow plain net (4 dense layers), a deep plain net (30 dense layers) and its residual
twin — the same 30 dense layers with an identity skip around every pair (pre-activation blocks,
He et al. 2016), hence exactly the same parameters. The criterion, fixed in advance: *degradation*
means the deeper plain net ends at a higher **training** loss than the shallow one (so it is not
overfitting), and the fast-forward twin removes it.

The comparison is at a fixed budget (400 steps quick, 800 otherwise). Digits' 1,078 training images
are few: given 3,000 steps, Adam fits them even with the 30-layer plain net in 2 of 3 seeds (training
loss ~1e-4, measured on the design seeds 0-2 while building this lab; the third stayed at 0.31), so on this data the
degradation shows as slower and less reliable training, not as a net that can never fit.
"""

from __future__ import annotations

import statistics

from trainlab.labs.base import Context
from trainlab.labs.common import fmt_ms, member_curves, member_steps, sig, spec_parameters, train_seeds

DEPTH, SHALLOW, WIDTH = 30, 4, 32
MUCH_LOWER = 0.1  # "much lower": an order of magnitude


def plain_layers(depth: int, width: int) -> list:
    """``depth`` x (dense -> relu), then the output layer."""
    return [item for _ in range(depth) for item in ({"dense": width}, "relu")] + [{"dense": "auto"}]


def residual_layers(depth: int, width: int) -> list:
    """The plain net's ``depth`` dense layers with a skip around every inner pair:
    dense, (depth - 2) / 2 x residual[relu, dense, relu, dense], relu, dense, relu, output."""
    if depth < 4 or depth % 2:
        raise ValueError(f"residual_layers: depth must be an even number >= 4, got {depth}")
    block = {"residual": ["relu", {"dense": width}, "relu", {"dense": width}]}
    return [{"dense": width}] + [block] * ((depth - 2) // 2) + ["relu", {"dense": width}, "relu", {"dense": "auto"}]


def nets() -> dict:
    return {f"plain {SHALLOW}": plain_layers(SHALLOW, WIDTH), f"plain {DEPTH}": plain_layers(DEPTH, WIDTH),
            f"residual {DEPTH}": residual_layers(DEPTH, WIDTH)}


def run_spec(layers: list, steps: int) -> dict:
    return {"model": {"layers": layers, "init": "he_normal"},
            "train": {"optimizer": "adam", "lr": 0.001, "steps": steps, "batch_size": 64}}


def run(ctx: Context, ds) -> None:
    steps = ctx.pick(400, 800, 800)  # full: more seeds, the same budget (see the module docstring)
    ctx.setup(fast_forward=f"{ds.name}: plain {SHALLOW} / plain {DEPTH} / residual {DEPTH} dense layers of "
                          f"width {WIDTH}, ReLU, He normal init, adam lr 0.001, batch 64, {steps} steps")
    res, params = {}, {}
    for name, layers in nets().items():
        ctx.step(f"fast forward: training {name}")
        params[name] = spec_parameters(run_spec(layers, steps)["model"], ds)
        m = train_seeds(ctx, run_spec(layers, steps), ds, val=False)
        res[name] = {"train": m.evaluate(ds.train)["loss"], "test": m.evaluate(ds.test)["accuracy"],
                     "curves": member_curves(m, "loss"), "steps": member_steps(m), "mode": m.mode}
    ctx.table("fast_forward", f"Final training loss and test accuracy ({ds.name}, {len(ctx.seeds)} seeds)",
              ["net", "parameters", "train loss (per seed)", "test accuracy", "training"],
              [[n, params[n], ", ".join(sig(v) for v in r["train"]), fmt_ms(r["test"]), r["mode"]]
               for n, r in res.items()])
    ctx.record("fast_forward", {n: {"steps": r["steps"], "curves": r["curves"], "train": r["train"],
                                    "test": r["test"]} for n, r in res.items()})
    _claims(ctx, res)
    ctx.note(f"fast forward: the plain {DEPTH}-layer net already has the lecture's fixes (ReLU, He init, Adam), "
             f"so what hurts it is depth itself; its residual twin adds x back every 2 dense layers "
             f"(pre-activation blocks, identity skips: {params[f'residual {DEPTH}']} parameters, the same as "
             f"the plain twin). The criterion is the training loss, so the gap is not overfitting.")


def _claims(ctx: Context, res: dict) -> None:
    shallow, plain, resid = (res[n]["train"] for n in nets())
    ctx.claim("deep_plain_degrades",
              f"the {DEPTH}-layer plain net (ReLU, He init, Adam) ends at a higher training loss than the "
              f"{SHALLOW}-layer one, in every seed: depth alone makes it train worse",
              passed=all(p > s for p, s in zip(plain, shallow)),
              measured={f"plain {DEPTH}": [sig(v) for v in plain], f"plain {SHALLOW}": [sig(v) for v in shallow]},
              expected=f"plain {DEPTH} > plain {SHALLOW} in every seed")
    ratios = [r / p for r, p in zip(resid, plain)]
    ctx.claim("residual_twin_trains",
              f"its fast-forward twin (same {DEPTH} layers and parameters, a skip every 2 layers) trains "
              f"to a much lower training loss: lower in every seed, and >= 10x lower in the median",
              passed=all(v < 1 for v in ratios) and statistics.median(ratios) <= MUCH_LOWER,
              measured={"residual / plain per seed": [sig(v) for v in ratios],
                        "median": sig(statistics.median(ratios))},
              expected=f"every ratio < 1 and median <= {MUCH_LOWER:g}",
              lecture="시그널을 잡아서 앞으로 그래프 노드 2단 앞으로 이동시킴 (skip: 2 layers)")
    ctx.claim("residual_not_degraded",
              f"with fast forward, the {DEPTH}-layer net is no longer worse than the {SHALLOW}-layer one "
              f"(median training loss over seeds)",
              passed=statistics.median(resid) <= statistics.median(shallow),
              measured={f"residual {DEPTH}": sig(statistics.median(resid)),
                        f"plain {SHALLOW}": sig(statistics.median(shallow))},
              expected=f"median residual {DEPTH} <= median plain {SHALLOW}")
