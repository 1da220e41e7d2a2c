"""Sanity checks before (and beside) training — CS231n's "babysitting the learning process":

* ``loss_at_init``: the loss of the untrained model against chance, -ln(1/C) for C classes
  (ln 2 for binary cross-entropy, mean(y^2) for mse: what outputs near 0 score);
* ``l2_raises_loss``: adding L2 regularization (lambda/2 * sum ||W||^2) raises the initial loss;
* ``overfit_small``: a copy trained on a tiny subset (20 samples) reaches 100% training
  accuracy (regression: 1% of its starting loss) within a step budget;
* ``gradcheck``: every module whose class is not torch's own (the user's custom layers)
  agrees with finite differences in float64 (``torch.autograd.gradcheck``, fast mode);
* ``input_independent``: a copy trained on zeroed inputs ends worse than one trained on the
  real inputs (the model uses its inputs).

Every check trains or evaluates a deep copy: the model passed in is never changed. Each
returns ``{"passed": bool | None, ..., "message": str}`` (None: not applicable).
"""

from __future__ import annotations

import contextlib
import copy
import math

import torch
from torch import nn

from trainlab.data.base import Dataset, Split
from trainlab.diagnose.hooks import Hooks
from trainlab.errors import DivergenceError
from trainlab.train import losses
from trainlab.train.callbacks import Callback
from trainlab.train.trainer import Trainer, seed_everything

INIT_TOLERANCE = (0.5, 1.5)  # loss at init / expected: outside this band fails
L2_LAMBDA = 1e-3


@contextlib.contextmanager
def one_thread():
    """Tiny batches (20 samples, 3 for gradcheck) gain nothing from more CPU threads, and on a
    busy machine their synchronisation makes each op many times slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def expected_init_loss(loss_name: str, y: torch.Tensor, n_out: int) -> float:
    """The loss of a model whose outputs are (nearly) uniform / zero at initialization."""
    if loss_name == "cross_entropy":
        return math.log(n_out)  # -ln(1/C)
    if loss_name == "binary_cross_entropy":
        return math.log(2.0)
    t = losses.get("mse").prepare(y, n_out)
    return float(t.double().pow(2).mean())  # outputs ~0 score E[y^2]


@torch.no_grad()
def _eval_loss(model: nn.Module, loss_name: str, split: Split, device) -> tuple[float, int]:
    was = model.training
    model.eval()
    x, y = split.x[:1024].to(device), split.y[:1024].to(device)
    out = model(x)
    loss_fn = losses.get(loss_name)
    value = float(loss_fn.fn(out, loss_fn.prepare(y, out.shape[-1])))
    model.train(was)
    return value, out.shape[-1]


def loss_at_init(model: nn.Module, ds: Dataset, loss_name: str, device="cpu") -> dict:
    loss0, n_out = _eval_loss(model, loss_name, ds.train, device)
    expected = expected_init_loss(loss_name, ds.train.y[:1024], n_out)
    ratio = loss0 / expected if expected > 0 else math.inf
    lo, hi = INIT_TOLERANCE
    passed = math.isfinite(loss0) and lo <= ratio <= hi
    what = {"cross_entropy": f"-ln(1/{n_out})", "binary_cross_entropy": "ln 2"}.get(loss_name, "mean(y^2)")
    msg = (f"loss at init {loss0:.4g} vs {expected:.4g} expected ({what}): ratio {ratio:.2f}"
           + ("" if passed else f", outside [{lo}, {hi}]"))
    return {"passed": passed, "loss": loss0, "expected": expected, "ratio": ratio, "message": msg}


def l2_raises_loss(model: nn.Module, ds: Dataset, loss_name: str, lam: float = L2_LAMBDA, device="cpu") -> dict:
    loss0, _ = _eval_loss(model, loss_name, ds.train, device)
    with torch.no_grad():  # the same weights the optimizer decays: ndim >= 2 (not biases/norm scales)
        penalty = sum(float(p.double().pow(2).sum()) for p in model.parameters() if p.ndim >= 2)
    with_l2 = loss0 + 0.5 * lam * penalty
    passed = with_l2 > loss0
    msg = (f"loss {loss0:.4g} -> {with_l2:.4g} with L2 (lambda {lam:g})"
           + ("" if passed else ": no weights to regularize (all zero?)"))
    return {"passed": passed, "loss": loss0, "loss_with_l2": with_l2, "lambda": lam, "message": msg}


class _StopWhenFit(Callback):
    """Stops once the (evaluated) subset is fit: accuracy 1.0, or loss below ``target``."""

    def __init__(self, classify: bool, target: float):
        self.classify, self.target, self.reached = classify, target, None

    def on_step_end(self, trainer):
        m = trainer.metrics
        if m is None:
            return
        done = m.get("val_accuracy") == 1.0 if self.classify else m.get("val_loss", math.inf) <= self.target
        if done:
            self.reached = trainer.step
            trainer.stop_training, trainer.stop_reason = True, "fit the subset"


def _train_config(cfg: dict, **over) -> dict:
    base = {k: v for k, v in cfg.items() if k not in ("early_stopping", "epochs", "checkpoint_every")}
    return {**base, "epochs": None, **over}


def overfit_small(model: nn.Module, ds: Dataset, cfg: dict, n: int = 20, budget: int = 300,
                  device="cpu", seed: int = 0) -> dict:
    n = min(n, len(ds.train))
    sub = Split(ds.train.x[:n], ds.train.y[:n])
    classify = ds.task == "classification"
    net = copy.deepcopy(model)
    loss_name = losses.resolve(cfg.get("loss", "auto"), ds.task)
    start, _ = _eval_loss(net, loss_name, sub, device)
    stop = _StopWhenFit(classify, 0.01 * start)
    seed_everything(seed)
    config = _train_config(cfg, steps=budget, batch_size=None, weight_decay=0.0, schedule=None, log_every=5)
    trainer = Trainer(net, config, task=ds.task, callbacks=[stop], device=str(device), seed=seed)
    try:
        with one_thread():
            trainer.fit(sub, sub)  # "validation" on the subset itself, in eval mode
    except DivergenceError as e:
        return {"passed": False, "n": n, "budget": budget, "steps": trainer.step,
                "message": f"diverged while fitting {n} samples: {e}"}
    final = trainer.history[-1] if trainer.history else {}
    acc = final.get("val_accuracy")
    passed = stop.reached is not None
    got = f"accuracy {acc:.0%}" if acc is not None else f"loss {final.get('val_loss', math.nan):.3g} (from {start:.3g})"
    msg = (f"{n} samples fit in {stop.reached} steps" if passed
           else f"{n} samples not fit within {budget} steps: {got}")
    return {"passed": passed, "n": n, "budget": budget, "steps": stop.reached, "accuracy": acc,
            "loss": final.get("val_loss"), "message": msg}


def custom_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules whose class is not one of torch's own (the user's, or trainlab's, code)."""
    return [(name or "model", m) for name, m in model.named_modules()
            if not type(m).__module__.startswith("torch.")]


