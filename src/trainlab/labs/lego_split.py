"""Part 2 of the ``lego`` lab: "Split & Merge" — the input goes through parallel branches whose
outputs are merged (concatenated or summed) before the head.

A single two-layer branch of width 64 against two parallel branches merged by ``concat`` and by
``sum``, each branch's width chosen so the whole net has the single branch's parameter count
(within a few %, shown). "Match or beat" = the merged net's mean test accuracy is not below the
single branch's by more than the seed + test-set noise (``diff_margin``, 2 standard errors).
"""

from __future__ import annotations

from trainlab.labs.base import Context
from trainlab.labs.common import diff_margin, fmt_ms, member_curves, member_steps, sig, spec_parameters, train_seeds

WIDTH, BRANCHES = 64, 2
MERGES = ("concat", "sum")
PARAM_TOL = 0.03  # equal parameters: within 3%


def branch(width: int) -> list:
    return [{"dense": width}, "relu", {"dense": width}, "relu"]


def single_layers(width: int = WIDTH) -> list:
    return branch(width) + [{"dense": "auto"}]


def split_layers(width: int, merge: str, branches: int = BRANCHES) -> list:
    return [{"parallel": {"branches": [branch(width) for _ in range(branches)], "merge": merge}},
            {"dense": "auto"}]


def matched_width(target: int, count, widths=range(1, 4 * WIDTH)) -> int:
    """The width whose parameter count ``count(width)`` is closest to ``target``."""
    return min(widths, key=lambda w: abs(count(w) - target))


def model(layers: list) -> dict:
    return {"layers": layers, "init": "he_normal"}


def run(ctx: Context, ds) -> None:
    steps = ctx.pick(300, 600, 2000)
    train = {"optimizer": "adam", "lr": 0.001, "steps": steps, "batch_size": 64}
    nets = {"single": single_layers()}
    target = spec_parameters(model(nets["single"]), ds)
    for merge in MERGES:
        w = matched_width(target, lambda w: spec_parameters(model(split_layers(w, merge)), ds))
        nets[f"{BRANCHES} x {w} {merge}"] = split_layers(w, merge)
    ctx.setup(split_merge=f"{ds.name}: one branch [dense {WIDTH}, relu] x 2 vs {BRANCHES} such branches merged "
                          f"by {' / '.join(MERGES)}, widths matched to equal parameters; He init, adam lr 0.001, "
                          f"batch 64, {steps} steps")
    res = {}
    for name, layers in nets.items():
        ctx.step(f"split & merge: training {name}")
        m = train_seeds(ctx, {"model": model(layers), "train": train}, ds, val=False)
        res[name] = {"params": spec_parameters(model(layers), ds), "test": m.evaluate(ds.test)["accuracy"],
                     "train": m.evaluate(ds.train)["loss"], "curves": member_curves(m, "loss"),
                     "steps": member_steps(m), "mode": m.mode}
    ctx.table("split_merge", f"Split & merge at equal parameters ({ds.name}, {len(ctx.seeds)} seeds)",
              ["net", "parameters", "vs single", "train loss", "test accuracy", "training"],
              [[n, r["params"], f"{r['params'] / target - 1:+.1%}", fmt_ms(r["train"], 4), fmt_ms(r["test"]),
                r["mode"]] for n, r in res.items()])
    ctx.record("split_merge", {n: {k: r[k] for k in ("params", "test", "train", "curves", "steps")}
                               for n, r in res.items()})
    _claims(ctx, res, len(ds.test))
    ctx.note("split & merge: the merged nets are a single net whose weights are block-diagonal (no connection "
             "between branches); at the same parameter count each branch is narrower than the single one "
             f"(see the table), and on {ds.name} they do as well as one branch. The lecture makes no claim beyond "
             "'you can build it'; the measured point is that splitting costs nothing at equal size.")


def _claims(ctx: Context, res: dict, n_test: int) -> None:
    single = res["single"]
    for name, r in res.items():
        if name == "single":
            continue
        merge = name.split()[-1]
        diff = sum(r["test"]) / len(r["test"]) - sum(single["test"]) / len(single["test"])
        margin = diff_margin(r["test"], single["test"], n_test)
        size = abs(r["params"] / single["params"] - 1)
        ctx.claim(f"{merge}_matches_single",
                  f"{BRANCHES} parallel branches merged by {merge} train and match or beat the single "
                  f"branch at equal parameters (test accuracy)",
                  passed=size <= PARAM_TOL and diff >= -margin,
                  measured={"test accuracy": fmt_ms(r["test"]), "single": fmt_ms(single["test"]),
                            "difference": sig(diff), "noise margin": sig(margin),
                            "parameters": f"{r['params']} vs {single['params']} ({size:.1%})"},
                  expected=f"difference >= -(2 SE noise margin); parameters within {PARAM_TOL:.0%}",
                  lecture="Split & Merge")
