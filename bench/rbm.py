"""trainlab's RBM vs scikit-learn's BernoulliRBM on MNIST, same hyperparameters: 256 hidden,
lr 0.1, persistent CD with one Gibbs step, 10 epochs, no momentum or weight cost (scikit-learn
has neither), float32, one thread each. Batch 10 (scikit-learn's default), then batch 100; the
two libraries alternate within one process. Quality: mean pseudo-likelihood (scikit-learn's
stochastic one-flipped-bit definition, which both implement) on the 10,000 test images.

Like with like: both sides run float32 (scikit-learn keeps float32 input float32) on one thread
(the BLAS pools are listed in the JSON by threadpoolctl); trainlab's time includes its per-epoch
monitor (reconstruction error and pseudo-likelihood of 1,000 training rows), scikit-learn's
(verbose=0) computes none. Neither side has momentum or weight cost.

A third side, ``trainlab_bf16``, is trainlab's RBM with ``compute_dtype="bfloat16"``: its three
GEMMs a step run in bfloat16 (float32 master weights, biases, sigmoids and updates; 16-bit
uniforms for the binary samples). It is NOT the same precision as scikit-learn's float32, so
its ratio is printed beside the like-for-like float32 one (``time_ratio``), never in its place;
its quality criterion is the same test pseudo-likelihood, which must be equal or better.

Prints JSON: per batch size, each side's seconds (wall) and CPU seconds (the process's, so a
busy machine's time slicing drops out; each side runs one thread) and test pseudo-likelihood,
and the time ratios (scikit-learn / trainlab: ``time_ratio`` float32, ``time_ratio_bf16``; the
``cpu_`` ones from CPU seconds). "runs" lists each seed's values in that order. Beside
scikit-learn's one-random-bit pseudo-likelihood (5 draws on 10,000 test images), whose flips add
noise of their own, ``test_pl_all_bits`` is its expectation -- every bit flipped in turn -- on
the first 1,000 test images, computed alike from each side's weights: the sharper comparison.
Target: ratio >= 3 at equal or better pseudo-likelihood.
Usage: python bench/rbm.py [--quick] [--epochs N] [--n-train N] [--batches 10,100] [--repeats 2] [--profile]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/torch load their BLAS

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.neural_network import BernoulliRBM  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

from trainlab import data  # noqa: E402
from trainlab.pretrain import RBM  # noqa: E402

PL_ROWS = 1000  # test rows of the all-bits pseudo-likelihood (784 flips each)


def mean_pl(score, x: np.ndarray, repeats: int = 5) -> float:
    """The pseudo-likelihood flips one random bit per row: average a few draws (scikit-learn's
    score_samples reseeds from its random_state on every call, so its draws are all the same one)."""
    return float(np.mean([np.mean(score(x)) for _ in range(repeats)]))


@torch.no_grad()
def all_bits_pl(W, c, b, v) -> float:
    """The pseudo-likelihood with every bit flipped in turn: the expectation of the
    one-random-bit estimate (mean over rows of sum_i log P(v_i | v_-i), flipping v_i to 1 - v_i),
    with no flip noise, computed alike from either library's weights."""
    W, c, b, v = (torch.as_tensor(np.asarray(t), dtype=torch.float32) for t in (W, c, b, v))
    a = torch.addmm(c, v, W.t())  # (N, H)
    base, total = torch.nn.functional.softplus(a).sum(1, keepdim=True), 0.0
    for start in range(0, v.shape[1], 16):
        cols = slice(start, start + 16)
        d = 1 - 2 * v[:, cols]  # (N, k): the change of v_i when flipped
        flipped = torch.nn.functional.softplus(a[:, None, :] + d[:, :, None] * W[:, cols].t()[None]).sum(2)  # (N, k)
        total += float(torch.nn.functional.logsigmoid(-d * b[cols] - (flipped - base)).sum())  # F(flip) - F(v)
    return total / len(v)


def sklearn_rbm(batch: int, epochs: int, seed: int) -> BernoulliRBM:
    return BernoulliRBM(n_components=256, learning_rate=0.1, batch_size=batch, n_iter=epochs, random_state=seed)


def trainlab_rbm(batch: int, epochs: int, seed: int, compute_dtype: str | None = None) -> RBM:
    return RBM(256, lr=0.1, batch_size=batch, epochs=epochs, persistent=True, k=1, momentum=0.0,
               final_momentum=0.0, weight_decay=0.0, compute_dtype=compute_dtype, random_state=seed)


def trainlab_bf16_rbm(batch: int, epochs: int, seed: int) -> RBM:
    return trainlab_rbm(batch, epochs, seed, compute_dtype="bfloat16")


