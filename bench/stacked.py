"""Stacked training (trainlab.ensemble) vs K plain PyTorch loops of the same models.

Prints JSON::

    {"cases": [{"name", "k", "sequential_s", "stacked_s", "speedup", ...}],
     "throughput": [{"model", "k", "model_steps_per_s", "vs_one_plain_loop"}],
     "backends": [{"model", "k", "batched_matmul_ms", "vmap_ms", "vmap_over_bmm"}], "threads", ...}

* sequential: K plain loops (build excluded), each the loop a user writes: shuffle with its own
  generator, forward, loss, backward, step, with the same optimizer kernel trainlab uses
  (torch's fused one), so the headline ``speedup`` is stacking's own: like against like.
  ``sequential_default_optimizer_s`` / ``speedup_vs_default_optimizer_loops``: the same loops
  with torch's default (foreach) optimizer, for reference. stacked: ``StackedTrainer.fit`` on
  the stack of the same K models (same seeds, each member its own data order; no validation
  pass). Medians over repeats, the two interleaved so machine drift hits both alike.
* throughput: model-steps per second of the stacked trainer for K = 1, 4, 16, 64, 256, and the
  ratio to one plain loop's (fused optimizer) steps per second: where stacking stops paying.
* backends: one training step (forward, backward, SGD) of K stacked models with the batched
  matmul layers trainlab uses vs ``torch.func.functional_call`` + ``vmap`` over the same models.

Usage: python bench/stacked.py [--repeats N] [--quick] [--device cpu|cuda]   (--quick: fewer
repeats; the XOR case's sequential time measured on 8 of the 64 loops and scaled, which the
JSON says. --device cuda: both sides on the GPU, each timing ends with a synchronize)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from trainlab import data
from trainlab.data import Split
from trainlab.ensemble import StackedModel, StackedTrainer
from trainlab.ensemble.per_model import MemberLoss
from trainlab.nn import build
from trainlab.train import losses

XOR_SPEC = {"mlp": {"hidden": 10, "depth": 10, "activation": "relu", "init": "he_normal"}}
XOR_CFG = {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": 2000}
MLP_SPEC = {"mlp": {"hidden": [256, 256], "activation": "relu", "init": "he_normal"}}
MLP_CFG = {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3, "epochs": 1, "batch_size": 100}
DEVICE = torch.device("cpu")  # --device


def sync() -> None:
    """Wait for queued GPU work, so a timing covers it (a no-op on the CPU)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def mnist1d() -> tuple[Split, str]:
    if "mnist1d" in data.names():
        try:
            return data.load("mnist1d").train, "mnist1d (3,200 training rows)"
        except Exception as e:  # noqa: BLE001 - a benchmark falls back rather than fails
            reason = f"mnist1d failed to load ({type(e).__name__})"
    else:
        reason = "mnist1d not registered"
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(3200, 40, generator=g), torch.randint(0, 10, (3200,), generator=g)
    return Split(x, y), f"random, MNIST-1D's shape: 3,200 x 40, 10 classes ({reason})"


def models(spec, n_in: int, n_out: int, seeds) -> list:
    out = []
    for s in seeds:
        torch.manual_seed(s)
        out.append(build(spec, (n_in,), n_out))
    return out


