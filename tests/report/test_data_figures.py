"""The preprocessing figure: the projection it draws (data computes) and the PNG (report draws)."""

import numpy as np
import torch

from trainlab import data
from trainlab.data import preprocess as pp
from trainlab.data.projection import projection_pair
from trainlab.report.data_figures import preprocess_figure


def test_two_d_data_is_drawn_as_is_and_centring_moves_it_to_the_origin():
    ds = data.load({"name": "gauss", "noise": 0.5})
    fitted = pp.get("center").fit(ds.train.x)
    pair = projection_pair(ds.train.x, fitted)
    assert pair["before"].shape == (300, 2) and pair["axes_before"] == ["x1", "x2"]
    np.testing.assert_allclose(pair["before"], ds.train.x[torch.from_numpy(pair["index"])].double().numpy())
    assert np.abs(pair["after"].mean(0)).max() < 1e-6 and np.abs(pair["before"].mean(0)).max() > 1e-2


def test_high_dimensional_whitening_shows_a_round_cloud():
    ds = data.load("digits")
    fitted = pp.get({"zca": {"eps": 1e-3}}).fit(ds.train.x)
    pair = projection_pair(ds.train.x, fitted, max_points=5000)
    before, after = np.cov(pair["before"].T), np.cov(pair["after"].T)
    assert before[0, 0] / before[1, 1] > 1.05  # PC1 carries more variance than PC2 before
    np.testing.assert_allclose(np.diag(after), [1, 1], atol=0.05)  # unit variance along both axes after
    assert abs(after[0, 1]) < 0.05
    pca = projection_pair(ds.train.x, pp.get({"pca": {"k": 1}}).fit(ds.train.x))
    assert pca["axes_after"] == ["component 1", "component 2"] and np.all(pca["after"][:, 1] == 0)


def test_figure_is_a_png(tmp_path):
    ds = data.load("spiral")
    fitted = pp.get("standardize").fit(ds.train.x)
    pair = projection_pair(ds.train.x, fitted)
    path = preprocess_figure(tmp_path / "figs" / "p.png", pair, ds.train.y[pair["index"]].numpy(),
                             name="standardize", dataset="spiral")
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 10_000
    assert not list((tmp_path / "figs").glob(".*.tmp"))
