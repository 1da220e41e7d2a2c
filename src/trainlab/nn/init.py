"""Weight initializers: small in-place functions, one registry, one ``get``.

Each ``name_(tensor, ..., generator=None)`` runs under ``torch.no_grad()``, returns the tensor
and lets ``torch.nn.init`` do the sampling (it takes ``generator=``). Fans follow torch's
``_calculate_fan_in_and_fan_out``: a Linear weight (out, in) has fan_in = in, fan_out = out; a
conv weight (out, in, *k) has fan_in = in * prod(k), fan_out = out * prod(k).

Gains come from the activation registry (``activations.gain``), so the name that picks a
block's nonlinearity also picks its init scale, in ``torch.nn.init.calculate_gain``'s vocabulary.
"""

from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass
from numbers import Real
from typing import Any, Callable

import torch
from torch.nn import init

from trainlab.errors import ConfigError
from trainlab.nn import activations
from trainlab.nn.lsuv import check_args as _check_lsuv_args
from trainlab.nn.lsuv import lsuv_
from trainlab.registry import Registry

__all__ = [
    "INITIALIZERS", "DATA_PASSES", "Initializer", "get", "names", "is_data_dependent", "lsuv_", "lsuv_init_",
    "register_data_dependent",
    "zeros_", "constant_", "uniform_", "normal_", "truncated_normal_", "xavier_uniform_",
    "xavier_normal_", "he_uniform_", "he_normal_", "lecun_uniform_", "lecun_normal_", "orthogonal_",
]

Generator = torch.Generator | None
MODES = ("fan_in", "fan_out")


# ---- argument checks (Keras VarianceScaling style: name the argument, the value, what is allowed)

def _number(arg: str, value: Any, where: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ConfigError(f"{where}: {arg} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"{where}: {arg} must be > 0, got {value!r}")
    return float(value)


def _fans(tensor: torch.Tensor, where: str) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ConfigError(f"{where}: needs a weight with >= 2 dims to compute fans, got shape "
                          f"{tuple(tensor.shape)} (use zeros/constant/uniform/normal for biases)")
    return init._calculate_fan_in_and_fan_out(tensor)


def _gain(gain: Any, activation: Any, where: str) -> float:
    """A positive number as given, or (``"auto"`` / None) the activation's gain."""
    if gain is None or gain == "auto":
        try:
            return activations.gain("identity" if activation is None else activation)
        except ConfigError as err:
            raise ConfigError(f"{where}: activation: {err}") from None
    if isinstance(gain, str):
        raise ConfigError(f"{where}: gain must be a number > 0 or 'auto', got {gain!r}")
    return _number("gain", gain, where, positive=True)


def _fan(tensor: torch.Tensor, mode: Any, where: str) -> int:
    if mode not in MODES:
        raise ConfigError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, where)
    return fan_in if mode == "fan_in" else fan_out


# ---- the initializers

@torch.no_grad()
def zeros_(tensor: torch.Tensor, generator: Generator = None) -> torch.Tensor:
    """All zeros (biases; never weights of layers that must break symmetry).

    ``generator`` is accepted, and unused, so every initializer has the same call signature.

    >>> b = torch.empty(10)
    >>> zeros_(b)
    """
    return init.zeros_(tensor)


@torch.no_grad()
def constant_(tensor: torch.Tensor, value: float = 0.0, generator: Generator = None) -> torch.Tensor:
    """Every entry = ``value`` (e.g. a small positive ReLU bias, or BatchNorm gamma = 1).

    >>> b = torch.empty(10)
    >>> constant_(b, 0.01)
    """
    return init.constant_(tensor, _number("value", value, "constant"))


@torch.no_grad()
def uniform_(tensor: torch.Tensor, low: float = -1.0, high: float = 1.0,
             generator: Generator = None) -> torch.Tensor:
    """U(low, high); the default is the classic ``tf.random_uniform(shape, -1, 1)``.

    >>> w = torch.empty(64, 32)
    >>> uniform_(w, -0.05, 0.05)
    """
    lo, hi = _number("low", low, "uniform"), _number("high", high, "uniform")
    if not lo < hi:
        raise ConfigError(f"uniform: low must be < high, got low={low!r}, high={high!r}")
    return init.uniform_(tensor, lo, hi, generator)


@torch.no_grad()
def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator = None) -> torch.Tensor:
    """N(mean, std^2); ``std=0.01`` is the classic ``0.01 * randn`` small-random init.

    >>> w = torch.empty(64, 32)
    >>> normal_(w, std=0.01)
    """
    mean = _number("mean", mean, "normal")
    return init.normal_(tensor, mean, _number("std", std, "normal", positive=True), generator)


