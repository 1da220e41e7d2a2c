"""The Playground's regression sets (reg_plane, reg_gauss) and its input-feature transform."""


import pytest
import torch

from trainlab import data
from trainlab.data.preprocess import FEATURES, PREPROCESSORS, from_state
from trainlab.errors import ConfigError


@pytest.mark.parametrize("name", ["reg_plane", "reg_gauss"])
def test_regression_sets(name):
    ds = data.load({"name": name, "noise": 0.0, "seed": 3})
    assert ds.task == "regression" and ds.n_classes is None and ds.input_shape == (2,)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (300, 100, 100)
    x = torch.cat([ds.train.x, ds.val.x, ds.test.x])
    assert x.abs().max() <= 6 and ds.train.y.dtype == torch.float32
    again = data.load({"name": name, "noise": 0.0, "seed": 3})
    assert torch.equal(ds.train.x, again.train.x) and torch.equal(ds.train.y, again.train.y)


def test_reg_plane_target_is_the_plane_without_noise():
    ds = data.load({"name": "reg_plane", "noise": 0.0})
    assert torch.allclose(ds.train.y, ds.train.x.sum(1) / 10)


def test_reg_gauss_bumps():
    ds = data.load({"name": "reg_gauss", "noise": 0.0, "n_samples": 1000})
    x, y = ds.train.x, ds.train.y
    assert y.min() >= -1 and y.max() <= 1 and (y > 0.5).any() and (y < -0.5).any()
    near = (x - torch.tensor([-4.0, 2.5])).norm(dim=1) < 0.5  # the (+1) bump at (-4, 2.5)
    assert near.any() and (y[near] > 0.7).all()


def test_features_transform_matches_formulas():
    x = torch.tensor([[0.5, -2.0], [3.0, 1.0]])
    f = PREPROCESSORS.get({"features": {"use": list(FEATURES)}}).fit(x)
    out = f.transform(x)
    a, b = x[:, 0], x[:, 1]
    ref = torch.stack([a, b, a * a, b * b, a * b, torch.sin(a), torch.sin(b)], 1)
    assert torch.allclose(out, ref) and f.output_shape() == (7,)
    assert torch.equal(from_state(f.state_dict()).transform(x), out)  # saved with a run, reloaded


def test_features_in_a_data_spec():
    ds = data.load({"name": "spiral", "preprocess": {"features": {"use": ["x1", "x2", "sin_x1"]}}})
    assert ds.input_shape == (3,) and torch.allclose(ds.train.x[:, 2], torch.sin(ds.train.x[:, 0]))


@pytest.mark.parametrize("use, match", [(["x3"], "unknown feature 'x3'; valid features: x1, x2"),
                                        (["x1", "x1"], "repeated feature"), ([], "non-empty list")])
def test_features_bad_names(use, match):
    with pytest.raises(ConfigError, match=match):
        PREPROCESSORS.get({"features": {"use": use}})


def test_features_needs_2d_points():
    with pytest.raises(ConfigError, match="needs 2-D points"):
        PREPROCESSORS.get("features").fit(torch.zeros(4, 3))
