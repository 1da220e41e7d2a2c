"""Part 3 of the ``lego`` lab: "Recurrent network — the graph moves sideways, not only forward".

A vanilla RNN and a gated cell (GRU; LSTM at full size) read the adding problem (two marked
numbers, one in each half of a T-step sequence, must be added). We measure how much of the
loss's gradient reaches each time step, ``||dL/dx_t||`` (autograd on the input sequence), at
init and after training, and whether the net learns the task (R^2 against predicting the mean).
"""

from __future__ import annotations

import statistics

import torch

from trainlab import data
from trainlab.ensemble.stack import build_members
from trainlab.labs.base import Context
from trainlab.labs.common import member_curves, member_steps, sig, train_seeds
from trainlab.train import losses

VANISHED = 1e-2  # "orders of magnitude": the first step gets < 1/100 of the last step's gradient
LEARNED = 0.5  # R^2 >= 0.5: the net explains at least half the variance the mean leaves


def settings(ctx: Context) -> dict:
    """Sequence length, steps, learning rate and cells by size (the gated cell of every claim is
    the GRU; quick takes fewer, larger steps)."""
    return ctx.pick(
        {"length": 40, "steps": 150, "lr": 0.02, "hidden": 16, "cells": ("rnn", "gru")},
        {"length": 50, "steps": 300, "lr": 0.01, "hidden": 16, "cells": ("rnn", "gru")},
        {"length": 100, "steps": 1500, "lr": 0.01, "hidden": 32, "cells": ("rnn", "gru", "lstm")})


def recurrent_spec(cell: str, steps: int, hidden: int = 32, lr: float = 0.01) -> dict:
    return {"model": {"layers": [{"recurrent": {"cell": cell, "hidden": hidden, "returns": "last"}},
                                 {"dense": "auto"}]},
            "train": {"loss": "mse", "optimizer": "adam", "lr": lr, "steps": steps, "batch_size": 64}}


