"""The block registry: each block turns its spec arguments into a module.

A builder is ``fn(ctx, in_shape, **kwargs) -> (module, resolved_kwargs)``; the spec layer
(``trainlab.nn.spec``) calls it, probes the output shape, and threads shapes from block to block.
Input shapes exclude the batch dimension: (F,), (T, F) for sequences, (C, H, W) for images.
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from trainlab.errors import ConfigError, short
from trainlab.nn import activations
from trainlab.nn.activations import Maxout
from trainlab.nn.context import BuildContext, check_activation
from trainlab.nn.layers import Recurrent
from trainlab.registry import Registry

BLOCKS = Registry("block")
FLAT, SEQ, IMG = {1: "(features,)"}, {2: "(steps, features)"}, {3: "(channels, height, width)"}


def _prob(p: Any, ctx: BuildContext, what: str = "p") -> float:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p < 1:
        raise ctx.error(f"{what} must be a probability in [0, 1), got {short(p)}")
    return float(p)


def _pos_int(v: Any, ctx: BuildContext, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ctx.error(f"{what} must be a positive integer, got {short(v)}")
    return v


def _eps(eps: Any, ctx: BuildContext) -> float:
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not 0 < eps < 1:
        raise ctx.error(f"eps must be a small positive number, got {short(eps)}")
    return float(eps)


@BLOCKS.register("dense")
def dense(ctx: BuildContext, in_shape, units, bias=True, init=None, bias_init=None, activation=None):
    """Fully connected layer on the last dimension; ``activation`` appends one (Keras-style)."""
    ctx.expect_rank(in_shape, {**FLAT, **SEQ}, "dense")
    units = ctx.units(units)
    ctx.reserve((in_shape[-1] + 1) * units)
    layer = nn.Linear(in_shape[-1], units, bias=bool(bias))
    act = check_activation(activation, ctx) if activation is not None else None
    res = ctx.initialize(layer, init, bias_init, activation=act)
    module = layer if act is None else nn.Sequential(layer, activations.get(act))
    return module, {"units": units, "bias": bool(bias), "init": res.get("init"),
                    "bias_init": res.get("bias_init"), "activation": act}


@BLOCKS.register("maxout")
def maxout(ctx: BuildContext, in_shape, units, pieces=2, init=None, bias_init=None):
    """Linear to ``units * pieces`` features, then the max over each group of ``pieces``."""
    ctx.expect_rank(in_shape, {**FLAT, **SEQ}, "maxout")
    units, pieces = ctx.units(units), _pos_int(pieces, ctx, "pieces")
    ctx.reserve((in_shape[-1] + 1) * units * pieces)
    layer = nn.Linear(in_shape[-1], units * pieces)
    res = ctx.initialize(layer, init, bias_init, activation={"name": "maxout", "pieces": pieces})
    return nn.Sequential(layer, Maxout(pieces)), {"units": units, "pieces": pieces, **res}


@BLOCKS.register("activation")
def activation(ctx: BuildContext, in_shape, fn):
    check_activation(fn, ctx)
    return activations.get(fn), {"fn": fn}


@BLOCKS.register("dropout")
def dropout(ctx: BuildContext, in_shape, p=0.5):
    """Inverted dropout (Srivastava et al. 2014): zero with prob p, scale by 1/(1-p) in training."""
    return nn.Dropout(_prob(p, ctx)), {"p": float(p)}


@BLOCKS.register("alpha_dropout")
def alpha_dropout(ctx: BuildContext, in_shape, p=0.1):
    """Dropout that keeps SELU's self-normalising mean and variance (Klambauer et al. 2017)."""
    return nn.AlphaDropout(_prob(p, ctx)), {"p": float(p)}


@BLOCKS.register("batchnorm")
def batchnorm(ctx: BuildContext, in_shape, momentum=0.1, eps=1e-5, affine=True):
    """Batch norm (Ioffe & Szegedy 2015): batch statistics in training, running ones in eval."""
    ctx.expect_rank(in_shape, {**FLAT, **IMG}, "batchnorm")
    _prob(momentum, ctx, "momentum")
    _eps(eps, ctx)
    cls = nn.BatchNorm1d if len(in_shape) == 1 else nn.BatchNorm2d
    ctx.reserve(4 * in_shape[0])
    return cls(in_shape[0], eps=eps, momentum=momentum, affine=bool(affine)), \
        {"momentum": momentum, "eps": eps, "affine": bool(affine)}


