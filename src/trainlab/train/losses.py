"""The loss registry. Networks output raw scores (logits); each loss knows how to read them,
how many outputs it needs, and what accuracy means for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from trainlab.registry import Registry


@dataclass(frozen=True)
class Loss:
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (logits, targets) -> mean loss
    correct: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None  # -> count of correct
    n_outputs: Callable[[int | None], int | None]  # from the data set's class count
    prepare: Callable[[torch.Tensor, int], torch.Tensor] = lambda y, n_out: y  # targets, once per fit


def _float_column(y: torch.Tensor, n_out: int) -> torch.Tensor:
    """0/1 labels (N,) -> float targets (N, 1), matching a one-output network."""
    y = y.to(torch.get_default_dtype())
    return y.unsqueeze(-1) if y.ndim == 1 else y


def _mse_targets(y: torch.Tensor, n_out: int) -> torch.Tensor:
    if y.dtype == torch.long and n_out > 1:
        return F.one_hot(y, n_out).to(torch.get_default_dtype())  # one-hot regression targets
    return _float_column(y, n_out) if y.ndim == 1 else y.to(torch.get_default_dtype())


def _bce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # binary cross-entropy on logits (the lecture's sigmoid output + cost, computed stably)
    return F.binary_cross_entropy_with_logits(logits, y)


def _ce_correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=-1) == y).sum()


def _bce_correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((logits > 0) == (y > 0.5)).sum()


def _mse_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if out.shape[-1] > 1:
        return (out.argmax(dim=-1) == y.argmax(dim=-1)).sum()
    return ((out > 0.5) == (y > 0.5)).sum()


LOSSES = Registry("loss")
LOSSES.register("cross_entropy", Loss(F.cross_entropy, _ce_correct, lambda c: c))
LOSSES.register("binary_cross_entropy", Loss(_bce, _bce_correct, lambda c: 1, _float_column))
LOSSES.register("mse", Loss(F.mse_loss, _mse_correct, lambda c: c if c is not None else 1, _mse_targets))


def resolve(name: str, task: str) -> str:
    """``auto`` is cross_entropy for classification and mse for regression."""
    if name == "auto":
        return "cross_entropy" if task == "classification" else "mse"
    LOSSES.lookup(name)
    return name


def get(name: str) -> Loss:
    return LOSSES.lookup(name)
