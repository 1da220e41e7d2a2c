"""Training a trial: one spec through the Trainer (reporting the validation metric to Optuna's
pruner at each logged step, once an epoch by default), or a batch of trials that differ only in
per-member hyperparameters as one stacked computation (``trainlab.ensemble.train_members``),
each member reporting to its own trial and frozen when its trial is pruned.

``--folds K`` (K > 1): stratified K-fold over train + validation (scikit-learn's splitter); the
trial's value is the mean over folds, the spread is kept, and each fold's score is one report
to the pruner (fold-level pruning; ``wilcoxon`` is Optuna's pruner made for this).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import time
from pathlib import Path

import optuna
import torch

from trainlab import data as datasets
from trainlab.data.base import Dataset, Split
from trainlab.errors import DivergenceError
from trainlab.train.callbacks import Callback
from trainlab.train.run import build_model
from trainlab.train.trainer import Trainer

# spec keys stacked training varies per member (trainlab.ensemble: hparams lr / weight_decay, seeds)
MEMBER_KEYS = {"train.lr": "lr", "train.weight_decay": "weight_decay", "seed": "seed"}
ATTR = "trainlab"  # the user attribute holding what a trial measured


class ReportToTrial(Callback):
    """Reports ``val_<metric>`` at each logged step to ``trial`` and stops a pruned trial."""

    order = 30

    def __init__(self, trial, key: str, prune: bool = True):
        self.trial, self.key, self.prune = trial, key, prune
        self.curve: list[tuple[int, float, float]] = []  # (step, training loss, val metric)

    def on_step_end(self, t):
        m = t.metrics
        if m is None or self.key not in m:
            return
        self.curve.append((t.step, m["loss"], m[self.key]))
        if self.prune:
            self.trial.report(m[self.key], t.step)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {t.step}: {self.key} {m[self.key]:.4g}")


class ReportMembers(Callback):
    """The stacked form: member k reports to ``trials[k]``; a pruned member is frozen."""

    order = 30

    def __init__(self, trials: list, key: str, prune: bool = True):
        self.trials, self.key, self.prune = trials, key, prune
        self.pruned: dict[int, int] = {}
        self.curves: list[list] = [[] for _ in trials]

    def on_step_end(self, t):
        m = t.metrics
        if m is None or self.key not in m["per_model"]:
            return
        for k, (trial, v) in enumerate(zip(self.trials, m["per_model"][self.key])):
            if k in self.pruned or k in t.diverged:
                continue
            self.curves[k].append((t.step, m["per_model"]["loss"][k], v))
            if self.prune:
                trial.report(v, t.step)
                if trial.should_prune():
                    self.pruned[k] = t.step
                    t.freeze(k)


class Evaluator:
    """Trains trials of one stage: ``single(trial, spec)`` -> value, ``stacked(trials, specs)``
    -> one outcome per trial: ``("complete", value) | ("pruned", None) | ("fail", reason)``."""

    def __init__(self, metric: str, folds: int = 1, fold_seed: int = 0):
        self.metric, self.key, self.folds, self.fold_seed = metric, f"val_{metric}", folds, fold_seed
        self._data: dict[str, Dataset] = {}
        self._folds: dict[str, list[Dataset]] = {}
        self.tensorboard: Path | None = None  # a folder: each trial writes TensorBoard events under it

    def _events(self, trials: list, fold: int) -> list[Callback]:
        """A TensorBoard callback for ``trials`` (one, or a stacked batch: one run per trial)."""
        if self.tensorboard is None:
            return []
        from trainlab.diagnose.tensorboard import TensorBoard

        suffix = f"-fold-{fold + 1}" if self.folds > 1 else ""
        where = self.tensorboard / trials[0].study.study_name
        if len(trials) == 1:
            return [TensorBoard(where / f"trial-{trials[0].number}{suffix}")]
        return [TensorBoard(where, labels=[f"trial-{t.number}{suffix}" for t in trials])]

    def dataset(self, spec: dict) -> Dataset:
        key = json.dumps(spec["data"], sort_keys=True, default=str)
        if key not in self._data:
            self._data[key] = _load(key)
        return self._data[key]

    def fold_sets(self, spec: dict) -> list[Dataset]:
        key = json.dumps(spec["data"], sort_keys=True, default=str)
        if key not in self._folds:
            self._folds[key] = kfold(self.dataset(spec), self.folds, self.fold_seed)
        return self._folds[key]

    # ---- one trial at a time --------------------------------------------------------------
    def single(self, trial, spec: dict) -> float:
        t0, scores, curves = time.perf_counter(), [], []
        for i, ds in enumerate(self.fold_sets(spec)):
            model = build_model(spec, ds)
            report = ReportToTrial(trial, self.key, prune=self.folds == 1)
            trainer = Trainer(model, spec["train"], task=ds.task, callbacks=[report, *self._events([trial], i)],
                              device=spec["device"],
                              seed=spec["seed"])
            try:
                trainer.fit(ds.train, ds.val)
            except DivergenceError as e:
                _attrs(trial, mode="single", curve=report.curve, diverged=str(e).split(";")[0],
                       seconds=time.perf_counter() - t0)
                return math.nan  # Optuna records a NaN value as a failed trial
            except optuna.TrialPruned:
                _attrs(trial, mode="single", curve=report.curve, seconds=time.perf_counter() - t0)
                raise
            scores.append(trainer.evaluate(ds.val)[self.metric])
            curves.append(report.curve)
            if self.folds > 1:
                trial.report(scores[-1], i)
                if trial.should_prune():
                    _attrs(trial, mode="single", folds=scores, curve=curves[0], seconds=time.perf_counter() - t0)
                    raise optuna.TrialPruned(f"pruned after fold {i + 1}: {self.metric} {scores[-1]:.4g}")
        _attrs(trial, mode="single", folds=scores, curve=curves[0], seconds=time.perf_counter() - t0)
        return sum(scores) / len(scores)

    # ---- a batch as one stack ---------------------------------------------------------------
    def stacked(self, trials: list, base: dict, params: list[dict]) -> list[tuple[str, float | None]]:
        """Train trials whose ``params`` differ only in ``MEMBER_KEYS`` as one stack per fold;
        ``base`` is the spec with ``params[0]`` applied (architecture and loop are shared)."""
        from trainlab.ensemble import train_members

        t0, k = time.perf_counter(), len(trials)
        hparams = {name: [float(p[key]) for p in params] for key, name in MEMBER_KEYS.items()
                   if name != "seed" and key in params[0]}
        seeds = [int(p.get("seed", base["seed"])) for p in params]
        if "lr" in hparams and base["train"]["schedule"] is None:
            # the stack's optimizer steps at the largest member rate and scales the others down
            # (lerp weights <= 1): extrapolating a small step 100x would scale its float rounding 100x
            base = {**base, "train": {**base["train"], "lr": max(hparams["lr"])}}
        scores: list[list[float]] = [[] for _ in range(k)]
        pruned: set[int] = set()
        diverged: dict[int, str] = {}
        mode, curves = "stacked", [[] for _ in range(k)]
        for i, ds in enumerate(self.fold_sets(base)):
            report = ReportMembers(trials, self.key, prune=self.folds == 1)
            try:
                members = train_members(base, ds, seeds, hparams=hparams or None,
                                        callbacks=[report, *self._events(trials, i)],
                                        device=base["device"], progress=False, classes_first=True)
            except DivergenceError as e:  # every member diverged: each trial failed, the search goes on
                for j in range(k):
                    _attrs(trials[j], mode=f"stacked x{k}", curve=report.curves[j], seconds=(time.perf_counter() - t0) / k,
                           diverged=str(e).split(";")[0])
                return [("fail", str(e).split(";")[0])] * k
            mode = members.mode
            values = _last_val(members, self.key, base) or members.evaluate(ds.val)[self.metric]
            for j in range(k):
                if j in members.trainer.diverged:
                    diverged.setdefault(j, f"training diverged: loss is non-finite by step {members.trainer.diverged[j]}")
                scores[j].append(values[j])
                if i == 0:
                    curves[j] = report.curves[j]
            pruned |= set(report.pruned)
            if self.folds > 1:
                for j in range(k):
                    if j not in pruned and j not in diverged:
                        trials[j].report(values[j], i)
                        if trials[j].should_prune():
                            pruned.add(j)
        seconds = (time.perf_counter() - t0) / k
        out = []
        for j, trial in enumerate(trials):
            _attrs(trial, mode=f"{mode} x{k}", folds=scores[j], curve=curves[j], seconds=seconds,
                   diverged=diverged.get(j))
            if j in diverged or not all(math.isfinite(v) for v in scores[j]):
                out.append(("fail", diverged.get(j, "non-finite score")))
            elif j in pruned:
                out.append(("pruned", None))
            else:
                out.append(("complete", sum(scores[j]) / len(scores[j])))
        return out


def _last_val(members, key: str, spec: dict) -> list[float] | None:
    """The members' validation scores logged at the last step (the Trainer logs the final
    step), when nothing changed the weights after it (early stopping's restore): the same
    numbers ``evaluate`` would compute again."""
    t = members.trainer
    if members.mode != "stacked" or spec["train"].get("early_stopping") is not None or not t.history:
        return None
    last = t.history[-1]
    return list(last["per_model"][key]) if last["step"] == t.step and key in last["per_model"] else None


@functools.lru_cache(maxsize=4)
def _load(key: str) -> Dataset:
    """Data sets by their resolved parameters, kept for the process's next searches (a lab runs
    dozens of searches on one data set; training never modifies a split's tensors)."""
    return datasets.load(json.loads(key))


def kfold(ds: Dataset, folds: int, seed: int) -> list[Dataset]:
    """``folds`` == 1: the data set's own validation split. Otherwise stratified K-fold over
    train + validation (scikit-learn); the test split is never touched."""
    if folds == 1:
        return [ds]
    from sklearn.model_selection import KFold, StratifiedKFold

    x, y = torch.cat([ds.train.x, ds.val.x]), torch.cat([ds.train.y, ds.val.y])
    if ds.task == "classification":
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x.numpy().reshape(len(x), -1), y.numpy())
    else:
        splits = KFold(n_splits=folds, shuffle=True, random_state=seed).split(x.numpy().reshape(len(x), -1))
    out = []
    for tr, va in splits:
        tr, va = torch.as_tensor(tr), torch.as_tensor(va)
        out.append(dataclasses.replace(ds, train=Split(x[tr], y[tr]), val=Split(x[va], y[va])))
    return out


def _attrs(trial, mode: str, curve: list, seconds: float, folds: list[float] | None = None,
           diverged: str | None = None) -> None:
    """What the trials table and the figures read back, as one user attribute (one storage write):
    mode, per-fold scores and their spread, the logged curve (CS231n's babysitting picture:
    the first and last training loss), divergence."""
    out: dict = {"mode": mode, "seconds": round(seconds, 4)}
    if folds:
        mean = sum(folds) / len(folds)
        std = math.sqrt(sum((v - mean) ** 2 for v in folds) / (len(folds) - 1)) if len(folds) > 1 else 0.0
        out.update(fold_values=[_finite(v) for v in folds], fold_std=_finite(std))
    if curve:
        out.update(loss_first=_finite(curve[0][1]), loss_last=_finite(curve[-1][1]),
                   curve=[[s, _finite(l), _finite(v)] for s, l, v in curve][:200])
    if diverged:
        out["diverged"] = diverged
    trial.set_user_attr(ATTR, out)


def _finite(v: float):
    v = float(v)
    return v if math.isfinite(v) else str(v)