@BLOCKS.register("layernorm")
def layernorm(ctx: BuildContext, in_shape, eps=1e-5, affine=True):
    """Layer norm over the features (last dim), or over (C, H, W) for images."""
    _eps(eps, ctx)
    shape = in_shape if len(in_shape) == 3 else in_shape[-1:]
    ctx.reserve(2 * math.prod(shape))
    return nn.LayerNorm(list(shape), eps=eps, elementwise_affine=bool(affine)), \
        {"eps": eps, "affine": bool(affine)}


@BLOCKS.register("flatten")
def flatten(ctx: BuildContext, in_shape):
    return nn.Flatten(), {}


@BLOCKS.register("conv2d")
def conv2d(ctx: BuildContext, in_shape, channels, kernel=3, stride=1, padding="same", bias=True,
           init=None, bias_init=None):
    ctx.expect_rank(in_shape, IMG, "conv2d")
    channels, kernel = _pos_int(channels, ctx, "channels"), _pos_int(kernel, ctx, "kernel")
    if padding == "same" and stride != 1:
        padding = kernel // 2  # torch refuses 'same' with stride > 1
    if not (padding in ("same", "valid") or (isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0)):
        raise ctx.error(f"padding must be 'same', 'valid' or an integer, got {short(padding)} (integers >= 0)")
    ctx.reserve((in_shape[0] * kernel * kernel + 1) * channels)
    layer = nn.Conv2d(in_shape[0], channels, _pos_int(kernel, ctx, "kernel"),
                      stride=_pos_int(stride, ctx, "stride"), padding=padding, bias=bool(bias))
    res = ctx.initialize(layer, init, bias_init)
    return layer, {"channels": channels, "kernel": kernel, "stride": stride, "padding": padding,
                   "bias": bool(bias), **res}


def _pool(cls, name):
    def build(ctx: BuildContext, in_shape, kernel=2, stride=None):
        ctx.expect_rank(in_shape, IMG, name)
        stride = stride if stride is not None else kernel
        return cls(_pos_int(kernel, ctx, "kernel"), stride=_pos_int(stride, ctx, "stride")), \
            {"kernel": kernel, "stride": stride}
    build.__name__ = name
    return build


BLOCKS.register("maxpool2d", _pool(nn.MaxPool2d, "maxpool2d"))
BLOCKS.register("avgpool2d", _pool(nn.AvgPool2d, "avgpool2d"))


@BLOCKS.register("recurrent")
def recurrent(ctx: BuildContext, in_shape, hidden, cell="lstm", layers=1, returns="last",
              bidirectional=False, dropout=0.0, nonlinearity="tanh", init=None, bias_init=None):
    """RNN / LSTM / GRU over a (steps, features) input; ``returns`` 'last' or 'all' steps."""
    ctx.expect_rank(in_shape, SEQ, "recurrent")
    if cell not in Recurrent.CELLS:
        raise ctx.error(f"unknown cell {cell!r}; valid cells: {', '.join(Recurrent.CELLS)}")
    if returns not in ("last", "all"):
        raise ctx.error(f"returns must be 'last' or 'all', got {returns!r}")
    if nonlinearity not in ("tanh", "relu"):
        raise ctx.error(f"nonlinearity must be 'tanh' or 'relu' (torch.nn.RNN), got {nonlinearity!r}")
    hidden, layers = _pos_int(hidden, ctx, "hidden"), _pos_int(layers, ctx, "layers")
    gates, dirs = {"lstm": 4, "gru": 3}.get(cell, 1), 2 if bidirectional else 1
    ctx.reserve(sum(gates * hidden * ((in_shape[-1] if i == 0 else hidden * dirs) + hidden + 2) * dirs
                    for i in range(layers)))
    module = Recurrent(cell, in_shape[-1], hidden, layers, returns, bool(bidirectional),
                       _prob(dropout, ctx, "dropout"), nonlinearity)
    act = nonlinearity if cell == "rnn" else "tanh"
    res = ctx.initialize(module, init, bias_init, activation=act)
    return module, {"hidden": hidden, "cell": cell, "layers": layers, "returns": returns,
                    "bidirectional": bool(bidirectional), "dropout": float(dropout),
                    "nonlinearity": nonlinearity, **res}


def primary_argument(name: str) -> str:
    """The argument a scalar or list shorthand fills: ``{dense: 10}`` means ``units: 10``."""
    import inspect

    params = list(inspect.signature(BLOCKS.lookup(name)).parameters)[2:]
    if not params:
        raise ConfigError(f"block {name!r} takes no arguments")
    return params[0]
