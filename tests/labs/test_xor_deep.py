"""Lab ``xor-deep``: its helpers (fast) and its quick run (slow): the 10-layer sigmoid net is
stuck at ln 2 on every seed, ReLU learns, and the per-seed table and figure are there."""

import math

import pytest

from tests.labs.conftest import outcomes

from trainlab.labs.xor_deep import LN2, NETS, OUTCOMES, net_spec, outcome


def test_outcome_names_each_ending():
    assert outcome(0.001, 1.0) == "solved"
    assert outcome(0.6931, 0.5) == "stuck"
    assert outcome(LN2 + 0.009, 0.75) == "stuck"
    assert outcome(float("nan"), 0.5) == "diverged"
    assert outcome(0.4, 0.75) == "partial"
    assert outcome(LN2 + 0.02, 0.5) == "partial"


def test_net_spec_is_the_lectures_setup():
    spec = net_spec("sigmoid", 10_001)
    assert spec["train"] == {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": 10_001}
    mlp = spec["model"]["mlp"]
    assert mlp["hidden"] == [10] * 10 and mlp["activation"] == "sigmoid"
    assert mlp["init"] == {"uniform": {"low": -1.0, "high": 1.0}}
    assert net_spec("shallow", 5)["model"]["mlp"]["hidden"] == [5, 4]
    assert net_spec("relu_he", 5)["model"]["mlp"]["init"] == "he_normal"


@pytest.mark.slow
def test_quick_run_passes_with_every_claim(lab_result):
    r = lab_result("xor-deep")
    # every claim holds at quick size on the default seeds 1000-1063
    assert outcomes(r) == {"shallow_learns": True, "deep_sigmoid_stuck": True, "relu_learns": True,
                           "relu_he_reliable": True}, [c for c in r["claims"] if not c["passed"]]
    assert r["verdict"] == "pass" and r["seeds"] == list(range(1000, 1064))


@pytest.mark.slow
def test_deep_sigmoid_sits_at_ln2_and_relu_beats_it(lab_result):
    claims = {c["id"]: c for c in lab_result("xor-deep")["claims"]}
    stuck = claims["deep_sigmoid_stuck"]["measured"]
    assert abs(stuck["cost_min"] - LN2) < 0.01 and abs(stuck["cost_max"] - LN2) < 0.01
    assert stuck["solved_fraction"] == 0.0
    he = claims["relu_he_reliable"]["measured"]
    assert he["solved_fraction"] >= 0.9
    assert claims["relu_learns"]["measured"]["solved_fraction"] > 0.5


@pytest.mark.slow
def test_tables_records_and_figure(lab_result):
    r = lab_result("xor-deep")
    tables = {t["id"]: t for t in r["tables"]}
    assert len(tables["seeds"]["rows"]) == len(r["seeds"])  # one row per seed
    assert len(tables["summary"]["rows"]) == len(NETS)
    curves = r["records"]["curves"]
    assert set(curves) == set(NETS)
    for name, c in curves.items():
        assert len(c["loss"]) == len(r["seeds"]) and len(c["loss"][0]) == len(c["steps"])
    for name, counts in r["records"]["outcomes"].items():
        assert set(counts) == set(OUTCOMES) and sum(counts.values()) == len(r["seeds"])
    sigmoid_last = [float(c[-1]) for c in curves["sigmoid"]["loss"]]
    assert all(math.isclose(v, LN2, abs_tol=0.01) for v in sigmoid_last)
    assert r["figures"] == ["xor-deep.png"]
    png = lab_result.out / "xor-deep" / "xor-deep.png"
    assert png.stat().st_size > 10_000
