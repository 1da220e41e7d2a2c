"""``diagnose(model, dataset)``: run the checks and the LR range test, train briefly under the
probes, and turn everything into findings. The CLI's ``trainlab diagnose`` is this function.

Cost: a diagnosis is about 2-3x the training steps it watches. Evaluations run on a fixed,
seeded sample of each split (``eval_samples`` rows, 2,000 by default; the size is in the
result), never on whole splits: on MNIST, whole-split passes were 95% of the time. The
training run itself validates nothing while it trains (no rule reads a validation curve); the
input-independence check reuses it as its real-input side. A check that cannot run (a model the
check does not fit) is reported as not run, with the reason, and the diagnosis goes on.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from trainlab.data.base import Dataset
from trainlab.diagnose import checks as C
from trainlab.diagnose import training_rules  # noqa: F401  (registers the run-level rules)
from trainlab.diagnose.findings import Finding, find
from trainlab.diagnose.log import ProbeLog, json_safe
from trainlab.diagnose.lr_find import LRFind, lr_find as run_lr_find
from trainlab.diagnose.probes import Probes
from trainlab.diagnose.phases import EVAL_SAMPLES, EvalAt, StepProgress, not_run, sample
from trainlab.diagnose.rules import Evidence
from trainlab.diagnose.tensorboard import TensorBoard
from trainlab.errors import ConfigError, DivergenceError
from trainlab.train import losses
from trainlab.train.callbacks import Callback
from trainlab.train.config import TrainConfig
from trainlab.train.trainer import Trainer, resolve_device, seed_everything

# evaluations in chunks of 256 rows: on the CPU a LeNet or a ResNet-18 evaluates 2,000 rows
# 1.2-2x faster than in one 2,000-row pass (activations stay in cache); a spec's own size wins
DEFAULT_TRAIN = {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "eval_batch_size": 256}
CHECKS = ("loss_at_init", "l2_raises_loss", "gradcheck", "overfit_small", "input_independent")
ALL_CHECKS = CHECKS + ("nonfinite",)  # diagnose gets "nonfinite" from its own training run


@dataclass
class Diagnosis:
    findings: list[Finding]
    checks: dict
    log: ProbeLog
    training: dict
    lr_find: LRFind | None = None
    info: dict = field(default_factory=dict)  # target, data, seconds

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_dict(self, probes: bool = False) -> dict:
        """``{"findings", "checks", "layers", "training", "lr_find", ...}``, strict JSON (no NaN)."""
        out = {"findings": [f.to_dict() for f in self.findings], "checks": json_safe(self.checks),
               "layers": self.log.layer_table(), "training": json_safe(self.training),
               "lr_find": json_safe({**self.lr_find.to_dict(), "regime": self.lr_find.regime(self.training["lr"])})
               if self.lr_find else None, **json_safe(self.info)}
        if probes:
            out["probes"] = self.log.to_dict()
        return out


def train_config(train: dict | None, steps: int) -> dict:
    """The brief training a diagnosis runs: the user's settings, ``steps`` steps, no early stop."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
        raise ConfigError(f"diagnose: steps must be an integer >= 2, got {steps!r}")
    cfg = TrainConfig.from_dict({**DEFAULT_TRAIN, **(train or {})}).to_dict()
    cfg.update(steps=steps, epochs=None, early_stopping=None, checkpoint_every=None,
               log_every=max(1, steps // 25))
    return cfg


def run_checks(model: nn.Module, ds: Dataset, cfg: dict, names=CHECKS, device="cpu", seed: int = 0,
               overfit_n: int = 20, overfit_budget: int = 300, baseline_steps: int = 100,
               eval_samples: int | None = EVAL_SAMPLES, say=None, real: dict | None = None) -> dict:
    """Run the named checks on copies of ``model`` (moved to ``device``); a check that raises is
    ``{"passed": None, "not_run": reason}``. ``real``: the real-input side of
    ``input_independent`` when a training run already measured it."""
    device = resolve_device(device) if isinstance(device, str) else device
    loss_name = losses.resolve(cfg["loss"], ds.task)
    val = sample(ds.val, eval_samples, seed)
    table = {
        "loss_at_init": lambda m: C.loss_at_init(m, ds, loss_name, device=device),
        "l2_raises_loss": lambda m: C.l2_raises_loss(m, ds, loss_name, device=device,
                                                     loss0=out.get("loss_at_init", {}).get("loss")),
        "gradcheck": lambda m: C.gradcheck(m, ds, device=device),
        "overfit_small": lambda m: C.overfit_small(m, ds, cfg, n=overfit_n, budget=overfit_budget,
                                                   device=device, seed=seed),
        "input_independent": lambda m: C.input_independent(m, ds, cfg, steps=baseline_steps, device=device,
                                                           seed=seed, val=val, real=real),
        "nonfinite": lambda m: C.nonfinite_guard(m, ds, cfg, steps=baseline_steps, device=device, seed=seed),
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ConfigError(f"unknown check {unknown[0]!r}; valid checks: {', '.join(table)}")
    work = copy.deepcopy(model).to(device)
    out: dict = {}  # l2_raises_loss reads loss_at_init's loss from here (the same rows, the same weights)
    for i, name in enumerate(names, 1):
        if say:
            say(f"check {i}/{len(names)}: {name}")
        t0 = time.perf_counter()
        try:
            out[name] = table[name](work)
        except ConfigError:
            raise
        except Exception as e:  # the user's model may not fit a check (dtype, device, shapes): say so, go on
            out[name] = not_run(e)
        out[name]["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def chance_loss(ds: Dataset, loss_name: str) -> float:
    """The loss of predicting the training set's class frequencies (or the target mean)."""
    y = ds.train.y
    if loss_name == "cross_entropy":
        p = torch.bincount(y).double() / len(y)
        p = p[p > 0]
        return float(-(p * p.log()).sum())
    if loss_name == "binary_cross_entropy":
        p = float(y.double().mean())
        return -(p * math.log(p) + (1 - p) * math.log(1 - p)) if 0 < p < 1 else 0.0
    n_out = ds.n_classes or (y.shape[-1] if y.ndim > 1 else 1)
    t = losses.get("mse").prepare(y, n_out).double()
    return float(t.var(0, unbiased=False).mean())


def diagnose(model: nn.Module, ds: Dataset, train: dict | None = None, steps: int = 300, every: int = 10,
             hist_every: int = 100, checks: bool = True, lr_find: bool = True, seed: int = 0,
             device: str = "cpu", callbacks: list[Callback] | None = None,
             eval_samples: int | None = EVAL_SAMPLES, say=None, tensorboard=None) -> Diagnosis:
    """Check, sweep, train ``steps`` steps under ``Probes(every, hist_every)``, find.
    Every training runs on a copy: ``model`` itself is left as it was. ``say(text)`` hears
    each phase (checks, range test, training every 10%); ``eval_samples``: rows of each split
    that evaluations use (None: whole splits). ``tensorboard``: a folder: the probes also write
    event files there while the run trains (``TensorBoard``)."""
    t0 = time.perf_counter()
    say = say or (lambda text: None)
    cfg = train_config(train, steps)
    probes = (TensorBoard(tensorboard, every=every, hist_every=hist_every) if tensorboard is not None
              else Probes(every=every, hist_every=hist_every))  # checks its arguments before any work
    dev = resolve_device(device)
    loss_name = losses.resolve(cfg["loss"], ds.task)
    baseline = min(100, steps)
    results = {}
    if checks:  # input_independent's real-input side is the training run below, at step `baseline`
        results = run_checks(model, ds, cfg, names=[c for c in CHECKS if c != "input_independent"],
                             device=dev, seed=seed, eval_samples=eval_samples, say=say)
    phases = {"checks": round(time.perf_counter() - t0, 3)}
    sweep, t1 = None, time.perf_counter()
    if lr_find:
        say("LR range test: up to 100 steps")
        try:
            sweep = run_lr_find(copy.deepcopy(model).to(dev), ds.train, loss=loss_name, task=ds.task,
                                optimizer=cfg["optimizer"], batch_size=cfg["batch_size"] or 64, seed=seed,
                                device=dev)
        except Exception as e:  # noqa: BLE001 - as for a check: report it, go on
            results["lr_find"] = not_run(e)
    phases["lr_find"], t1 = round(time.perf_counter() - t1, 3), time.perf_counter()
    seed_everything(seed)
    val = sample(ds.val, eval_samples, seed)
    real = EvalAt(baseline, val)
    trainer = Trainer(copy.deepcopy(model), cfg, task=ds.task, device=str(dev), seed=seed,
                      callbacks=[probes, real, StepProgress(say, "training"), *(callbacks or [])])
    diverged = None
    say(f"training: {steps} steps under the probes")
    try:
        trainer.fit(ds.train)  # no validation curve: no rule reads one, and it cost whole-split passes
    except DivergenceError as e:
        diverged = {"step": getattr(e, "step", trainer.step), "layer": getattr(e, "layer", None),
                    "cause": getattr(e, "cause", str(e)), "lr": getattr(e, "lr", trainer.lr), "message": str(e)}
    phases["training"], t1 = round(time.perf_counter() - t1, 3), time.perf_counter()
    if checks:
        say(f"check: input_independent (a copy on zeroed inputs, {baseline} steps)")
        results.update(run_checks(model, ds, cfg, names=["input_independent"], device=dev, seed=seed,
                                  baseline_steps=baseline, eval_samples=eval_samples, real=real.result))
        results = {k: results[k] for k in [*CHECKS, "lr_find"] if k in results}
    phases["input_independent"], t1 = round(time.perf_counter() - t1, 3), time.perf_counter()
    training = _training_summary(trainer, ds, cfg, loss_name, diverged, eval_samples, seed)
    phases["evaluation"] = round(time.perf_counter() - t1, 3)
    training["initial_loss"] = probes.log.records[0]["loss"] if probes.log.records else None
    results["nonfinite"] = {"passed": diverged is None, "message": diverged["message"] if diverged else
                            f"no NaN/inf in {trainer.step} steps"}
    lf = None
    if sweep is not None:
        lf = {**sweep.to_dict(), "regime": sweep.regime(cfg["lr"] or trainer.lr)}
    findings = find(Evidence(probes.log, results, training, lf))
    info = {"seconds": round(time.perf_counter() - t0, 3), "phases": phases, "data": ds.summary(), "device": str(dev),
            "threads": torch.get_num_threads()}
    return Diagnosis(findings, results, probes.log, training, sweep, info)


def _training_summary(trainer: Trainer, ds: Dataset, cfg: dict, loss_name: str, diverged,
                      eval_samples: int | None, seed: int) -> dict:
    out = {"steps": trainer.step, "optimizer": cfg["optimizer"], "lr": trainer.lr, "loss": loss_name,
           "batch_size": cfg["batch_size"], "losses": [h["loss"] for h in trainer.history],
           "loss_steps": [h["step"] for h in trainer.history], "chance_loss": chance_loss(ds, loss_name),
           "diverged": diverged}
    if diverged is None:
        for split in ("train", "val"):
            part = sample(getattr(ds, split), eval_samples, seed)
            out[f"{split}_samples"], out[f"{split}_sampled"] = len(part), len(part) < len(getattr(ds, split))
            for k, v in trainer.evaluate(part).items():
                out[f"{split}_{k}"] = v
    return out
