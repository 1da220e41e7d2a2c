"""A network described as data becomes a ``torch.nn.Module`` — and writes its resolved spec back.

Model spec (YAML or dict)::

    layers: [{dense: 64}, relu, {dropout: 0.2}, {dense: auto}]   # or: mlp: {...}
    init: he_normal          # default weight initializer (None: PyTorch's layer default)
    bias_init: zeros         # default bias initializer
    input: [2]               # optional: checked against the data's shape

``mlp`` is shorthand for a dense stack: ``mlp: {hidden: 10, depth: 9, activation: sigmoid}``.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from trainlab.errors import ConfigError, ShapeError, short
from trainlab.registry import check_kinds
from trainlab.nn import activations, init as initializers
from trainlab.nn.compose import build_layers
from trainlab.nn.context import BuildContext, check_activation, shape_str

MODEL_KEYS = ("layers", "mlp", "init", "bias_init", "input")


class Network(nn.Module):
    """A stack of blocks built from a spec. ``config()`` returns the resolved spec."""

    def __init__(self, layers: nn.Sequential, spec: dict, input_shape: tuple, output_shape: tuple,
                 data_dependent: list[tuple[nn.Module, dict]]):
        super().__init__()
        self.layers = layers
        self._spec = spec
        self.input_shape = tuple(input_shape)
        self.output_shape = tuple(output_shape)
        self._data_dependent = data_dependent

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def config(self) -> dict:
        return copy.deepcopy(self._spec)

    def data_init(self, x: torch.Tensor, val: torch.Tensor | None = None, log=None) -> list[dict] | None:
        """Run data-dependent initialisation (LSUV, DBN pre-training) on the training inputs
        ``x`` (``val``: validation inputs, for monitors; ``log(record)``: per-epoch records);
        the rows each pass reports, or None when there is none."""
        if not self._data_dependent:
            return None
        by_name: dict[str, list] = {}
        for module, name, kwargs in self._data_dependent:
            by_name.setdefault(name, []).append((module, kwargs))
        return [row for name, layers in by_name.items()
                for row in initializers.DATA_PASSES.lookup(name)(self, x, layers, val=val, log=log)]


def mlp_layers(hidden: Any = (), depth: int | None = None, output: Any = "auto", activation: Any = "relu",
               init: Any = None, bias_init: Any = None, dropout: float = 0.0, batchnorm: bool = False,
               output_activation: Any = None, flatten: bool = True, input_rank: int = 1) -> list:
    """Expand the mlp shorthand into layer items: [flatten] (when ``flatten`` and the input is
    not already flat), (dense -> [batchnorm] -> activation -> [dropout]) per hidden size, dense(output)."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = [hidden] * (depth if depth is not None else 1)
    elif depth is not None:
        raise ConfigError(f"model.mlp: depth={short(depth)} needs hidden to be one width, got {short(hidden)}")
    if not isinstance(hidden, (list, tuple)) or not all(isinstance(h, int) and h > 0 for h in hidden):
        raise ConfigError(f"model.mlp: hidden must be a positive integer or a list of them, got {short(hidden)}")
    winit = {"init": init} if init is not None else {}
    binit = {"bias_init": bias_init} if bias_init is not None else {}
    items: list = ["flatten"] if flatten and input_rank > 1 else []
    for h in hidden:
        items.append({"dense": {"units": h, **winit, **binit}})
        if batchnorm:
            items.append("batchnorm")
        items.append({"activation": activation})
        if dropout:
            items.append({"dropout": dropout})
    items.append({"dense": {"units": output, **winit, **binit}})
    if output_activation is not None:
        items.append({"activation": output_activation})
    return items


MLP_DEFAULTS = {"hidden": [], "depth": None, "output": "auto", "activation": "relu", "init": None,
                 "bias_init": None, "dropout": 0.0, "batchnorm": False, "output_activation": None,
                 "flatten": True}


