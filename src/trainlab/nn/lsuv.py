"""LSUV: layer-sequential unit-variance init (Mishkin & Matas 2015, "All you need is a good init").

Step 1, per tensor (``init.get("lsuv")``): orthogonal weights with gain 1 (Saxe et al. 2014).
Step 2, data dependent (``lsuv_`` here): for each weight layer in forward-call order, run the
model on one training batch, measure the variance of that layer's output and rescale its weight
by ``sqrt(target_var / var)`` until ``|var - target_var| < tol`` or ``max_iter`` rescalings.
Layers are done in call order so that rescaling a later layer never changes an earlier one's
output: when the loop ends every layer's output variance is its final reported ``var``.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Iterable

import torch
from torch import nn

from trainlab.errors import ConfigError


def check_args(tol: Any, max_iter: Any, target_var: Any, where: str = "lsuv") -> None:
    """Argument checks shared by ``lsuv_`` and the ``lsuv`` registry entry (so ``get`` checks eagerly)."""
    for arg, value in (("tol", tol), ("target_var", target_var)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"{where}: {arg} must be a finite number > 0, got {value!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ConfigError(f"{where}: max_iter must be an integer >= 1, got {max_iter!r}")


def is_weight_layer(module: nn.Module) -> bool:
    """Linear, Conv*, Embedding and user modules alike: a ``weight`` tensor of ndim >= 2."""
    weight = getattr(module, "weight", None)
    return isinstance(weight, torch.Tensor) and weight.ndim >= 2


def lsuv_(model: nn.Module, x: Any, tol: float = 0.1, max_iter: int = 10,
          target_var: float = 1.0, modules: Iterable[nn.Module] | None = None) -> list[dict]:
    """Rescale each weight layer so its output variance on batch ``x`` is ``target_var``.

    Mishkin & Matas 2015: ``W <- W * sqrt(target_var / Var(layer(x)))``, repeated per layer.
    Initialise the weights with ``get("lsuv")`` (orthogonal, gain 1) first. ``modules=None``
    takes every weight layer of ``model``; otherwise only the given ones. The model keeps its
    train/eval mode (the paper uses a training batch), runs under ``no_grad``, and its buffers
    (BatchNorm running stats) are restored afterwards: only weights change. Returns one
    ``{"layer": qualified name, "var": final variance, "iterations": rescalings}`` per layer.

    >>> net = nn.Sequential(nn.Linear(100, 100), nn.Tanh(), nn.Linear(100, 10))
    >>> report = lsuv_(net, 5 * torch.randn(256, 100))
    """
    check_args(tol, max_iter, target_var)
    names = _select(model, modules)
    training = {m: m.training for m in model.modules()}
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        with torch.no_grad():
            order = _call_order(model, x, names, explicit=modules is not None)
            return [_scale(model, x, layer, names[layer], tol, max_iter, target_var) for layer in order]
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
        for module, mode in training.items():
            module.training = mode


def _select(model: nn.Module, modules: Iterable[nn.Module] | None) -> dict[nn.Module, str]:
    """The layers to rescale -> their qualified names (the root model is named by its class)."""
    named = {m: (n or type(m).__name__) for n, m in model.named_modules()}
    if modules is None:
        return {m: n for m, n in named.items() if is_weight_layer(m)}
    chosen = {}
    for m in modules:
        if m not in named:
            raise ConfigError(f"lsuv: modules must be layers of the model; got {type(m).__name__} that is not in it")
        if not is_weight_layer(m):
            raise ConfigError(f"lsuv: layer {named[m]!r} ({type(m).__name__}) has no weight of ndim >= 2 to rescale")
        chosen[m] = named[m]
    return chosen


def _run_hooked(model: nn.Module, x: Any, layers: Iterable[nn.Module], hook) -> None:
    """``model(x)`` with ``hook`` on ``layers``; the hooks are removed even if forward raises."""
    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()


def _call_order(model: nn.Module, x: Any, names: dict[nn.Module, str], explicit: bool) -> list[nn.Module]:
    order: list[nn.Module] = []

    def record(module, inputs, output):
        if module not in order:  # a shared layer counts at its first call
            order.append(module)

    _run_hooked(model, x, names, record)
    missing = [names[m] for m in names if m not in order]
    if explicit and missing:
        raise ConfigError(f"lsuv: layer {missing[0]!r} is not called by the model's forward on x")
    return order


def _output_var(model: nn.Module, x: Any, layer: nn.Module, name: str) -> float:
    outputs: list[torch.Tensor] = []

    def capture(module, inputs, output):
        if not outputs:  # a shared layer is measured at its first call
            outputs.append(output if isinstance(output, torch.Tensor) else output[0])

    _run_hooked(model, x, [layer], capture)
    var = float(outputs[0].detach().double().var())
    if not math.isfinite(var) or var == 0:
        raise ConfigError(f"lsuv: layer {name!r} has output variance {var} on this batch; LSUV needs "
                          "a finite, non-zero variance (is the layer's input all zeros?)")
    return var


def _scale(model: nn.Module, x: Any, layer: nn.Module, name: str,
           tol: float, max_iter: int, target_var: float) -> dict:
    var = _output_var(model, x, layer, name)
    iterations = 0
    while abs(var - target_var) >= tol and iterations < max_iter:
        layer.weight.mul_(math.sqrt(target_var / var))
        var = _output_var(model, x, layer, name)
        iterations += 1
    return {"layer": name, "var": var, "iterations": iterations}
