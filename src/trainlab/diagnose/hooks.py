"""Hooks that remove themselves (STYLE rule 7; fastai's ``callback/hook.py`` Hook / Hooks).

A ``Hook`` wraps one ``register_forward_hook`` handle; ``Hooks`` wraps many. Both are context
managers: leaving the ``with`` block (or calling ``remove()``) unregisters every handle, so a
probe can never keep firing, or keep a model alive, after it is done::

    with Hooks({"fc1": net.fc1, "act": net.act}, lambda name, module, args, out: seen.append(name)):
        net(x)              # fires
    net(x)                  # nothing fires
"""

from __future__ import annotations

import functools
from typing import Callable, Iterable

from torch import nn

HookFn = Callable[[str, nn.Module, tuple, object], None]  # (name, module, inputs, output)


class Hook:
    """One forward hook on ``module`` calling ``fn(name, module, inputs, output)``."""

    def __init__(self, name: str, module: nn.Module, fn: HookFn):
        self.name, self.module = name, module
        self._handle = module.register_forward_hook(functools.partial(fn, name))

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    @property
    def active(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> "Hook":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Hooks:
    """Forward hooks on many named modules; ``remove()`` / leaving ``with`` removes them all."""

    def __init__(self, modules: dict[str, nn.Module] | Iterable[tuple[str, nn.Module]], fn: HookFn):
        items = modules.items() if isinstance(modules, dict) else modules
        self.hooks = [Hook(name, m, fn) for name, m in items]

    def remove(self) -> None:
        for h in self.hooks:
            h.remove()

    @property
    def active(self) -> bool:
        return any(h.active for h in self.hooks)

    def __len__(self) -> int:
        return len(self.hooks)

    def __enter__(self) -> "Hooks":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
