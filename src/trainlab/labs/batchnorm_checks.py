"""Batch norm's two modes measured on a trained net (helpers of the ``batchnorm`` lab).

In train mode a ``BatchNorm1d`` layer normalises each channel with the statistics of the batch
it is given (mean mu_B, biased variance), then scales and shifts: ``gamma * x_hat + beta``; it
also moves its running mean / (unbiased) variance toward the batch's by ``momentum`` (0.1). In
eval mode it uses the running statistics instead, so one example's output no longer depends on
the other examples in its batch.

    modes = mode_checks(model, batch, other)   # train vs eval outputs, dependence on the batch
    stats = running_stats(model, train_x)      # running mean/var vs the training data's own
"""

from __future__ import annotations

import math

import torch
from torch import nn

from trainlab.labs.common import forward_in_mode


def first_batchnorm(model: nn.Module) -> nn.modules.batchnorm._BatchNorm:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            return m
    raise ValueError("the model has no batch-norm layer")


def mode_checks(model: nn.Module, batch: torch.Tensor, other: torch.Tensor) -> dict:
    """The same ``batch`` in train and eval mode; then its first row with the rest of the batch
    replaced by ``other`` rows: train mode changes that row's output, eval mode does not."""
    bn = first_batchnorm(model)
    y_train, x_in, x_out = forward_in_mode(model, batch, True, bn)
    y_eval, _, _ = forward_in_mode(model, batch, False)
    mixed = torch.cat([batch[:1], other[:len(batch) - 1]])
    y_train_mixed, _, _ = forward_in_mode(model, mixed, True)
    y_eval_mixed, _, _ = forward_in_mode(model, mixed, False)
    # train mode: each channel's output over the batch has mean beta and std |gamma|
    mean_err = (x_out.mean(0) - bn.bias.detach()).abs().max()
    std, var_in = x_out.var(0, unbiased=False).sqrt(), x_in.var(0, unbiased=False)
    expect_std = bn.weight.detach().abs() * torch.sqrt(var_in / (var_in + bn.eps))  # x_hat's std is just below 1
    scale = float(y_eval.abs().mean())
    return {"train_vs_eval": float((y_train - y_eval).abs().max()) / scale,
            "row0_train_change": float((y_train[0] - y_train_mixed[0]).abs().max()) / scale,
            "row0_eval_change": float((y_eval[0] - y_eval_mixed[0]).abs().max()),
            "channel_mean_error": float(mean_err), "channel_std_error": float((std - expect_std).abs().max()),
            "batch": len(batch)}


@torch.no_grad()
def running_stats(model: nn.Module, x: torch.Tensor, batch_size: int) -> dict:
    """The first batch-norm layer's running mean / variance against the mean / variance of its
    input over all of ``x`` (the training set, with the final weights).

    Errors are per channel in units of the data's standard deviation: |running_mean - mu| / sigma
    and |running_var / sigma^2 - 1|; medians over channels. The running values are an
    exponential moving average (momentum m) of batch estimates, so even with fixed weights
    they carry noise: sigma / sqrt(B) * sqrt(m / (2 - m)) for the mean and sqrt(2 / (B - 1)) *
    sqrt(m / (2 - m)) (relative) for the variance (Gaussian channels); ``noise_mean`` /
    ``noise_var`` give those.
    """
    bn = first_batchnorm(model)
    _, x_in, _ = forward_in_mode(model, x, False, bn)  # (N, C): what the layer sees, every training row
    mu, var = x_in.mean(0), x_in.var(0, unbiased=False)
    sd = var.sqrt().clamp_min(1e-12)
    mean_err = ((bn.running_mean - mu).abs() / sd)
    var_err = (bn.running_var / var.clamp_min(1e-24) - 1).abs()
    ema = math.sqrt(bn.momentum / (2 - bn.momentum))
    return {"median_mean_error": float(mean_err.median()), "median_var_error": float(var_err.median()),
            "max_mean_error": float(mean_err.max()), "max_var_error": float(var_err.max()),
            "noise_mean": ema / math.sqrt(batch_size), "noise_var": ema * math.sqrt(2 / (batch_size - 1)),
            "channels": len(mu), "momentum": bn.momentum,
            "data_mean": mu.tolist(), "data_var": var.tolist(),
            "running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist()}


@torch.no_grad()
def batch_stats(model: nn.Module, batch: torch.Tensor) -> dict:
    """The first batch-norm layer's input statistics over one batch (what train mode uses)."""
    bn = first_batchnorm(model)
    _, x_in, _ = forward_in_mode(model, batch, True, bn)
    return {"mean": x_in.mean(0).tolist(), "var": x_in.var(0, unbiased=False).tolist()}


def train_vs_eval(model: nn.Module, batch: torch.Tensor) -> float:
    """Largest |output difference| between train and eval mode on one batch (0 for a net with
    no batch norm or dropout)."""
    y_train, _, _ = forward_in_mode(model, batch, True)
    y_eval, _, _ = forward_in_mode(model, batch, False)
    return float((y_train - y_eval).abs().max())
