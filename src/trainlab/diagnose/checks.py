"""Sanity checks before (and beside) training — CS231n's "babysitting the learning process":

* ``loss_at_init``: the loss of the untrained model against chance, -ln(1/C) for C classes
  (ln 2 for binary cross-entropy, mean(y^2) for mse: what outputs near 0 score);
* ``l2_raises_loss``: adding L2 regularization (lambda/2 * sum ||W||^2) raises the initial loss;
* ``overfit_small``: a copy trained on a tiny subset (20 samples) reaches 100% training
  accuracy (regression: 1% of its starting loss) within a step budget;
* ``gradcheck``: every module with a hand-written backward (a custom ``autograd.Function`` in
  its graph, or a ``backward`` method) agrees with finite differences in float64
  (``torch.autograd.gradcheck``, fast mode), away from ReLU kinks;
* ``input_independent``: a copy trained on zeroed inputs ends worse than one trained on the
  real inputs (the model uses its inputs): by accuracy where the task has one.

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
Z = 3.0  # input_independent: real-input accuracy must beat zeroed by 3 standard errors


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
def _eval_loss(model: nn.Module, loss_name: str, split: Split, device, rows: int = 1024,
               chunk: int = 256) -> tuple[float, int]:
    """Mean loss over the first ``rows`` rows, in chunks of ``chunk`` (faster on a CPU than one pass)."""
    was = model.training
    model.eval()
    loss_fn, total, n, width = losses.get(loss_name), 0.0, 0, 0
    try:
        for i in range(0, min(rows, len(split)), chunk):
            x, y = split.x[i:min(i + chunk, rows)].to(device), split.y[i:min(i + chunk, rows)].to(device)
            out = model(x)
            width = out.shape[-1]
            total += float(loss_fn.fn(out, loss_fn.prepare(y, width))) * len(x)
            n += len(x)
    finally:
        model.train(was)
    return total / max(1, n), width


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


def l2_raises_loss(model: nn.Module, ds: Dataset, loss_name: str, lam: float = L2_LAMBDA, device="cpu",
                   loss0: float | None = None) -> dict:
    """``loss0``: the initial loss when ``loss_at_init`` already measured it (the same rows)."""
    if loss0 is None:
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


def custom_functions(out) -> list[str]:
    """The custom ``torch.autograd.Function`` classes in the graph that produced ``out``."""
    outs = out if isinstance(out, (tuple, list)) else list(out.values()) if isinstance(out, dict) else [out]
    stack = [t.grad_fn for t in outs if isinstance(t, torch.Tensor) and t.grad_fn is not None]
    seen, found = set(), []
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if isinstance(fn, torch.autograd.function.BackwardCFunction):
            name = type(fn).__name__.removesuffix("Backward")
            found += [name] if name not in found else []
        stack.extend(f for f, _ in fn.next_functions)
    return found


def _nudged(t: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """``t`` in float64, moved 1e-3 of its std (plus 1e-3) off where it was: off ReLU kinks
    (XOR's (0, 0) input; a zeroed layer, whose units all sit at exactly 0)."""
    t = t.detach().double()
    noise = torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.device)
    return t + 1e-3 * (float(t.std()) if t.numel() > 1 else 0.0) * noise + 1e-3 * noise


def gradcheck(model: nn.Module, ds: Dataset, max_modules: int = 20, n: int = 3, device="cpu") -> dict:
    """Finite differences vs autograd in float64, for each module with a hand-written backward:
    one whose class defines ``backward``, or whose forward runs a custom ``autograd.Function``
    (found in the graph it builds). Modules made of torch's own operations need no check: torch
    tests their gradients. Each runs on the inputs it sees for ``n`` real samples, with inputs
    and weights nudged off kinks; a module that cannot run in float64 is "not run", with why."""
    net = copy.deepcopy(model).to(device).eval()
    candidates = custom_modules(net)
    inputs: dict[str, tuple] = {}

    def grab(name, module, args, out):
        inputs.setdefault(name, args)

    with Hooks(candidates, grab), torch.no_grad():
        net(ds.train.x[:n].to(device))
    found = {name: _has_backward(m, inputs.get(name)) for name, m in candidates}
    found = {n: fns for n, fns in found.items() if fns}
    results, failed, targets = {}, [], []
    for name, module in candidates:
        if name not in found:
            continue
        inner = set().union(*[f for n, f in found.items() if n != name and (name == "model" or n.startswith(name + "."))])
        if found[name] <= inner:  # a container: its Functions are checked where they are called, away from
            continue              # the kinks of the torch ops around them (a ReLU on a zeroed layer)
        targets.append(name)
        if len(targets) > max_modules:
            results[name] = f"skipped: more than {max_modules} modules"
            continue
        with one_thread():
            results[name] = _check_module(module, inputs[name])
        if results[name] == "failed":
            failed.append(name)
    checked = [k for k, v in results.items() if v in ("passed", "failed")]
    not_run = {k: v for k, v in results.items() if v.startswith("not run")}
    if checked:
        msg = f"{len(checked)} module(s) with a custom backward checked in float64"
        msg += f"; failed: {', '.join(failed)}" if failed else ""
    elif not_run:
        msg = f"not run: {'; '.join(f'{k}: {v[9:]}' for k, v in not_run.items())}"
    else:
        msg = "no module defines its own backward (autograd.Function): nothing to check"
    out = {"passed": (not failed) if checked else None, "modules": results, "failed": failed, "message": msg}
    if not_run and not checked:
        out["not_run"] = msg[9:]
    return out