@torch.no_grad()
def truncated_normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                      b: float = 2.0, generator: Generator = None) -> torch.Tensor:
    """N(mean, std^2) restricted to [mean + a*std, mean + b*std] (resampled, not clipped).

    ``a`` and ``b`` are in units of ``std`` around ``mean`` (Keras / TF ``truncated_normal``
    convention, cut at 2 std), unlike ``torch.nn.init.trunc_normal_`` whose bounds are
    absolute. The kept std is smaller than ``std`` (about 0.88 std for the +-2 cut).

    >>> w = torch.empty(64, 32)
    >>> truncated_normal_(w, std=0.02)
    """
    m, lo, hi = (_number(n, v, "truncated_normal") for n, v in (("mean", mean), ("a", a), ("b", b)))
    s = _number("std", std, "truncated_normal", positive=True)
    if not lo < hi:
        raise ConfigError(f"truncated_normal: a must be < b (in units of std), got a={a!r}, b={b!r}")
    return init.trunc_normal_(tensor, m, s, m + lo * s, m + hi * s, generator)


@torch.no_grad()
def xavier_uniform_(tensor: torch.Tensor, gain: float | str = 1.0, activation: Any = None,
                    generator: Generator = None) -> torch.Tensor:
    """Glorot & Bengio 2010: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).

    Var = gain^2 * 2 / (fan_in + fan_out). The default gain 1 is pure Glorot (so under ReLU
    the activations' std halves per layer, as in CS231n); ``gain="auto"`` takes
    ``activations.gain(activation)``.

    >>> w = torch.empty(64, 32)
    >>> xavier_uniform_(w, gain="auto", activation="tanh")
    """
    _fans(tensor, "xavier_uniform")
    return init.xavier_uniform_(tensor, _gain(gain, activation, "xavier_uniform"), generator)


@torch.no_grad()
def xavier_normal_(tensor: torch.Tensor, gain: float | str = 1.0, activation: Any = None,
                   generator: Generator = None) -> torch.Tensor:
    """Glorot & Bengio 2010: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).

    >>> w = torch.empty(64, 32)
    >>> xavier_normal_(w)
    """
    _fans(tensor, "xavier_normal")
    return init.xavier_normal_(tensor, _gain(gain, activation, "xavier_normal"), generator)


# He init computes its std here rather than calling torch's kaiming_*: those only know
# calculate_gain's names, while the activation registry also gives gains for gelu, elu, maxout...
@torch.no_grad()
def he_uniform_(tensor: torch.Tensor, mode: str = "fan_in", activation: Any = "relu",
                gain: float | str | None = None, generator: Generator = None) -> torch.Tensor:
    """He et al. 2015 ("Delving Deep into Rectifiers"): U(-b, b), b = gain * sqrt(3 / fan_mode).

    Var = gain^2 / fan_mode, gain = ``activations.gain(activation)`` unless given: relu gives
    2 / fan_in. ``mode="fan_out"`` preserves the gradients' variance instead.

    >>> w = torch.empty(64, 32)
    >>> he_uniform_(w, activation="leaky_relu")
    """
    fan = _fan(tensor, mode, "he_uniform")
    bound = _gain(gain, activation, "he_uniform") * math.sqrt(3.0 / fan)
    return init.uniform_(tensor, -bound, bound, generator)


@torch.no_grad()
def he_normal_(tensor: torch.Tensor, mode: str = "fan_in", activation: Any = "relu",
               gain: float | str | None = None, generator: Generator = None) -> torch.Tensor:
    """He et al. 2015: N(0, std^2), std = gain / sqrt(fan_mode); relu gives Var = 2 / fan_in.

    >>> w = torch.empty(128, 64, 3, 3)  # conv: fan_in = 64 * 9
    >>> he_normal_(w, mode="fan_out")
    """
    std = _gain(gain, activation, "he_normal") / math.sqrt(_fan(tensor, mode, "he_normal"))
    return init.normal_(tensor, 0.0, std, generator)


