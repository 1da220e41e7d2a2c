"""The state a block builder sees: where it is in the spec (for errors), the default
initializers, the activation that follows it (for init gains), and the data-dependent layers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from trainlab import limits
from trainlab.errors import ConfigError, ShapeError
from trainlab.nn import activations, init as initializers


def shape_str(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


@dataclass
class BuildContext:
    path: str = "model"
    init: Any = None  # default weight initializer spec; None keeps PyTorch's layer default
    bias_init: Any = "zeros"
    next_activation: Any = "identity"  # the activation after this block, for init gains
    n_outputs: int | None = None  # what `units: auto` means (classes, or 1 for binary)
    data_dependent: list = field(default_factory=list)  # (module, init name, kwargs) to calibrate
    parameters: list = field(default_factory=lambda: [0])  # running count, shared by every sub-context

    def at(self, suffix: str, **changes) -> "BuildContext":
        return replace(self, path=f"{self.path}{suffix}", **changes)

    def reserve(self, n: int) -> None:
        """Count ``n`` parameters a block is about to allocate; past ``TRAINLAB_MAX_PARAMETERS``
        the build stops here, with the numbers, before torch allocates anything."""
        self.parameters[0] += int(n)
        limits.check("parameters", self.parameters[0], f"{self.path}: the model would have")

    def _init(self, fn, p: torch.Tensor, name: str) -> None:
        """Run initializer ``fn`` on ``p``; weights float32 cannot hold (a gain of 1e308 on a
        large fan) are refused here, not found later as a divergence blamed on the lr."""
        try:
            fn(p)
        except RuntimeError as e:
            raise self.error(f"{fn.name} on {name}: {str(e).strip().splitlines()[0]}") from None
        if p.is_floating_point() and not bool(torch.isfinite(p).all()):
            raise self.error(f"{fn.name} gave {name} NaN/inf values (its scale overflows float32)")

    def error(self, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {message}")

    def expect_rank(self, in_shape: tuple, ranks: dict[int, str], block: str) -> None:
        """Raise a ShapeError naming the block and both shapes unless len(in_shape) is allowed."""
        if len(in_shape) not in ranks:
            wanted = " or ".join(ranks.values())
            hint = " (add a flatten block before it)" if len(in_shape) > 1 and 1 in ranks else ""
            raise ShapeError(f"{self.path}: {block} expects input shape {wanted}; got {shape_str(in_shape)}{hint}")

    def units(self, units: Any, what: str = "units") -> int:
        if units == "auto":
            if self.n_outputs is None:
                raise self.error(f"{what}: 'auto' needs a data set that sets the output size")
            return self.n_outputs
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise self.error(f"{what} must be a positive integer or 'auto', got {units!r}")
        return units

    def initialize(self, module: nn.Module, init: Any = None, bias_init: Any = None,
                   activation: Any = None) -> dict:
        """Initialise every weight (ndim >= 2) and bias of ``module``; return the resolved specs."""
        w_spec = init if init is not None else self.init
        b_spec = bias_init if bias_init is not None else self.bias_init
        act = activation if activation is not None else self.next_activation
        resolved = {}
        if w_spec is not None:
            fn = initializers.get(w_spec, activation=_act_name(act))
            for name, p in module.named_parameters():
                if p.ndim >= 2:
                    self._init(fn, p, name)
            if fn.data_dependent:
                self.data_dependent.append((module, fn.name, fn.kwargs))
            resolved["init"] = {"name": fn.name, **fn.kwargs} if init is not None else None
        if b_spec is not None:
            fn = initializers.get(b_spec)
            for name, p in module.named_parameters():
                if p.ndim == 1 and name.split(".")[-1].startswith("bias"):
                    self._init(fn, p, name)
            resolved["bias_init"] = {"name": fn.name, **fn.kwargs} if bias_init is not None else None
        return resolved


def _act_name(spec: Any) -> Any:
    """The activation spec in the form initializers take for gain lookup."""
    return spec if spec is not None else "identity"


def probe(module: nn.Module, in_shape: tuple, ctx: BuildContext) -> tuple:
    """Output shape of ``module`` for one input of ``in_shape``, by a dry run on zeros."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros(2, *in_shape))
    except ConfigError as e:
        raise ShapeError(f"{ctx.path}: {e}") from None
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise ShapeError(f"{ctx.path}: cannot take input shape {shape_str(in_shape)}: {first}") from None
    finally:
        module.train(was_training)
    return tuple(out.shape[1:])


def check_activation(spec: Any, ctx: BuildContext) -> Any:
    """Validate an activation spec early so the error names the block."""
    try:
        activations.definition(spec)
    except ConfigError as e:
        raise ctx.error(str(e)) from None
    return spec
