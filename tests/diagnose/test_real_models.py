"""Issue 14: diagnose on models written elsewhere — no false alarms, no miss, no crash, and
words that fit the model. Each test runs a real model on the digits."""

import math

import pytest
import torch

from tests.diagnose.common import digit_images, digits, mlp, probe_run
from tests.diagnose.real_models import LeNet, LSTMRows, ResidualNet, ZeroedReLUNet, tanh_small
from trainlab.diagnose import Evidence, diagnose, find
from trainlab.diagnose import checks as C
from trainlab.diagnose.phases import sample
from trainlab.diagnose.runner import run_checks, train_config


def test_gradcheck_runs_a_model_that_makes_its_h0_in_forward():
    """torch.zeros(...) in forward follows the default dtype, float64 during the check."""
    g = C.gradcheck(LSTMRows(), digits())
    assert g["passed"] is True and g["modules"] == {"model": "passed"}, g


def test_a_check_that_cannot_run_is_reported_and_the_diagnosis_goes_on():
    """The float64 gradient check met float32 tensors made in forward and crashed the whole run."""
    d = diagnose(LSTMRows(cast=True), digits(), {}, steps=40, lr_find=False)
    g = d.checks["gradcheck"]
    assert g["passed"] is None and "not run" in g["message"] and "dtype" in g["message"].lower(), g
    assert g["modules"] == {"model": g["modules"]["model"]} and g["modules"]["model"].startswith("not run")
    assert "gradcheck_failed" not in {f.kind for f in d.findings}
    assert set(d.checks) >= {"loss_at_init", "overfit_small", "input_independent", "nonfinite"}
    assert d.training["steps"] == 40  # the rest went on


