"""Lab ``dropout``: its helpers (fast: the mechanism checks on small nets, paired differences,
split curves) and its quick run (slow): the plain net overfits, dropout narrows the gap and
raises test accuracy seed by seed, the mode checks hold, and the figure is drawn."""

import math

import pytest

from tests.labs.conftest import outcomes
import torch
from torch import nn

from trainlab import data
from trainlab.labs import dropout_checks as checks
from trainlab.ensemble import train_members
from trainlab.labs.common import SplitCurves, paired_diff
from trainlab.labs.base import Context
from trainlab.labs.dropout import Dropout, majority, run_spec


def _net(p: float) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(p), nn.Linear(64, 3))


def test_mode_checks_on_a_small_net():
    torch.manual_seed(1)
    m = checks.mode_checks(_net(0.3), torch.randn(200, 8))
    assert m["eval_max_diff"] == 0 and m["eval_layer_changes"] == 0
    assert m["train_max_diff"] > 0
    assert abs(m["dropped_fraction"] - 0.3) <= m["dropped_tolerance"]


def test_inverted_scaling_matches_its_expected_error_and_unscaled_is_off_by_p():
    torch.manual_seed(2)
    s = checks.inverted_scaling(_net(0.5), torch.randn(100, 8), n_masks=400)
    assert s["kept_scale_error"] < 1e-5
    assert 0.5 * s["expected_error"] < s["relative_error"] < 2 * s["expected_error"]
    assert abs(s["unscaled_error"] - 0.5) < 0.05


def test_a_net_without_dropout_is_refused():
    with pytest.raises(ValueError, match="no nn.Dropout"):
        checks.first_dropout(nn.Sequential(nn.Linear(2, 2)))


def test_paired_diff_and_majority():
    d, se = paired_diff([0.9, 0.8, 0.7], [0.8, 0.7, 0.7])
    assert d == pytest.approx(0.2 / 3)
    assert se == pytest.approx(torch.tensor([0.1, 0.1, 0.0]).std().item() / math.sqrt(3))
    assert majority([True, True, False]) == (2, True)
    assert majority([True, False]) == (1, False)


def _raised(plain_test: list, dropout_test: list) -> bool:
    """The ``test_raised_considerably`` verdict on made-up per-seed accuracies (train 1.0)."""
    res = {name: {"train": [1.0] * len(t), "test": t, "gap": [1.0 - a for a in t]}
           for name, t in (("plain", plain_test), ("dropout", dropout_test))}
    mech = {"modes": {"eval_max_diff": 0, "eval_layer_changes": 0, "train_max_diff": 1.0, "dropped_fraction": 0.5,
                      "p": 0.5, "dropped_tolerance": 0.01, "units": 100},
            "scaling": {"kept_scale_error": 0.0, "relative_error": 0.01, "expected_error": 0.01, "unscaled_error": 0.5,
                        "n_masks": 10, "p": 0.5}}
    ctx = Context(Dropout(), "quick", list(range(1000, 1000 + len(plain_test))), "digits")
    Dropout()._claims(ctx, res, mech)
    return next(c.passed for c in ctx.claims if c.id == "test_raised_considerably")


def test_considerably_means_above_the_noise_and_at_least_a_point():
    assert _raised([0.85, 0.86, 0.87], [0.87, 0.88, 0.89])  # +2 points on every seed
    assert not _raised([0.85, 0.86, 0.87], [0.855, 0.865, 0.875])  # consistent but half a point
    assert not _raised([0.85, 0.86, 0.87], [0.92, 0.84, 0.86])  # +1.3 points on average, within the noise


def test_split_curves_record_every_logged_step_for_every_member():
    ds = data.load({"name": "digits", "n_train": 50})
    spec = run_spec(0.5, 2)
    spec["train"]["log_every"] = 1
    curves = SplitCurves({"train": ds.train, "test": ds.test})
    members = train_members(spec, ds, [0, 1], callbacks=[curves.callback()], device="cpu", val=False)
    steps = members.trainer.total_steps
    assert curves.steps == list(range(1, steps + 1))
    acc = curves.curve("test_accuracy")
    assert len(acc) == 2 and all(len(c) == steps for c in acc)
    assert [c[-1] for c in acc] == pytest.approx(members.evaluate(ds.test)["accuracy"])
    with pytest.raises(KeyError, match="recorded"):
        curves.curve("val_accuracy")


@pytest.mark.slow
def test_quick_run_passes_with_paired_seeds(lab_result):
    r = lab_result("dropout")
    ids = {"overfits", "gap_narrowed", "test_raised_considerably", "eval_all_units", "inverted_scaling"}
    assert outcomes(r) == {i: True for i in ids}, [c for c in r["claims"] if not c["passed"]]  # quick, seeds 1000+
    assert r["verdict"] == "pass"
    claims = {c["id"]: c for c in r["claims"]}
    final = r["records"]["final"]
    assert min(final["plain"]["train"]) >= 0.99
    gain = [b - a for a, b in zip(final["plain"]["test"], final["dropout"]["test"])]
    assert min(gain) > 0  # raised on every one of the 3 seeds: the paired gain is no accident of one seed
    table = next(t for t in r["tables"] if t["id"] == "seeds")
    assert [row[0] for row in table["rows"]] == r["seeds"]
    assert claims["eval_all_units"]["measured"]["eval_max_diff"] == 0


@pytest.mark.slow
def test_quick_run_records_curves_and_draws_the_figure(lab_result):
    r = lab_result("dropout")
    curves = r["records"]["curves"]
    for name in ("plain", "dropout"):
        assert len(curves[name]["train"]) == len(r["seeds"])
        assert len(curves[name]["train"][0]) == len(curves[name]["epochs"]) >= 10
    assert r["figures"] == ["dropout.png"]
    assert (lab_result.out / "dropout" / "dropout.png").stat().st_size > 10_000
