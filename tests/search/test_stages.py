"""Coarse to fine: stage lengths, narrowing to the top trials, the edge-of-range warning."""

import math

import optuna

from trainlab.search import Space, narrow, stage_epochs
from trainlab.search.stages import at_edge

LR = optuna.distributions.FloatDistribution(1e-6, 1.0, log=True)
DROP = optuna.distributions.FloatDistribution(0.0, 0.7)


def _trials(points):
    return [optuna.trial.create_trial(params={"train.lr": lr, "model.mlp.dropout": p},
                                      distributions={"train.lr": LR, "model.mlp.dropout": DROP}, value=v)
            for lr, p, v in points]


SPACE = Space.parse({"train.lr": {"log_uniform": [1e-6, 1]}, "model.mlp.dropout": {"uniform": [0, 0.7]}})


def test_stage_epochs_go_from_one_epoch_to_the_specs():
    assert stage_epochs(20, 1) == [20]
    assert stage_epochs(20, 2) == [1, 20]
    assert stage_epochs(20, 3) == [1, 4, 20]
    assert stage_epochs(2, 3) == [1, 1, 2]


def test_narrowing_keeps_the_top_trials_span_in_log_space():
    # top quarter (2 of 8): lr 1e-3 and 1e-2, dropout 0.3 and 0.4; margin 0.1 of the old width
    pts = [(1e-3, 0.3, 0.9), (1e-2, 0.4, 0.88)] + [(10 ** -e, 0.1, 0.2) for e in (5, 5.5, 1, 0.5, 4.5, 4)]
    new, warnings = narrow(SPACE, _trials(pts), maximize=True)
    lo, hi = new.by_key["train.lr"].values
    assert math.log10(lo) == pytest_approx(-3 - 0.6) and math.log10(hi) == pytest_approx(-2 + 0.6)
    assert new.by_key["model.mlp.dropout"].values == (0.23, 0.47)
    assert warnings == []


def test_a_best_value_at_the_edge_is_flagged_and_the_range_widened():
    pts = [(0.9, 0.3, 0.95), (0.5, 0.35, 0.9)] + [(1e-4, 0.1, 0.1)] * 6
    new, warnings = narrow(SPACE, _trials(pts), maximize=True)
    assert any("train.lr: the best value 0.9 is at the high edge" in w for w in warnings)
    assert math.log10(new.by_key["train.lr"].values[1]) == pytest_approx(1.5)  # 1 + a quarter of 6 decades
    assert at_edge(SPACE.by_key["train.lr"], 1e-6) == "low" and at_edge(SPACE.by_key["train.lr"], 1e-3) is None


def test_widening_never_crosses_zero():
    pts = [(1e-3, 0.0, 0.95), (1e-3, 0.01, 0.9)] + [(1e-3, 0.6, 0.1)] * 6
    new, warnings = narrow(SPACE, _trials(pts), maximize=True)
    assert new.by_key["model.mlp.dropout"].values[0] == 0.0
    assert any("model.mlp.dropout" in w and "cannot grow past 0" in w for w in warnings)


def test_minimizing_ranks_the_other_way():
    pts = [(1e-3, 0.3, 0.1), (1e-2, 0.4, 0.12)] + [(1e-5, 0.1, 2.0)] * 6
    new, _ = narrow(SPACE, _trials(pts), maximize=False)
    assert new.by_key["train.lr"].values[0] > 1e-5


def pytest_approx(x):
    import pytest

    return pytest.approx(x, abs=1e-4)
