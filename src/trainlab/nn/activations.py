"""The activation registry: one name gives both the module and its init gain.

Gains equal ``torch.nn.init.calculate_gain`` wherever torch defines one (identity, sigmoid,
tanh, relu, leaky_relu, selu). For the others the gain is the He-style second-moment gain
``1 / sqrt(E[f(z)^2])`` with ``z ~ N(0, 1)``, which reproduces torch's value for relu (sqrt 2)
and leaky_relu (sqrt(2 / (1 + slope^2))) and extends the same reasoning to elu, gelu, silu, ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from trainlab.errors import ConfigError
from trainlab.registry import Registry, call_with_kwargs

VERY_LEAKY_SLOPE = 1.0 / 3.0  # Mishkin & Matas 2015, "very leaky ReLU"


class Maxout(nn.Module):
    """Max over groups of ``pieces`` consecutive features (Goodfellow et al. 2013).

    Input (..., units * pieces) -> output (..., units). As an activation it follows a layer
    that produced ``units * pieces`` features; the ``maxout`` block bundles both.
    """

    def __init__(self, pieces: int = 2):
        super().__init__()
        if not isinstance(pieces, int) or pieces < 1:
            raise ConfigError(f"maxout: pieces must be an integer >= 1, got {pieces!r}")
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *lead, f = x.shape
        if f % self.pieces:
            raise ConfigError(f"maxout: {f} input features are not divisible by pieces={self.pieces}")
        return x.reshape(*lead, f // self.pieces, self.pieces).amax(dim=-1)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


@dataclass(frozen=True)
class ActivationDef:
    """How to build one activation and what init gain it implies."""

    factory: Callable[..., nn.Module]
    torch_gain: Callable[..., float] | None = None  # torch.nn.init.calculate_gain's value
    changes_width: bool = False  # maxout divides the feature count by `pieces`


def _leaky_gain(slope: float) -> float:
    return math.sqrt(2.0 / (1 + slope**2))


def _check_slope(slope: Any) -> float:
    if not isinstance(slope, (int, float)) or isinstance(slope, bool):
        raise ConfigError(f"leaky_relu: slope must be a number, got {slope!r}")
    return float(slope)


def _leaky(slope: float = 0.01) -> nn.Module:
    return nn.LeakyReLU(_check_slope(slope))


def _elu(alpha: float = 1.0) -> nn.Module:
    return nn.ELU(alpha=float(alpha))


def _prelu(init: float = 0.25, num_parameters: int = 1) -> nn.Module:
    return nn.PReLU(num_parameters=num_parameters, init=float(init))


def _softplus(beta: float = 1.0) -> nn.Module:
    return nn.Softplus(beta=float(beta))


def _hard_tanh(min_val: float = -1.0, max_val: float = 1.0) -> nn.Module:
    return nn.Hardtanh(float(min_val), float(max_val))


def _gelu(approximate: str = "none") -> nn.Module:
    if approximate not in ("none", "tanh"):
        raise ConfigError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return nn.GELU(approximate=approximate)


ACTIVATIONS = Registry("activation")
_A = ACTIVATIONS.register
_A("identity", ActivationDef(lambda: nn.Identity(), lambda: 1.0))
_A("sigmoid", ActivationDef(lambda: nn.Sigmoid(), lambda: 1.0))
_A("tanh", ActivationDef(lambda: nn.Tanh(), lambda: 5.0 / 3))
_A("relu", ActivationDef(lambda: nn.ReLU(), lambda: math.sqrt(2.0)))
_A("leaky_relu", ActivationDef(_leaky, lambda slope=0.01: _leaky_gain(slope)))
_A("very_leaky_relu", ActivationDef(lambda: nn.LeakyReLU(VERY_LEAKY_SLOPE),
                                    lambda: _leaky_gain(VERY_LEAKY_SLOPE)))
# PReLU's gain is the leaky gain at its initial slope (He et al. 2015 derive it that way).
_A("prelu", ActivationDef(_prelu, lambda init=0.25, num_parameters=1: _leaky_gain(init)))
_A("elu", ActivationDef(_elu))
_A("selu", ActivationDef(lambda: nn.SELU(), lambda: 3.0 / 4))
_A("gelu", ActivationDef(_gelu))
_A("silu", ActivationDef(lambda: nn.SiLU()))
_A("mish", ActivationDef(lambda: nn.Mish()))
_A("softplus", ActivationDef(_softplus))
_A("hard_tanh", ActivationDef(_hard_tanh))
_A("maxout", ActivationDef(Maxout, changes_width=True))


def get(spec: Any) -> nn.Module:
    """An activation module from a name, ``{"name": ..., **kw}``, ``{name: kw}`` or a module."""
    if isinstance(spec, nn.Module):
        return spec
    name, kwargs = ACTIVATIONS.split(spec)
    adef = ACTIVATIONS.lookup(name)
    return call_with_kwargs(adef.factory, kwargs, f"activation {name!r}")


def definition(spec: Any) -> tuple[str, dict, ActivationDef]:
    name, kwargs = ACTIVATIONS.split(spec)
    return name, kwargs, ACTIVATIONS.lookup(name)


def gain(spec: Any = "identity") -> float:
    """The init gain for an activation spec (same vocabulary as the blocks use).

    >>> gain("relu") == torch.nn.init.calculate_gain("relu")
    True
    """
    name, kwargs, adef = definition(spec)
    call_with_kwargs(adef.factory, kwargs, f"activation {name!r}")  # checks names and values
    if adef.torch_gain is not None:
        return float(call_with_kwargs(adef.torch_gain, kwargs, f"activation {name!r}"))
    return second_moment_gain(name, tuple(sorted(kwargs.items())))


@lru_cache(maxsize=None)
def second_moment_gain(name: str, kwargs: tuple) -> float:
    """``1 / sqrt(E[f(z)^2])``, z ~ N(0,1), by Gauss-Hermite quadrature (exact to ~1e-10).

    For maxout with k pieces the expectation is over the max of k independent normals.
    """
    kw = dict(kwargs)
    z, w = np.polynomial.hermite_e.hermegauss(200)  # weight exp(-z^2/2)
    w = w / math.sqrt(2 * math.pi)
    if name == "maxout":
        k = kw.get("pieces", 2)
        # density of the max of k iid normals: k * phi(z) * Phi(z)^(k-1)
        big_phi = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
        second = float(np.sum(w * k * big_phi ** (k - 1) * z**2))
    else:
        module = get({"name": name, **kw})
        with torch.no_grad():
            fz = module(torch.as_tensor(z, dtype=torch.float64).unsqueeze(-1).to(torch.float64)).squeeze(-1)
        second = float(np.sum(w * fz.double().numpy() ** 2))
    return 1.0 / math.sqrt(second)


def names() -> list[str]:
    return ACTIVATIONS.names()