SIDES = {"sklearn": sklearn_rbm, "trainlab": trainlab_rbm, "trainlab_bf16": trainlab_bf16_rbm}


def run(make, x, test, batch: int, epochs: int, seed: int) -> dict:
    rbm = make(batch, epochs, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    rbm.fit(x)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    weights = (rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_)
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
            "test_pseudo_likelihood": round(mean_pl(rbm.score_samples, test), 3),
            "test_pl_all_bits": round(all_bits_pl(*weights, test[:PL_ROWS]), 3),
            "dtype": str(rbm.components_.dtype).replace("torch.", ""),
            "compute_dtype": getattr(rbm, "compute_dtype", None) or "float32"}


def summary(runs: list[dict]) -> dict:
    """Mean seconds and pseudo-likelihood over the runs of one side (each run listed when several)."""
    keys = ("seconds", "cpu_seconds", "test_pseudo_likelihood", "test_pl_all_bits")
    out = {k: round(float(np.mean([r[k] for r in runs])), 3) for k in keys}
    out["dtype"], out["compute_dtype"] = runs[0]["dtype"], runs[0]["compute_dtype"]
    if len(runs) > 1:
        out["runs"] = [[r[k] for k in keys] for r in runs]
    return out


def profile(make, x, batch: int, seed: int, top: int = 8) -> list:
    """Where one epoch's time goes: the ``top`` functions by own time, [name, seconds, calls]:
    torch ops (torch.profiler, self CPU time; it inflates the small ops) for trainlab, Python
    functions (cProfile) for scikit-learn."""
    rbm = make(batch, 1, seed)
    if isinstance(rbm, RBM):
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as tprof:
            rbm.fit(x)
        events = sorted(tprof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:top]
        return [[e.key, round(e.self_cpu_time_total / 1e6, 3), e.count] for e in events]
    prof = cProfile.Profile()
    prof.runcall(rbm.fit, x)
    stats = pstats.Stats(prof).stats  # {(file, line, name): (calls, primitive calls, own time, cumulative, callers)}
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    return [[f"{os.path.basename(f)}:{name}" if f != "~" else name, round(st[2], 3), st[0]]
            for (f, _, name), st in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="5,000 training images, 2 epochs (a smoke run)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--n-train", type=int, default=None, help="training images (default: all 50,000)")
    ap.add_argument("--batches", default="10,100")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1,
                    help="runs of each side on seeds seed, seed+1, ..., alternating ABBA "
                         "(cancels a load that drifts linearly)")
    ap.add_argument("--profile", action="store_true", help="also profile one epoch of each side (cProfile, own time)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    epochs = 2 if args.quick else args.epochs
    n_train = 5000 if args.quick and args.n_train is None else args.n_train
    ds = data.load("mnist")
    x = ds.train.x.reshape(len(ds.train.x), -1).numpy().astype(np.float32)[:n_train]
    test = ds.test.x.reshape(len(ds.test.x), -1).numpy().astype(np.float32)
    xt = torch.from_numpy(x)
    out = {"data": f"MNIST {len(x)} train x 784, test {len(test)}", "hidden": 256, "lr": 0.1, "epochs": epochs,
           "cd": "persistent, 1 Gibbs step", "threads": torch.get_num_threads(), "torch": torch.__version__,
           "blas_pools": sorted({f"{p['internal_api']} {p['num_threads']} thread(s)" for p in threadpool_info()}),
           "load_average_start": os.getloadavg(), "results": {}}
    inputs = {"sklearn": x, "trainlab": xt, "trainlab_bf16": xt}
    for batch in [int(b) for b in args.batches.split(",")]:
        runs: dict[str, list[dict]] = {name: [] for name in SIDES}
        for r in range(args.repeats):
            for name in (list(SIDES) if r % 2 == 0 else list(SIDES)[::-1]):  # ABC CBA ...
                runs[name].append(run(SIDES[name], inputs[name], test, batch, epochs, args.seed + r))  # all: seed + r
        row = out["results"][f"batch_{batch}"] = {name: summary(runs[name]) for name in SIDES}
        for key, prefix in (("seconds", ""), ("cpu_seconds", "cpu_")):
            sk = row["sklearn"][key]
            row[prefix + "time_ratio"] = round(sk / row["trainlab"][key], 2)  # like with like: float32 both
            row[prefix + "time_ratio_bf16"] = round(sk / row["trainlab_bf16"][key], 2)  # bfloat16 GEMMs vs float32
        if args.profile:
            row["profile_one_epoch"] = {name: profile(SIDES[name], inputs[name], batch, args.seed) for name in SIDES}
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
