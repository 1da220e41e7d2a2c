"""64 random-search trials of a small MLP on digits (64-64-10 ReLU, Adam, batch 64, a few
epochs): ``trainlab.search`` training the batch as one stacked computation, against one trial
at a time through a plain Optuna objective (the hand-written PyTorch loop a user writes: build
the net, train, score on validation). Same sampler seed, so both try the same 64 (lr, weight
decay) pairs. Interleaved repeats, medians, one process.

Also: the per-trial cost of Optuna's JournalStorage (one file, fsync per write) against its
InMemoryStorage, on an objective that does no work (two suggestions, one user attribute).

Prints JSON {"stacked_trials_per_s", "plain_trials_per_s", "ratio", "best_stacked", "best_plain",
"journal_ms_per_trial", "memory_ms_per_trial", ...}. Target: ratio >= 10 at the same best value
within noise.
Usage: python bench/search.py [--trials 64] [--epochs 3] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch
from torch import nn

from trainlab import data
from trainlab.search import search
from trainlab.train import resolve

SPACE = {"train.lr": {"log_uniform": [1e-4, 0.1]}, "train.weight_decay": {"log_uniform": [1e-6, 1e-2]}}


def spec(epochs: int) -> dict:
    return resolve({"name": "bench-search", "seed": 0, "device": "cpu", "data": {"name": "digits", "preprocess": "standardize"},
                    "model": {"mlp": {"hidden": [64, 64], "activation": "relu", "init": "he_normal"}},
                    "train": {"optimizer": "adam", "lr": 1e-3, "epochs": epochs, "batch_size": 64}})


def run_stacked(s: dict, trials: int, seed: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        r = search(s, SPACE, trials, sampler="random", seed=seed, storage="memory", out=Path(tmp), batch=trials,
                   progress=lambda line: None)
        seconds = time.perf_counter() - t0
    assert r["stacked"] == trials, r
    return seconds, r["best"]["value"]


def he_init(net: nn.Sequential) -> None:
    """The spec's ``he_normal``: std sqrt(gain^2 / fan_in), gain sqrt(2) before a ReLU, 1 before
    the output; biases zero (trainlab's ``bias_init`` default)."""
    layers = [m for m in net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for i, m in enumerate(layers):
            gain = 1.0 if i == len(layers) - 1 else 2 ** 0.5
            m.weight.normal_(0.0, gain / m.in_features ** 0.5)
            m.bias.zero_()


def run_plain(s: dict, ds, trials: int, seed: int) -> tuple[float, float]:
    """What a user writes: an Optuna objective that builds and trains one net per trial."""
    epochs, bs = s["train"]["epochs"], s["train"]["batch_size"]
    xtr, ytr, xva, yva = ds.train.x, ds.train.y, ds.val.x, ds.val.y

    def objective(trial):
        lr = trial.suggest_float("train.lr", 1e-4, 0.1, log=True)
        wd = trial.suggest_float("train.weight_decay", 1e-6, 1e-2, log=True)
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        he_init(net)  # like with like: the spec's he_normal, zero biases, and the fused Adam trainlab uses
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd, fused=True)
        g = torch.Generator().manual_seed(1)
        for _ in range(epochs):
            perm = torch.randperm(len(xtr), generator=g)
            for i in range(0, len(xtr), bs):
                idx = perm[i:i + bs]
                opt.zero_grad(set_to_none=True)
                nn.functional.cross_entropy(net(xtr[idx]), ytr[idx]).backward()
                opt.step()
        with torch.no_grad():
            return float((net(xva).argmax(1) == yva).float().mean())

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - t0, study.best_value


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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    s = spec(args.epochs)
    ds = data.load(s["data"])
    run_stacked(s, 4, 0)  # warm-up: imports, data cache
    stacked, plain, best_s, best_p = [], [], [], []
    for r in range(args.repeats):
        t, b = run_stacked(s, args.trials, seed=r)
        stacked.append(t)
        best_s.append(b)
        t, b = run_plain(s, ds, args.trials, seed=r)
        plain.append(t)
        best_p.append(b)
    ts, tp = statistics.median(stacked), statistics.median(plain)
    print(json.dumps({"trials": args.trials, "epochs": args.epochs, "repeats": args.repeats, "threads": args.threads,
                      "stacked_s": round(ts, 3), "plain_s": round(tp, 3),
                      "stacked_trials_per_s": round(args.trials / ts, 2), "plain_trials_per_s": round(args.trials / tp, 2),
                      "ratio": round(tp / ts, 2), "best_stacked": [round(b, 4) for b in best_s],
                      "best_plain": [round(b, 4) for b in best_p], "n_val": len(ds.val),
                      **storage_cost(200)}, indent=2))


if __name__ == "__main__":
    main()
