"""Lab ``hparam``: random vs grid, coarse to fine, the babysitting picture, one split vs k-fold,
MNIST-1D against Greydanus' MLP."""

import math

import pytest

from trainlab.labs.hparam import LN10, _exploded, _moved, best_value


def test_helpers_read_the_trials_table():
    rows = [{"state": "complete", "value": 0.5, "stage": 1}, {"state": "complete", "value": 0.7, "stage": 2},
            {"state": "fail", "value": None, "stage": 2}, {"state": "pruned", "value": 0.9, "stage": 2}]
    assert best_value(rows) == 0.7 and best_value(rows, stage=1) == 0.5 and math.isnan(best_value([]))
    assert _moved({"loss_first": 2.0, "loss_last": 1.0}) == 0.5 and _moved({"loss_first": "nan", "loss_last": 1.0}) is None
    assert _exploded({"loss_last": "nan"}) and _exploded({"loss_last": LN10 + 0.1})
    assert not _exploded({"loss_last": 0.5})


@pytest.mark.slow
def test_hparam_claims(lab_result):
    r = lab_result("hparam")
    assert r["error"] is None
    claims = {c["id"]: c for c in r["claims"]}
    assert set(claims) == {"random_beats_grid", "coarse_to_fine", "babysitting", "one_split", "mnist1d"}
    # the digits claims reproduce at quick size; MNIST-1D's 8 trials x 10 epochs there are too few to
    # reach 68% (standard and full sizes search longer), so that verdict is only reported here
    for cid in ("random_beats_grid", "coarse_to_fine", "babysitting", "one_split"):
        assert claims[cid]["passed"], (cid, claims[cid]["measured"])
    m = claims["random_beats_grid"]["measured"]
    assert m["distinct_lr_9"] == {"random": 9, "grid": 3} and m["distinct_lr_16"] == {"random": 16, "grid": 4}
    assert 0 < claims["mnist1d"]["measured"]["test_accuracy"] <= 1
    assert len(r["figures"]) == 2
    for name in r["figures"]:
        assert (lab_result.out / "hparam" / name).stat().st_size > 10_000
