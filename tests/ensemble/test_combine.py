"""Ensemble: mean / vote / weighted against hand-computed answers; the report's numbers;
the accuracy-vs-members curve; argument errors."""

import numpy as np
import pytest
import torch

from trainlab.ensemble import COMBINES, Ensemble, member_curve, member_scores
from trainlab.errors import ConfigError

# 3 members, 4 samples, 3 classes; labels below
P = torch.tensor([
    [[0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]],
    [[0.2, 0.7, 0.1], [0.3, 0.4, 0.3], [0.1, 0.1, 0.8], [0.1, 0.3, 0.6]],
    [[0.5, 0.1, 0.4], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.2, 0.5, 0.3]],
], dtype=torch.float64)
Y = torch.tensor([0, 1, 2, 1])


def test_mean_averages_probabilities():
    ens = Ensemble("mean").fit(P, Y)
    torch.testing.assert_close(ens.predict_proba(P), P.mean(0))
    assert ens.predict(P).tolist() == [0, 1, 2, 1]  # sample 3: means (0.267, 0.4, 0.333)
    assert ens.score(P, Y) == 1.0


def test_vote_is_the_majority_and_ties_go_to_the_higher_mean_probability():
    ens = Ensemble("vote")
    # argmaxes: sample 0 -> 0, 1, 0 ; sample 1 -> 1, 1, 0 ; sample 2 -> 2, 2, 1 ; sample 3 -> 0, 2, 1 (a 3-way tie)
    assert ens.predict(P).tolist() == [0, 1, 2, 1]  # the tie: class 1 has the highest mean (0.4)
    shares = ens.predict_proba(P)
    assert shares.argmax(-1).tolist() == [0, 1, 2, 1]
    assert shares[0, 0] > shares[0, 1] > shares[0, 2]


def test_weighted_finds_the_member_that_is_right():
    g = torch.Generator().manual_seed(0)
    n, c = 400, 4
    y = torch.randint(0, c, (n,), generator=g)
    good = torch.nn.functional.one_hot(y, c).double() * 0.7 + 0.075  # right, confident
    noise = torch.softmax(torch.randn(3, n, c, generator=g, dtype=torch.float64) * 2, -1)  # guessing
    probs = torch.cat([noise[:1], good[None], noise[1:]])
    ens = Ensemble("weighted").fit(probs, y)
    assert ens.weights_.sum().item() == pytest.approx(1.0) and (ens.weights_ >= 0).all()
    assert ens.weights_[1] > 0.9
    assert ens.score(probs, y) == 1.0


def test_weighted_beats_or_ties_mean_on_its_own_fitting_data():
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 3, (300,), generator=g)
    logits = torch.randn(5, 300, 3, generator=g, dtype=torch.float64)
    logits[:, torch.arange(300), y] += torch.tensor([0.2, 0.5, 1.0, 2.0, 3.0], dtype=torch.float64)[:, None]
    probs = torch.softmax(logits, -1)
    nll = lambda p: -torch.log(p[torch.arange(300), y]).mean().item()  # noqa: E731
    w = Ensemble("weighted").fit(probs, y)
    assert nll(w.predict_proba(probs)) <= nll(Ensemble("mean").predict_proba(probs)) + 1e-9
    assert w.weights_.argmax().item() == 4  # the most informative member weighs most


def test_report_numbers():
    rep = Ensemble("mean").fit(P, Y).report(P, Y)
    expected = [0.75, 0.5, 0.5]  # argmaxes (0,1,2,0), (1,1,2,2), (0,0,1,1) against labels (0,1,2,1)
    assert rep["members"] == expected == member_scores(P, Y)
    assert rep["member_mean"] == pytest.approx(np.mean(expected))
    assert rep["member_std"] == pytest.approx(np.std(expected, ddof=1))
    assert rep["ensemble"] == 1.0 and rep["gain"] == pytest.approx(1.0 - np.mean(expected))
    assert rep["best_member"] == 0.75 and rep["n_members"] == 3 and rep["metric"] == "accuracy"
    assert rep["weights"] == pytest.approx([1 / 3] * 3)


def test_regression_mean_and_weighted():
    y = torch.linspace(0, 1, 50, dtype=torch.float64)[:, None]
    preds = torch.stack([y + 0.3, y - 0.3, y + 0.05])
    mean = Ensemble("mean", "regression").fit(preds, y)
    torch.testing.assert_close(mean.predict(preds), y + 0.05 / 3)
    rep = mean.report(preds, y)
    assert rep["metric"] == "mse" and rep["members"] == pytest.approx([0.09, 0.09, 0.0025])
    assert rep["ensemble"] == pytest.approx((0.05 / 3) ** 2) and rep["gain"] > 0
    w = Ensemble("weighted", "regression").fit(preds, y)
    assert w.score(preds, y) < 1e-6  # 0.3 and -0.3 cancel exactly with equal weights
    with pytest.raises(ConfigError, match="combine: 'vote' needs classes; for regression use mean or weighted"):
        Ensemble("vote", "regression")


def test_member_curve():
    curve = member_curve(P, Y, "mean")
    assert len(curve) == 3
    assert curve[0] == member_scores(P, Y)[0]
    assert curve[-1] == Ensemble("mean").score(P, Y)
    assert curve[1] == Ensemble("mean").score(P[:2], Y)
    avg = member_curve(P, Y, "mean", orders=6, seed=0)
    assert avg[-1] == curve[-1] and avg[0] == pytest.approx(np.mean(member_scores(P, Y)), abs=0.2)


@pytest.mark.parametrize("call,message", [
    (lambda: Ensemble("median"), "combine: unknown 'median'; valid: mean, vote, weighted"),
    (lambda: Ensemble("weighted").predict(P), "weighted ensemble: call fit(validation predictions, labels) first"),
    (lambda: Ensemble("mean").fit(P, Y[:3]), "ensemble: 4 predictions per member but 3 labels"),
    (lambda: Ensemble("mean").fit(P[0], Y), "ensemble: expected member predictions (K, N, C), got (4, 3)"),
    (lambda: Ensemble("weighted").fit(P, Y).predict(P[:2]), "ensemble: fitted on 3 members, got predictions of 2"),
    (lambda: member_curve(P, Y, "weighted"), "member_curve: combine must be mean or vote, got 'weighted'"),
])
def test_mistakes(call, message):
    with pytest.raises(ConfigError) as e:
        call()
    assert message in str(e.value)


def test_combines_constant():
    assert COMBINES == ("mean", "vote", "weighted")