@torch.no_grad()
def lecun_uniform_(tensor: torch.Tensor, generator: Generator = None) -> torch.Tensor:
    """LeCun et al. 1998 ("Efficient BackProp"): U(-b, b), b = sqrt(3 / fan_in); Var = 1 / fan_in.

    >>> w = torch.empty(64, 32)
    >>> lecun_uniform_(w)
    """
    _fans(tensor, "lecun_uniform")  # kaiming with gain 1 ("linear") is exactly LeCun
    return init.kaiming_uniform_(tensor, mode="fan_in", nonlinearity="linear", generator=generator)


@torch.no_grad()
def lecun_normal_(tensor: torch.Tensor, generator: Generator = None) -> torch.Tensor:
    """LeCun 1998 / Klambauer et al. 2017 (SELU): N(0, 1 / fan_in), untruncated.

    Untruncated as in torch's SELU recommendation (``kaiming_normal_(nonlinearity="linear")``);
    Keras' ``lecun_normal`` truncates at 2 std with a rescaled std, same variance.

    >>> w = torch.empty(64, 32)
    >>> lecun_normal_(w)
    """
    _fans(tensor, "lecun_normal")
    return init.kaiming_normal_(tensor, mode="fan_in", nonlinearity="linear", generator=generator)


@torch.no_grad()
def orthogonal_(tensor: torch.Tensor, gain: float | str = 1.0, activation: Any = None,
                generator: Generator = None) -> torch.Tensor:
    """Saxe et al. 2014: a (semi-)orthogonal matrix times gain, ``W W^T = gain^2 I`` (rows <= cols).

    Higher-dim tensors are flattened to (out, in * prod(k)). ``gain="auto"`` takes
    ``activations.gain(activation)``.

    >>> w = torch.empty(64, 32)
    >>> orthogonal_(w, gain="auto", activation="relu")
    """
    _fans(tensor, "orthogonal")
    return init.orthogonal_(tensor, _gain(gain, activation, "orthogonal"), generator)


@torch.no_grad()
def lsuv_init_(tensor: torch.Tensor, tol: float = 0.1, max_iter: int = 10, target_var: float = 1.0,
               generator: Generator = None) -> torch.Tensor:
    """Per-tensor part of LSUV (Mishkin & Matas 2015): ``orthogonal_`` with gain 1.

    ``tol``, ``max_iter`` and ``target_var`` are checked here and used by the data-dependent
    part, ``lsuv_(model, x, **init.kwargs)``, which the builder runs after this.

    >>> w = torch.empty(64, 32)
    >>> lsuv_init_(w)
    """
    _check_lsuv_args(tol, max_iter, target_var)
    return orthogonal_(tensor, 1.0, generator=generator)


# ---- registry and get

INITIALIZERS = Registry("initializer", provided_by={"dbn": "trainlab.pretrain"})
for _name, _fn in [("zeros", zeros_), ("constant", constant_), ("uniform", uniform_),
                   ("normal", normal_), ("truncated_normal", truncated_normal_),
                   ("xavier_uniform", xavier_uniform_), ("xavier_normal", xavier_normal_),
                   ("he_uniform", he_uniform_), ("he_normal", he_normal_),
                   ("lecun_uniform", lecun_uniform_), ("lecun_normal", lecun_normal_),
                   ("orthogonal", orthogonal_), ("lsuv", lsuv_init_)]:
    INITIALIZERS.register(_name, _fn)

def _lsuv_pass(model, x, layers, val=None, log=None) -> list[dict]:
    """LSUV's data pass on the first 512 training rows, one group per distinct set of arguments."""
    groups: dict[tuple, list] = {}
    for module, kwargs in layers:
        groups.setdefault(tuple(sorted(kwargs.items())), []).append(module)
    return [row for kw, mods in groups.items() for row in lsuv_(model, x[:512], modules=mods, **dict(kw))]


