"""Cost of watching a model train: the MNIST-size MLP of bench/trainer_overhead.py
(784-512x4-10, Adam, batch 100) trained unwatched, with ``Probes(every=10)`` and with
``Probes(every=1)`` (histograms every 100 steps in both), same data, seed and Trainer.

Prints JSON {"cases": [{"name", "seconds", "ratio", ...}]}. Each repeat runs the three cases
back to back in rotating order; ``ratio`` is the median over repeats of (case time / the
unwatched time of the same repeat), so load that other processes put on a shared machine
hits both sides of each ratio alike; ``seconds`` are medians too, ``ratio_of_minimums`` the
least-disturbed estimate. Targets: every 10 steps <= 1.10x, every step <= 1.5x.
Usage: python bench/probe_overhead.py [--repeats N] [--steps N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from trainlab.data import Split
from trainlab.diagnose import Probes
from trainlab.nn import build
from trainlab.train import Trainer

SPEC = {"mlp": {"hidden": [512, 512, 512, 512], "activation": "relu", "init": "he_normal"}}
CFG = {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3, "batch_size": 100}
CASES = {"unwatched": None, "probes_every_10": {"every": 10, "hist_every": 100},
         "probes_every_step": {"every": 1, "hist_every": 100}}


def data() -> Split:
    g = torch.Generator().manual_seed(0)
    return Split(torch.randn(10_000, 784, generator=g), torch.randint(0, 10, (10_000,), generator=g))


def run(train: Split, steps: int, probe_kw: dict | None) -> tuple[float, int]:
    torch.manual_seed(0)
    model = build(SPEC, (784,), 10)
    probes = [Probes(**probe_kw)] if probe_kw else []
    t = Trainer(model, {**CFG, "steps": steps}, device="cpu", seed=0, callbacks=probes)
    t0 = time.perf_counter()
    t.fit(train)
    return time.perf_counter() - t0, len(probes[0].log) if probes else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="3 repeats of 30 steps, for a smoke run")
    args = ap.parse_args()
    repeats, steps = (3, 30) if args.quick else (args.repeats, args.steps)
    train, names = data(), list(CASES)
    for name in names:  # warm-up
        run(train, steps, CASES[name])
    times: dict[str, list[float]] = {n: [] for n in names}
    samples = {}
    for r in range(repeats):
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            seconds, samples[name] = run(train, steps, CASES[name])
            times[name].append(seconds)
    base = times["unwatched"]
    cases = [{"name": n, "seconds": round(statistics.median(times[n]), 4),
              "ratio": round(statistics.median(t / b for t, b in zip(times[n], base)), 3),
              "ratio_of_minimums": round(min(times[n]) / min(base), 3),
              "sampled_steps": samples[n], "probes": CASES[n]} for n in names]
    print(json.dumps({"model": "mlp_784_512x4_10", "steps": steps, "batch_size": CFG["batch_size"],
                      "repeats": repeats, "threads": torch.get_num_threads(), "cases": cases}, indent=2))


if __name__ == "__main__":
    main()
