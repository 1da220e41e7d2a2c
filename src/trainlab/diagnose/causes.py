"""Words that fit the model: a finding's cause and fix come from what the probes saw in THIS
model — the activations it actually uses (modules and functional calls) and the scale of its
weights at initialization — not from the textbook case. A tanh net with tiny weights is told
about its weights, not about sigmoid derivatives; a ReLU net is never told to use ReLU.

The weight scale is ``std(W) * sqrt(fan_in)`` at the first sampled step (before any update):
about 1 for Xavier (tanh/sigmoid), 1.4 for He (ReLU), 0.58 for PyTorch's default Linear/Conv
init, 0.0058 for ``0.01 * default``.
"""

from __future__ import annotations

import math

import numpy as np

from trainlab.diagnose.log import ProbeLog

SMALL_SCALE = 0.2  # std * sqrt(fan_in) below this: each layer shrinks its input (and the gradient) ~5x
LARGE_SCALE = 3.0  # above this: each layer grows it ~3x


def activations(log: ProbeLog) -> set[str]:
    """The activation families the forward pass ran: relu, sigmoid, tanh (RNN/LSTM count as tanh)."""
    return {info["rule"] for info in log.layers.values() if info.get("rule")}


def recurrent(log: ProbeLog) -> set[str]:
    return {info["type"] for info in log.layers.values() if info.get("type") in ("RNN", "LSTM", "GRU")}


def init_scales(log: ProbeLog, names: list[str]) -> dict[str, float]:
    """``std(W) * sqrt(fan_in)`` of each named layer at the first record (initialization)."""
    if not log.records:
        return {}
    first = log.records[0]["params"]
    out = {}
    for n in names:
        std, fan_in = first.get(n, {}).get("weight_std"), log.layers.get(n, {}).get("fan_in")
        if std is not None and fan_in and math.isfinite(std):
            out[n] = std * math.sqrt(fan_in)
    return out


def typical_scale(log: ProbeLog, names: list[str]) -> float:
    s = [v for v in init_scales(log, names).values() if math.isfinite(v)]
    return float(np.median(s)) if s else math.nan


def vanishing(log: ProbeLog, layers: list[str]) -> tuple[str, str]:
    """(why, fix) for a vanishing gradient through ``layers``."""
    acts, scale = activations(log), typical_scale(log, layers)
    small = math.isfinite(scale) and scale < SMALL_SCALE
    why, fix = [], []
    if small:
        why.append(f"weights too small at initialization (std x sqrt(fan_in) {scale:.2g} in the median layer; "
                   f"Xavier gives about 1, He 1.4), so each layer scales the gradient down")
        fix.append("initialize at Xavier (tanh/sigmoid) or He (ReLU) scale, or use LSUV init or batch normalization")
    if "sigmoid" in acts:
        why.append("sigmoid derivatives (at most 0.25 per layer)")
    if "tanh" in acts and not small:
        why.append("tanh derivatives (below 1, near 0 where units saturate)")
    if acts & {"sigmoid", "tanh"} and not (small and acts == {"tanh"}):
        fix.append("use ReLU (or leaky ReLU) with He initialization instead of " + "/".join(sorted(acts & {"sigmoid", "tanh"})))
    if not why:
        why.append("layers that shrink it on every step back (ReLU units that are off pass no gradient)"
                   if "relu" in acts else "layers that shrink it on every step back")
    if not small and "relu" in acts and not acts & {"sigmoid", "tanh"}:
        fix.append("use He initialization")
    fix.append("add batch normalization or residual connections")
    if "RNN" in recurrent(log):
        fix.append("for the recurrent layer use an LSTM/GRU")
    return " and ".join(why), "; ".join(_dedup(fix))


def collapse(log: ProbeLog, layers: list[str]) -> tuple[str, str]:
    """(why, fix) for activations that shrink (or grow) layer after layer."""
    scale = typical_scale(log, layers)
    acts = activations(log)
    init = "Xavier" if acts & {"sigmoid", "tanh"} and "relu" not in acts else "He" if "relu" in acts else "Xavier/He"
    fix = f"initialize at {init} scale (variance 1/fan_in for tanh, 2/fan_in for ReLU), or use LSUV init or batch normalization"
    if not math.isfinite(scale):
        return "", fix
    return f"the initial weights have std x sqrt(fan_in) {scale:.2g} (median layer; {init} gives about " \
           f"{'1.4' if init == 'He' else '1'})", fix


def _dedup(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
