"""What a diagnosis costs: ``trainlab diagnose`` wall time over the same number of plain steps.

For a LeNet and a ResNet-18 on MNIST (plain PyTorch models, ``bench/mnist_models.py``), times
``trainlab diagnose bench/mnist_models.py:NAME --data mnist --steps S`` as a real process (the
user's view: start-up, data loading, checks, range test, training, figures) and, in this
process, S plain training steps of the same model (Adam 1e-3 with torch's fused kernel, as the
Trainer builds it, batch 64, cross-entropy, shuffled mini-batches: a hand-written loop; torch's
default Adam makes the plain ResNet-18 step 27% slower, 0.266 vs 0.210 s of CPU). Both use the same thread count. Prints JSON per model:
``cli_s``, ``diagnose_s`` (the library call alone, as the diagnosis reports it), ``plain_s``,
``ratio = cli_s / plain_s`` (target <= 4), ``ratio_library``, the diagnosis's time per phase,
and the load average around the runs (the machine is shared: say how busy it was). On a busy
machine wall times follow the other processes more than the work, so it also prints the CPU
seconds of both sides and ``ratio_cpu``: with one thread, what the wall ratio is on a quiet machine.

Usage: python bench/diagnose.py [--models lenet,resnet18] [--steps 300] [--threads N]
Needs MNIST in the data folder (``trainlab data fetch mnist``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

import mnist_models  # noqa: E402

from trainlab import data, threads  # noqa: E402


def plain_steps(name: str, ds, steps: int, batch: int = 64, seed: int = 0) -> tuple[float, float]:
    """(wall, CPU) seconds for ``steps`` steps of a hand-written training loop."""
    torch.manual_seed(seed)
    model = getattr(mnist_models, name)()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)  # the kernel trainlab's Trainer uses
    x, y = ds.train.x, ds.train.y
    gen = torch.Generator().manual_seed(seed)
    perm, pos = torch.randperm(len(x), generator=gen), 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        if pos + batch > len(x):
            perm, pos = torch.randperm(len(x), generator=gen), 0
        idx = perm[pos:pos + batch]
        pos += batch
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return time.perf_counter() - t0, time.process_time() - c0


def cli_diagnose(name: str, steps: int, n_threads: int) -> tuple[float, float, dict]:
    """(wall, CPU) seconds of the command as a process, and its JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "trainlab", "--threads", str(n_threads), "diagnose",
               f"{ROOT / 'bench' / 'mnist_models.py'}:{name}", "--data", "mnist", "--steps", str(steps),
               "--out", str(Path(tmp) / "d"), "--json", "--no-progress"]
        t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        if p.returncode not in (0, 1):
            raise SystemExit(f"bench/diagnose.py: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
        return seconds, cpu, json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="lenet,resnet18")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", help="torch threads for both sides (default: trainlab's choice now)")
    args = ap.parse_args()
    n_threads, why = threads.configure(args.threads)
    ds = data.load("mnist")
    out = {"steps": args.steps, "threads": n_threads, "threads_why": why, "cores": threads.cores(),
           "torch": torch.__version__, "models": {}}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        load0 = os.getloadavg()[0]
        plain, plain_cpu = plain_steps(name, ds, args.steps)
        cli, cli_cpu, d = cli_diagnose(name, args.steps, n_threads)
        out["models"][name] = {
            "plain_s": round(plain, 2), "cli_s": round(cli, 2), "diagnose_s": d["seconds"],
            "ratio": round(cli / plain, 2), "ratio_library": round(d["seconds"] / plain, 2),
            "plain_cpu_s": round(plain_cpu, 2), "cli_cpu_s": round(cli_cpu, 2),
            "ratio_cpu": round(cli_cpu / plain_cpu, 2),
            "phases": d.get("phases"), "findings": [f["kind"] for f in d["findings"]],
            "val_accuracy": d["training"].get("val_accuracy"), "eval_rows": d["training"].get("val_samples"),
            "load_1min": [round(load0, 2), round(os.getloadavg()[0], 2)]}
        print(json.dumps({name: out["models"][name]}), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
