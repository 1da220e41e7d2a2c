"""64 random-search trials of a small MLP on digits (two ReLU hidden layers, Adam, batch 64,
3 epochs): ``trainlab.search`` training the batch as one stacked computation, against one trial
at a time through a plain Optuna objective (the hand-written PyTorch loop a user writes: build
the net, train, score on validation). Interleaved repeats, medians, one process.

Like with like: both sides try the same 64 (lr, weight decay) pairs (same sampler seed), start
from the same initial weights (the spec's He-normal init for the repeat's seed, which the plain
objective loads), see the same data order (a generator seeded seed + 1), decay weights but not
biases, use fused Adam, and score the final net on the same validation split. So each trial's
value should agree between the two sides (up to float rounding, which a rate near 0.1 can
amplify): ``max_trial_diff`` and ``trials_off`` (trials differing by more than one validation
sample) say whether they do. Each repeat draws a new init and data order (seed = repeat).

The ratio depends on the net's width: a stack of 64 members is one batched matmul per layer,
compute-bound on a CPU for a 64-wide net, while one small trial is overhead-bound. ``widths``
measures the same protocol at several hidden widths; the headline is the first width in
``--widths`` (64 by default: the net the issue's "small MLP on digits" was measured on first).

The floor: ``bare_s`` times the same 64 nets trained as one stack with none of the search — no
Optuna, no per-member rates or decay (one rate for all, one fused Adam step), no validation, no
tables: trainlab's stacked layers (``transpose_few``) and the cross-entropy over (K, C, B), in a
hand-written loop over the same batches. ``bare_ratio`` (plain / bare) is what stacking itself
buys on this machine, the most a stacked search could reach; ``search_overhead`` is stacked / bare.

Also: the per-trial cost of Optuna's JournalStorage (one file, fsync per write) against its
InMemoryStorage, on an objective that does no work (two suggestions, one user attribute).

Prints JSON {"headline": {...}, "widths": [{"hidden", "stacked_trials_per_s",
"plain_trials_per_s", "ratio", "cpu_ratio", "bare_s", "bare_ratio", "search_overhead", "best_stacked",
"best_plain", "max_trial_diff", ...}],
"journal_ms_per_trial", "memory_ms_per_trial", "load_average"}. ``cpu_ratio`` is the ratio of the
process's CPU seconds (user + system; both threads' with --threads 2), steadier than the wall clock
when other jobs share the cores. ``--threads`` gives both sides the same count. Target: ratio >= 10
at the same best value within noise.
Usage: python bench/search.py [--trials 64] [--epochs 3] [--repeats 5] [--widths 64,32,16] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch
from torch import nn

from trainlab import data
from trainlab.ensemble.stack import StackedModel
from trainlab.search import load, search
from trainlab.train import resolve
from trainlab.train.run import build_model

SPACE = {"train.lr": {"log_uniform": [1e-4, 0.1]}, "train.weight_decay": {"log_uniform": [1e-6, 1e-2]}}


def spec(epochs: int, width: int = 64, seed: int = 0) -> dict:
    return resolve({"name": "bench-search", "seed": seed, "device": "cpu", "data": {"name": "digits", "preprocess": "standardize"},
                    "model": {"mlp": {"hidden": [width, width], "activation": "relu", "init": "he_normal"}},
                    "train": {"optimizer": "adam", "lr": 1e-3, "epochs": epochs, "batch_size": 64}})


def run_stacked(s: dict, trials: int, seed: int) -> tuple[float, float, list[float]]:
    """Seconds for the whole search (wall clock, CPU), and each trial's value (by trial number)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        r = search(s, SPACE, trials, sampler="random", seed=seed, storage="memory", out=Path(tmp), batch=trials,
                   progress=lambda line: None)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows = sorted(load(Path(tmp))[1], key=lambda row: row["trial"])
    assert r["stacked"] == trials, r
    return seconds, cpu, [row["value"] if isinstance(row["value"], float) else float("nan") for row in rows]


def batches(n: int, bs: int, epochs: int, seed: int):
    """Each step's row indices: the data order a Trainer with ``seed`` draws (generator seed + 1)."""
    g = torch.Generator().manual_seed(seed + 1)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            yield perm[i:i + bs]


def run_plain(s: dict, ds, trials: int, seed: int) -> tuple[float, float, list[float]]:
    """What a user writes: an Optuna objective that builds and trains one net per trial."""
    epochs, bs, width = s["train"]["epochs"], s["train"]["batch_size"], s["model"]["mlp"]["hidden"][0]
    xtr, ytr, xva, yva = ds.train.x, ds.train.y, ds.val.x, ds.val.y
    # the spec's initial weights for this seed (he_normal, zero biases), as trainlab builds them
    init = {k.removeprefix("layers."): v for k, v in build_model(s, ds).state_dict().items()}

    def objective(trial):
        lr = trial.suggest_float("train.lr", 1e-4, 0.1, log=True)
        wd = trial.suggest_float("train.weight_decay", 1e-6, 1e-2, log=True)
        net = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
        net.load_state_dict(init)
        weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
        opt = torch.optim.Adam([{"params": weights, "weight_decay": wd}, {"params": biases, "weight_decay": 0.0}],
                               lr=lr, fused=True)
        for idx in batches(len(xtr), bs, epochs, s["seed"]):
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
        with torch.no_grad():
            return float((net(xva).argmax(1) == yva).float().mean())

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
    t0, c0 = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=trials)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, cpu, [t.value for t in sorted(study.trials, key=lambda t: t.number)]


