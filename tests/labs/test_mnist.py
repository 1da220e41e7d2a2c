"""The ``mnist`` lab (Lab 10's progression): its plans, specs and claim logic (fast), and one
quick run on the bundled digits (slow)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.labs.conftest import outcomes
from torch import nn

from trainlab.labs import LABS
from trainlab.labs import mnist as lab
from trainlab.labs.base import Context
from trainlab.labs.common import accuracy_se, diff_margin
from trainlab.labs.mnist_claims import PUBLISHED, check_claims
from trainlab.nn import build

CLAIMS = {"softmax_last", "xavier_beats_normal", "first_epoch_cost", "published_order"}


# ---- fast: helpers ------------------------------------------------------------------------
def test_accuracy_se_adds_seed_spread_and_test_set_error():
    assert accuracy_se([0.9, 0.9], 10000) == pytest.approx(math.sqrt(0.9 * 0.1 / 10000))
    spread = accuracy_se([0.88, 0.92], 10000)
    assert spread == pytest.approx(math.sqrt(0.0008 / 2 + 0.9 * 0.1 / 10000))
    assert diff_margin([0.9, 0.9], [0.9, 0.9], 10000) == pytest.approx(2 * math.sqrt(2 * 0.9 * 0.1 / 10000))


def test_plans_follow_the_size_and_data_set():
    assert lab.plan_for("full", "mnist") == {"widths": (256, 512), "epochs": 15, "n_train": None}
    assert lab.plan_for("quick", "digits")["widths"] == (64, 96)
    assert lab.plan_for("standard", "fashion_mnist")["n_train"] is None  # all 55,000, as Lab 10


def test_variant_specs_build_lab10s_nets():
    plan = lab.plan_for("full", "mnist")
    nets = {v[0]: build(lab.variant_spec(v, plan)["model"], (1, 28, 28), 10) for v in lab.VARIANTS}
    dense = {k: [m.out_features for m in n.modules() if isinstance(m, nn.Linear)] for k, n in nets.items()}
    assert dense["softmax"] == [10]
    assert dense["nn_normal"] == dense["nn_xavier"] == [256, 256, 10]
    assert dense["deep"] == [512] * 4 + [10]
    drops = [m.p for m in nets["dropout"].modules() if isinstance(m, nn.Dropout)]
    assert drops == [0.3] * 4  # keep_prob 0.7
    assert sum(isinstance(m, nn.BatchNorm1d) for m in nets["batchnorm"].modules()) == 4
    assert not any(isinstance(m, nn.BatchNorm1d) for m in nets["dropout"].modules())
    # N(0, 1) weights (std ~1) against Xavier's std sqrt(2 / (784 + 256)) ~ 0.044
    w_normal = next(m.weight for m in nets["nn_normal"].modules() if isinstance(m, nn.Linear))
    w_xavier = next(m.weight for m in nets["nn_xavier"].modules() if isinstance(m, nn.Linear))
    assert float(w_normal.detach().std()) == pytest.approx(1.0, rel=0.02)
    assert float(w_xavier.detach().std()) == pytest.approx(math.sqrt(2 / (784 + 256)), rel=0.02)
    spec = lab.variant_spec(lab.VARIANTS[2], plan)["train"]
    assert spec == {"optimizer": "adam", "lr": 0.001, "batch_size": 100, "epochs": 15}


def test_default_data_is_digits_in_quick_and_without_mnist(monkeypatch):
    m = lab.MnistLab()
    monkeypatch.setattr(lab, "mnist_is_here", lambda: True)
    assert m.default_data("quick") == "digits"
    assert m.default_data("standard") == "mnist"
    monkeypatch.setattr(lab, "mnist_is_here", lambda: False)
    assert m.default_data("standard") == "digits"
    assert m.default_data("full") == "digits"


def test_data_note_says_why_it_is_not_mnist():
    assert "trainlab data fetch mnist" in lab.data_note("digits", "digits", mnist_here=False)
    assert "quick size" in lab.data_note("digits", "digits", mnist_here=True)
    assert "--data mnist1d" in lab.data_note("mnist1d", "digits", mnist_here=False)


def _results(**acc) -> dict:
    base = {"softmax": 0.90, "nn_normal": 0.94, "nn_xavier": 0.978, "deep": 0.975, "dropout": 0.98, "batchnorm": 0.982}
    base.update(acc)
    return {k: {"accuracy": [a, a], "cost1": [140.0, 150.0] if k == "nn_normal" else [0.3, 0.31]}
            for k, a in base.items()}


def _claims(results: dict) -> dict:
    ctx = Context(lab.MnistLab(), "quick", [0, 1], "digits")
    check_claims(ctx, results, 10000)
    return {c.id: c.passed for c in ctx.claims}


def test_claims_pass_on_the_published_numbers():
    published = {k: {"accuracy": [v, v], "cost1": [141.0] * 2 if k == "nn_normal" else [0.30] * 2}
                 for k, v in PUBLISHED.items()}
    assert _claims(published) == {c: True for c in CLAIMS}


def test_claims_fail_when_the_ordering_breaks():
    assert _claims(_results()) == {c: True for c in CLAIMS}
    assert not _claims(_results(nn_xavier=0.94))["xavier_beats_normal"]
    assert not _claims(_results(softmax=0.95))["softmax_last"]
    # the published order includes the deep net's drop below the shallower Xavier net
    assert not _claims(_results(deep=0.979))["published_order"]  # deep above Xavier: not as published
    assert not _claims(_results(dropout=0.974))["published_order"]  # dropout below the deep net
    assert not _claims(_results(batchnorm=0.9799))["published_order"]  # a step smaller than any noise still counts


def test_first_epoch_cost_is_checked_against_the_lectures_470x():
    def cost(normal: float, xavier: float = 0.3) -> bool:
        r = _results()
        r["nn_normal"]["cost1"], r["nn_xavier"]["cost1"] = [normal] * 2, [xavier] * 2
        return _claims(r)["first_epoch_cost"]

    assert cost(141.0) and cost(183.0)  # 470x (Lab 10) and 610x
    assert cost(0.3 * 160) and cost(0.3 * 1400)  # inside half a decade of 470x
    assert not cost(0.3 * 140) and not cost(0.3 * 1500)  # outside it
    assert not cost(3.0)  # 10x: the old, weaker check would have passed this


# ---- slow: the lab itself -------------------------------------------------------------------
@pytest.mark.slow
def test_mnist_quick_outcomes(lab_result):
    r = lab_result("mnist")
    # quick size runs on the 8x8 digits (1,078 images: 11 steps an epoch, not Lab 10's 550), seeds
    # 1000-1002: the two large published gaps hold; the epoch-1 cost ratio is far below 470x and
    # the deep -> dropout -> batch-norm order is not the published one
    assert outcomes(r) == {"softmax_last": True, "xavier_beats_normal": True, "first_epoch_cost": False,
                           "published_order": False}, [(c["id"], c["measured"]) for c in r["claims"]]
    assert r["verdict"] == "fail" and r["data"] == "digits" and r["seeds"] == [1000, 1001, 1002]
    claims = {c["id"]: c["measured"] for c in r["claims"]}
    assert 1 < claims["first_epoch_cost"]["ratio"] < 470  # N(0, 1) costs more, by far less than Lab 10's
    assert claims["published_order"]["measured_order"] != " < ".join(sorted(PUBLISHED, key=PUBLISHED.get))
    assert any("digits" in n for n in r["notes"])


@pytest.mark.slow
def test_mnist_quick_table_records_and_figures(lab_result):
    r = lab_result("mnist")
    table = r["tables"][0]
    assert len(table["rows"]) == 6 and table["rows"][0][1] == 0.9035 and table["rows"][-1][1] == 0.9826
    variants = r["records"]["variants"]
    assert [v["key"] for v in variants] == [v[0] for v in lab.VARIANTS]
    assert all(len(v["accuracy"]) == 3 and v["mode"] == "stacked" for v in variants)
    assert len(variants[0]["loss_curve"]) == lab.plan_for("quick", "digits")["epochs"]
    assert set(r["figures"]) == {"mnist-accuracy.png", "mnist-cost.png"}
    for name in r["figures"]:
        assert (Path(lab_result.out) / "mnist" / name).stat().st_size > 10_000


def test_mnist_is_registered():
    assert "mnist" in LABS.names()
