"""``Probes``: a Trainer callback that watches ANY ``nn.Module`` train.

Every ``every`` steps (plus the first and the last) it records, per layer: activation mean /
std / min / max / dead / saturated fractions, the gradient norm (and its ratio to the output
layer's), the weight norm, and the update/weight ratio ||dtheta|| / ||theta|| of that step
(CS231n: ~1e-3 is healthy). Every ``hist_every`` steps (and the first) it adds the
slow-changing ones, which cost extra passes over the weights: activation histograms, the
gradient std, the weight std and the row spread of each weight (~0: symmetric units).

Activations called as functions (``F.relu(self.fc(x))``) are seen too, through a
``TorchFunctionMode`` active during the sampled forward (``trainlab.diagnose.functional``).

Cost model: on steps it does not sample, each event returns after one integer test — no hooks
are registered, nothing is computed. On a sampled step, forward hooks are registered at
``on_batch_start`` and removed at ``on_after_backward`` (so validation passes never fire them),
every statistic is a 0-d tensor reduced on the device, the parameters are copied once into
preallocated buffers to measure the update (one extra copy of the weights in memory), and all
numbers travel to the CPU in ONE transfer.

Without the Trainer, drive it by hand::

    probes = Probes(every=1).attach(model)
    probes.begin(step); loss = loss_fn(model(x), y); loss.backward()
    probes.after_backward(); opt.step(); probes.end(step, loss)
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from trainlab.diagnose.functional import FunctionalActivations
from trainlab.diagnose.hooks import Hooks
from trainlab.diagnose.layers import Layer, discover
from trainlab.diagnose.log import ProbeLog
from trainlab.diagnose.stats import (RAW_FIELDS, activation_stats, finish, first_tensor, histogram,
                                     projection_std, signs)
from trainlab.errors import ConfigError
from trainlab.train.callbacks import Callback


def _positive_int(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"probes: {what} must be a positive integer, got {value!r}")
    return value


class Probes(Callback):
    order = -5  # after the non-finite guard (-10), before loggers and checkpoints

    def __init__(self, every: int = 10, hist_every: int = 100, bins: int = 40):
        self.every = _positive_int(every, "every")
        self.hist_every = _positive_int(hist_every, "hist_every")
        if self.hist_every % self.every:
            raise ConfigError(f"probes: hist_every ({hist_every}) must be a multiple of every ({every}) "
                              f"so histogram steps are sampled steps")
        self.bins = _positive_int(bins, "bins")
        self.log = ProbeLog()
        self.model: nn.Module | None = None
        self._hooks: Hooks | None = None
        self._pending = False
        self._last_step = 0
        self._nans: dict = {}
        self._fmode: FunctionalActivations | None = None

    # ---- Trainer events: one integer test when the step is not sampled -----------------
    def on_fit_start(self, trainer):
        self.attach(trainer.model)
        self._last_step = trainer.total_steps

    def on_batch_start(self, trainer):
        s = trainer.step + 1  # the step about to run
        if s == 1 or s % self.every == 0 or s == self._last_step:
            self.begin(s)

    def on_after_backward(self, trainer):
        if self._hooks is not None:
            self.after_backward()

    def on_step_end(self, trainer):
        if self._pending:
            self.end(trainer.step, getattr(trainer, "step_loss", None))

    def on_fit_end(self, trainer):
        self.detach()

    def on_exception(self, trainer, exc):
        self.detach()

    # ---- the probe itself ---------------------------------------------------------------
    def attach(self, model: nn.Module) -> "Probes":
        """Find the layers to watch (once per model)."""
        if model is self.model:
            return self
        self.model = model
        self.layers: list[Layer] = discover(model)
        self._by_name = {l.name: l for l in self.layers}
        self._params = [p for l in self.layers for _, p in l.params]  # flat, deduplicated
        self._owner = np.array([i for i, l in enumerate(self.layers) for _ in l.params], dtype=np.int64)
        self._numel = np.array([p.numel() for p in self._params], dtype=np.float64)
        index = {id(p): j for j, p in enumerate(self._params)}
        # per parameterised layer: (layer index, main weight, its index in _params, +-1 probe vector)
        self._weights = []
        for i, l in enumerate(self.layers):
            w = l.main_weight()
            if w is not None:
                r = signs(w[0].numel(), w.device, seed=i) if w.ndim >= 2 and w.shape[0] > 1 else None
                self._weights.append((i, w, index[id(w)], r))
        self._buffers: list[torch.Tensor] | None = None
        self._act_modules = [l.module for l in self.layers if l.is_activation]
        # modules with children: their forward may call F.relu on a computed tensor (a residual sum)
        self._containers = [(n or "model", m) for n, m in model.named_modules() if next(m.children(), None) is not None]
        self.log.layers = {l.name: {"type": l.type, "rule": l.rule, "params": sum(p.numel() for _, p in l.params),
                                    **({"fan_in": l.main_weight()[0].numel()} if l.main_weight() is not None
                                       and l.main_weight().ndim >= 2 else {})}
                           for l in self.layers}
        return self

    def detach(self) -> None:
        """Remove any hooks still registered (a step interrupted mid-forward)."""
        if self._hooks is not None:
            self._hooks.remove()
            self._hooks = None
        if self._fmode is not None:
            self._fmode.__exit__(None, None, None)
            self._fmode.close()
            self._fmode = None
        self._pending = False

    def begin(self, step: int) -> None:
        """Arm the forward hooks for the step about to run."""
        self._step, self._hist = step, step == 1 or step % self.hist_every == 0
        self._acts: list[tuple[str, int, torch.Tensor]] = []  # (key, numel, raw stats)
        self._hists: list[tuple[str, torch.Tensor]] = []
        self._calls: dict[str, int] = {}
        self._hooks = Hooks(((l.name, l.module) for l in self.layers), self._record)
        self._fmode = FunctionalActivations(self._record_functional, self._act_modules, self._containers)
        self._fmode.__enter__()

    def _record(self, name: str, module: nn.Module, args: tuple, out) -> None:
        if self._fmode is not None:
            self._fmode.produced(name, out)
        with torch._C.DisableTorchFunction():  # our own statistics bypass the functional mode
            x = first_tensor(out)
            if x is not None and x.ndim > 0:
                self._add(name, self._by_name[name].rule, x)

    def _record_functional(self, name: str, rule: str, x: torch.Tensor) -> None:
        """An activation called as a function (F.relu(...)): logged like a parameter-free layer."""
        self.log.layers.setdefault(name, {"type": name.rpartition(":")[2] + "()", "rule": rule, "params": 0})
        self._add(name, rule, x)

    def _add(self, name: str, rule: str | None, x: torch.Tensor) -> None:
        n = self._calls[name] = self._calls.get(name, 0) + 1
        key = name if n == 1 else f"{name}#{n}"  # a module run twice in one forward (shared weights)
        self._acts.append((key, x.numel(), activation_stats(x, rule, self._nan(x.device))))
        if self._hist:
            self._hists.append((key, histogram(x, self.bins)))

    def after_backward(self) -> None:
        """Gradient and weight statistics, and a copy of the weights, before the optimizer step."""
        self.detach()
        params = self._params
        self._has_grad = np.array([p.grad is not None for p in params], dtype=bool)
        grads = [p.grad if p.grad is not None else torch.zeros((), device=p.device) for p in params]
        with torch.no_grad():
            self._scalars = [*torch._foreach_norm(grads), *torch._foreach_norm(params)] if params else []
            if self._hist:  # the slow-changing ones: sums for the stds, and the row spread
                self._scalars += [g.sum() for g in grads]
                for _, w, _, r in self._weights:
                    self._scalars += [w.detach().sum(), projection_std(w, r) if r is not None else self._nan(w.device)]
            if self._buffers is None:
                self._buffers = [torch.empty_like(p) for p in params]
            if params:
                torch._foreach_copy_(self._buffers, [p.detach() for p in params])
        self._pending = True

    def end(self, step: int, loss: torch.Tensor | None = None) -> dict:
        """Measure the update, move every number to the CPU at once, and log the record."""
        self._pending = False
        with torch.no_grad():
            scalars = list(self._scalars)
            if self._params:
                torch._foreach_sub_(self._buffers, [p.detach() for p in self._params])  # old - new
                scalars += torch._foreach_norm(self._buffers)  # ||dtheta|| per parameter
            if loss is not None:
                scalars.append(loss.detach())
            parts = [s for _, _, s in self._acts] + [h for _, h in self._hists]
            if scalars:
                parts.append(torch.stack([s.reshape(()).float() for s in scalars]))
            extra = [e.reshape(-1).float() for e in self._extra()]
            parts += extra
            flat = torch.cat(parts).cpu().numpy().astype(np.float64) if parts else np.zeros(0)  # the one transfer
        self.extra = flat[flat.size - sum(e.numel() for e in extra):]
        record = self._unpack(flat, step, loss is not None)
        self.log.add(record)
        return record

    def _extra(self) -> list[torch.Tensor]:
        """A subclass's own device tensors, to travel in the step's one transfer; their values
        are in ``self.extra`` (float64, flat, in order) when ``end`` returns."""
        return []

    def _nan(self, device) -> torch.Tensor:
        t = self._nans.get(device)
        if t is None:
            t = self._nans[device] = torch.tensor(math.nan, device=device)
        return t

    def _unpack(self, flat: np.ndarray, step: int, has_loss: bool) -> dict:
        k, i = len(RAW_FIELDS), 0
        acts, hist = {}, {}
        for key, n, _ in self._acts:
            acts[key] = finish(flat[i:i + k], n)
            i += k
        for key, _ in self._hists:
            hist[key] = flat[i:i + self.bins].tolist()
            i += self.bins
        n, nw = len(self._params), len(self._weights)
        gnorm, pnorm = flat[i:i + n], flat[i + n:i + 2 * n]
        i += 2 * n
        gsum, wst = np.full(n, math.nan), np.full((nw, 2), math.nan)
        if self._hist:
            gsum, wst = flat[i:i + n], flat[i + n:i + n + 2 * nw].reshape(nw, 2)
            i += n + 2 * nw
        dnorm = flat[i:i + n]
        i += n
        record = {"step": step, "loss": float(flat[i]) if has_loss else None, "acts": acts,
                  "params": self._layer_params(gnorm, gsum, pnorm, dnorm, wst)}
        if hist:
            record["hist"] = hist
        return record

    def _layer_params(self, gnorm, gsum, pnorm, dnorm, wst) -> dict:
        """Per-parameter sums -> per-layer statistics (float64 on the CPU)."""
        L, own, has = len(self.layers), self._owner, self._has_grad
        g2 = np.bincount(own, gnorm ** 2 * has, L)
        g1 = np.bincount(own, gsum * has, L)
        gn = np.bincount(own, self._numel * has, L)
        p2, d2 = np.bincount(own, pnorm ** 2, L), np.bincount(own, dnorm ** 2, L)
        if self.log.output_layer is None:
            self._set_param_order()
        out = {}
        for (li, w, j, r), (wsum, proj) in zip(self._weights, wst):
            n = self._numel[j]
            mean, rms = wsum / n, pnorm[j] / math.sqrt(n)
            grad_ok = gn[li] > 0
            gmean = g1[li] / gn[li] if grad_ok else math.nan
            out[self.layers[li].name] = {
                "grad_norm": math.sqrt(g2[li]) if grad_ok else math.nan,
                "grad_std": math.sqrt(max(g2[li] / gn[li] - gmean ** 2, 0.0)) if grad_ok else math.nan,
                "weight_norm": math.sqrt(p2[li]),
                "weight_std": math.sqrt(max(rms ** 2 - mean ** 2, 0.0)),
                "update_ratio": math.sqrt(d2[li] / p2[li]) if p2[li] > 0 else math.nan,
                # ~1 for random weights, 0 when all units share their incoming weights
                "row_spread": proj / (rms * math.sqrt(w[0].numel())) if rms > 0 or r is None else 0.0}
        ref = out.get(self.log.output_layer, {}).get("grad_norm", math.nan)
        for row in out.values():
            row["grad_rel"] = row["grad_norm"] / ref if math.isfinite(ref) and ref > 0 else math.nan
        return out

    def _set_param_order(self) -> None:
        """Parameterised layers in the order the forward pass ran them; the output layer is
        the last of them (its gradient norm is the reference for ``grad_rel``)."""
        ran = [key for key, _, _ in self._acts if "#" not in key]
        order = [n for n in ran if n in self._by_name and self._by_name[n].params]
        rest = [l.name for l in self.layers if l.params and l.name not in order]
        self.log.param_order = order + rest
        self.log.output_layer = (order or rest or [None])[-1]