def build(spec: dict, input_shape: tuple, n_outputs: int | None = None) -> Network:
    """Build the network a model spec describes, for inputs of ``input_shape`` (no batch dim).

    ``n_outputs`` is what ``units: auto`` / ``output: auto`` become (classes, or 1 for binary).
    Initialisation draws from torch's global RNG: seed it first for a reproducible net.
    """
    if not isinstance(spec, dict):
        raise ConfigError(f"model: expected a mapping with 'layers' or 'mlp', got {short(spec)}")
    unknown = [k for k in spec if k not in MODEL_KEYS]
    if unknown:
        raise ConfigError(f"model: unknown key {unknown[0]!r}; valid keys: {', '.join(MODEL_KEYS)}")
    if ("layers" in spec) == ("mlp" in spec):
        raise ConfigError("model: give exactly one of 'layers' or 'mlp'")
    input_shape = tuple(int(s) for s in input_shape)
    declared = spec.get("input")
    if declared is not None:
        declared = tuple(declared) if isinstance(declared, (list, tuple)) else (declared,)
        if declared != input_shape:
            raise ShapeError(f"model.input: the spec declares {shape_str(declared)} but the data "
                             f"has input shape {shape_str(input_shape)}")
    w_init, b_init = _resolve_init(spec.get("init")), _resolve_init(spec.get("bias_init", "zeros"))
    ctx = BuildContext(path="model.layers", init=w_init, bias_init=b_init, n_outputs=n_outputs)
    resolved: dict = {"input": list(input_shape)}
    if "mlp" in spec:
        mlp = _resolve_mlp(spec["mlp"], n_outputs)
        ctx.path = "model.mlp"
        items = mlp_layers(**mlp, input_rank=len(input_shape))
        resolved["mlp"] = mlp
    else:
        items = spec["layers"]
    layers, out_shape, resolved_items = build_layers(items, input_shape, ctx)
    if "layers" in spec:
        resolved["layers"] = resolved_items
    resolved["init"], resolved["bias_init"] = w_init, b_init
    return Network(layers, resolved, input_shape, out_shape, ctx.data_dependent)


def _resolve_init(spec: Any) -> Any:
    if spec is None:
        return None
    fn = initializers.get(spec)
    return {"name": fn.name, **fn.kwargs}


def _resolve_mlp(mlp: Any, n_outputs: int | None) -> dict:
    if not isinstance(mlp, dict):
        raise ConfigError(f"model.mlp: expected a mapping, got {short(mlp)}")
    unknown = [k for k in mlp if k not in MLP_DEFAULTS]
    if unknown:
        raise ConfigError(f"model.mlp: unknown key {unknown[0]!r}; valid keys: {', '.join(MLP_DEFAULTS)}")
    out = {**MLP_DEFAULTS, **mlp}
    check_kinds(mlp_layers, mlp, "model.mlp")  # batchnorm: 3, dropout: high -> one line
    depth = out["depth"]
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise ConfigError(f"model.mlp: depth must be a positive integer, got {short(depth)}")
    if not 0 <= out["dropout"] < 1:
        raise ConfigError(f"model.mlp: dropout must be a probability in [0, 1), got {short(out['dropout'])}")
    if out["output"] == "auto":
        if n_outputs is None:
            raise ConfigError("model.mlp: output 'auto' needs a data set that sets the output size")
        out["output"] = n_outputs
    ctx = BuildContext(path="model.mlp")
    check_activation(out["activation"], ctx)
    if out["output_activation"] is not None:
        check_activation(out["output_activation"], ctx)
    for key in ("init", "bias_init"):
        out[key] = _resolve_init(out[key])
    if isinstance(out["hidden"], tuple):
        out["hidden"] = list(out["hidden"])
    if isinstance(out["hidden"], int) and out["depth"] is not None:
        out["hidden"], out["depth"] = [out["hidden"]] * out["depth"], None
    return {k: v for k, v in out.items() if v is not None}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["Network", "build", "mlp_layers", "count_parameters", "activations"]
