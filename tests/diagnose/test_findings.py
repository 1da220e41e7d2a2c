"""Each finding kind is produced by a net built to show it and absent from its healthy twin; a
10-layer ReLU + He MLP on digits comes out clean."""

import functools

import pytest
import torch
from torch import nn

from trainlab.data import Split
from trainlab.data.base import Dataset
from trainlab.diagnose import FIXES, Evidence, Finding, diagnose, find
from trainlab.diagnose.runner import run_checks, train_config
from trainlab.errors import ConfigError

from .common import VanillaRNN, digits, long_sequences, mlp

KINDS_IN_ISSUE = ["vanishing_gradient", "exploding_gradient", "dead_units", "saturated_units",
                  "collapsing_activations", "exploding_activations", "symmetric_units", "loss_at_init",
                  "lr_too_high", "lr_too_low", "overfitting", "underfitting", "nonfinite"]


def kinds(model, train=None, ds=None, steps=100, **kw):
    d = diagnose(model, ds or digits(), train or {}, steps=steps, checks=False, lr_find=False, **kw)
    return {f.kind: f for f in d.findings}


@functools.lru_cache(maxsize=None)
def healthy():
    """The healthy twin: 10 ReLU layers, He init, Adam 1e-3 (the same diagnosis as the test below)."""
    return kinds(mlp())


def test_healthy_10_layer_relu_he_mlp_on_digits_is_clean():
    net = mlp()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    d = diagnose(net, digits(), {}, steps=300)  # the full diagnosis: checks, LR range test, probes
    assert d.findings == [], [f.message for f in d.findings]
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # trained copies only
    assert d.checks["gradcheck"]["passed"] is None  # no hand-written backward: nothing to check
    assert all(c["passed"] for n, c in d.checks.items() if n != "gradcheck"), d.checks
    assert d.lr_find.suggestion is not None and d.training["val_accuracy"] > 0.85
    out = d.to_dict()
    assert set(out) >= {"findings", "checks", "layers"} and len(out["layers"]) == 21


def test_every_kind_the_issue_names_has_a_fix():
    assert set(KINDS_IN_ISSUE) <= set(FIXES)


CASES = {  # kind: (net that shows it, training settings, data, the twin's kind set)
    "vanishing_gradient": lambda: kinds(mlp("sigmoid", "xavier_normal")),
    "dead_units": lambda: kinds(mlp(bias_init={"constant": {"value": -1.0}})),
    "saturated_units": lambda: kinds(mlp("tanh", {"normal": {"std": 1.0}})),
    "collapsing_activations": lambda: kinds(mlp("tanh", {"normal": {"std": 0.01}})),
    "exploding_activations": lambda: kinds(mlp("relu", {"normal": {"std": 1.0}})),
    "symmetric_units": lambda: kinds(mlp("relu", "zeros")),
    "lr_too_high": lambda: kinds(mlp(), {"lr": 0.05}),  # Adam at 50x its usual rate
    "nonfinite": lambda: kinds(mlp(), {"optimizer": "sgd", "lr": 1e6}),
}
TWINS = {  # the same kind must be absent here
    "saturated_units": lambda: kinds(mlp("tanh", "xavier_normal")),
    "collapsing_activations": lambda: kinds(mlp("tanh", "xavier_normal")),
}


MODEL_FIXES = ("vanishing_gradient", "collapsing_activations", "exploding_activations")


@pytest.mark.parametrize("kind", list(CASES))
def test_kind_shown_by_its_net_absent_from_the_twin(kind):
    found = CASES[kind]()
    assert kind in found, sorted(found)
    f = found[kind]
    assert f.severity in ("warning", "error") and f.message and f.evidence
    assert f.fix == FIXES[kind] or kind in MODEL_FIXES  # these fit the fix to the model's activations and init
    twin = TWINS.get(kind, healthy)()
    assert kind not in twin


def test_vanishing_gradient_names_the_early_layers_with_evidence():
    f = kinds(mlp("sigmoid", "xavier_normal"))["vanishing_gradient"]
    assert f.severity == "error" and f.layers[0] == "layers.0" and "layers.20" not in f.layers
    assert all(f.evidence["grad_rms_ratio"][n] < 1e-3 for n in f.layers)
    assert "sigmoid" in f.message


