"""K members of one spec (seeds, ensembles, sweeps), trained the fastest way the architecture
allows — the few lines a lab calls::

    members = train_members(spec, dataset, seeds=range(10))
    members.mode, members.note            # "stacked" | "sequential", and why
    members.evaluate(dataset.test)        # {"loss": [10 floats], "accuracy": [10 floats]}
    members.probabilities(dataset.test.x) # (10, N, classes), for ``Ensemble``

Member k is what a separate run of ``spec`` with seed ``seeds[k]`` trains (same init, same data
order; with ``rng="per_model"`` even the same dropout masks). Stacked when every module has a
stacked form; otherwise the same API trains them one after another and ``note`` says why.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from trainlab.data.base import Dataset, Split
from trainlab.ensemble.sequential import SequentialTrainer
from trainlab.ensemble.stack import NotStackable, StackedModel, build_members, stackable
from trainlab.ensemble.stacked_trainer import StackedTrainer
from trainlab.errors import ConfigError
from trainlab.train import losses
from trainlab.train.callbacks import Callback, ProgressBar
from trainlab.train.config import TrainConfig

STACKED_CHOICES = ("auto", True, False)


@dataclass
class Members:
    trainer: Any  # StackedTrainer | SequentialTrainer
    mode: str  # "stacked" | "sequential"
    note: str
    seeds: list[int]
    loss: str
    task: str
    hparams: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def k(self) -> int:
        return len(self.seeds)

    def models(self) -> list[nn.Module]:
        """Each member as an ordinary module: copies, on the CPU wherever training ran, so
        analysis code feeds them the data set's own (CPU) tensors."""
        if self.mode == "stacked":
            return [m.cpu() for m in self.trainer.model.members()]
        return [copy.deepcopy(m).cpu() for m in self.trainer.models]

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Raw outputs (K, N, *output_shape) in evaluation mode, on the CPU (computed on the
        training device)."""
        if self.mode == "stacked":
            out = self.trainer.model.predict(x.to(self.trainer.device), self.trainer.config.eval_batch_size)
        else:
            out = self.trainer.predict(x, self.trainer.config.eval_batch_size)
        return out.cpu()

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities (K, N, C): softmax for cross-entropy, [1 - p, p] for binary
        cross-entropy's one logit; mse's outputs are scores and pass as they are (one output
        becomes [1 - o, o]). For regression, the predictions."""
        return to_probabilities(self.outputs(x), self.loss, self.task)

    def evaluate(self, split: Split) -> dict:
        """Per-member metrics: ``{"loss": [K], "accuracy": [K]}`` (no accuracy for regression)."""
        return self.trainer.evaluate(split)

    def summary(self, split: Split) -> dict:
        """Each member's accuracy (loss for regression) with their mean and sample std."""
        ev = self.evaluate(split)
        metric = "accuracy" if "accuracy" in ev else "loss"
        values = torch.tensor(ev[metric], dtype=torch.float64)
        std = float(values.std()) if len(values) > 1 else 0.0
        return {"metric": metric, "members": ev[metric], "mean": float(values.mean()), "std": std}


def to_probabilities(out: torch.Tensor, loss: str, task: str) -> torch.Tensor:
    if task != "classification":
        return out
    if loss == "cross_entropy":
        return torch.softmax(out, dim=-1)
    if loss == "binary_cross_entropy":
        p = torch.sigmoid(out[..., 0])
        return torch.stack([1 - p, p], dim=-1)
    if out.shape[-1] == 1:
        return torch.cat([1 - out, out], dim=-1)
    return out


def train_members(spec: dict, dataset: Dataset, seeds=None, *, k: int | None = None,
                  hparams: dict | None = None, init_scale: list[float] | None = None,
                  callbacks: list[Callback] | None = None, device: str | None = None,
                  progress: bool | None = False, stacked: Any = "auto", data_order: str = "per_model",
                  rng: str = "shared", val: bool = True, classes_first: bool = False) -> Members:
    """Train K members of ``spec`` (a run spec: ``model``, ``train``, optional ``seed`` and
    ``device``) on ``dataset``; seeds default to ``spec.seed + 0..k-1``.

    ``hparams``: per-member ``lr`` / ``weight_decay`` lists; ``init_scale``: per-member factor
    on the initial weights. ``stacked``: ``auto`` (stack when possible), ``True`` (stack or
    raise ``NotStackable``) or ``False`` (one after another). ``classes_first``: the stacked
    cross-entropy over (K, C, B) and few-output layers' products transposed
    (``StackedModel.transpose_few``): faster, equal up to float rounding (a search uses it).
    """
    if stacked not in STACKED_CHOICES:
        raise ConfigError(f"stacked: expected auto, true or false, got {stacked!r}")
    seeds = _seeds(spec, seeds, k)
    cfg = TrainConfig.from_dict(spec.get("train"))
    loss = losses.resolve(cfg.loss, dataset.task)
    n_out = losses.get(loss).n_outputs(dataset.n_classes)
    device = device or spec.get("device", "auto")
    mods, states = build_members(spec["model"], dataset.input_shape, n_out, seeds, init_scale, share=True)
    reason = stackable(mods[0]) if stacked != False else "stacked=False"  # noqa: E712
    if reason is not None:  # trained one after another: every member its own module
        mods = [m if all(m is not o for o in mods[:i]) else copy.deepcopy(m) for i, m in enumerate(mods)]
    if reason is not None and stacked is True:
        raise NotStackable(reason)
    cbs = list(callbacks or []) + ([ProgressBar(enabled=progress)] if progress is not False else [])
    common = dict(task=dataset.task, callbacks=cbs, device=device, seed=int(spec.get("seed", 0)),
                  seeds=seeds, data_order=data_order, hparams=hparams)
    if reason is None:
        if any(hasattr(m, "data_init") and m._data_dependent for m in mods):  # LSUV, as each run would
            mods, states = build_members(spec["model"], dataset.input_shape, n_out, seeds, init_scale,
                                         data_init_x=dataset.train.x)
        stack = StackedModel(mods, seeds, states, rng)
        stack.transpose_few(classes_first)  # the search's forms, equal up to float rounding
        trainer = StackedTrainer(stack, cfg, classes_first=classes_first, **common)
        mode, note = "stacked", f"stacked: {len(seeds)} members trained as one batched computation"
    else:
        trainer = SequentialTrainer(mods, cfg, rng_states=states, **common)
        mode, note = "sequential", f"trained one after another: {reason}"
    t0 = time.perf_counter()
    trainer.fit(dataset.train, dataset.val if val else None)
    return Members(trainer, mode, note, seeds, loss, dataset.task, dict(hparams or {}),
                   round(time.perf_counter() - t0, 3))


def _seeds(spec: dict, seeds, k: int | None) -> list[int]:
    if seeds is None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"members: give seeds, or a number of members k >= 1, got k={k!r}")
        base = spec.get("seed", 0)
        return [int(base) + i for i in range(k)]
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"seeds: expected a non-empty list of integers, got {seeds!r}")
    return seeds
