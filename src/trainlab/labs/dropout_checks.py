"""The dropout mechanism measured directly on a trained net (helpers of the ``dropout`` lab).

Lecture 10: drop units only while training; at evaluation every unit takes part. torch's
``nn.Dropout`` is *inverted* dropout: in train mode it zeroes each unit with probability p and
multiplies the kept ones by 1 / (1 - p), so the expected activation is unchanged and evaluation
needs no rescaling (the original paper instead scaled the weights by 1 - p at test time).

    checks = mode_checks(model, x)       # eval deterministic, train random, dropped fraction ~ p
    scaling = inverted_scaling(model, x) # kept units x 1/(1-p); mean over masks ~ the activation
"""

from __future__ import annotations

import math

import torch
from torch import nn

from trainlab.labs.common import forward_in_mode


def first_dropout(model: nn.Module) -> nn.Dropout:
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            return m
    raise ValueError("the model has no nn.Dropout layer")


def _pass(model: nn.Module, x: torch.Tensor, train: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(network output, first dropout layer's input, its output) for one forward pass."""
    return forward_in_mode(model, x, train, first_dropout(model))


def mode_checks(model: nn.Module, x: torch.Tensor) -> dict:
    """Two eval-mode and two train-mode passes over the same batch ``x``."""
    p = first_dropout(model).p
    e1, ein, eout = _pass(model, x, train=False)
    e2, _, _ = _pass(model, x, train=False)
    t1, tin, tout = _pass(model, x, train=True)
    t2, _, _ = _pass(model, x, train=True)
    live = tin != 0  # units a ReLU already zeroed cannot be told apart from dropped ones
    n = int(live.sum())
    dropped = float(((tout == 0) & live).sum()) / max(1, n)
    return {"p": p, "eval_max_diff": float((e1 - e2).abs().max()),
            "eval_layer_changes": float((eout - ein).abs().max()),  # 0: every unit passes as it is
            "train_max_diff": float((t1 - t2).abs().max()),
            "dropped_fraction": dropped, "units": n,
            "dropped_tolerance": 4 * math.sqrt(p * (1 - p) / max(1, n))}  # 4 binomial sigmas


@torch.no_grad()
def inverted_scaling(model: nn.Module, x: torch.Tensor, n_masks: int = 1000) -> dict:
    """Kept units are scaled by exactly 1 / (1 - p), and the mean of the train-mode output over
    ``n_masks`` masks approaches the eval-mode activation h: E[mask * h / (1 - p)] = h.

    Each unit's mean over n masks has variance h^2 p / ((1 - p) n), so the relative error
    ||mean - h|| / ||h|| is sqrt(p / ((1 - p) n)) in expectation (``expected_error``). Without
    the 1 / (1 - p) factor the mean would be (1 - p) h: relative error p (``unscaled_error``).
    """
    drop = first_dropout(model)
    p = drop.p
    _, h, _ = _pass(model, x, train=False)  # (B, F): the activation the dropout layer sees
    was = drop.training
    drop.train()
    total = torch.zeros_like(h, dtype=torch.float64)
    ratio_err = 0.0
    for _ in range(n_masks):
        out = drop(h)
        kept = out != 0
        ratio_err = max(ratio_err, float((out[kept] / h[kept] - 1 / (1 - p)).abs().max()) if kept.any() else 0.0)
        total += out.double()
    drop.train(was)
    mean, h64 = total / n_masks, h.double()
    return {"p": p, "n_masks": n_masks, "kept_scale_error": ratio_err,
            "relative_error": float((mean - h64).norm() / h64.norm()),
            "expected_error": math.sqrt(p / ((1 - p) * n_masks)),
            "unscaled_error": float((mean * (1 - p) - h64).norm() / h64.norm())}
