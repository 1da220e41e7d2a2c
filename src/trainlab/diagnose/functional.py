"""Activations called as functions (``F.relu(self.fc1(x))``, ``torch.sigmoid(h)``, ``h.tanh()``)
are not modules, so module hooks cannot see them. On a sampled step the probes also enter a
``TorchFunctionMode`` that intercepts those calls and records their outputs, named after the
module that ran last: ``fc1:relu`` is the ReLU applied after ``fc1``. Calls made inside an
activation module (``nn.ReLU`` calls ``F.relu``) are skipped, so nothing is counted twice.
The mode is active only between ``begin`` and ``after_backward`` of a sampled step.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from trainlab.diagnose.hooks import Hook

TRACKED = {torch.relu: "relu", F.relu: "relu", torch.Tensor.relu: "relu", torch.relu_: "relu",
           F.relu6: "relu", torch.sigmoid: "sigmoid", torch.Tensor.sigmoid: "sigmoid",
           torch.tanh: "tanh", torch.Tensor.tanh: "tanh", F.tanh: "tanh"}


class FunctionalActivations(TorchFunctionMode):
    """Calls ``record(name, rule, output)`` for each tracked function call outside an
    activation module; ``last`` is the name of the last module that finished (set by the probes)."""

    def __init__(self, record: Callable[[str, str, torch.Tensor], None], modules: list[nn.Module]):
        super().__init__()
        self.record, self.inside, self.last = record, 0, "input"
        self._guards = [Hook("", m, self._leave) for m in modules] + \
                       [_PreHook(m, self._enter) for m in modules]

    def _enter(self, module, args):
        self.inside += 1

    def _leave(self, name, module, args, out):
        self.inside -= 1

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        rule = TRACKED.get(func)
        if rule is not None and not self.inside and isinstance(out, torch.Tensor) and out.ndim > 0:
            with torch._C.DisableTorchFunction():
                self.record(f"{self.last}:{getattr(func, '__name__', rule).rstrip('_')}", rule, out)
        return out

    def close(self) -> None:
        for g in self._guards:
            g.remove()


class _PreHook:
    def __init__(self, module: nn.Module, fn):
        self._handle = module.register_forward_pre_hook(fn)

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
