"""The runs of the ``dbn`` lab: RBMs scored by likelihood, DBN stacks, and the MLPs fine-tuned
from them or from random inits. Kept apart from ``dbn.py`` (the claims); registers no lab.

Every fine-tuning run uses the same Trainer settings (SGD with momentum, a fixed budget), so the
only difference between nets of one depth is where their weights start.
"""

from __future__ import annotations

import time

import torch

from trainlab.data.base import Split
from trainlab.labs.work import all_finite, number, numbers
from trainlab.nn import build
from trainlab.pretrain import DBN, RBM
from trainlab.train import Trainer, seed_everything

SMALL_INIT = {"normal": {"std": 0.01}}  # the small random init N(0, 0.01^2)


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Pixels > 0.5 -> 1 (the binary data the log-likelihood of a Bernoulli RBM is defined on)."""
    return (x.reshape(len(x), -1) > 0.5).to(torch.float32)


def rbm_learning(seed: int, train: torch.Tensor, test: torch.Tensor, n_hidden: int, epochs: int,
                 lr: float, exact: bool, ais: dict | None = None, batch_size: int = 10,
                 weight_decay: float = 1e-4, ais_curve: dict | None = None, exact_curve: bool = True) -> dict:
    """Train an RBM on binary ``train``; per epoch its reconstruction error and held-out mean
    log-likelihood on ``test``, from the init onwards: exact (after every epoch, or with
    ``exact_curve=False`` at the init and the end only: 2**20 hidden states cost seconds), or AIS
    with ``ais`` settings at the init and the end and, with ``ais_curve`` (cheaper settings),
    after every epoch between."""
    rbm = RBM(n_hidden, lr=lr, batch_size=batch_size, weight_decay=weight_decay, epochs=0,
              random_state=seed).fit(train)
    gen = torch.Generator().manual_seed(seed)

    def ll(settings: dict | None) -> tuple[float, float, int]:
        if exact:
            return rbm.log_likelihood(test), 0.0, 0
        from trainlab.pretrain import ais_log_z
        settings = settings or {}
        log_z, se = ais_log_z(rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_, "bernoulli",
                              generator=gen, **settings)
        return rbm.log_likelihood(test, log_z=log_z), se, int(settings.get("betas", 0))

    first = ll(ais)
    lls, ses, betas = [first[0]], [first[1]], [first[2]]
    recon = []
    t0 = time.perf_counter()

    def each(r: RBM) -> None:
        recon.append(r.history_[-1]["recon_error"])
        last = r.epochs_done_ == epochs
        if last or (exact_curve if exact else ais_curve):  # AIS costs more than an epoch: at the end, or cheaper on the way
            value, se, b = ll(ais if last else ais_curve)
            lls.append(value)
            ses.append(se)
            betas.append(b)

    rbm.load_state_dict(rbm.state_dict()).set_params(epochs=epochs).fit(train, on_epoch=each)  # continue from the init
    out = {"n_hidden": n_hidden, "recon": recon, "ll": lls, "ll_se": ses, "seconds": time.perf_counter() - t0}
    if not exact:
        out["ll_betas"] = betas  # each AIS estimate's number of intermediate distributions
    if not exact and n_hidden <= 20:
        out["ll_exact_end"] = rbm.log_likelihood(test)
    return out


def pretrain_stack(seed: int, x: torch.Tensor, val: torch.Tensor, width: int, depth: int, plan: dict,
                   device: str) -> tuple[DBN, float]:
    """A ``depth``-layer DBN of ``width`` units per layer, greedily; (stack, seconds)."""
    t0 = time.perf_counter()
    dbn = DBN(hidden=[width] * depth, epochs=plan["pre_epochs"], lr=plan["pre_lr"], batch_size=plan["pre_batch"],
              device=device, random_state=seed).fit(x, X_val=val)
    return dbn, time.perf_counter() - t0


def finetune(seed: int, ds, depth: int, width: int, plan: dict, device: str, init=None, activation: str = "sigmoid",
             stack: DBN | None = None, lr: float | None = None) -> dict:
    """Build a ``depth``-hidden-layer MLP (from ``stack``'s first layers, or ``init``), train it
    with labels and return its test accuracy, training accuracy, seconds and loss curve."""
    seed_everything(seed)
    if stack is not None:
        net = stack.prefix(depth).to_network(ds.n_classes, input_shape=ds.input_shape)
    else:
        mlp = {"hidden": [width] * depth, "activation": activation}
        if init is not None:
            mlp["init"] = init
        net = build({"mlp": mlp}, ds.input_shape, ds.n_classes)
    cfg = {"optimizer": {"name": "momentum", "momentum": 0.9}, "lr": plan["ft_lr"] if lr is None else lr, "batch_size": plan["ft_batch"],
           "epochs": plan["ft_epochs"]}
    trainer = Trainer(net, cfg, device=device, seed=seed)
    t0 = time.perf_counter()
    trainer.fit(Split(ds.train.x, ds.train.y))  # no validation pass: the claims use the test split
    seconds = time.perf_counter() - t0
    return {"test": trainer.evaluate(ds.test)["accuracy"], "train": trainer.evaluate(ds.train)["accuracy"],
            "seconds": seconds, "loss": [h["loss"] for h in trainer.history]}


# ---- what a saved unit of work must hold to be used again (``ctx.resumable``'s check) ---------------
def finetune_unit_ok(r) -> bool:
    return (set(r) == {"test", "train", "seconds", "loss"} and number(r["test"], 0, 1) and number(r["train"], 0, 1)
            and number(r["seconds"], 0) and numbers(r["loss"], nan=True))


def rbm_unit_ok(r) -> bool:
    def one(x) -> bool:
        return (set(x) <= {"n_hidden", "recon", "ll", "ll_se", "seconds", "ll_exact_end", "ll_betas"}
                and isinstance(x["n_hidden"], int)
                and numbers(x["recon"], 0) and numbers(x["ll"]) and numbers(x["ll_se"], 0) and number(x["seconds"], 0)
                and len(x["ll"]) == len(x["ll_se"]) >= 2 and len(x["recon"]) >= 1
                and ("ll_exact_end" not in x or number(x["ll_exact_end"]))
                and ("ll_betas" not in x or (numbers(x["ll_betas"], 0) and len(x["ll_betas"]) == len(x["ll"]))))
    return set(r) == {"exact", "ais"} and one(r["exact"]) and one(r["ais"])


def pretrain_unit_ok(r) -> bool:
    records = r["records"]
    return (set(r) == {"seconds", "records"} and number(r["seconds"], 0) and all_finite(records)
            and set(records) == {"filters", "monitor", "samples"}
            and all(numbers(row) for row in records["filters"]) and all(isinstance(m, dict) for m in records["monitor"])
            and all(numbers(row) for chain in records["samples"] for row in chain))
