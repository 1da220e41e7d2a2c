"""Activations called as functions (``F.relu(self.fc1(x))``, ``torch.sigmoid(h)``, ``h.tanh()``)
are not modules, so module hooks cannot see them. On a sampled step the probes also enter a
``TorchFunctionMode`` that intercepts those calls and records their outputs, named after what
produced their input: ``fc1:relu`` is the ReLU applied to ``fc1``'s output (the very tensor,
unchanged since); a ReLU applied to anything else (``out += shortcut; F.relu(out)`` after a
residual addition) is named after the module whose forward is running, ``layer1.0:relu`` —
not after the shortcut branch that happened to finish last. Calls made inside an activation
module (``nn.ReLU`` calls ``F.relu``) are skipped, so nothing is counted twice. The mode is
active only between ``begin`` and ``after_backward`` of a sampled step.
"""

from __future__ import annotations

import weakref
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
    activation module. The probes report each watched module's output with ``produced``;
    ``containers`` (name, module) are the modules whose forward may call functions (the model
    and its non-leaf modules), tracked so a call on a computed tensor is named after them."""

    def __init__(self, record: Callable[[str, str, torch.Tensor], None], modules: list[nn.Module],
                 containers: list[tuple[str, nn.Module]] = ()):
        super().__init__()
        self.record, self.inside, self.last = record, 0, "input"
        self.running: list[str] = []  # names of the container modules whose forward is running
        self.outputs: dict[int, tuple[str, int, weakref.ref]] = {}  # id -> (module, version, tensor)
        self._guards = [Hook("", m, self._leave) for m in modules] + \
                       [_PreHook(m, self._enter) for m in modules]
        for name, m in containers:
            self._guards += [_PreHook(m, lambda mod, args, n=name: self.running.append(n)),
                             Hook(name, m, self._pop)]

    def _enter(self, module, args):
        self.inside += 1

    def _leave(self, name, module, args, out):
        self.inside -= 1

    def _pop(self, name, module, args, out):
        if self.running and self.running[-1] == name:
            self.running.pop()

    def produced(self, name: str, out) -> None:
        """Module ``name`` returned ``out``: a function applied to it, unchanged, is named after it."""
        self.last = name
        if isinstance(out, torch.Tensor):
            self.outputs[id(out)] = (name, out._version, weakref.ref(out))

    def _name_for(self, x) -> str:
        """Who produced ``x``: the module whose unchanged output it is, else the running container."""
        if isinstance(x, torch.Tensor):
            hit = self.outputs.get(id(x))
            if hit is not None and hit[2]() is x and x._version == hit[1]:
                return hit[0]
        return self.running[-1] if self.running else self.last

    def __torch_function__(self, func, types, args=(), kwargs=None):
        rule = TRACKED.get(func)
        src = self._name_for(args[0] if args else None) if rule is not None and not self.inside else None
        out = func(*args, **(kwargs or {}))
        if src is not None and isinstance(out, torch.Tensor) and out.ndim > 0:
            with torch._C.DisableTorchFunction():
                self.record(f"{src}:{getattr(func, '__name__', rule).rstrip('_')}", rule, out)
        return out

    def close(self) -> None:
        for g in self._guards:
            g.remove()
        self.outputs.clear()


class _PreHook:
    def __init__(self, module: nn.Module, fn):
        self._handle = module.register_forward_pre_hook(fn)

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
