"""One epoch of MNIST-sized data (60,000 x 784 float32, batch 100, shuffled) through trainlab's
in-memory batcher vs ``torch.utils.data.DataLoader(TensorDataset(x, y))``.

Both produce the same thing each step: a shuffled (100, 784) float batch and its (100,) labels,
The DataLoader indexes the dataset once per sample and collates 100 rows per batch; the batcher
draws one permutation per epoch and gathers each batch with one index operation. Each batch is
a real tensor (PyTorch is eager: nothing is deferred). Runs interleaved, medians over repeats.
Prints JSON {"trainlab_s", "dataloader_s", "speedup", ...}. Target: speedup >= 10.
Usage: python bench/batching.py [--repeats N] [--quick] [--threads T]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from trainlab.data.batching import Batcher

N, D, BATCH = 60_000, 784, 100


def epoch_trainlab(x, y, gen) -> float:
    t0 = time.perf_counter()
    rows = 0
    for xb, yb in Batcher(x, y, BATCH, generator=gen):
        rows += len(xb)
    assert rows == len(x)
    return time.perf_counter() - t0


def epoch_dataloader(x, y, gen) -> float:
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True, generator=gen)
    t0 = time.perf_counter()
    rows = 0
    for xb, yb in loader:
        rows += len(xb)
    assert rows == len(x)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="3 repeats, for a smoke run")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1; 0: torch's default). A (100, 784) gather is above "
                         "torch's parallel grain, and on a loaded 2-core machine each OpenMP fork "
                         "then waits for a busy core: one epoch measured 7 s instead of 0.02 s")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else args.repeats
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(N, D, generator=g), torch.randint(0, 10, (N,), generator=g)
    gen_a, gen_b = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    epoch_trainlab(x, y, gen_a), epoch_dataloader(x, y, gen_b)  # warm-up
    a, b = [], []
    for r in range(repeats):  # interleaved, alternating order, so drift hits both alike
        runs = [lambda: a.append(epoch_trainlab(x, y, gen_a)), lambda: b.append(epoch_dataloader(x, y, gen_b))]
        for i in range(2):
            runs[(i + r) % 2]()
    ta, tb = statistics.median(a), statistics.median(b)
    print(json.dumps({"trainlab_s": round(ta, 4), "dataloader_s": round(tb, 4), "speedup": round(tb / ta, 1),
                      "n": N, "features": D, "batch_size": BATCH, "batches": -(-N // BATCH),
                      "repeats": repeats, "threads": torch.get_num_threads(),
                      "trainlab_runs_s": [round(v, 4) for v in a], "dataloader_runs_s": [round(v, 4) for v in b]},
                     indent=2))


if __name__ == "__main__":
    main()