def run_bare(s: dict, ds, trials: int) -> float:
    """Seconds to train ``trials`` nets as one bare stack (see the module docstring: the floor)."""
    epochs, bs = s["train"]["epochs"], s["train"]["batch_size"]
    xtr, ytr = ds.train.x, ds.train.y
    t0 = time.perf_counter()
    stack = StackedModel.from_spec(s["model"], ds.input_shape, ds.n_classes, [s["seed"]] * trials)
    stack.transpose_few()
    opt = torch.optim.Adam(stack.parameters(), lr=s["train"]["lr"], fused=True)
    for idx in batches(len(xtr), bs, epochs, s["seed"]):
        opt.zero_grad(set_to_none=True)
        out = stack(xtr[idx])  # (K, B, C)
        nn.functional.cross_entropy(out.transpose(1, 2), ytr[idx].expand(trials, -1), reduction="none").mean(1).sum().backward()
        opt.step()
    return time.perf_counter() - t0


def storage_cost(trials: int) -> dict:
    def objective(trial):
        trial.suggest_float("train.lr", 1e-4, 0.1, log=True)
        trial.suggest_float("train.weight_decay", 1e-6, 1e-2, log=True)
        trial.set_user_attr("trainlab", {"mode": "stacked"})
        return 0.0

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, storage in (("memory", optuna.storages.InMemoryStorage()),
                              ("journal", optuna.storages.JournalStorage(
                                  optuna.storages.journal.JournalFileBackend(str(Path(tmp) / "journal.log"))))):
            study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
            t0 = time.perf_counter()
            study.optimize(objective, n_trials=trials)
            out[f"{name}_ms_per_trial"] = round(1000 * (time.perf_counter() - t0) / trials, 3)
    return out


def summary(width: int, trials: int, stacked: list, plain: list, bare: list, n_val: int) -> dict:
    """One width's repeats: median times, the ratio, each repeat's best, trial-by-trial agreement.
    ``cpu_ratio``: the same ratio of process CPU seconds (both threads' at --threads 2), steadier
    than the wall clock on a machine other jobs share."""
    ts, tp = statistics.median(t for t, _, _ in stacked), statistics.median(t for t, _, _ in plain)
    cs, cp = statistics.median(c for _, c, _ in stacked), statistics.median(c for _, c, _ in plain)
    diffs = [abs(a - b) for (_, _, va), (_, _, vb) in zip(stacked, plain) for a, b in zip(va, vb)]
    return {"hidden": [width, width], "stacked_s": round(ts, 3), "plain_s": round(tp, 3),
            "stacked_trials_per_s": round(trials / ts, 2), "plain_trials_per_s": round(trials / tp, 2),
            "ratio": round(tp / ts, 2), "ratio_per_repeat": [round(b[0] / a[0], 2) for a, b in zip(stacked, plain)],
            "stacked_cpu_s": round(cs, 3), "plain_cpu_s": round(cp, 3), "cpu_ratio": round(cp / cs, 2),
            "bare_s": round(statistics.median(bare), 3), "bare_ratio": round(tp / statistics.median(bare), 2),
            "search_overhead": round(ts / statistics.median(bare), 2),
            "best_stacked": [round(max(v), 4) for _, _, v in stacked], "best_plain": [round(max(v), 4) for _, _, v in plain],
            "max_trial_diff": round(max(diffs), 4), "trials_off": sum(d > 1.5 / n_val for d in diffs)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--widths", default="64,32,16", help="hidden widths, comma-separated; the first is the headline")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    widths = [int(w) for w in args.widths.split(",")]
    ds = data.load(spec(args.epochs)["data"])
    load_before = os.getloadavg()
    run_stacked(spec(args.epochs), 4, 0)  # warm-up: imports, data cache
    run_bare(spec(args.epochs), ds, 4)
    runs = {w: ([], [], []) for w in widths}
    for r in range(args.repeats):  # interleaved: every width, both sides, in each repeat
        for w in widths:
            s = spec(args.epochs, w, seed=r)
            runs[w][0].append(run_stacked(s, args.trials, seed=r))
            runs[w][1].append(run_plain(s, ds, args.trials, seed=r))
            runs[w][2].append(run_bare(s, ds, args.trials))
    rows = [summary(w, args.trials, *runs[w], len(ds.val)) for w in widths]
    print(json.dumps({"trials": args.trials, "epochs": args.epochs, "repeats": args.repeats, "threads": args.threads,
                      "n_val": len(ds.val), "headline": rows[0], "widths": rows, **storage_cost(200),
                      "load_average": [round(v, 2) for v in (*load_before[:1], os.getloadavg()[0])]}, indent=2))


if __name__ == "__main__":
    main()
