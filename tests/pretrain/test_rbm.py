"""RBM: scikit-learn's BernoulliRBM invariants, the CD update against autograd in float64, the
exact log-likelihood and AIS against enumeration, checkpoint state, and one-line input errors."""

import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits

from trainlab.errors import ConfigError
from trainlab.pretrain import RBM, ais_log_z, exact_log_z, free_energy


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data / 16.0)[:600]


def test_estimator_discipline(digits):
    rbm = RBM(16, epochs=1, random_state=0)
    assert not hasattr(rbm, "components_")
    assert clone(rbm).get_params() == rbm.get_params()
    assert rbm.fit(digits) is rbm
    assert rbm.components_.shape == (16, 64)
    assert rbm.intercept_hidden_.shape == (16,) and rbm.intercept_visible_.shape == (64,)
    assert rbm.partial_fit(digits[:20]) is rbm
    assert RBM(8, random_state=0).partial_fit(digits[:20]).components_.shape == (8, 64)


def test_hinton_init(digits):
    rbm = RBM(200, epochs=0, random_state=0).fit(digits)
    p = np.clip(digits.mean(0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(rbm.intercept_visible_.numpy(), np.log(p / (1 - p)), rtol=1e-6)
    assert float(rbm.intercept_hidden_.abs().max()) == 0
    assert abs(float(rbm.components_.std()) - 0.01) < 5e-4


def test_transform_is_the_mean_field(digits):
    rbm = RBM(32, epochs=2, random_state=0).fit(digits)
    W, c = rbm.components_.numpy(), rbm.intercept_hidden_.numpy()
    expected = 1 / (1 + np.exp(-(digits @ W.T + c)))
    np.testing.assert_allclose(rbm.transform(digits), expected, rtol=1e-5, atol=1e-7)


def test_hidden_samples_average_to_the_mean_field(digits):
    rbm = RBM(32, epochs=2, random_state=0).fit(digits)
    x = digits[:5]
    mean = np.mean([rbm.sample_hidden(x) for _ in range(2000)], axis=0)
    assert np.abs(mean - rbm.transform(x)).max() < 0.05  # 2000 Bernoulli draws: sd <= 0.011


def test_gibbs_samples_are_finite_and_differ(digits):
    rbm = RBM(32, epochs=2, random_state=0).fit(digits)
    a, b = rbm.gibbs(digits[:10]), rbm.gibbs(digits[:10])
    assert np.isfinite(a).all() and set(np.unique(a)) <= {0.0, 1.0}
    assert (a != b).any()


def test_extreme_inputs_score_finite_and_low():
    # scikit-learn's test_score_samples: all-zeros and all-ones rows of 1000 features
    X = np.vstack([np.zeros(1000), np.ones(1000)])
    rbm = RBM(10, batch_size=2, epochs=10, random_state=42).fit(X)
    scores = rbm.score_samples(X)
    assert np.isfinite(scores).all() and (scores < -300).all()


def test_float32_stays_float32_and_agrees_with_float64(digits):
    r32 = RBM(16, epochs=3, random_state=1).fit(digits.astype(np.float32))
    r64 = RBM(16, epochs=3, random_state=1).fit(digits.astype(np.float64))
    assert r32.components_.dtype == torch.float32 and r32.transform(digits.astype(np.float32)).dtype == np.float32
    assert r64.components_.dtype == torch.float64
    np.testing.assert_allclose(r32.components_.double().numpy(), r64.components_.numpy(), atol=1e-4)


def test_pseudo_likelihood_like_sklearn(digits):
    # scikit-learn's test_fit: digits, 64 hidden, lr 0.1, batch 10, 7 iterations, PCD -> about -21
    X = load_digits().data / 16.0
    rbm = RBM(64, lr=0.1, batch_size=10, epochs=7, persistent=True, momentum=0.0, final_momentum=0.0,
              weight_decay=0.0, random_state=9).fit(X)
    assert -23.5 < float(rbm.score_samples(X).mean()) < -18.5


@pytest.mark.parametrize("visible,k,persistent", [("bernoulli", 1, False), ("bernoulli", 3, False),
                                                  ("bernoulli", 2, True), ("gaussian", 1, False)])
def test_cd_update_is_the_free_energy_gradient(visible, k, persistent):
    """One CD-k step changes (W, c, b) by lr * -grad of [mean F(v0) - mean F(vk)] with vk detached."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(30, 7, generator=g, dtype=torch.float64)
    if visible == "gaussian":
        x = torch.randn(30, 7, generator=g, dtype=torch.float64)
    rbm = RBM(5, visible=visible, k=k, persistent=persistent, lr=0.1, momentum=0.0, weight_decay=0.0,
              batch_size=30, epochs=0, random_state=3).fit(x)
    rbm.components_ += 0.5 * torch.randn(5, 7, generator=g, dtype=torch.float64)  # away from the tiny init
    rbm.partial_fit(x)  # one step: the persistent chain now exists
    before = [t.clone() for t in (rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_)]
    v0, vk = rbm._step(x)
    after = (rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_)
    params = [t.clone().requires_grad_() for t in before]
    objective = free_energy(v0, *params, visible).mean() - free_energy(vk.detach(), *params, visible).mean()
    grads = torch.autograd.grad(objective, params)
    for b, a, grad in zip(before, after, grads):
        torch.testing.assert_close(a - b, -0.1 * grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_in_place_visible_samples_equal_the_plain_ones(visible, dtype):
    """The training step samples v_k in place in its work buffer: the same draws give the same values."""
    from trainlab.pretrain.energy import sample_visible, sample_visible_

    mean = torch.rand(50, 30, generator=torch.Generator().manual_seed(1), dtype=dtype)
    mean[0, :4] = torch.tensor([0.0, 1.0, 0.5, 1e-30], dtype=dtype)  # the ends of [0, 1] and a tiny p
    plain = sample_visible(mean, visible, torch.Generator().manual_seed(2))
    in_place = sample_visible_(mean.clone(), visible, torch.Generator().manual_seed(2))
    assert in_place.dtype == dtype and torch.equal(in_place, plain)


@pytest.mark.parametrize("persistent", [False, True])
def test_momentum_free_updates_equal_the_velocity_path(persistent):
    """With no momentum at all the weights are updated in place; the same as through a velocity of momentum 0."""
    x = torch.rand(60, 9, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    common = dict(persistent=persistent, lr=0.1, momentum=0.0, weight_decay=0.01, batch_size=20, epochs=3,
                  random_state=5)
    plain = RBM(4, final_momentum=0.0, **common).fit(x)
    velocity = RBM(4, final_momentum=0.9, momentum_epochs=10, **common).fit(x)  # momentum 0 in these epochs
    for a, b in zip(plain._params(), velocity._params()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert not torch.equal(plain.components_, RBM(4, final_momentum=0.0, **{**common, "epochs": 0}).fit(x).components_)


def test_weight_cost_and_momentum_follow_the_guide():
    """Delta_t = momentum * Delta_{t-1} + lr * (grad - weight_decay * W), weight cost on W only."""
    x = torch.rand(20, 6, dtype=torch.float64)
    rbm = RBM(4, lr=0.1, momentum=0.5, weight_decay=0.01, batch_size=20, epochs=0, random_state=0).fit(x)
    deltas = []
    for _ in range(2):
        W, c, b = (t.clone() for t in (rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_))
        v0, vk = rbm._step(x)
        h0, hk = torch.sigmoid(v0 @ W.T + c), torch.sigmoid(vk @ W.T + c)
        grads = ((h0.T @ v0 - hk.T @ vk) / 20 - 0.01 * W, (h0 - hk).mean(0), (v0 - vk).mean(0))
        moved = (rbm.components_ - W, rbm.intercept_hidden_ - c, rbm.intercept_visible_ - b)
        previous = deltas[-1] if deltas else (0, 0, 0)
        for d, g, p in zip(moved, grads, previous):
            torch.testing.assert_close(d, 0.5 * p + 0.1 * g)
        deltas.append(moved)


def toy_data(n=400, seed=0):
    """8 visible bits: two prototypes with 10% bit noise."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1, 0, 1]], dtype=torch.float64)
    x = protos[torch.randint(2, (n,), generator=g)]
    flip = torch.rand(x.shape, generator=g, dtype=torch.float64) < 0.1
    return torch.where(flip, 1 - x, x)


def brute_log_z(W, c, b):
    """Sum exp(-E(v, h)) over all 2**(D + H) joint states."""
    H, D = W.shape
    vs = torch.tensor(list(itertools.product([0, 1], repeat=D)), dtype=torch.float64)
    hs = torch.tensor(list(itertools.product([0, 1], repeat=H)), dtype=torch.float64)
    neg_e = (vs @ b)[:, None] + (hs @ c)[None, :] + vs @ W.T @ hs.T
    return float(torch.logsumexp(neg_e.flatten(), 0))


def test_exact_log_z_equals_enumeration_of_joint_states():
    g = torch.Generator().manual_seed(1)
    W, c, b = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((6, 8), (6,), (8,)))
    assert math.isclose(exact_log_z(W, c, b, "bernoulli"), brute_log_z(W, c, b), rel_tol=1e-12)


def test_exact_log_likelihood_rises_under_training():
    x, held = toy_data(400, 0), toy_data(200, 1)
    rbm = RBM(6, lr=0.1, batch_size=10, epochs=1, random_state=0).fit(x)
    lls = [rbm.log_likelihood(held)]
    for _ in range(4):
        rbm.epochs += 1
        rbm.load_state_dict(rbm.state_dict()).fit(x)
        lls.append(rbm.log_likelihood(held))
    assert lls[-1] > lls[0] + 0.5, lls
    assert lls[-1] > 8 * math.log(0.5) + 1  # better than a uniform distribution over 8 bits


def test_ais_matches_exact_log_z():
    """Stated tolerance: |AIS - exact| < 0.15 nats and within 4 of AIS's own standard errors."""
    x = toy_data(400, 0)
    rbm = RBM(10, lr=0.1, batch_size=10, epochs=10, random_state=0).fit(x)
    exact = rbm.log_partition("exact")
    est, se = ais_log_z(rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_, "bernoulli",
                        runs=200, betas=2000, generator=torch.Generator().manual_seed(0))
    assert abs(est - exact) < 0.15 and abs(est - exact) < 4 * se + 0.02, (est, exact, se)


def test_gaussian_log_z_exact_and_ais():
    g = torch.Generator().manual_seed(2)
    W = 0.3 * torch.randn(5, 4, generator=g, dtype=torch.float64)
    c, b = 0.1 * torch.randn(5, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    # numeric check of the Gaussian integral: sum over h of (2 pi)^(D/2) exp(c.h + |b + hW|^2/2 - |b|^2/2)
    exact = exact_log_z(W, c, b, "gaussian")
    hs = torch.tensor(list(itertools.product([0, 1], repeat=5)), dtype=torch.float64)
    terms = hs @ c + 0.5 * ((b + hs @ W) ** 2).sum(1) - 0.5 * (b ** 2).sum() + 2 * math.log(2 * math.pi)
    assert math.isclose(exact, float(torch.logsumexp(terms, 0)), rel_tol=1e-12)
    est, se = ais_log_z(W, c, b, "gaussian", runs=200, betas=1000, generator=torch.Generator().manual_seed(0))
    assert abs(est - exact) < 0.1, (est, exact, se)


def test_resume_from_state_equals_straight_fit(digits):
    straight = RBM(16, epochs=4, persistent=True, random_state=5).fit(digits)
    part = RBM(16, epochs=2, persistent=True, random_state=5).fit(digits)
    state = part.state_dict()
    resumed = RBM().load_state_dict(state).set_params(epochs=4).fit(digits)
    assert torch.equal(straight.components_, resumed.components_)
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3, 4]


def test_monitor_records_per_epoch(digits):
    logged = []
    rbm = RBM(32, epochs=3, random_state=0).fit(digits[:400], X_val=digits[400:], log=logged.append)
    assert [r["epoch"] for r in logged] == [1, 2, 3] and logged == rbm.history_
    assert {"recon_error", "free_energy_gap", "pseudo_likelihood", "seconds"} <= set(logged[0])
    assert logged[-1]["recon_error"] < logged[0]["recon_error"]


@pytest.mark.parametrize("X,kwargs,match", [
    (np.full((4, 3), 2.0), {}, r"inputs in \[0, 1\].*\[2, 2\].*preprocess: scale01.*visible: gaussian"),
    (np.array([[0.5, np.nan]]), {}, r"1 NaN/inf values"),
    (np.ones((4, 3)), {"k": 0}, r"RBM: k must be an integer >= 1, got 0"),
    (np.ones((4, 3)), {"visible": "binary"}, r"unknown visible 'binary'; valid visibles: bernoulli, gaussian"),
    (np.ones((4, 3)), {"lr": -1}, r"lr must be a finite number > 0"),
])
def test_bad_input_is_one_config_error(X, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        RBM(4, **kwargs).fit(X)
