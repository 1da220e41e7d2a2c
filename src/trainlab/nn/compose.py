"""Layer lists and the blocks made of layer lists: residual ("fast forward") and parallel
("split & merge"). Builds each block, probes its output shape, threads shapes along."""

from __future__ import annotations

from typing import Any

from torch import nn

from trainlab.errors import ConfigError, ShapeError, short
from trainlab.registry import check_kinds
from trainlab.nn.activations import ACTIVATIONS
from trainlab.nn.blocks import BLOCKS, primary_argument
from trainlab.nn.context import BuildContext, check_activation, probe, shape_str
from trainlab.nn import activations
from trainlab.nn.layers import MERGES, Parallel, Residual

# Blocks an activation's init gain "passes through": dense -> batchnorm -> relu uses relu's gain.
GAIN_TRANSPARENT = {"batchnorm", "layernorm", "dropout", "alpha_dropout"}


def normalize(item: Any, path: str) -> tuple[str, dict]:
    """One layer item -> (block name, kwargs). Accepts ``"flatten"``, ``"relu"`` (an activation),
    ``{dense: 10}``, ``{dense: {units: 10}}``, ``{name: dense, units: 10}``, ``{residual: [...]}``."""
    if isinstance(item, str):
        if item in BLOCKS:
            return item, {}
        if item in ACTIVATIONS:
            return "activation", {"fn": item}
        raise ConfigError(f"{path}: {BLOCKS.unknown_message(item)}")
    if isinstance(item, dict) and "name" in item:
        name, kwargs = item["name"], {k: v for k, v in item.items() if k != "name"}
    elif isinstance(item, dict) and len(item) == 1:
        (name, arg), = item.items()
        if name not in BLOCKS and name in ACTIVATIONS:
            return "activation", {"fn": item}
        if name not in BLOCKS:
            raise ConfigError(f"{path}: {BLOCKS.unknown_message(name)}")
        if name == "activation":
            kwargs = {"fn": arg}
        elif isinstance(arg, dict):
            kwargs = dict(arg)
        elif arg is None:
            kwargs = {}
        else:
            try:
                kwargs = {primary_argument(name): arg}
            except ConfigError as e:
                raise ConfigError(f"{path}: {e}") from None
    else:
        raise ConfigError(f"{path}: bad layer {item!r}: give a block name, {{block: argument}} "
                          f"or {{name: block, ...}}")
    if name not in BLOCKS:
        raise ConfigError(f"{path}: {BLOCKS.unknown_message(name)}")
    return name, kwargs


def build_layers(items: Any, in_shape: tuple, ctx: BuildContext) -> tuple[nn.Sequential, tuple, list]:
    """Build a list of layer items; returns (module, output shape, resolved items)."""
    if isinstance(items, (str, dict)):
        items = [items]
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{ctx.path}: expected a non-empty list of layers, got {short(items)}")
    parsed = [normalize(item, f"{ctx.path}[{i}]") for i, item in enumerate(items)]
    modules, resolved, shape = [], [], tuple(in_shape)
    for i, (name, kwargs) in enumerate(parsed):
        bctx = ctx.at(f"[{i}] ({name})", next_activation=_following_activation(parsed, i))
        module, res = _call_block(name, bctx, shape, kwargs)
        shape = probe(module, shape, bctx)
        modules.append(module)
        if name == "activation":  # written as {activation: <activation spec>}, as users write it
            resolved.append({name: res["fn"]})
        else:
            resolved.append({name: {k: v for k, v in res.items() if v is not None}})
    return nn.Sequential(*modules), shape, resolved


def _call_block(name: str, ctx: BuildContext, shape: tuple, kwargs: dict):
    import inspect

    builder = BLOCKS.lookup(name)
    allowed = list(inspect.signature(builder).parameters)[2:]
    bad = [k for k in kwargs if k not in allowed]
    if bad:
        raise ctx.error(f"unknown argument {bad[0]!r}; valid arguments: {', '.join(allowed) or '(none)'}")
    required = [p for p, v in inspect.signature(builder).parameters.items()
                if p in allowed and v.default is inspect.Parameter.empty]
    missing = [p for p in required if p not in kwargs]
    if missing:
        raise ctx.error(f"missing argument {missing[0]!r}")
    check_kinds(builder, kwargs, ctx.path, ints=True)  # bias: 3, momentum: adam, eps: .nan -> one line
    return builder(ctx, shape, **kwargs)


