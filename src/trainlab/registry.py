"""One registry per component kind (activations, initializers, blocks, optimizers, ...).

A registry maps a snake_case name to a constructor. ``get`` accepts a name, a dict
``{"name": ..., **kwargs}``, a one-key dict ``{name: kwargs}`` or a callable, so that specs
written as YAML and Python code use the same vocabulary (Keras ``initializers.get``).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable, Iterator

from trainlab.errors import ConfigError, short


class Registry:
    """Name -> constructor, with helpful errors for unknown names."""

    def __init__(self, kind: str, provided_by: dict[str, str] | None = None):
        """``provided_by`` maps a name to the module (of a later layer) that registers it when
        imported; that module is imported on first use, so lower layers never import it."""
        self.kind = kind
        self._items: dict[str, Any] = {}
        self._provided_by = dict(provided_by or {})

    def _load(self, name: object) -> None:
        module = self._provided_by.pop(name, None) if isinstance(name, str) else None
        if module is not None and name not in self._items:
            importlib.import_module(module)

    def register(self, name: str, obj: Any = None):
        """Register ``obj`` under ``name``; usable as a decorator when ``obj`` is omitted."""
        if obj is None:
            return lambda o: self.register(name, o)
        if name in self._items:
            raise KeyError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = obj
        return obj

    def names(self) -> list[str]:
        return list(self._items) + [n for n in self._provided_by if n not in self._items]

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._provided_by

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def lookup(self, name: str) -> Any:
        """The registered object for ``name``; unknown names raise a one-line ConfigError."""
        self._load(name)
        if not isinstance(name, str) or name not in self._items:
            raise ConfigError(self.unknown_message(name))
        return self._items[name]

    def unknown_message(self, name: object) -> str:
        valid = ", ".join(self.names())
        close = difflib.get_close_matches(name, self.names(), n=1) if isinstance(name, str) and len(name) < 100 else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {short(name)}{hint}; valid {self.kind}s: {valid}"

    def split(self, spec: Any) -> tuple[str, dict]:
        """Normalise a name / ``{"name": n, **kw}`` / ``{n: kw}`` spec to ``(name, kwargs)``."""
        return split_spec(spec, self.kind)

    def get(self, spec: Any, **extra) -> Any:
        """Build the component a spec names. Callables pass through unchanged."""
        if callable(spec) and not isinstance(spec, (str, dict)):
            return spec
        name, kwargs = self.split(spec)
        ctor = self.lookup(name)
        return call_with_kwargs(ctor, {**kwargs, **extra}, f"{self.kind} {name!r}")


def split_spec(spec: Any, kind: str) -> tuple[str, dict]:
    """``"relu"`` -> ("relu", {}); ``{"name": "leaky_relu", "slope": 0.1}`` ->
    ("leaky_relu", {"slope": 0.1}); ``{"leaky_relu": {"slope": 0.1}}`` -> same."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict):
        if "name" in spec:
            kwargs = {k: v for k, v in spec.items() if k != "name"}
            return spec["name"], kwargs
        if len(spec) == 1:
            (name, kwargs), = spec.items()
            if kwargs is None:
                kwargs = {}
            if not isinstance(kwargs, dict):
                raise ConfigError(f"{kind} {short(name)}: expected a mapping of arguments, got {short(kwargs)}")
            return name, dict(kwargs)
    raise ConfigError(f"bad {kind} spec {short(spec)}: give a name, or a mapping with a 'name' key")


def call_with_kwargs(ctor: Callable, kwargs: dict, what: str) -> Any:
    """Call ``ctor(**kwargs)``, turning a wrong keyword, or a value of the wrong kind for its
    default (``check_kinds``), into a ConfigError naming the valid ones."""
    import inspect

    try:
        sig = inspect.signature(ctor)
    except (TypeError, ValueError):
        return ctor(**kwargs)
    params = sig.parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        allowed = [n for n, p in params.items()
                   if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and not n.startswith("_")]
        bad = [k for k in kwargs if k not in allowed]
        if bad:
            raise ConfigError(f"{what}: unknown argument {short(bad[0])}; valid arguments: {', '.join(allowed) or '(none)'}")
    check_kinds(ctor, kwargs, what)
    return ctor(**kwargs)


def check_kinds(ctor: Callable, kwargs: dict, what: str, ints: bool = False) -> None:
    """Each argument must be of the kind its default is: a boolean where the default is a
    boolean (``amsgrad: 3`` is refused), a finite number where it is a number (``momentum:
    adam``, NaN and infinities are refused) and, with ``ints``, an integer where the default
    is one (trainlab's own signatures; torch writes ``momentum=0``). Arguments whose default is
    None or a string are left to the component."""
    import inspect
    import math

    try:
        params = inspect.signature(ctor).parameters
    except (TypeError, ValueError):
        return
    for key, value in kwargs.items():
        p = params.get(key)
        if p is None or p.default is inspect.Parameter.empty:
            continue
        default = p.default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{what}: {key} must be true or false, got {short(value)}")
        elif isinstance(default, (int, float)):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ConfigError(f"{what}: {key} must be a number, got {short(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{what}: {key} must be a finite number, got {value}")
            if isinstance(value, int) and value.bit_length() > 63:
                raise ConfigError(f"{what}: {key} must fit a 64-bit integer, got {short(value)}")
            if ints and isinstance(default, int) and not isinstance(value, int):
                raise ConfigError(f"{what}: {key} must be an integer, got {short(value)}")
