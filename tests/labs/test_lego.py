"""The ``lego`` lab: fast forward, split & merge, recurrent — its helpers (fast) and one quick run (slow)."""

from __future__ import annotations

import math

import pytest

from tests.labs.conftest import outcomes
import torch
from torch import nn

from trainlab import data
from trainlab.labs import lego_recurrent, lego_residual, lego_split
from trainlab.labs.common import spec_parameters


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


def _dense_count(layers) -> int:
    """Dense layers in a layer list, looking inside residual blocks."""
    n = 0
    for item in layers:
        if isinstance(item, dict) and "dense" in item:
            n += 1
        elif isinstance(item, dict) and "residual" in item:
            n += _dense_count(item["residual"])
    return n


def test_residual_twin_has_the_plain_nets_layers_and_parameters(digits):
    plain, resid = lego_residual.plain_layers(30, 32), lego_residual.residual_layers(30, 32)
    assert _dense_count(plain) == _dense_count(resid) == 31  # 30 hidden + the output layer
    p = spec_parameters({"layers": plain}, digits)
    assert p == spec_parameters({"layers": resid}, digits)  # identity skips add no parameters
    assert p == 64 * 32 + 32 + 29 * (32 * 32 + 32) + 32 * 10 + 10


def test_residual_layers_rejects_odd_depth():
    with pytest.raises(ValueError, match="depth"):
        lego_residual.residual_layers(31, 8)


def test_split_widths_match_the_single_branch(digits):
    target = spec_parameters(lego_split.model(lego_split.single_layers()), digits)
    for merge in lego_split.MERGES:
        count = lambda w: spec_parameters(lego_split.model(lego_split.split_layers(w, merge)), digits)  # noqa: E731
        w = lego_split.matched_width(target, count)
        assert abs(count(w) / target - 1) <= lego_split.PARAM_TOL
        assert abs(count(w) - target) <= min(abs(count(w - 1) - target), abs(count(w + 1) - target))


def test_matched_width_picks_the_closest():
    assert lego_split.matched_width(50, lambda w: w * w, widths=range(1, 20)) == 7
    assert lego_split.matched_width(0, lambda w: w, widths=range(3, 9)) == 3


class _Weighted(nn.Module):
    """out = sum_t w_t * sum_f x_tf: dL/dx_t is known in closed form."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):  # (N, T, F) -> (N, 1)
        return (x * self.w[None, :, None]).sum((1, 2))[:, None]


def test_input_gradient_matches_closed_form():
    torch.manual_seed(0)
    n, t, f = 7, 5, 3
    w = torch.linspace(0.1, 1.0, t)
    x, y = torch.randn(n, t, f), torch.randn(n, 1)
    model = _Weighted(w)
    got = lego_recurrent.input_gradient(model, x, y, "mse")
    resid = model(x) - y  # (N, 1); mse = mean(resid^2) -> dL/dx_tf = 2 resid w_t / N
    want = (2 * resid.abs() / n * math.sqrt(f)).mean() * w.detach()
    assert got.shape == (t,)
    torch.testing.assert_close(got, want.detach(), rtol=1e-5, atol=1e-7)
    assert lego_recurrent.reach(got) == pytest.approx(0.1)


def test_input_gradient_of_a_recurrent_net_vanishes_at_init():
    ds = data.load({"name": "adding", "n_samples": 200, "length": 40})
    torch.manual_seed(0)
    from trainlab.nn import build

    net = build(lego_recurrent.recurrent_spec("rnn", 10)["model"], ds.input_shape, 1)
    g = lego_recurrent.input_gradient(net, ds.test.x, ds.test.y, "mse")
    assert g.shape == (40,) and torch.all(g > 0)
    assert lego_recurrent.reach(g) < lego_recurrent.VANISHED


def test_r2():
    assert lego_recurrent.r2(0.0, 0.2) == 1.0
    assert lego_recurrent.r2(0.2, 0.2) == 0.0
    assert lego_recurrent.r2(0.3, 0.2) == pytest.approx(-0.5)


# ---- one quick run of the lab ------------------------------------------------------------

CLAIMS = {"deep_plain_degrades", "residual_twin_trains", "residual_not_degraded", "concat_matches_single",
          "sum_matches_single", "rnn_gradient_vanishes", "gated_gradient_reaches_start", "gated_learns",
          "rnn_does_not_learn"}


@pytest.mark.slow
def test_lego_outcomes(lab_result):
    r = lab_result("lego")
    # quick size (400 steps), seeds 1000-1002: the residual twin ends lower than the plain twin in
    # every seed, but only ~6x lower in the median, not the claimed 10x (seed 1000's Adam run ends
    # on a loss spike)
    assert outcomes(r) == {c: True for c in CLAIMS} | {"residual_twin_trains": False}, \
        [(c["id"], c["measured"]) for c in r["claims"]]
    assert r["verdict"] == "fail"
    ff = r["records"]["fast_forward"]
    assert all(a < b for a, b in zip(ff["residual 30"]["train"], ff["plain 30"]["train"]))


@pytest.mark.slow
def test_lego_tables_and_records(lab_result):
    r = lab_result("lego")
    tables = {t["id"]: t for t in r["tables"]}
    ff = tables["fast_forward"]["rows"]
    assert [row[0] for row in ff] == ["plain 4", "plain 30", "residual 30"]
    assert ff[1][1] == ff[2][1]  # the twins have equal parameters
    sm = tables["split_merge"]["rows"]
    assert len(sm) == 3 and all(abs(row[1] / sm[0][1] - 1) <= lego_split.PARAM_TOL for row in sm)
    rec = tables["recurrent"]["rows"]
    assert len(rec) == 2 * len(r["seeds"])  # one row per cell and seed
    grads = r["records"]["recurrent"]
    length = grads["length"]
    for when in ("init", "trained"):
        assert all(len(p) == length for cell in grads[when].values() for p in cell)
    curves = r["records"]["fast_forward"]["residual 30"]["curves"]
    assert len(curves) == len(r["seeds"])


@pytest.mark.slow
def test_lego_figures(lab_result):
    r = lab_result("lego")
    assert r["figures"] == ["lego-fast-forward.png", "lego-split-merge.png", "lego-recurrent.png"]
    for name in r["figures"]:
        path = lab_result.out / "lego" / name
        assert path.exists() and path.stat().st_size > 10_000
        assert r["captions"][name]
