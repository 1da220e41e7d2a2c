"""Preprocessing fitted on train only: the transformed training split has the statistics each
transform promises (mean 0, variance 1, [0, 1] / [-1, 1], covariance ~ identity after whitening),
against numpy references; nothing from val/test reaches the fit; state round-trips through
torch.save / torch.load(weights_only=True)."""

import numpy as np
import pytest
import torch

from trainlab import data
from trainlab.data import preprocess as pp
from trainlab.errors import ConfigError


def correlated(n=2000, d=6, seed=0, shift=3.0):
    """Rows with a full-rank, strongly correlated covariance and a non-zero mean (float64)."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) + 2 * torch.eye(d, dtype=torch.float64)
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + shift * torch.arange(d, dtype=torch.float64)


def cov(x):
    x = x.reshape(len(x), -1).double()
    x = x - x.mean(0)
    return x.T @ x / len(x)


def test_registry_names_and_unknown_name_message():
    assert pp.PREPROCESSORS.names() == ["none", "center", "standardize", "scale01", "scale11", "pca", "zca", "features"]
    with pytest.raises(ConfigError, match=r"unknown preprocessing 'zcaa' \(did you mean 'zca'\?\); valid preprocessings: none, center"):
        pp.get("zcaa")


def test_center_and_standardize_statistics():
    x = correlated()
    c = pp.get("center").fit_transform(x)
    assert c.mean(0).abs().max() < 1e-10 and torch.allclose(cov(c), cov(x))
    s = pp.get("standardize").fit_transform(x)
    assert s.mean(0).abs().max() < 1e-10
    assert torch.allclose(s.var(0, unbiased=False), torch.ones(6, dtype=torch.float64))
    ref = (x.numpy() - x.numpy().mean(0)) / x.numpy().std(0)  # numpy reference (ddof 0)
    np.testing.assert_allclose(s.numpy(), ref, rtol=1e-10, atol=1e-10)


def test_standardize_keeps_constant_features_finite():
    x = torch.cat([correlated(d=3), torch.full((2000, 1), 5.0, dtype=torch.float64)], 1)
    s = pp.get("standardize").fit_transform(x)
    assert torch.isfinite(s).all() and s[:, 3].abs().max() == 0


@pytest.mark.parametrize("name, low, high", [("scale01", 0, 1), ("scale11", -1, 1)])
def test_min_max_scaling(name, low, high):
    x = correlated()
    s = pp.get(name).fit_transform(x)
    assert torch.allclose(s.amin(0), torch.full((6,), float(low), dtype=torch.float64))
    assert torch.allclose(s.amax(0), torch.full((6,), float(high), dtype=torch.float64))
    lo, hi = x.numpy().min(0), x.numpy().max(0)
    np.testing.assert_allclose(s.numpy(), low + (high - low) * (x.numpy() - lo) / (hi - lo), atol=1e-12)


def test_pca_decorrelates_and_whitening_gives_identity_covariance():
    x = correlated()
    rot = pp.get("pca").fit_transform(x)  # all components: a rotation
    c = cov(rot)
    assert torch.allclose(c, torch.diag(torch.diagonal(c)), atol=1e-8)  # decorrelated
    evals = np.linalg.eigvalsh(cov(x).numpy())[::-1]
    np.testing.assert_allclose(torch.diagonal(c).numpy(), evals, rtol=1e-8)  # variances = eigenvalues, descending
    white = pp.get({"pca": {"whiten": True, "eps": 1e-12}}).fit_transform(x)
    assert torch.allclose(cov(white), torch.eye(6, dtype=torch.float64), atol=1e-6)
    top2 = pp.get({"name": "pca", "k": 2}).fit(x)
    assert top2.transform(x).shape == (2000, 2) and top2.output_shape() == (2,)
    # the projection keeps the most variance any 2-D projection can
    np.testing.assert_allclose(torch.diagonal(cov(top2.transform(x))).numpy(), evals[:2], rtol=1e-8)


def test_zca_whitens_in_feature_space():
    x = correlated()
    z = pp.get({"zca": {"eps": 1e-12}}).fit(x)
    out = z.transform(x)
    assert torch.allclose(cov(out), torch.eye(6, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(z.whitening_, z.whitening_.T)  # symmetric: W = U S^-1/2 U^T
    # of all whitenings, ZCA moves the data least (Kessy et al. 2018): closer to x - mu than PCA's
    pca_white = pp.get({"pca": {"whiten": True, "eps": 1e-12}}).fit_transform(x)
    xc = x - x.mean(0)
    assert (out - xc).norm() < (pca_white - xc).norm()


def test_images_keep_their_shape_except_pca():
    x = torch.rand(50, 3, 4, 4)
    for spec in ("center", "standardize", "scale01", "scale11", "zca"):
        assert pp.get(spec).fit_transform(x).shape == (50, 3, 4, 4)
    assert pp.get({"pca": {"k": 5}}).fit_transform(x).shape == (50, 5)


def test_fit_uses_train_only_no_leakage():
    """Two data sets with the same train split and wildly different val/test fit the same state."""
    fakes = []
    for shift in (0.0, 1000.0):
        ds = data.load("gauss")
        ds.val.x, ds.test.x = ds.val.x + shift, ds.test.x * (1 + shift)
        fakes.append(data.apply_preprocess(ds, "standardize"))
    a, b = (f.transform for f in fakes)
    assert torch.equal(a.shift_, b.shift_) and torch.equal(a.scale_, b.scale_)
    raw = data.load("gauss")
    assert torch.allclose(a.shift_.float(), raw.train.x.mean(0))
    # val is transformed with train's statistics, not its own: its mean is not exactly 0
    assert torch.allclose(fakes[0].val.x, (raw.val.x - raw.train.x.mean(0)) / raw.train.x.std(0, unbiased=False), atol=1e-5)
    assert fakes[0].val.x.mean(0).abs().max() > 1e-3


@pytest.mark.parametrize("spec", ["center", "standardize", "scale11", {"pca": {"k": 3, "whiten": True}}, {"zca": {"eps": 0.1}}])
def test_state_round_trips_through_weights_only_load(tmp_path, spec):
    x = correlated().float()
    fitted = pp.get(spec).fit(x)
    path = pp.save(fitted, tmp_path / "preprocess.pt")
    again = pp.load(path)  # torch.load(weights_only=True) inside
    assert type(again) is type(fitted) and again.params() == fitted.params()
    assert torch.equal(again.transform(x), fitted.transform(x))


@pytest.mark.parametrize("spec, message", [
    ({"pca": {"k": 0}}, "k must be a positive integer"),
    ({"pca": {"whiten": "yes"}}, "whiten must be true or false"),
    ({"zca": {"eps": 0}}, "eps must be a positive number"),
    ({"pca": {"kk": 3}}, "unknown argument 'kk'; valid arguments: k, whiten, eps"),
])
def test_bad_arguments(spec, message):
    with pytest.raises(ConfigError, match=message):
        pp.get(spec)


def test_misuse_errors():
    with pytest.raises(ConfigError, match="k must be at most the 6 input features"):
        pp.get({"pca": {"k": 7}}).fit(correlated())
    with pytest.raises(RuntimeError, match="call fit"):
        pp.get("center").transform(correlated())
    with pytest.raises(ConfigError, match=r"fitted on inputs \(6,\), got \(5,\)"):
        pp.get("center").fit(correlated()).transform(correlated(d=5))
