"""Cost of the TensorBoard callback against the diagnostics probes it reuses.

Three cases on the same model, data, seed and Trainer: ``unwatched``; ``probes`` (``Probes`` at
a cadence); ``tensorboard`` (``TensorBoard``, a ``Probes`` subclass, at the SAME cadence, also
writing the scalars at every logged step, weight and gradient histograms at the histogram steps,
and the traced graph once; ``tensorboard_no_graph`` without the graph, to show its one-time
cost apart). Two models: the lecture's 10x10 sigmoid XOR net (full batch, probes
every 10 steps, histograms every 100) and the MNIST-size MLP of bench/probe_overhead.py
(784-512x4-10, batch 100; the same cadence).

Prints JSON {"cases": [...]}: per model and case the median seconds, ``ratio`` to unwatched and
``vs_probes`` (tensorboard / probes), each the median over repeats of per-repeat ratios (cases run
back to back in rotating order, so load from other processes hits both sides alike), in CPU
time of this process (``cpu_*``: every thread; what a busy shared machine disturbs least) and in
wall-clock time (``wall_*``).
``graph_seconds`` (on the last case of each model): tracing and writing the graph once, warm.
``own_seconds`` / ``own_vs_probes`` (there too): the CPU time spent inside the callback's own
writing (everything ``TensorBoard`` adds to ``Probes`` but a few calls per step: gathering the
values and the weight/gradient histograms, serializing, checksumming, writing the file),
measured with ``time.thread_time`` around those methods in separate runs after the timed ones
(3 pairs): the whole-run ratios spread by a few percent on a loaded machine, about as much as
this cost itself; this number measures the cost directly.
Target: ``vs_probes`` of ``tensorboard_no_graph`` <= 1.05 (writing costs no more than a few
percent over the probes it reuses); the graph is a one-time cost per run.
Usage: python bench/tensorboard.py [--repeats N] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # this file must not shadow the tensorboard package

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from trainlab import data as datasets  # noqa: E402
from trainlab.data import Split  # noqa: E402
from trainlab.diagnose import Probes, TensorBoard  # noqa: E402
from trainlab.nn import build  # noqa: E402
from trainlab.train import Trainer  # noqa: E402

CADENCE = {"every": 10, "hist_every": 100}
MODELS = {
    "xor_10x10_sigmoid": {"spec": {"mlp": {"hidden": [10] * 10, "activation": "sigmoid",
                                           "init": {"uniform": {"low": -1.0, "high": 1.0}}}},
                          "cfg": {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1},
                          "steps": 2000, "quick_steps": 300},
    "mlp_784_512x4_10": {"spec": {"mlp": {"hidden": [512] * 4, "activation": "relu", "init": "he_normal"}},
                         "cfg": {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3, "batch_size": 100},
                         "steps": 200, "quick_steps": 30},
}
CASES = ("unwatched", "probes", "tensorboard", "tensorboard_no_graph")


def data(model: str) -> tuple[Split, Split, tuple, int]:
    if model.startswith("xor"):
        ds = datasets.load("xor")
        return ds.train, ds.val, ds.input_shape, 1
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(10_000, 784, generator=g), torch.randint(0, 10, (10_000,), generator=g)
    return Split(x, y), Split(x[:1000], y[:1000]), (784,), 10


def run(model: str, case: str, steps: int, splits) -> tuple[float, float]:
    train, val, shape, n_out = splits
    m = MODELS[model]
    torch.manual_seed(0)
    net = build(m["spec"], shape, n_out)
    with tempfile.TemporaryDirectory() as logdir:
        cbs = {"unwatched": [], "probes": [Probes(**CADENCE)],
               "tensorboard": [TensorBoard(logdir, **CADENCE)],
               "tensorboard_no_graph": [TensorBoard(logdir, graph=False, **CADENCE)]}[case]
        t = Trainer(net, {**m["cfg"], "steps": steps}, device="cpu", seed=0, callbacks=cbs)
        t0, c0 = time.perf_counter(), time.process_time()
        t.fit(train, val)
        # includes closing (flushing) the event files; CPU time counts the writer thread too
        return time.perf_counter() - t0, time.process_time() - c0


def graph_seconds(model: str, splits, repeats: int = 3) -> float:
    """Median seconds to trace and write the spec-named graph once (warm: the process has traced before)."""
    from trainlab.diagnose.tensorboard import Events
    from trainlab.nn.scopes import scoped

    train, _, shape, n_out = splits
    net, times = build(MODELS[model]["spec"], shape, n_out), []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as logdir:
            events = Events(logdir)
            t0 = time.perf_counter()
            events.add_graph(scoped(net), train.x[:2])
            times.append(time.perf_counter() - t0)
            events.close()
    return round(statistics.median(times), 4)


OWN = (("TensorBoard", "_extra"), ("TensorBoard", "_metric_scalars"), ("Events", "write"), ("Events", "close"),
       ("Events", "__init__"), (None, "write_record"), (None, "_write_histograms"))  # disjoint: none calls another


def own_seconds(model: str, steps: int, splits, repeats: int = 3) -> tuple[float, float]:
    """Median CPU seconds inside the callback's own writing (``OWN``), and its median ratio to
    a probes run's CPU time, over ``repeats`` pairs of runs."""
    import trainlab.diagnose.events as events
    import trainlab.diagnose.tensorboard as tb

    spent = [0.0]

    def timed(f):
        def g(*a, **k):
            t0 = time.thread_time()
            try:
                return f(*a, **k)
            finally:
                spent[0] += time.thread_time() - t0
        return g

    owners = {"TensorBoard": tb.TensorBoard, "Events": events.Events, None: tb}
    saved = [(owners[o], name, getattr(owners[o], name)) for o, name in OWN]
    own, ratios = [], []
    try:
        for owner, name, f in saved:
            setattr(owner, name, timed(f))
        for _ in range(repeats):
            spent[0] = 0.0
            run(model, "tensorboard_no_graph", steps, splits)
            own.append(spent[0])
            ratios.append(spent[0] / run(model, "probes", steps, splits)[1])
    finally:
        for owner, name, f in saved:
            setattr(owner, name, f)
    return round(statistics.median(own), 4), round(statistics.median(ratios), 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="3 repeats of a few steps, for a smoke run")
    ap.add_argument("--model", choices=list(MODELS), action="append", help="only these models (default: both)")
    args = ap.parse_args()
    repeats = 3 if args.quick else args.repeats
    out = []
    for model, m in MODELS.items():
        if args.model and model not in args.model:
            continue
        steps, splits = m["quick_steps" if args.quick else "steps"], data(model)
        for case in CASES:  # warm-up
            run(model, case, steps, splits)
        wall: dict[str, list[float]] = {c: [] for c in CASES}
        cpu: dict[str, list[float]] = {c: [] for c in CASES}
        for r in range(repeats):
            for i in range(len(CASES)):
                case = CASES[(i + r) % len(CASES)]
                w, c = run(model, case, steps, splits)
                wall[case].append(w)
                cpu[case].append(c)
        for c in CASES:
            row = {"model": model, "case": c, "steps": steps}
            for kind, times in (("cpu", cpu), ("wall", wall)):
                base, probes = times["unwatched"], times["probes"]
                row.update({f"{kind}_seconds": round(statistics.median(times[c]), 4),
                            f"{kind}_ratio": round(statistics.median(t / b for t, b in zip(times[c], base)), 3),
                            f"{kind}_vs_probes": round(statistics.median(t / p for t, p in zip(times[c], probes)), 3),
                            f"{kind}_vs_probes_of_minimums": round(min(times[c]) / min(probes), 3)})
            out.append(row)
        out[-1]["graph_seconds"] = graph_seconds(model, splits)
        out[-1]["own_seconds"], out[-1]["own_vs_probes"] = own_seconds(model, steps, splits)
    print(json.dumps({"cadence": CADENCE, "repeats": repeats, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "cases": out}, indent=2))


if __name__ == "__main__":
    main()