def input_gradient(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean over samples of ``||dL/dx_t||`` for each time step t: shape (T,).

    ``x`` is (N, T, F); the loss is the batch mean, as in training."""
    model.eval()
    fn = losses.get(loss)
    x = x.clone().requires_grad_(True)
    out = model(x)  # (N, outputs)
    grad, = torch.autograd.grad(fn.fn(out, fn.prepare(y, out.shape[-1])), x)  # (N, T, F)
    return grad.norm(dim=-1).mean(0).detach()


def reach(profile) -> float:
    """How much of the gradient reaches the first step, relative to the last: g_0 / g_{T-1}."""
    return float(profile[0]) / float(profile[-1])


def r2(mse: float, baseline: float) -> float:
    """Explained variance against the baseline of predicting the training mean."""
    return 1.0 - mse / baseline


def train_cell(ctx: Context, cell: str, ds, s: dict) -> dict:
    """Train one cell over ctx.seeds (settings ``s``); its gradient profiles at init and after training."""
    spec = recurrent_spec(cell, s["steps"], hidden=s["hidden"], lr=s["lr"])
    x, y = ds.test.x, ds.test.y
    fresh, _ = build_members(spec["model"], ds.input_shape, 1, list(ctx.seeds))  # the same init as training
    init = [input_gradient(m, x, y, "mse") for m in fresh]
    members = train_seeds(ctx, spec, ds, val=False)
    trained = [input_gradient(m, x, y, "mse") for m in members.models()]
    return {"init": init, "trained": trained, "mse": members.evaluate(ds.test)["loss"],
            "curves": member_curves(members, "loss"), "steps": member_steps(members),
            "mode": members.note}


def run(ctx: Context) -> None:
    s = settings(ctx)
    ds = data.load({"name": "adding", "n_samples": 2000, "length": s["length"]})
    baseline = float(((ds.test.y - ds.train.y.mean()) ** 2).mean())  # predict the training mean
    ctx.setup(recurrent=f"adding problem, T={s['length']} steps, 1200 train / 400 test sequences; "
                        f"one recurrent layer (hidden {s['hidden']}) + dense; adam lr {s['lr']:g}, batch 64, "
                        f"{s['steps']} steps; "
                        f"cells {', '.join(s['cells'])} (PyTorch default init, zero biases)")
    res = {}
    for cell in s["cells"]:
        ctx.step(f"recurrent: training {cell} on the adding problem (T={s['length']})")
        res[cell] = train_cell(ctx, cell, ds, s)
    ctx.note(f"recurrent cells: {res['rnn']['mode']}")
    _report(ctx, res, baseline, s)
    _claims(ctx, res, baseline, s)


def _report(ctx: Context, res: dict, baseline: float, s: dict) -> None:
    rows = []
    for cell, r in res.items():
        for k, seed in enumerate(ctx.seeds):
            rows.append([cell, seed, sig(reach(r["init"][k])), sig(reach(r["trained"][k])),
                         sig(r["mse"][k]), sig(r2(r["mse"][k], baseline))])
    ctx.table("recurrent", f"Adding problem, T={s['length']}: gradient reaching step 0 (g_0 / g_T-1) "
                           f"and test mse (baseline {sig(baseline)})",
              ["cell", "seed", "g0/gT init", "g0/gT trained", "test mse", "R^2"], rows)
    ctx.record("recurrent", {
        "length": s["length"], "baseline": baseline, "steps": {c: r["steps"] for c, r in res.items()},
        "curves": {c: r["curves"] for c, r in res.items()},
        "init": {c: [p.tolist() for p in r["init"]] for c, r in res.items()},
        "trained": {c: [p.tolist() for p in r["trained"]] for c, r in res.items()}})


def _claims(ctx: Context, res: dict, baseline: float, s: dict) -> None:
    rnn, gru = res["rnn"], res["gru"]
    rnn_init = [reach(p) for p in rnn["init"]]
    rnn_trained = [reach(p) for p in rnn["trained"]]
    ctx.claim("rnn_gradient_vanishes",
              f"the vanilla RNN's gradient vanishes over the {s['length']} time steps: step 0 gets "
              f"< 1/100 of the last step's ||dL/dx_t|| at init (every seed) and after training (median seed)",
              passed=max(rnn_init) < VANISHED and statistics.median(rnn_trained) < VANISHED,
              measured={"init": [sig(v) for v in rnn_init], "trained": [sig(v) for v in rnn_trained],
                        "trained median": sig(statistics.median(rnn_trained))},
              expected=f"g_0 / g_T-1 < {VANISHED:g} (>= 2 orders of magnitude): every seed at init, "
                       f"median seed after training",
              lecture="Recurrent network - graph 이동을 앞 뿐이 아닌 옆으로도 이동함")
    gru_trained = [reach(p) for p in gru["trained"]]
    ctx.claim("gated_gradient_reaches_start",
              "after training, the GRU's gradient reaches the first time step within 2 orders of "
              "magnitude of the last, in every seed",
              passed=min(gru_trained) >= VANISHED,
              measured={"trained": [sig(v) for v in gru_trained],
                        "init": [sig(reach(p)) for p in gru["init"]]},
              expected=f"g_0 / g_T-1 >= {VANISHED:g} after training")
    gru_r2 = [r2(m, baseline) for m in gru["mse"]]
    rnn_r2 = [r2(m, baseline) for m in rnn["mse"]]
    ctx.claim("gated_learns",
              f"the GRU learns the long-dependency task: R^2 >= {LEARNED} (test mse <= half the "
              f"mean-predictor's {sig(baseline)}) in every seed",
              passed=min(gru_r2) >= LEARNED, measured={"R2": [sig(v) for v in gru_r2],
                                                       "mse": [sig(v) for v in gru["mse"]]},
              expected=f"R^2 >= {LEARNED} in every seed")
    ctx.claim("rnn_does_not_learn",
              f"with the same steps, the vanilla RNN does not: R^2 < {LEARNED} in every seed",
              passed=max(rnn_r2) < LEARNED, measured={"R2": [sig(v) for v in rnn_r2],
                                                      "mse": [sig(v) for v in rnn["mse"]]},
              expected=f"R^2 < {LEARNED} in every seed (baseline mse {sig(baseline)})")
    gru_init = [reach(p) for p in gru["init"]]
    if max(gru_init) < VANISHED:
        ctx.note(f"at init the GRU's gradient vanishes too (g_0 / g_T-1 = "
                 f"{', '.join(sig(v) for v in gru_init)}): with PyTorch's default init its gates start "
                 f"half-closed. What differs is that the gated cell can learn to open them (its update "
                 f"gate carries h_t through unchanged), and after training the gradient reaches step 0; "
                 f"the RNN has no such path, and its gradient stays vanished.")
    if any(reach(p) == 0 for r in res.values() for p in r["init"] + r["trained"]):
        ctx.note("a ratio of 0 means the gradient at step 0 underflowed float32: it vanished completely.")
    if "lstm" in res:
        lstm_r2 = [r2(m, baseline) for m in res["lstm"]["mse"]]
        ctx.note(f"LSTM (same steps, default init, forget-gate bias 0): R^2 "
                 f"{', '.join(sig(v) for v in lstm_r2)}; g_0 / g_T-1 after training "
                 f"{', '.join(sig(reach(p)) for p in res['lstm']['trained'])}.")