def test_exploding_gradient_through_time_in_an_rnn():
    torch.manual_seed(0)
    bad = kinds(VanillaRNN(gain=3.0), ds=long_sequences(), steps=30, every=5)
    torch.manual_seed(0)
    twin = kinds(VanillaRNN(gain=1.0), ds=long_sequences(), steps=30, every=5)
    assert "exploding_gradient" in bad and bad["exploding_gradient"].layers == ["rnn"]
    assert bad["exploding_gradient"].evidence["grad_rms_ratio"]["rnn"] > 1e4
    assert "exploding_gradient" not in twin


def test_lr_too_low_and_its_twin():
    low = kinds(mlp(), {"optimizer": "sgd", "lr": 1e-6})
    assert "lr_too_low" in low and low["lr_too_low"].evidence["update_ratio_max"] < 1e-5
    assert "lr_too_low" not in kinds(mlp(), {"optimizer": "sgd", "lr": 0.05})


def test_nonfinite_names_step_and_layer():
    f = kinds(mlp(), {"optimizer": "sgd", "lr": 1e6})["nonfinite"]
    assert f.severity == "error" and f.layers and f.evidence["step"] >= 1 and "diverged" in f.message


def test_overfitting_on_a_tiny_training_set_and_not_on_the_full_one():
    d = digits()
    tiny = Dataset("digits_60", Split(d.train.x[:60], d.train.y[:60]), d.val, d.test, 10)
    over = kinds(mlp(depth=3), {"lr": 3e-3}, ds=tiny, steps=200)
    assert "overfitting" in over and over["overfitting"].evidence["gap"] > 0.1
    assert "overfitting" not in kinds(mlp(depth=3), {"lr": 3e-3}, steps=200)


def test_underfitting_with_a_two_unit_bottleneck():
    assert "underfitting" in kinds(mlp(width=2, depth=1))
    assert "underfitting" not in kinds(mlp(width=64, depth=1))


# ---- findings from the checks ------------------------------------------------------------
def check_kinds(model, names, train=None):
    checks = run_checks(model, digits(), train_config(train, 100), names=names)
    return {f.kind: f for f in find(Evidence(checks=checks))}


class ScaledHead(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.body, self.scale = mlp(depth=2), scale

    def forward(self, x):
        return self.body(x) * self.scale


def test_loss_at_init_from_an_overconfident_output():
    f = check_kinds(ScaledHead(30.0), ["loss_at_init"])["loss_at_init"]
    assert f.evidence["ratio"] > 1.5 and f.severity == "error"
    assert "loss_at_init" not in check_kinds(ScaledHead(1.0), ["loss_at_init"])


class Ignores(nn.Module):
    """A bug seen in the wild: the input is multiplied away."""

    def __init__(self):
        super().__init__()
        self.net = mlp(depth=2)

    def forward(self, x):
        return self.net(x * 0)


def test_check_findings_and_twins():
    bad = check_kinds(mlp("relu", "zeros"), ["l2_raises_loss"])
    assert "l2_no_effect" in bad and "l2_no_effect" not in check_kinds(mlp(), ["l2_raises_loss"])
    assert "input_independent" in check_kinds(Ignores(), ["input_independent"])
    assert "input_independent" not in check_kinds(mlp(depth=2), ["input_independent"])
    stuck = check_kinds(mlp("sigmoid", "xavier_normal"), ["overfit_small"])
    assert stuck["cannot_overfit"].severity == "error"
    assert "cannot_overfit" not in check_kinds(mlp(), ["overfit_small"])


def test_finding_validates_kind_and_severity():
    with pytest.raises(ConfigError, match="unknown kind 'vanishing'.*vanishing_gradient"):
        Finding("vanishing", "error", "x")
    with pytest.raises(ConfigError, match="severity"):
        Finding("dead_units", "fatal", "x")
    d = Finding("dead_units", "info", "m", ["a"], {"x": float("nan")}).to_dict()
    assert d == {"kind": "dead_units", "severity": "info", "layers": ["a"], "evidence": {"x": None},
                 "message": "m", "fix": FIXES["dead_units"]}


def test_range_test_hints_are_info_and_need_a_margin():
    base = {"lr": 0.1, "losses": [2.0, 1.0, 0.5], "initial_loss": 2.3}
    far = {"regime": "too_high", "min_loss_lr": 0.01, "suggestion": 0.001}
    f = find(Evidence(training=base, lr_find=far))
    assert [(x.kind, x.severity) for x in f] == [("lr_too_high", "info")]
    near = {**far, "min_loss_lr": 0.05}  # only 2x past the minimum: no hint
    assert find(Evidence(training=base, lr_find=near)) == []