def _following_activation(parsed: list, i: int) -> Any:
    for name, kwargs in parsed[i + 1:]:
        if name == "activation":
            return kwargs["fn"]
        if name not in GAIN_TRANSPARENT:
            break
    return "identity"


@BLOCKS.register("residual")
def residual(ctx: BuildContext, in_shape, body, projection="auto", post=None):
    """``post(body(x) + skip(x))``; skip is identity, or a projection when shapes differ."""
    if post is not None:
        check_activation(post, ctx)
    seq, out_shape, resolved = build_layers(body, in_shape, ctx.at(".body"))
    skip = None
    if out_shape != tuple(in_shape):
        if projection not in ("auto", True):
            raise ShapeError(f"{ctx.path}: body maps {shape_str(in_shape)} to {shape_str(out_shape)} "
                             f"and projection is {projection!r}; use projection: auto")
        skip = _projection(ctx, tuple(in_shape), out_shape, post)
    elif projection not in ("auto", True, False, "none"):
        raise ctx.error(f"projection must be 'auto' or 'none', got {projection!r}")
    module = Residual(seq, skip, activations.get(post) if post is not None else None)
    return module, {"body": resolved, "projection": projection, "post": post}


def _projection(ctx: BuildContext, in_shape: tuple, out_shape: tuple, post: Any) -> nn.Module:
    if len(in_shape) != len(out_shape) or len(in_shape) == 2 and in_shape[0] != out_shape[0]:
        raise ShapeError(f"{ctx.path}: cannot project the skip from {shape_str(in_shape)} to "
                         f"{shape_str(out_shape)}")
    if len(in_shape) == 3:
        stride = -(-in_shape[1] // out_shape[1])  # ceil: a strided 1x1 conv gives (n - 1) // s + 1
        if any((n - 1) // stride + 1 != m for n, m in zip(in_shape[1:], out_shape[1:])):
            raise ShapeError(f"{ctx.path}: cannot project the skip from {shape_str(in_shape)} to "
                             f"{shape_str(out_shape)} with a strided 1x1 convolution")
        layer = nn.Conv2d(in_shape[0], out_shape[0], 1, stride=stride, bias=False)
    else:
        layer = nn.Linear(in_shape[-1], out_shape[-1], bias=False)
    ctx.initialize(layer, activation=post if post is not None else "identity")
    return layer


@BLOCKS.register("parallel")
def parallel(ctx: BuildContext, in_shape, branches, merge="concat"):
    """Split & merge: each branch (a layer list) sees the input; outputs merged."""
    if merge not in MERGES:
        raise ctx.error(f"unknown merge {merge!r}; valid merges: {', '.join(MERGES)}")
    if not isinstance(branches, list) or len(branches) < 2:
        raise ctx.error(f"branches must be a list of at least 2 layer lists, got {branches!r}")
    mods, shapes, resolved = [], [], []
    for j, branch in enumerate(branches):
        seq, shape, res = build_layers(branch, in_shape, ctx.at(f".branches[{j}]"))
        mods.append(seq), shapes.append(shape), resolved.append(res)
    dim = 1 if len(in_shape) == 3 else -1  # channels for images, features otherwise
    if merge == "concat":
        ok = len({s[1:] if dim == 1 else s[:-1] for s in shapes}) == 1  # all but the merged dim
    else:
        ok = len(set(shapes)) == 1
    if not ok:
        got = ", ".join(shape_str(s) for s in shapes)
        raise ShapeError(f"{ctx.path}: cannot {merge} branch outputs of shapes {got}")
    return Parallel(mods, merge, dim), {"branches": resolved, "merge": merge}
