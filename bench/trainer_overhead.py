"""Trainer overhead vs a hand-written PyTorch loop: same model, data, optimizer, seed.

Prints JSON {"cases": [{"name", "plain_s", "trainer_s", "ratio", ...}]}; runs interleaved,
medians over repeats. Progress bar off, default metrics (logged steps, val evaluation) on;
``ratio_no_val`` is the same Trainer without the validation pass, to separate the two costs.
Usage: python bench/trainer_overhead.py [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from trainlab.data import Split
from trainlab.data import load as load_data
from trainlab.nn import build
from trainlab.train import Trainer


def xor_case():
    d = load_data("xor")
    spec = {"mlp": {"hidden": 10, "depth": 10, "activation": "relu", "init": "he_normal"}}
    cfg = {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": 2000}
    return "xor_10_hidden_full_batch_2000_steps", spec, d.train, d.val, cfg


def mlp_case():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(10_000, 784, generator=g), torch.randint(0, 10, (10_000,), generator=g)
    val = Split(x[:1000], y[:1000])
    spec = {"mlp": {"hidden": [512, 512, 512, 512], "activation": "relu", "init": "he_normal"}}
    cfg = {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3, "steps": 300, "batch_size": 100}
    return "mlp_784_512x4_10_batch100_300_steps", spec, Split(x, y), val, cfg


def model_for(spec, data: Split, n_out: int):
    torch.manual_seed(0)
    return build(spec, tuple(data.x.shape[1:]), n_out)


def plain(spec, train: Split, cfg) -> float:
    """The loop a user would write: shuffle each epoch, forward, loss, backward, step."""
    bce = cfg["loss"] == "binary_cross_entropy"
    model = model_for(spec, train, 1 if bce else 10)
    opt_cls = torch.optim.SGD if cfg["optimizer"] == "sgd" else torch.optim.Adam
    # the same optimizer as the Trainer's: torch's fused kernel (trainlab.train.optim.FUSED)
    opt = opt_cls(model.parameters(), lr=cfg["lr"], fused=True)
    x, y = train.x, (train.y.float().unsqueeze(1) if bce else train.y)
    bs, n = cfg.get("batch_size") or len(x), len(x)
    loss_fn = F.binary_cross_entropy_with_logits if bce else F.cross_entropy
    gen = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    step = 0
    while step < cfg["steps"]:
        perm = torch.randperm(n, generator=gen) if bs < n else None
        for i in range(0, n, bs):
            xb, yb = (x, y) if perm is None else (x[perm[i:i + bs]], y[perm[i:i + bs]])
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            if step == cfg["steps"]:
                break
    return time.perf_counter() - t0


def trainer(spec, train: Split, val: Split | None, cfg) -> float:
    model = model_for(spec, train, 1 if cfg["loss"] == "binary_cross_entropy" else 10)
    t = Trainer(model, cfg, device="cpu", seed=0)
    t0 = time.perf_counter()
    t.fit(train, val)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="3 repeats, for a smoke run")
    args = ap.parse_args()
    repeats = 3 if args.quick else args.repeats
    cases = []
    for name, spec, train, val, cfg in (xor_case(), mlp_case()):
        plain(spec, train, cfg), trainer(spec, train, val, cfg)  # warm-up
        p, t, nv = [], [], []
        for r in range(repeats):  # interleaved, rotating order, so drift hits all alike
            runs = [lambda: p.append(plain(spec, train, cfg)),
                    lambda: t.append(trainer(spec, train, val, cfg)),
                    lambda: nv.append(trainer(spec, train, None, cfg))]
            for i in range(3):
                runs[(i + r) % 3]()
        ps, ts, nvs = statistics.median(p), statistics.median(t), statistics.median(nv)
        cases.append({"name": name, "plain_s": round(ps, 4), "trainer_s": round(ts, 4),
                      "ratio": round(ts / ps, 3),
                      # the same Trainer without the validation pass at logged steps
                      "trainer_no_val_s": round(nvs, 4), "ratio_no_val": round(nvs / ps, 3),
                      "repeats": repeats, "threads": torch.get_num_threads()})
    print(json.dumps({"cases": cases}, indent=2))


if __name__ == "__main__":
    main()