def test_a_check_that_raises_is_not_run_with_its_reason(monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("mat1 and mat2 must have the same dtype\nmore lines")

    monkeypatch.setattr(C, "l2_raises_loss", broken)
    res = run_checks(mlp(depth=2), digits(), train_config({}, 20), names=["l2_raises_loss", "loss_at_init"])
    assert res["l2_raises_loss"] == {"passed": None, "not_run": "RuntimeError: mat1 and mat2 must have the same dtype",
                                     "message": "not run: RuntimeError: mat1 and mat2 must have the same dtype",
                                     "seconds": res["l2_raises_loss"]["seconds"]}
    assert res["loss_at_init"]["passed"] is True


def test_gradcheck_no_false_alarm_at_relu_kinks():
    plain = C.gradcheck(ZeroedReLUNet(), digits())  # torch's own ReLU: nothing hand-written to check
    assert plain["passed"] is None and plain["failed"] == [], plain
    custom = C.gradcheck(ZeroedReLUNet(custom_relu=True), digits())  # a custom ReLU sitting on its kink
    assert custom["passed"] is True and custom["modules"] == {"act": "passed"}, custom  # not the container


def test_input_independent_uses_accuracy():
    """LeNet at 49% against 10% for zeroed inputs uses its inputs, whatever its loss says."""
    ds, cfg = digit_images(), train_config({}, 60)
    c = C.input_independent(LeNet(), ds, cfg, steps=60)
    assert c["passed"] and c["real_accuracy"] > c["zeroed_accuracy"] + 0.2 and "accuracy" in c["message"]
    worse_loss = C.input_independent(LeNet(), ds, cfg, steps=60, real={"loss": 2.6, "accuracy": 0.49})
    assert worse_loss["real_loss"] > 0.95 * worse_loss["zeroed_loss"]  # the old loss rule: a false alarm
    assert worse_loss["passed"] is True


def test_underfitting_not_said_next_to_full_training_accuracy():
    t = {"steps": 300, "train_loss": 1.5, "chance_loss": 2.3, "train_accuracy": 1.0, "val_accuracy": 0.9,
         "val_loss": 1.6}
    assert "underfitting" not in {f.kind for f in find(Evidence(training=t))}
    assert "underfitting" in {f.kind for f in find(Evidence(training={**t, "train_accuracy": 0.3}))}


def test_healthy_tanh_net_growing_confident_is_not_saturated():
    """A 3-layer Xavier tanh MLP at Adam 1e-2 fits the digits; it saturates late, by design."""
    d = diagnose(mlp("tanh", "xavier_normal", depth=3), digits(), {"lr": 1e-2}, steps=300,
                 checks=False, lr_find=False)
    assert d.training["train_accuracy"] > 0.98
    assert "saturated_units" not in {f.kind for f in d.findings}, [f.message for f in d.findings]


def test_collapse_at_init_is_found_even_when_adam_recovers_and_names_the_init():
    d = diagnose(tanh_small(), digits(), {}, steps=300, checks=False, lr_find=False)
    found = {f.kind: f for f in d.findings}
    f = found["collapsing_activations"]
    assert f.evidence["ratio_at_init"] < 1e-6  # std 5e-3 -> ~1e-11 over five layers
    assert "at initialization" in f.message.lower() and "the cause is the init" in f.message.lower()
    assert "0.0058" in f.message  # the measured weight scale: 0.01 x 1/sqrt(3)
    assert "Xavier" in f.fix and "sigmoid" not in f.message
    v = found.get("vanishing_gradient")
    if v is not None:  # words that fit: tiny weights, not sigmoid derivatives
        assert "sigmoid" not in v.message and "too small" in v.message and "instead of" not in v.fix


def test_vanishing_gradient_words_fit_a_relu_net():
    probes, trainer = probe_run(mlp("relu", {"normal": {"std": 0.01}}, depth=10), digits(), steps=60, every=5)
    f = {x.kind: x for x in find(Evidence(probes.log, {}, {}, None))}["vanishing_gradient"]
    assert "sigmoid" not in f.message and "tanh" not in f.message and "too small" in f.message
    assert "use ReLU" not in f.fix and "He" in f.fix
    sig = {x.kind: x for x in find(Evidence(probe_run(mlp("sigmoid", "xavier_normal"), digits(), steps=60)[0].log))}
    assert "sigmoid derivatives" in sig["vanishing_gradient"].message
    assert "instead of sigmoid" in sig["vanishing_gradient"].fix


def test_functional_relu_after_a_residual_sum_is_named_after_the_block():
    probes, _ = probe_run(ResidualNet(), digits(), steps=5, every=5)
    keys = list(probes.log.records[0]["acts"])
    assert "block1:relu" in keys and "block2:relu" in keys and "block1.fc1:relu" in keys, keys
    assert not any(k.startswith("block1.shortcut:") for k in keys), keys


def test_evaluation_sample_is_fixed_seeded_and_stated():
    ds = digits()
    a, b = sample(ds.train, 300, seed=0), sample(ds.train, 300, seed=0)
    assert len(a) == 300 and torch.equal(a.x, b.x) and not torch.equal(a.x, sample(ds.train, 300, seed=1).x)
    assert sample(ds.val, 10_000) is ds.val
    d = diagnose(mlp(depth=2), ds, {}, steps=20, checks=False, lr_find=False, eval_samples=300)
    assert d.training["train_samples"] == 300 and d.training["train_sampled"]
    assert d.training["val_samples"] == min(300, len(ds.val))
    assert set(d.info["phases"]) == {"checks", "lr_find", "training", "input_independent", "evaluation"}


def test_progress_through_each_phase():
    heard = []
    diagnose(mlp(depth=2), digits(), {}, steps=20, say=heard.append)
    text = "\n".join(heard)
    for phase in ("check 1/4: loss_at_init", "LR range test", "training: 20 steps", "training: 20/20 steps",
                  "input_independent"):
        assert phase in text, text


@pytest.mark.parametrize("scale, low", [(1.0, False), (0.01, True)])
def test_init_weight_scale_is_measured(scale, low):
    from trainlab.diagnose import causes

    probes, _ = probe_run(tanh_small(scale=scale), digits(), steps=5, every=5)
    s = causes.typical_scale(probes.log, ["0", "2", "4"])
    assert math.isclose(s, scale / math.sqrt(3), rel_tol=0.15) and (s < causes.SMALL_SCALE) == low
