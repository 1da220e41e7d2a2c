"""The LR range test: weights restored exactly, NaN never reaches the suggestion, regimes."""

import math

import pytest
import torch
from torch import nn

from trainlab.diagnose import lr_find
from trainlab.diagnose.lr_find import LRFind, analyse
from trainlab.errors import ConfigError

from .common import SmallCNN, digit_images, digits, mlp


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_restores_weights_buffers_mode_and_rng_exactly():
    net = SmallCNN()  # BatchNorm running statistics are buffers the sweep changes
    net.eval()
    before, rng = _state(net), torch.get_rng_state()
    r = lr_find(net, digit_images().train, steps=30, start_lr=1e-5, end_lr=1.0)
    assert len(r.lrs) > 5
    after = net.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not net.training and all(p.grad is None for p in net.parameters())
    assert torch.equal(torch.get_rng_state(), rng)


def test_healthy_net_suggestion_lies_in_the_good_regime():
    r = lr_find(mlp(depth=4), digits().train)
    assert r.stopped in ("diverged", "nonfinite")  # the sweep runs until the loss blows up
    lo, hi = r.regimes["good"]
    assert lo <= r.suggestion <= hi and r.suggestion == pytest.approx(max(r.min_loss_lr / 10, lo))
    assert r.regime(r.suggestion) == "good" and r.regime(1e-7) == "too_low" and r.regime(r.lrs[-1]) == "too_high"
    assert min(r.smoothed) < r.smoothed[0] * 0.8
    gamma = r.lrs[1] / r.lrs[0]
    assert all(b / a == pytest.approx(gamma) for a, b in zip(r.lrs, r.lrs[1:]))  # exponential sweep


class NaNAbove(nn.Module):
    """A linear model whose output turns NaN once any weight grows past a bound."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        out = self.fc(x)
        return torch.where(self.fc.weight.abs().max() > 3.0, torch.full_like(out, math.nan), out)


def test_nan_is_never_recorded_and_cannot_move_the_suggestion():
    torch.manual_seed(0)
    net = NaNAbove()
    r = lr_find(net, digits().train, optimizer="sgd", start_lr=1e-4, end_lr=1e4, steps=80, diverge=1e9)
    assert r.stopped == "nonfinite"
    assert all(math.isfinite(v) for v in r.losses + r.smoothed)
    assert len(r.lrs) < 80 and r.suggestion is not None and r.suggestion < r.lrs[-1]
    assert r.regime(r.lrs[-1] * 10) == "too_high"  # past where it blew up
    assert net.fc.weight.abs().max() < 3.0  # restored


def test_flat_curve_means_no_rate_helps():
    r = analyse(LRFind([1e-3 * 2 ** i for i in range(10)], [1.0] * 10, [1.0] * 10, "end"))
    assert r.suggestion is None and r.regimes == {"flat": [1e-3, 1e-3 * 2 ** 9]}
    assert r.regime(0.01) == "flat"


@pytest.mark.parametrize("kwargs", [{"start_lr": 1.0, "end_lr": 0.1}, {"steps": 2}, {"beta": 1.0},
                                    {"diverge": 1.0}, {"optimizer": "sgdd"}])
def test_bad_arguments_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        lr_find(mlp(depth=1), digits().train, **kwargs)