# name -> data pass ``fn(model, x_train, [(module, kwargs), ...], val=x_val, log=callable) -> rows``,
# run once on the training data before the first step. Later layers add theirs (trainlab.pretrain: dbn).
DATA_PASSES = Registry("data-dependent initializer", provided_by={"dbn": "trainlab.pretrain"})
DATA_PASSES.register("lsuv", _lsuv_pass)
DATA_DEPENDENT = DATA_PASSES  # `name in DATA_DEPENDENT` as before


def register_data_dependent(name: str, per_tensor: Callable, data_pass: Callable) -> None:
    """Add a data-dependent initializer: ``per_tensor`` runs at build time like any initializer
    (and checks the arguments), ``data_pass`` on the training data when training starts."""
    INITIALIZERS.register(name, per_tensor)
    DATA_PASSES.register(name, data_pass)


@dataclass(frozen=True, eq=False)
class Initializer:
    """``get``'s result: ``fn(tensor, generator=None)`` with the spec's resolved kwargs bound."""

    name: str
    kwargs: dict  # every argument incl. defaults (activation only if given): plain data, a spec
    data_dependent: bool = False  # True: also run its data pass (``DATA_PASSES``) on training data

    def __call__(self, tensor: torch.Tensor, generator: Generator = None) -> torch.Tensor:
        return INITIALIZERS.lookup(self.name)(tensor, **self.kwargs, generator=generator)

    def spec(self) -> dict:
        return {"name": self.name, **copy.deepcopy(self.kwargs)}


def _arguments(fn: Callable) -> dict[str, Any]:
    """The spec-settable arguments of an initializer and their defaults."""
    params = list(inspect.signature(fn).parameters.values())[1:]  # drop the tensor
    return {p.name: p.default for p in params if p.name != "generator"}


def get(spec: Any, activation: Any = None) -> Callable:
    """An initializer ``fn(tensor, generator=None)`` from a spec, arguments checked now.

    ``spec``: a name (``"he_normal"``), ``{"name": "uniform", "low": -1, "high": 1}``,
    ``{"normal": {"std": 0.01}}``, or a callable (returned unchanged). ``activation`` is the
    builder's context (the activation after the layer); it goes only to initializers that
    take one, and an ``activation`` written in the spec wins. None means no context, so
    ``he_*`` keep their own default (relu). The result's ``kwargs`` hold every argument with
    its default, except ``activation``, present only when the spec or the context gave one.

    >>> get({"he_normal": {"mode": "fan_out"}}, activation="tanh").kwargs["activation"]
    'tanh'
    """
    if callable(spec) and not isinstance(spec, (str, dict)):
        return spec
    name, kwargs = INITIALIZERS.split(spec)
    fn = INITIALIZERS.lookup(name)
    allowed = _arguments(fn)
    bad = [k for k in kwargs if k not in allowed]
    if bad:
        raise ConfigError(f"initializer {name!r}: unknown argument {bad[0]!r}; "
                          f"valid arguments: {', '.join(allowed) or '(none)'}")
    if activation is not None and "activation" in allowed:
        kwargs.setdefault("activation", activation)
    # `activation` is resolved only when the spec or the context gives it: a default written
    # back (he's "relu") would otherwise override the builder's context on a rebuild.
    resolved = copy.deepcopy({**{k: v for k, v in allowed.items() if k != "activation"}, **kwargs})
    # Check values now by one run on a scratch tensor; a scratch generator leaves the global RNG alone.
    scratch = torch.empty(4, 4)
    try:
        fn(scratch, **resolved, generator=torch.Generator())
    except RuntimeError as e:  # e.g. constant: 1e300, which float32 cannot hold
        raise ConfigError(f"initializer {name!r}: {str(e).strip().splitlines()[0]}") from None
    if not bool(torch.isfinite(scratch).all()):
        raise ConfigError(f"initializer {name!r}: its arguments give NaN/inf weights (a scale past float32's range)")
    return Initializer(name, resolved, data_dependent=name in DATA_DEPENDENT)


def is_data_dependent(spec: Any) -> bool:
    """True when the spec needs a data pass after building (``lsuv``, ``dbn``)."""
    if callable(spec) and not isinstance(spec, (str, dict)):
        return bool(getattr(spec, "data_dependent", False))
    name, _ = INITIALIZERS.split(spec)
    INITIALIZERS.lookup(name)
    return name in DATA_DEPENDENT


def names() -> list[str]:
    return INITIALIZERS.names()
