"""trainlab on a busy machine: a fixed slice of the labs, quiet and beside one CPU-bound process.

Runs ``trainlab lectures --quick --only LABS`` as a real process (the user's view, default
thread choice unless ``--threads``), alternating quiet runs with runs beside a busy loop
(``python -c 'while True: pass'``), and prints JSON: the medians ``quiet_s``, ``busy_s`` and
``slowdown = busy_s / quiet_s`` (target <= 2.5 on 2 cores), every run's seconds, the threads
each run chose, and the load average when each started (other users of the machine count too).

``--compare N`` also times the same slice with ``--threads N`` forced (e.g. 2, torch's own
default on a 2-core machine) quiet and busy, to show what the default choice buys.

Usage: python bench/busy.py [--labs xor-deep,init,...] [--repeats 2] [--threads N] [--compare N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABS = "xor-deep,init,dropout,batchnorm,lego"


def env() -> dict:
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "TRAINLAB_THREADS", "MKL_NUM_THREADS")}
    e["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + e.get("PYTHONPATH", "")
    return e


def run_slice(labs: str, threads: str | None) -> dict:
    """One ``trainlab lectures`` run; its wall time, the threads it used and the load at its start."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "trainlab", *(["--threads", threads] if threads else []),
               "lectures", "--quick", "--only", labs, "--out", str(Path(tmp) / "r")]
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env())
        seconds = time.perf_counter() - t0
        if p.returncode not in (0, 1):  # 1: a lab claim failed, still a full run
            raise SystemExit(f"bench/busy.py: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
        results = json.loads((Path(tmp) / "r" / "results.json").read_text())
    run = {"seconds": round(seconds, 2), "threads": results.get("environment", {}).get("threads"),
           "load_1min_at_start": round(load, 2)}
    print(json.dumps({"threads_arg": threads or "default", **run}), file=sys.stderr, flush=True)  # progress
    return run


class Hog:
    """One CPU-bound process for the duration of a ``with`` block."""

    def __enter__(self):
        self.p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(1.0)  # let it take its core
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()


def measure(labs: str, repeats: int, threads: str | None) -> dict:
    quiet, busy = [], []
    for _ in range(repeats):  # interleaved: a drift in the machine's own load hits both sides
        quiet.append(run_slice(labs, threads))
        with Hog():
            busy.append(run_slice(labs, threads))
    q = statistics.median(r["seconds"] for r in quiet)
    b = statistics.median(r["seconds"] for r in busy)
    return {"quiet_s": round(q, 2), "busy_s": round(b, 2), "slowdown": round(b / q, 2),
            "quiet_runs": quiet, "busy_runs": busy}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labs", default=LABS, help=f"comma-separated labs (default {LABS})")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", help="force --threads (default: trainlab's own choice)")
    ap.add_argument("--compare", help="also time the slice with --threads COMPARE forced")
    args = ap.parse_args()
    out = {"labs": args.labs, "size": "quick", "cores": len(os.sched_getaffinity(0)), "repeats": args.repeats,
           "threads": args.threads or "default", **measure(args.labs, args.repeats, args.threads)}
    if args.compare:
        out[f"threads_{args.compare}"] = measure(args.labs, args.repeats, args.compare)
    out["load_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
