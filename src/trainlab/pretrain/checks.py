"""Argument and data checks for RBMs and DBNs, where the values enter (one-line ConfigErrors)."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
import torch

from trainlab.errors import ConfigError
from trainlab.pretrain.energy import VISIBLES
from trainlab.pretrain.precision import COMPUTE_DTYPES


def _int(where: str, name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{where}: {name} must be an integer >= {low}, got {value!r}")


def _real(where: str, name: str, value: Any, low: float, high: float | None = None, open_low: bool = False) -> None:
    ok = not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and (high is None or value <= high)
    if not ok:
        bound = f"> {low:g}" if open_low else f">= {low:g}"
        bound += f" and <= {high:g}" if high is not None else ""
        raise ConfigError(f"{where}: {name} must be a finite number {bound}, got {value!r}")


def check_params(p: dict, where: str) -> None:
    """Hyperparameters shared by RBM, DBN and the ``dbn`` initializer."""
    if "n_hidden" in p:
        _int(where, "n_hidden", p["n_hidden"], 1)
    if p.get("visible", "bernoulli") not in VISIBLES:
        raise ConfigError(f"{where}: unknown visible {p['visible']!r}; valid visibles: {', '.join(VISIBLES)}")
    _int(where, "k", p.get("k", 1), 1)
    _int(where, "batch_size", p.get("batch_size", 10), 1)
    _int(where, "epochs", p.get("epochs", 10), 0)
    _int(where, "momentum_epochs", p.get("momentum_epochs", 5), 0)
    _real(where, "lr", p.get("lr", 0.1), 0.0, open_low=True)
    for name in ("momentum", "final_momentum"):
        _real(where, name, p.get(name, 0.5), 0.0, 1.0)
    _real(where, "weight_decay", p.get("weight_decay", 1e-4), 0.0)
    _real(where, "sparsity_cost", p.get("sparsity_cost", 0.1), 0.0)
    if p.get("sparsity_target") is not None:
        _real(where, "sparsity_target", p["sparsity_target"], 0.0, 1.0, open_low=True)
    dtype = p.get("compute_dtype")
    if dtype is not None and (not isinstance(dtype, str) or dtype not in COMPUTE_DTYPES):
        raise ConfigError(f"{where}: unknown compute_dtype {dtype!r}; valid: null (the data's dtype), "
                          f"{', '.join(COMPUTE_DTYPES)}")
    if not isinstance(p.get("persistent", False), bool):
        raise ConfigError(f"{where}: persistent must be true or false, got {p['persistent']!r}")


def as_data(X: Any, visible: str, where: str, device: Any = None, clip: bool = False) -> torch.Tensor:
    """X as a 2-D float tensor (float64 kept, other dtypes become float32; extra dims flattened),
    finite, and in [0, 1] for bernoulli visibles (``clip``: clipped into it, for validation data
    scaled by statistics fitted on the training split, which may overshoot a little)."""
    x = torch.as_tensor(X)
    if not x.is_floating_point() or x.dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    if x.ndim == 1:
        raise ConfigError(f"{where}: expected a 2-D array (samples, features), got shape {tuple(x.shape)}")
    x = x.reshape(len(x), -1)
    if device is not None:
        x = x.to(device)
    if len(x) == 0:
        raise ConfigError(f"{where}: no samples (shape {tuple(x.shape)})")
    lo, hi = (float(t) for t in torch.aminmax(x))  # one pass: NaN and inf show up in the extremes
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = int((~torch.isfinite(x)).sum())
        raise ConfigError(f"{where}: the data has {bad} NaN/inf values; clean or impute them first")
    if visible == "bernoulli" and clip:
        x, lo, hi = x.clamp(0.0, 1.0), max(lo, 0.0), min(hi, 1.0)
    if visible == "bernoulli" and (lo < 0 or hi > 1):
        raise ConfigError(f"{where}: bernoulli visible units need inputs in [0, 1], but the data ranges over "
                          f"[{lo:.4g}, {hi:.4g}]; add `preprocess: scale01` to the data, or use `visible: gaussian` "
                          "for standardized real inputs")
    return x
