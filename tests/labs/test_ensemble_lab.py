"""The ``ensemble`` lab (Lecture 10: combining differently initialised copies of one net): the
paired bootstrap of its gain (fast) and one quick run on MNIST-1D (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.labs.conftest import outcomes
import torch

from trainlab.labs import LABS
from trainlab.labs import ensemble as lab

CLAIMS = {"beats_mean_member", "more_members_better", "gain_lecture_size"}


def _one_hot(pred: list[int], c: int = 3) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(pred), c).double() * 0.8 + 0.2 / c


def test_bootstrap_gain_is_zero_for_identical_members():
    p = _one_hot([0, 1, 2, 0, 1, 1] * 20)
    y = torch.tensor([0, 1, 2, 1, 1, 0] * 20)
    out = lab.bootstrap_gain(torch.stack([p, p, p]), y)
    assert out == {"gain": 0.0, "low": 0.0, "high": 0.0}


def test_bootstrap_gain_sees_the_majority_fix_each_members_mistakes():
    y = torch.zeros(300, dtype=torch.long)
    members = []
    for k in range(3):  # member k is wrong on its own 50 of the first 150; the mean is always right
        pred = torch.zeros(300, dtype=torch.long)
        pred[k * 50:(k + 1) * 50] = 1
        members.append(_one_hot(pred.tolist()))
    out = lab.bootstrap_gain(torch.stack(members), y)
    assert out["gain"] == pytest.approx(1 / 6)  # 1/3 on half the examples, 0 on the rest
    assert 0.12 < out["low"] < out["gain"] < out["high"] < 0.21


def test_bootstrap_gain_can_be_negative():
    y = torch.zeros(200, dtype=torch.long)
    good = _one_hot([0] * 200)
    bad = _one_hot([1] * 200)  # two confident wrong members outvote the right one
    out = lab.bootstrap_gain(torch.stack([good, bad, bad]), y)
    assert out["gain"] == pytest.approx(-1 / 3) and out["high"] < 0


def test_half_vs_all_sees_what_more_members_fix_and_is_zero_when_they_agree():
    y = torch.zeros(600, dtype=torch.long)
    right, wrong = torch.tensor([0.6, 0.2, 0.2]), torch.tensor([0.05, 0.9, 0.05])
    members = []
    for k in range(4):  # member k is confidently wrong on its own 100 examples, unsurely right elsewhere
        p = right.repeat(600, 1)
        p[k * 100:(k + 1) * 100] = wrong
        members.append(p.double())
    out = lab.half_vs_all(torch.stack(members), y)
    # any 2 members: the wrong one outvotes the right one on both members' blocks (200 of 600 examples);
    # all 4: three unsure right members outvote one wrong one everywhere
    assert out["half"] == 2 and out["gain"] == pytest.approx(1 / 3)
    assert 0.29 < out["low"] < out["gain"] < out["high"] < 0.38
    same = lab.half_vs_all(torch.stack([members[0]] * 4), y)
    assert same == {"half": 2, "gain": 0.0, "low": 0.0, "high": 0.0}


def test_run_spec_is_the_example_net():
    spec = lab.run_spec(lab.PLANS[("standard", "small")])
    assert spec["model"]["mlp"] == {"hidden": [256, 256], "activation": "relu", "init": "he_normal"}
    assert spec["train"] == {"optimizer": "adam", "lr": 0.001, "batch_size": 100, "epochs": 30}


def test_ensemble_lab_is_registered_with_mnist1d_first():
    cls = LABS.lookup("ensemble")
    assert cls.data[0] == "mnist1d" and cls.seeds["standard"] == 10


@pytest.mark.slow
def test_ensemble_quick_passes(lab_result):
    r = lab_result("ensemble")
    assert outcomes(r) == {c: True for c in CLAIMS}, [c for c in r["claims"] if not c["passed"]]  # seeds 1000-1004
    assert r["verdict"] == "pass" and r["data"] == "mnist1d"
    more = next(c for c in r["claims"] if c["id"] == "more_members_better")["measured"]
    assert more["acc_5"] > more["acc_2"] > more["acc_1"]  # the curve rises, member by member
    beat = next(c for c in r["claims"] if c["id"] == "beats_mean_member")["measured"]
    assert beat["ensemble"] > beat["mean_member"] and beat["ci95_points"][0] > 0
    assert any("stacked" in n for n in r["notes"])  # members trained as one stacked computation


@pytest.mark.slow
def test_ensemble_quick_records_table_and_figure(lab_result):
    r = lab_result("ensemble")
    k = len(r["seeds"])
    rec = r["records"]
    assert len(rec["members"]) == k == 5
    assert len(rec["curves"]["mean"]) == len(rec["curves"]["vote"]) == k
    assert rec["curves"]["mean"][-1] == pytest.approx(rec["summary"]["ensemble"])
    assert set(rec["combines"]) == {"mean", "vote", "weighted"}
    assert len(r["tables"][0]["rows"]) == k + 5  # members, mean, best, three combinations
    assert r["figures"] == ["ensemble.png"]
    assert (Path(lab_result.out) / "ensemble" / "ensemble.png").stat().st_size > 10_000
