"""The sanity checks: expected initial losses, L2, overfitting 20 samples, gradient checks of
custom modules (a wrong backward is caught), the input-independent baseline; models untouched."""

import math

import pytest
import torch
from torch import nn

from trainlab import data
from trainlab.diagnose import checks as C
from trainlab.diagnose.runner import ALL_CHECKS, chance_loss, run_checks, train_config
from trainlab.errors import ConfigError

from tests.diagnose.real_models import Square as GoodSquare  # x * x with a correct backward

from .common import digits, mlp


def _weights(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_expected_initial_losses():
    y = torch.tensor([0, 1, 2, 1])
    assert C.expected_init_loss("cross_entropy", y, 10) == pytest.approx(math.log(10))
    assert C.expected_init_loss("binary_cross_entropy", y, 1) == pytest.approx(math.log(2))
    assert C.expected_init_loss("mse", torch.tensor([[1.0], [3.0]]), 1) == pytest.approx(5.0)
    assert C.expected_init_loss("mse", y, 4) == pytest.approx(1 / 4)  # one-hot targets


def test_loss_at_init_passes_for_he_init_and_matches_the_evaluated_loss():
    net = mlp()
    c = C.loss_at_init(net, digits(), "cross_entropy")
    assert c["passed"] and c["expected"] == pytest.approx(math.log(10)) and 0.9 < c["ratio"] < 1.2
    with torch.no_grad():
        want = nn.functional.cross_entropy(net.eval()(digits().train.x[:1024]), digits().train.y[:1024]).item()
    assert c["loss"] == pytest.approx(want, rel=1e-5)


def test_l2_raises_the_loss_unless_every_weight_is_zero():
    c = C.l2_raises_loss(mlp(depth=2), digits(), "cross_entropy")
    assert c["passed"] and c["loss_with_l2"] > c["loss"]
    z = C.l2_raises_loss(mlp(depth=2, init="zeros"), digits(), "cross_entropy")
    assert not z["passed"] and "all zero" in z["message"]


def test_overfit_small_subset():
    net = mlp()
    before = _weights(net)
    c = C.overfit_small(net, digits(), train_config({}, 100))
    assert c["passed"] and c["steps"] <= 300 and c["accuracy"] == 1.0 and c["n"] == 20
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # a copy was trained
    stuck = C.overfit_small(mlp("sigmoid", "xavier_normal", depth=8), digits(), train_config({}, 100), budget=50)
    assert not stuck["passed"] and stuck["accuracy"] < 1.0


def test_overfit_small_regression_targets_a_loss_drop():
    ds = data.load({"name": "adding", "n_samples": 200, "length": 10})
    net = nn.Sequential(nn.Flatten(), nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 1))
    c = C.overfit_small(net, ds, train_config({"loss": "mse", "lr": 0.01}, 100))
    assert c["passed"] and c["accuracy"] is None and c["loss"] < 0.05


class BadSquare(GoodSquare):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return x * g  # forgot the factor 2


class SquareLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn, self.scale = fn, nn.Parameter(torch.ones(64) * 0.5)

    def forward(self, x):
        return self.fn.apply(x * self.scale)


def _net(fn):
    torch.manual_seed(0)
    return nn.Sequential(SquareLayer(fn), nn.Linear(64, 10))


def test_gradcheck_catches_a_wrong_custom_backward():
    bad = C.gradcheck(_net(BadSquare), digits())
    assert bad["passed"] is False and bad["failed"] == ["0"] and "failed: 0" in bad["message"]
    good = C.gradcheck(_net(GoodSquare), digits())
    assert good["passed"] is True and good["modules"] == {"0": "passed"}


def test_gradcheck_with_only_torch_modules_is_not_applicable():
    c = C.gradcheck(nn.Sequential(nn.Linear(64, 10)), digits())
    assert c["passed"] is None and c["modules"] == {}


def test_input_independent_baseline():
    c = C.input_independent(mlp(depth=2), digits(), train_config({}, 100), steps=60)
    assert c["passed"] and c["real_loss"] < c["zeroed_loss"]


def test_run_checks_names_and_chance_loss():
    res = run_checks(mlp(depth=2), digits(), train_config({}, 50), names=ALL_CHECKS, baseline_steps=30)
    assert list(res) == list(ALL_CHECKS) and all(res[n]["passed"] in (True, None) for n in res)
    assert res["nonfinite"]["passed"]
    with pytest.raises(ConfigError, match="unknown check 'loss'.*loss_at_init"):
        run_checks(mlp(depth=1), digits(), train_config({}, 10), names=["loss"])
    assert chance_loss(digits(), "cross_entropy") == pytest.approx(math.log(10), abs=0.01)  # balanced classes


def test_nonfinite_check_reports_the_guard_diagnosis():
    c = C.nonfinite_guard(mlp(depth=3), digits(), train_config({"optimizer": "sgd", "lr": 1e6}, 50), steps=50)
    assert c["passed"] is False and c["step"] >= 1 and c["layer"] and "learning rate" in c["cause"]
