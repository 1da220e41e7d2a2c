"""One page's training: its state, data, model, optimizer and probes, stepped on demand.

Everything is a trainlab component: the network is ``trainlab.nn.build`` of the page's spec,
the optimizer and schedule come from their registries, the loss from ``trainlab.train.losses``,
the data order from ``trainlab.data.batching``, the diagnostics from ``trainlab.diagnose.Probes``
driven by hand every ``DIAG_EVERY`` steps. Each page has its own ``Session``.
"""

from __future__ import annotations

import math
import threading
import time

import torch

from trainlab.data import batching
from trainlab.diagnose import Probes
from trainlab.errors import ConfigError
from trainlab.nn.spec import build as build_network
from trainlab.playground import points as page_points
from trainlab.playground import specs
from trainlab.playground.schema import LIMITS, OPTIMIZER_FIELDS, check_changes, default_state, merge
from trainlab.train import losses, optim, schedules
from trainlab.train.trainer import seed_everything

DIAG_EVERY = 20  # steps between probe samples (a sampled step costs several plain ones)
LOG_FIRST, LOG_KEEP = 20, 60  # probe records kept: the first ones (the net at init: where a gradient
# vanishes before a stuck net's output gradient dies too) and the latest; the rules read medians
HIST_EVERY = 200  # steps between the probes' slow statistics (row spread: symmetric units)
SCHEDULE_STEPS = 10_000  # the horizon of decaying schedules in an open-ended session
# Pages share torch's global RNG (inits, dropout masks): a reset (seed, then build) and a training
# chunk of another page never interleave, so a page's initial weights are exactly its seed's
RNG_LOCK = threading.Lock()


class Session:
    """``Session(state).step(n)``; ``frame()`` (see ``frames.py``) draws it."""

    def __init__(self, state: dict | None = None):
        self.state = default_state() if state is None else state
        self.playing = False
        self.reset()

    # ---- building -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Rebuild data, model and optimizer from the state (the seed makes it reproducible)."""
        st = self.state
        pts = page_points.build(st)
        loss_name = specs.loss_name(st, pts.task)
        loss = losses.get(loss_name)
        n_out = loss.n_outputs(pts.n_classes)
        if loss_name == "cross_entropy" and pts.task == "classification" and n_out < 2:
            raise ConfigError("state.loss: cross_entropy needs at least two classes")
        spec, ends = specs.model_spec(st)
        x_train, x_test = pts.features.transform(pts.x_train), pts.features.transform(pts.x_test)
        with RNG_LOCK:  # torch's global RNG draws the init: no other page's step in between
            seed_everything(st["seed"])
            model = build_network(spec, (x_train.shape[1],), n_out)
            model.data_init(x_train[:512])  # LSUV or RBM pre-training where asked; nothing otherwise
        # commit only once everything built: a bad state leaves the running session as it was
        self.points, self.loss_name, self.loss, self.n_out = pts, loss_name, loss, n_out
        self.model, self.layer_ends = model, ends
        self.x_train, self.x_test = x_train, x_test
        self.y_train, self.y_test = loss.prepare(pts.y_train, n_out), loss.prepare(pts.y_test, n_out)
        self.step_count, self.history, self.diverged = 0, [], None
        self.order = torch.Generator().manual_seed(st["seed"] + 1)
        self.perm, self.batch_i = None, 0
        self.probes = Probes(every=1, hist_every=HIST_EVERY).attach(model)
        self.findings, self._findings_at = [], -1
        self._build_optimizer()

    def _build_optimizer(self) -> None:
        st = self.state
        wd = st["reg_rate"] if st["regularization"] == "l2" else 0.0
        self.optimizer = optim.build(st["optimizer"], self.model, st["lr"], wd)
        self.scheduler = schedules.build(st["schedule"], self.optimizer, SCHEDULE_STEPS)
        self.l1 = st["reg_rate"] if st["regularization"] == "l1" else 0.0
        self.weights = [p for p in self.model.parameters() if p.ndim >= 2]

    def apply(self, changes: dict) -> str:
        """Apply changes (checked here too); returns ``reset`` (model rebuilt) or ``optimizer``
        (weights kept). A change that cannot be built raises ConfigError and leaves the session
        unchanged."""
        changes = check_changes(changes)
        new = merge(self.state, changes)
        structural = any(k not in OPTIMIZER_FIELDS and new[k] != self.state[k] for k in changes)
        old = self.state
        self.state = new
        try:
            if structural:
                self.reset()
            else:
                self._build_optimizer()
        except ConfigError:
            self.state = old
            raise
        return "reset" if structural else "optimizer"

    # ---- training -------------------------------------------------------------------------------
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        n, b = len(self.x_train), min(self.state["batch_size"], len(self.x_train))
        if b >= n:
            return self.x_train, self.y_train
        if self.perm is None or self.batch_i * b >= n:
            self.perm, self.batch_i = batching.permutation(n, self.order), 0
        xb, yb = batching.take(self.x_train, self.y_train, self.perm, self.batch_i, b)
        self.batch_i += 1
        return xb, yb

    def step(self, n: int = 1, budget_s: float | None = None, stop=None) -> int:
        """Up to ``n`` optimizer steps (fewer if ``budget_s`` seconds run out, ``stop()`` turns
        true, or the loss turns non-finite); returns how many ran."""
        if self.diverged:
            return 0
        with RNG_LOCK:
            return self._steps(n, budget_s, stop)

    def _steps(self, n: int, budget_s: float | None, stop) -> int:
        start, done = time.perf_counter(), 0
        model, probes = self.model, self.probes
        model.train()
        for _ in range(n):
            s = self.step_count + 1
            sample = s == 1 or s % DIAG_EVERY == 0
            if sample:
                probes.begin(s)
            xb, yb = self._batch()
            loss = self.loss.fn(model(xb), yb)
            if self.l1:
                loss = loss + self.l1 * sum(w.abs().sum() for w in self.weights)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if sample:
                probes.after_backward()
            self.optimizer.step()
            if sample:
                probes.end(s, loss)
                del probes.log.records[LOG_FIRST:-LOG_KEEP]
            if self.scheduler is not None:
                self.scheduler.step()
            self.step_count = s
            done += 1
            if not math.isfinite(float(loss.detach())):
                self.diverged = f"the loss became {float(loss.detach())} by step {s} (lr {self.state['lr']:g}): lower it"
                self.playing = False
                break
            if (budget_s is not None and time.perf_counter() - start > budget_s) or (stop is not None and stop()):
                break
        return done

    @torch.no_grad()
    def losses(self) -> tuple[float, float]:
        self.model.eval()
        tr = float(self.loss.fn(self.model(self.x_train), self.y_train))
        te = float(self.loss.fn(self.model(self.x_test), self.y_test)) if len(self.x_test) else math.nan
        return tr, te


def step_budget(frames_per_s: float) -> float:
    """Seconds of training between two frames: what the frame rate leaves after drawing."""
    return max(0.005, 1.0 / frames_per_s - 0.012)


__all__ = ["Session", "DIAG_EVERY", "LIMITS", "step_budget"]
