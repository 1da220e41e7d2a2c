"""The ``dbn`` lab: its plans and helpers (fast), and one quick run on the bundled digits (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainlab.labs import LABS
from trainlab.labs import dbn as lab
from trainlab.labs.dbn_runs import binarize, rbm_learning

CLAIMS = {"rbm_learns", "pretraining_rescues", "erhan_depth", "relu_he_simpler"}


def test_registered_with_sizes_and_data():
    cls = LABS.lookup("dbn")
    assert cls is lab.DbnLab and cls().default_data("quick") == "digits"
    assert set(lab.PLANS) == {"quick", "standard", "full"}
    full = lab.PLANS["full"]
    assert full["depths"] == (1, 2, 3, 4, 5) and cls.seeds["full"] >= 10  # Erhan et al.: depths 1-5, many seeds
    for plan in lab.PLANS.values():
        assert plan["rescue_depth"] >= 3 and min(plan["depths"]) == 1


def test_rbm_learning_records_exact_likelihood_per_epoch():
    x = binarize(torch.rand(200, 16))
    out = rbm_learning(100, x[:150], x[150:], n_hidden=6, epochs=3, lr=0.05, exact=True)
    assert len(out["ll"]) == 4 and len(out["recon"]) == 3  # the init, then every epoch
    assert all(v < 0 for v in out["ll"])


# ---- slow: the lab itself -------------------------------------------------------------------
@pytest.mark.slow
def test_dbn_quick_runs_every_claim(lab_result):
    r = lab_result("dbn")
    assert r["error"] is None and r["data"] == "digits" and len(r["seeds"]) == 2
    assert not set(r["seeds"]) & set(lab.DESIGN_SEEDS)  # verdicts on seeds the design never saw
    assert {c["id"] for c in r["claims"]} == CLAIMS
    learns = next(c for c in r["claims"] if c["id"] == "rbm_learns")
    assert learns["passed"], learns  # the RBM claim holds at every size
    m = learns["measured"]
    assert all(end > start for start, end in zip(m["exact_ll_start"], m["exact_ll_end"]))
    assert any("design" in k for k in r["setup"])  # the lab says which seeds it was designed on


@pytest.mark.slow
def test_dbn_quick_figures(lab_result):
    r = lab_result("dbn")
    assert set(r["figures"]) == {"dbn-filters.png", "dbn-samples.png", "dbn-monitor.png", "dbn-likelihood.png",
                                 "dbn-depths.png"}
    for name in r["figures"]:
        assert (Path(lab_result.out) / "dbn" / name).stat().st_size > 5_000
    assert len(r["records"]["filters"]) == 32 and len(r["records"]["filters"][0]) == 64  # 32 units, 8x8 digits