def _has_backward(module: nn.Module, args: tuple | None) -> set[str]:
    """The hand-written backwards ``module`` runs: its own ``backward`` method, and the custom
    autograd Functions in the graph its forward builds (empty when none, or when it never ran)."""
    own = {f"{type(module).__name__}.backward"} if "backward" in vars(type(module)) else set()
    if not args or not all(isinstance(a, torch.Tensor) for a in args):
        return own
    xs = [a.detach().requires_grad_(a.is_floating_point()) for a in args]
    try:
        with torch.enable_grad():
            return own | set(custom_functions(module(*xs)))
    except Exception:  # noqa: BLE001 - it ran inside the model; alone it may not (then it is not checked)
        return own


def _check_module(module: nn.Module, args: tuple) -> str:
    g = torch.Generator().manual_seed(0)
    module = copy.deepcopy(module).double()
    names = [n for n, p in module.named_parameters() if p.requires_grad]
    params = [_nudged(p, g).requires_grad_(True) for n, p in module.named_parameters() if p.requires_grad]
    xs = [_nudged(a, g).requires_grad_(True) if a.is_floating_point() else a for a in args]
    diff = [t for t in xs + params if t.requires_grad]
    if not diff:
        return "skipped: nothing differentiable"

    def fn(*_):
        out = torch.func.functional_call(module, dict(zip(names, params)), tuple(xs))
        out = out[0] if isinstance(out, (tuple, list)) else out
        return out

    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # so a forward's torch.zeros(...) (an LSTM's h0) is float64 too
    try:
        ok = torch.autograd.gradcheck(fn, tuple(diff), eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True,
                                      raise_exception=False)
    except Exception as e:  # noqa: BLE001 - e.g. a forward that casts to float32 (x.float())
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"not run: float64 check failed to run ({type(e).__name__}: {text})"
    finally:
        torch.set_default_dtype(default)
    return "passed" if ok else "failed"


def input_independent(model: nn.Module, ds: Dataset, cfg: dict, steps: int = 100, device="cpu",
                      seed: int = 0, val: Split | None = None, real: dict | None = None) -> dict:
    """Train two copies from the same init, on real and on zeroed inputs; compare them on ``val``
    (default: the whole validation split): by accuracy when the task has one (real must beat
    zeroed by ``Z`` standard errors), else by loss (real < 0.95 x zeroed). ``real``: the real
    side's ``{"loss", "accuracy"}`` when a run from the same init already measured it."""
    val = ds.val if val is None else val
    out = {"real": real} if real is not None else {}
    zeros = lambda x: x.new_zeros(()).expand_as(x)  # noqa: E731 - a view: no copy of the training split
    for label, f in (("real", lambda x: x), ("zeroed", zeros)):
        if label in out:
            continue
        net = copy.deepcopy(model)
        seed_everything(seed)
        trainer = Trainer(net, _train_config(cfg, steps=steps, log_every=steps), task=ds.task,
                          device=str(device), seed=seed)
        try:
            trainer.fit(Split(f(ds.train.x), ds.train.y))
        except DivergenceError as e:
            return {"passed": None, "message": f"{label} run diverged: {e}"}
        out[label] = trainer.evaluate(Split(f(val.x), val.y))
    r, z = out["real"], out["zeroed"]
    res = {"steps": steps, "samples": len(val), "real_loss": r["loss"], "zeroed_loss": z["loss"]}
    if "accuracy" in r:
        se = math.sqrt((r["accuracy"] * (1 - r["accuracy"]) + z["accuracy"] * (1 - z["accuracy"])) / len(val))
        passed = r["accuracy"] - z["accuracy"] > Z * max(se, 1.0 / len(val))
        res.update(real_accuracy=r["accuracy"], zeroed_accuracy=z["accuracy"])
        msg = (f"val accuracy after {steps} steps: real inputs {r['accuracy']:.1%} vs zeroed {z['accuracy']:.1%} "
               f"({len(val)} samples)")
    else:
        passed = r["loss"] < 0.95 * z["loss"]
        msg = f"val loss after {steps} steps: real inputs {r['loss']:.4g} vs zeroed {z['loss']:.4g}"
    return {"passed": passed, **res, "message": msg + ("" if passed else ": the model does not use its inputs")}


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
