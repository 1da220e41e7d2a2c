"""Seeds side by side: the page's net trained from 8 seeds as ONE stacked computation
(``trainlab.ensemble.train_members``): how often does this setup work?"""

from __future__ import annotations

import math
import time

import torch

from trainlab.data.base import Dataset, Split
from trainlab.ensemble import train_members
from trainlab.playground import specs
from trainlab.playground.frames import grid, to_b64, to_bytes
from trainlab.playground.session import RNG_LOCK
from trainlab.train.callbacks import Callback

N_SEEDS = 8
THUMB = 40  # each member's output map: THUMB x THUMB


class _HeldLock(Callback):
    """Holds ``lock`` from construction; lets it go when training starts (``release_at_fit_start``)
    or at ``release()``."""

    def __init__(self, lock, release_at_fit_start: bool):
        self.lock, self.early = lock, release_at_fit_start
        lock.acquire()
        self.held = True

    def on_fit_start(self, trainer):
        if self.early:
            self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()


def run_seeds(session, steps: int) -> dict:
    """Train seeds state.seed .. +7 of the page's setup for ``steps`` steps; per member the
    final train/test loss and accuracy and a small output map. Runs in a worker thread: it reads
    the session's tensors (never written after a reset) and builds its own models."""
    st, pts, loss_name = session.state, session.points, session.loss_name  # read once: a reset may follow
    ds = Dataset("playground", Split(session.x_train, pts.y_train), Split(session.x_test, pts.y_test),
                 Split(session.x_test, pts.y_test), pts.n_classes)
    spec = {"seed": st["seed"], "device": "cpu", "model": specs.model_spec(st)[0],
            "train": {**specs.train_spec(st, pts.task, steps), "log_every": max(1, steps // 50)}}
    start = time.perf_counter()
    # the members build (and, with dropout, train) from torch's global RNG: under the pages' lock
    lock = _HeldLock(RNG_LOCK, release_at_fit_start=not any(layer["dropout"] for layer in st["layers"]))
    try:
        members = train_members(spec, ds, k=N_SEEDS, val=len(pts.x_test) > 0, callbacks=[lock])
    finally:
        lock.release()
    seconds = time.perf_counter() - start
    tr, te = members.evaluate(ds.train), members.evaluate(ds.test) if len(pts.x_test) else None
    x = pts.features.transform(grid(tuple(pts.bounds), THUMB))
    out = members.outputs(x)  # (K, THUMB*THUMB, n_out)
    maps = []
    for k in range(members.k):
        o = out[k]
        if pts.task == "regression":
            v = (o[:, 0] + 1) / 2
        elif o.shape[1] == 1:
            v = torch.sigmoid(o[:, 0]) if loss_name == "binary_cross_entropy" else o[:, 0]
        else:
            v = torch.softmax(o, 1).max(1).values if o.shape[1] > 2 else torch.softmax(o, 1)[:, 1]
        maps.append(to_b64(to_bytes(v)))

    def clean(values):
        return [None if v is None or not math.isfinite(v) else round(float(v), 4) for v in values]

    return {"type": "seeds", "mode": members.mode, "note": members.note, "steps": steps, "seconds": round(seconds, 2),
            "seeds": list(members.seeds), "train_loss": clean(tr["loss"]),
            "train_accuracy": clean(tr.get("accuracy", [None] * members.k)),
            "test_loss": clean(te["loss"]) if te else None, "size": THUMB, "maps": maps}
