"""The on-device reductions against torch/numpy references."""

import math

import numpy as np
import pytest
import torch

from trainlab.diagnose.stats import SMALL, activation_stats, finish, histogram, histograms, projection_std, signs

NAN = torch.tensor(math.nan)


def stats(x, rule=None):
    return finish(activation_stats(x, rule, NAN).numpy(), x.numel())


@pytest.mark.parametrize("shape", [(7,), (16, 5), (4, 3, 6, 6), (8, 10, 3)])
def test_moments_and_extremes_match_torch(shape):
    x = torch.randn(shape) * 3 - 1
    s = stats(x)
    assert s["mean"] == pytest.approx(x.double().mean().item(), abs=1e-5)
    assert s["std"] == pytest.approx(x.double().std().item(), rel=1e-5)
    assert (s["min"], s["max"]) == (x.min().item(), x.max().item())
    assert math.isnan(s["dead"]) and math.isnan(s["saturated"])


def test_std_survives_a_large_mean():
    """E[x^2] - E[x]^2 in float32 would lose it entirely; the shift keeps it."""
    x = 1000.0 + 1e-3 * torch.randn(64, 32)
    assert stats(x)["std"] == pytest.approx(x.double().std().item(), rel=1e-3)


def test_dead_fraction_counts_units_zero_on_every_sample():
    x = torch.relu(torch.randn(20, 10))
    x[:, :4] = 0.0  # 4 of 10 units dead on this batch
    x[:, 4] = torch.where(torch.arange(20) == 3, 1.0, 0.0)  # alive on one sample only: not dead
    x[:, 5:] += 0.1
    assert stats(x, "relu")["dead"] == pytest.approx(0.4)
    img = torch.relu(torch.randn(6, 3, 4, 4))
    img[:, 1] = 0  # one channel dead at every position: 16 of 48 units
    want = ((img.reshape(6, -1) > 0).sum(0) == 0).float().mean().item()
    assert stats(img, "relu")["dead"] == pytest.approx(want) and want >= 1 / 3


def test_saturation_thresholds():
    s = torch.tensor([0.01, 0.02, 0.5, 0.6, 0.98, 0.99, 0.031, 0.969])
    assert stats(s, "sigmoid")["saturated"] == pytest.approx(4 / 8)
    t = torch.tensor([-0.99, -0.5, 0.0, 0.98, 0.96, 0.971])
    assert stats(t, "tanh")["saturated"] == pytest.approx(3 / 6)


def test_histogram_spans_the_data_including_negatives():
    x = torch.tensor([-3.0, -3.0, -1.0, 0.0, 2.0, 5.0])
    counts = histogram(x, 8).numpy()
    ref, _ = np.histogram(x.numpy(), bins=8, range=(-3, 5))
    assert counts.tolist() == ref.tolist() and counts.sum() == 6
    assert histogram(torch.zeros(5), 4).sum() == 5  # a constant tensor: one bin, no error
    bad = histogram(torch.tensor([1.0, math.nan, math.inf]), 4)  # never raises on non-finite values
    assert bad.shape == (4,)


def test_projection_std_is_zero_for_identical_units_and_scaled_otherwise():
    r = signs(50, "cpu")
    same = torch.randn(1, 50).expand(20, 50)
    assert projection_std(same, r).item() == pytest.approx(0.0, abs=1e-5)
    w = torch.randn(400, 50) * 0.3
    spread = projection_std(w, r).item() / (0.3 * math.sqrt(50))
    assert spread == pytest.approx(1.0, abs=0.1)


def test_histograms_of_many_tensors_match_one_by_one():
    """Small tensors counted together (one segment each), large ones alone, empty ones NaN:
    each row is what the per-tensor reductions give."""
    g = torch.Generator().manual_seed(0)
    ts = [torch.randn(10, 2, generator=g), torch.full((10,), 0.5), torch.randn(SMALL + 1, generator=g) * 4,
          torch.zeros(0), torch.randn(3, 3, generator=g) - 7, torch.arange(40.0).double()]
    out = histograms(ts, 8)
    assert out.shape == (len(ts), 12) and out.dtype == torch.float32
    assert torch.isnan(out[3]).all()
    for i, t in enumerate(ts):
        if t.numel() == 0:
            continue
        x = t.float().reshape(-1)
        assert out[i, :2].tolist() == [x.min().item(), x.max().item()]
        assert out[i, 2].item() == pytest.approx(x.sum().item(), abs=1e-3)
        assert out[i, 3].item() == pytest.approx((x * x).sum().item(), rel=1e-5)
        assert out[i, 4:].tolist() == histogram(x, 8).tolist()
    assert out[5, 4:].tolist() == [5.0] * 8  # 0..39 in 8 equal bins