def gradcheck(model: nn.Module, ds: Dataset, max_modules: int = 20, n: int = 3, device="cpu") -> dict:
    """Finite differences vs autograd in float64 for each custom module, on the inputs it sees
    for ``n`` real samples (nudged by 1e-3 std so no ReLU sits exactly on its kink)."""
    net = copy.deepcopy(model).to(device).double().eval()
    targets = custom_modules(net)[:max_modules]
    inputs: dict[str, tuple] = {}

    def grab(name, module, args, out):
        inputs.setdefault(name, args)

    x = ds.train.x[:n].to(device)
    if x.is_floating_point():  # nudge inputs off kinks: XOR's (0, 0) puts every ReLU exactly at 0
        g = torch.Generator().manual_seed(0)
        x = x.double() + 1e-3 * (x.double().std() + 1e-3) * torch.randn(x.shape, generator=g, dtype=torch.float64).to(device)
    with Hooks(targets, grab), torch.no_grad():
        net(x)
    results, failed = {}, []
    for name, module in targets:
        with one_thread():
            results[name] = _check_module(module, inputs.get(name))
        if results[name] == "failed":
            failed.append(name)
    checked = [k for k, v in results.items() if v in ("passed", "failed")]
    msg = (f"{len(checked)} custom module(s) checked in float64" + (f"; failed: {', '.join(failed)}" if failed else "")
           if checked else "no custom modules with differentiable inputs")
    return {"passed": (not failed) if checked else None, "modules": results, "failed": failed, "message": msg}


def _check_module(module: nn.Module, args: tuple | None) -> str:
    if not args or not all(isinstance(a, torch.Tensor) for a in args):
        return "skipped: non-tensor inputs" if args else "skipped: not called"
    names = [n for n, p in module.named_parameters() if p.requires_grad]
    params = [p.detach().clone().requires_grad_(True) for n, p in module.named_parameters() if p.requires_grad]
    xs = [a.detach().clone().requires_grad_(a.is_floating_point()) for a in args]
    diff = [t for t in xs + params if t.requires_grad]
    if not diff:
        return "skipped: nothing differentiable"

    def fn(*_):
        out = torch.func.functional_call(module, dict(zip(names, params)), tuple(xs))
        out = out[0] if isinstance(out, (tuple, list)) else out
        return out

    ok = torch.autograd.gradcheck(fn, tuple(diff), eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True,
                                  raise_exception=False)
    return "passed" if ok else "failed"


def input_independent(model: nn.Module, ds: Dataset, cfg: dict, steps: int = 100, device="cpu",
                      seed: int = 0) -> dict:
    """Train two copies from the same init, on real and on zeroed inputs; compare val loss."""
    out = {}
    for label, f in (("real", lambda x: x), ("zeroed", torch.zeros_like)):
        net = copy.deepcopy(model)
        seed_everything(seed)
        trainer = Trainer(net, _train_config(cfg, steps=steps, log_every=steps), task=ds.task,
                          device=str(device), seed=seed)
        try:
            trainer.fit(Split(f(ds.train.x), ds.train.y))
        except DivergenceError as e:
            return {"passed": None, "message": f"{label} run diverged: {e}"}
        out[label] = trainer.evaluate(Split(f(ds.val.x), ds.val.y))["loss"]
    passed = out["real"] < 0.95 * out["zeroed"]
    msg = (f"val loss after {steps} steps: real inputs {out['real']:.4g} vs zeroed {out['zeroed']:.4g}"
           + ("" if passed else ": the model does not use its inputs"))
    return {"passed": passed, "steps": steps, "real_loss": out["real"], "zeroed_loss": out["zeroed"], "message": msg}


def nonfinite_guard(model: nn.Module, ds: Dataset, cfg: dict, steps: int = 100, device="cpu", seed: int = 0) -> dict:
    """Train a copy briefly under the non-finite guard: passes when no loss turns NaN/inf; else
    the step, the layer and the likely cause the guard found."""
    net = copy.deepcopy(model)
    seed_everything(seed)
    trainer = Trainer(net, _train_config(cfg, steps=steps, log_every=steps), task=ds.task, device=str(device), seed=seed)
    try:
        trainer.fit(ds.train)
    except DivergenceError as e:
        return {"passed": False, "step": getattr(e, "step", None), "layer": getattr(e, "layer", None),
                "cause": getattr(e, "cause", None), "message": str(e)}
    return {"passed": True, "steps": steps, "message": f"no NaN/inf in {steps} steps"}
