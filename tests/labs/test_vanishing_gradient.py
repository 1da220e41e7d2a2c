"""Lab ``vanishing-gradient``: the gradient-profile helper (fast) and the quick run (slow):
sigmoid's first layer gets orders of magnitude less gradient than its output layer, ReLU + He
stays within one order, at depths 10 and 20."""

import math

import pytest

from tests.labs.conftest import outcomes

from trainlab.labs.common import layer_stats
from trainlab.labs.vanishing_gradient import DEPTHS, NETS, gradient_profile, net_spec


def _records():
    # what MemberStats writes: per (step, layer) lists of K values; activation layers have no grad
    recs = []
    for step, scale in ((1, 1.0), (10, 2.0)):
        recs.append({"step": step, "layer": "layers.0", "grad_norm": [1e-6 * scale, 4e-6 * scale]})
        recs.append({"step": step, "layer": "layers.1", "act_mean": [0.5, 0.5]})
        recs.append({"step": step, "layer": "layers.2", "grad_norm": [1e-3 * scale, 2e-3 * scale]})
        recs.append({"step": step, "layer": "layers.4", "grad_norm": [0.5, 1.0]})
    return recs


def test_layer_stats_grids_steps_layers_members():
    steps, names, grid = layer_stats(_records(), "grad_norm")
    assert steps == [1, 10] and names == ["layers.0", "layers.2", "layers.4"]
    assert grid[1][0] == [2e-6, 8e-6] and grid[0][2] == [0.5, 1.0]
    assert layer_stats(_records(), "act_mean")[1] == ["layers.1"]


def test_gradient_profile_ratios_first_over_output_layer():
    p = gradient_profile(_records())
    assert p["steps"] == [1, 10]
    assert p["ratios"][0] == pytest.approx([2e-6, 4e-6])
    assert p["ratios"][1] == pytest.approx([4e-6, 8e-6])
    assert p["median_ratio"][0] == pytest.approx(3e-6)  # median of two: their mean
    assert p["median_norms"][0] == pytest.approx([2.5e-6, 1.5e-3, 0.75])


def test_net_spec_pairs_each_activation_with_its_init():
    assert net_spec("relu", 20, 5)["model"]["mlp"]["init"] == "he_normal"
    assert net_spec("sigmoid", 10, 5)["model"]["mlp"]["init"] == "xavier_uniform"
    assert net_spec("tanh", 10, 5)["model"]["mlp"]["depth"] == 10


@pytest.mark.slow
def test_quick_run_passes(lab_result):
    r = lab_result("vanishing-gradient")
    assert r["error"] is None and r["data"] == "digits"
    ids = {f"{k}_d{d}" for d in DEPTHS for k in ("sigmoid_vanishes", "relu_he_flat")} | {"deeper_vanishes_more"}
    assert outcomes(r) == {i: True for i in ids}, [c for c in r["claims"] if not c["passed"]]  # quick, seeds 1000+
    assert r["verdict"] == "pass"


@pytest.mark.slow
def test_sigmoid_first_layer_is_orders_of_magnitude_below(lab_result):
    profiles = lab_result("vanishing-gradient")["records"]["profiles"]
    for d in DEPTHS:
        sig, relu = profiles[str(d)]["sigmoid"], profiles[str(d)]["relu"]
        assert len(sig["median_norms"][0]) == d + 1  # d hidden layers + the output layer
        assert max(sig["median_ratio"]) < 1e-2
        assert all(0.1 <= x <= 10 for x in relu["median_ratio"])
        # sigmoid's gradient grows from the first layer to the output layer at init
        norms = sig["median_norms"][0]
        assert norms[-1] / norms[0] > 1e4
    assert profiles["20"]["sigmoid"]["median_ratio"][0] < profiles["10"]["sigmoid"]["median_ratio"][0] / 10


@pytest.mark.slow
def test_tables_and_figures(lab_result):
    r = lab_result("vanishing-gradient")
    tables = {t["id"]: t for t in r["tables"]}
    assert len(tables["ratios"]["rows"]) == len(DEPTHS) * len(NETS)
    assert len(tables["layers"]["rows"]) == DEPTHS[0] + 1
    assert r["figures"] == ["vanishing-gradient-layers.png", "vanishing-gradient-ratio.png"]
    for name in r["figures"]:
        assert (lab_result.out / "vanishing-gradient" / name).stat().st_size > 10_000
    assert math.isfinite(r["seconds"])


def test_median_skips_diverged_seeds():
    from trainlab.labs.vanishing_gradient import median

    assert median([1.0, float("nan"), 3.0]) == 2.0
    assert math.isnan(median([float("nan")]))
