"""Lab ``preprocessing``: raw vs centred vs standardized vs PCA-whitened digits."""

import pytest

from tests.labs.conftest import outcomes
import torch

from trainlab.labs.preprocessing import LOG_EVERY, LRS, PREPROCESS, best_rate, raw_digits, top_eigenvalue


def test_best_rate_counts_misses_as_the_whole_budget():
    # rate 0: one seed never gets there; rate 1: both do, slower than rate 0's other seed
    assert best_rate([0.1, 1.0], [[10, None], [40, 40]], budget=100) == 1
    assert best_rate([0.1, 1.0], [[10, 20], [40, 40]], budget=100) == 0
    assert best_rate([0.1, 1.0], [[None, None], [None, None]], budget=100) == 0
    assert LOG_EVERY >= 1


def test_top_eigenvalue_sees_the_offset():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 4, generator=g)
    assert top_eigenvalue(x) == pytest.approx(1.0, abs=0.15)
    assert top_eigenvalue(x + 5.0) == pytest.approx(4 * 25 + 1, rel=0.05)  # |mean|^2 + 1


def test_raw_digits_are_sklearn_pixel_values():
    from trainlab import data

    raw = raw_digits(data.load("digits"))
    assert float(raw.train.x.max()) == 16.0 and float(raw.train.x.min()) == 0.0
    assert torch.equal(raw.train.x, raw.train.x.round())  # integer pixel values, as scikit-learn ships them


@pytest.mark.slow
def test_preprocessing_claims(lab_result):
    r = lab_result("preprocessing")
    assert outcomes(r) == {"center_faster": True, "standardize_faster": True, "whiten_faster": True}, \
        [(c["id"], c["measured"]) for c in r["claims"] if not c["passed"]]  # quick, seeds 1000+
    assert r["verdict"] == "pass"
    claims = {c["id"]: c for c in r["claims"]}
    for c in claims.values():
        m = c["measured"]
        assert all(p < b for p, b in zip(m["steps"], m["raw_steps"]))
        assert m["speedup"] > 1 and m["lr"] in LRS


@pytest.mark.slow
def test_preprocessing_tables_and_figures(lab_result):
    r = lab_result("preprocessing")
    speed = next(t for t in r["tables"] if t["id"] == "speed")
    assert [row[0] for row in speed["rows"]] == list(PREPROCESS)
    grid = next(t for t in r["tables"] if t["id"] == "grid")
    assert len(grid["rows"]) == len(LRS)
    assert set(r["records"]["clouds"]) == {"centered", "standardized", "PCA-whitened"}
    assert r["figures"][0] == "preprocessing-speed.png" and len(r["figures"]) == 4
    for name in r["figures"]:
        assert (lab_result.out / "preprocessing" / name).stat().st_size > 10_000