def plain(model, train: Split, cfg: dict, seed: int, fused: bool = False) -> float:
    """One plain PyTorch loop; returns seconds. ``fused``: torch's fused optimizer kernel, as
    trainlab builds it (the user's default loop has the foreach one)."""
    bce = cfg["loss"] == "binary_cross_entropy"
    model, train = model.to(DEVICE), train.to(DEVICE)
    opt_cls = torch.optim.SGD if cfg["optimizer"] == "sgd" else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=cfg["lr"], **({"fused": True} if fused else {}))
    x, y = train.x, (train.y.float().unsqueeze(1) if bce else train.y)
    loss_fn = F.binary_cross_entropy_with_logits if bce else F.cross_entropy
    n = len(x)
    bs = cfg.get("batch_size") or n
    steps = cfg.get("steps") or cfg["epochs"] * -(-n // bs)
    gen = torch.Generator().manual_seed(seed + 1)
    sync()
    t0, step = time.perf_counter(), 0
    while step < steps:
        perm = torch.randperm(n, generator=gen).to(DEVICE) if bs < n else None
        for i in range(0, n, bs):
            xb, yb = (x, y) if perm is None else (x[perm[i:i + bs]], y[perm[i:i + bs]])
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()
            step += 1
            if step == steps:
                break
    sync()
    return time.perf_counter() - t0


def stacked(spec, train: Split, cfg: dict, k: int, n_out: int, data_order="per_model") -> tuple[float, float]:
    """(fit seconds, stack build seconds)."""
    t0 = time.perf_counter()
    stack = StackedModel(models(spec, train.x.shape[1], n_out, range(k)), seeds=list(range(k)))
    built = time.perf_counter() - t0
    t = StackedTrainer(stack, cfg, device=str(DEVICE), data_order=data_order)
    train = train.to(DEVICE)
    sync()
    t0 = time.perf_counter()
    t.fit(train)
    sync()
    return time.perf_counter() - t0, built


def case(name, spec, train, cfg, k, n_out, repeats, measured, note, chunks=8) -> dict:
    """Per repeat: the ``measured`` plain loops in ``chunks`` groups, a stacked fit after each
    group (alternating per-member and shared data order), so load changes on this shared
    machine hit both sides. sequential = the loops' summed time (scaled by k / measured)."""
    n_in = train.x.shape[1]
    progress(f"{name}: K={k}, {repeats} repeat(s), {measured} plain loops each")
    plain(models(spec, n_in, n_out, [0])[0], train, {**cfg, "steps": 20}, 0, fused=True)  # warm-up
    stacked(spec, train, {**cfg, "steps": 20}, k, n_out)
    seq_default, seq, loops, stk, shared, build_s = [], [], [], [], [], []
    groups = [list(range(measured))[i::chunks] for i in range(chunks)]
    for r in range(repeats):
        total = total_default = 0.0
        for g, seeds in enumerate(groups):
            for s, m, m2 in zip(seeds, models(spec, n_in, n_out, seeds), models(spec, n_in, n_out, seeds)):
                loops.append(plain(m, train, cfg, s, fused=True))
                total += loops[-1]
                total_default += plain(m2, train, cfg, s)
            fit_s, b = stacked(spec, train, cfg, k, n_out, "shared" if (g + r) % 2 else "per_model")
            (shared if (g + r) % 2 else stk).append(fit_s)
            build_s.append(b)
        seq.append(total * k / measured)
        seq_default.append(total_default * k / measured)
    s, t, sd = statistics.median(seq), statistics.median(stk), statistics.median(seq_default)
    return {"name": name, "k": k, "optimizer_kernel": "fused (both sides)", "sequential_s": round(s, 4),
            "stacked_s": round(t, 4), "speedup": round(s / t, 2),
            # the same K loops with torch's default (foreach) optimizer, for reference
            "sequential_default_optimizer_s": round(sd, 4), "speedup_vs_default_optimizer_loops": round(sd / t, 2),
            "sequential_from_median_loop_s": round(statistics.median(loops) * k, 4),
            "stacked_shared_order_s": round(statistics.median(shared), 4),
            "speedup_shared_order": round(s / statistics.median(shared), 2),
            "stack_build_s": round(statistics.median(build_s), 4), "sequential_measured_loops": measured,
            "stacked_fits": len(stk) + len(shared), "repeats": repeats, "data": note}


def throughput(name, spec, train, cfg, n_out, ks, steps) -> list[dict]:
    """Model-steps per second of the stacked trainer vs K; medians of 3 (plain loop: of 5)."""
    cfg = {**cfg, "steps": steps}
    progress(f"throughput {name}: K = {', '.join(map(str, ks))}")
    one = statistics.median(plain(models(spec, train.x.shape[1], n_out, [0])[0], train, cfg, 0, fused=True)
                            for _ in range(5))
    rows = [{"model": name, "k": 1, "plain_loop_steps_per_s": round(steps / one, 1)}]
    for k in ks:
        t = statistics.median(stacked(spec, train, cfg, k, n_out)[0] for _ in range(3))
        rows.append({"model": name, "k": k, "steps": steps, "model_steps_per_s": round(k * steps / t, 1),
                     "vs_one_plain_loop": round(k * steps / t / (steps / one), 2)})
    return rows


def backends(name, spec, train, k, n_out, steps=300) -> dict:
    """ms per SGD step: trainlab's batched-matmul stack vs functional_call + vmap."""
    from torch.func import functional_call, stack_module_state, vmap

    progress(f"backends {name}: K={k}")
    mods = [m.to(DEVICE) for m in models(spec, train.x.shape[1], n_out, range(k))]
    x, y = train.x[:100].to(DEVICE), train.y[:100].to(DEVICE)
    name_ = "binary_cross_entropy" if n_out == 1 else "cross_entropy"
    member_loss = MemberLoss(name_, losses.get(name_))
    target = losses.get(name_).prepare(y, n_out)

    def per_model_loss(out):  # (K, B, C) -> the sum of each member's mean loss
        return member_loss(out, target, True).sum()

    stack = StackedModel(copy.deepcopy(mods))
    opt_a = torch.optim.SGD(stack.parameters(), lr=0.01)
    params, buffers = stack_module_state(mods)
    base = copy.deepcopy(mods[0]).to("meta")
    fn = vmap(lambda p, b, xx: functional_call(base, (p, b), (xx,)), in_dims=(0, 0, None))
    opt_b = torch.optim.SGD(list(params.values()), lr=0.01)

    def step_a():
        opt_a.zero_grad(set_to_none=True)
        per_model_loss(stack(x)).backward()
        opt_a.step()

    def step_b():
        opt_b.zero_grad(set_to_none=True)
        per_model_loss(fn(params, buffers, x)).backward()
        opt_b.step()

    def ms(step):
        for _ in range(20):
            step()
        times = []
        for _ in range(5):
            sync()
            t0 = time.perf_counter()
            for _ in range(steps // 5):
                step()
            sync()
            times.append((time.perf_counter() - t0) / (steps // 5) * 1e3)
        return statistics.median(times)

    a, b = ms(step_a), ms(step_b)
    return {"model": name, "k": k, "batched_matmul_ms": round(a, 3), "vmap_ms": round(b, 3),
            "vmap_over_bmm": round(b / a, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 repeat; XOR sequential from 8 of 64 loops")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's default)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where both sides run")
    args = ap.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 1 if args.quick else args.repeats
    load_start = os.getloadavg()[0]
    xor = data.load("xor").train
    m1d, note = mnist1d()
    cases = [case("xor_10_hidden_full_batch_2000_steps", XOR_SPEC, xor, XOR_CFG, 64, 1, repeats,
                  8 if args.quick else 64, "xor (4 points)"),
             case("mnist1d_mlp_40_256_256_10_batch100_one_epoch", MLP_SPEC, m1d, MLP_CFG, 16, 10,
                  max(repeats, 5), 16, note)]
    ks = (1, 4, 16, 64, 256)
    thr = throughput("xor_10_hidden", XOR_SPEC, xor, XOR_CFG, 1, ks, 500) + \
        throughput("mnist1d_mlp_256x2", MLP_SPEC, m1d, MLP_CFG, 10, ks, 30)
    back = [backends("xor_10_hidden", XOR_SPEC, xor, 64, 1), backends("mnist1d_mlp_256x2", MLP_SPEC, m1d, 16, 10, 60)]
    print(json.dumps({"cases": cases, "throughput": thr, "backends": back, "device": _device_name(),
                      "threads": torch.get_num_threads(),
                      "cpus": os.cpu_count(), "torch": torch.__version__,
                      # other work on the machine: 1-minute load average when the bench started / ended
                      "load_avg_start": round(load_start, 2), "load_avg_end": round(os.getloadavg()[0], 2)},
                     indent=2))


def progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def _device_name() -> str:
    return torch.cuda.get_device_name() if DEVICE.type == "cuda" else "cpu"


if __name__ == "__main__":
    main()
