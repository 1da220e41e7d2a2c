"""The ``dbn`` lab: its plans and helpers (fast), one quick run on the bundled digits, and that
run killed and resumed through the CLI (slow)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from trainlab.labs import LABS
from trainlab.labs import dbn as lab
from trainlab.labs.dbn_runs import binarize, finetune_unit_ok, rbm_learning, rbm_unit_ok
from tests.conftest import ROOT, run_cli

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
    ends = rbm_learning(100, x[:150], x[150:], n_hidden=6, epochs=3, lr=0.05, exact=True, exact_curve=False)
    assert ends["ll"] == [out["ll"][0], out["ll"][-1]] and ends["recon"] == out["recon"]  # same run, scored less often


def test_rbm_learning_scores_ais_after_every_epoch_with_a_curve_setting():
    x = binarize(torch.rand(160, 12))
    out = rbm_learning(102, x[:120], x[120:], n_hidden=5, epochs=3, lr=0.1, exact=False, batch_size=20,
                       weight_decay=2e-4, ais={"runs": 16, "betas": 300}, ais_curve={"runs": 8, "betas": 50})
    assert out["ll_betas"] == [300, 50, 50, 300]  # the init and the end at full AIS, the epochs between cheaper
    assert len(out["ll"]) == len(out["ll_se"]) == 4 and abs(out["ll"][-1] - out["ll_exact_end"]) < 1.0
    assert rbm_unit_ok(json.loads(json.dumps({"exact": out, "ais": out})))
    assert not rbm_unit_ok({"exact": out, "ais": {**out, "ll_betas": [300, 50]}})
    end_only = rbm_learning(102, x[:120], x[120:], n_hidden=5, epochs=3, lr=0.1, exact=False, ais={"runs": 8, "betas": 50})
    assert end_only["ll_betas"] == [50, 50]


def test_full_size_claim_1_uses_hintons_mnist_recipe():
    full, small = lab.PLANS["full"], lab.PLANS["standard"]
    assert (full["rbm_lr"], full["rbm_batch"], full["rbm_wd"]) == (0.1, 100, 2e-4)
    assert lab.unit_params(full, 1000, "rbm") != lab.unit_params({**full, **lab.CLAIM1_SMALL}, 1000, "rbm")
    assert small["ais_curve"] is None and full["ais_curve"]["betas"] < full["ais"]["betas"]


def test_unit_checks_accept_what_the_lab_writes_and_nothing_else():
    x = binarize(torch.rand(120, 12))
    one = rbm_learning(101, x[:90], x[90:], n_hidden=4, epochs=2, lr=0.05, exact=True)
    unit = json.loads(json.dumps({"exact": one, "ais": one}))
    assert rbm_unit_ok(unit)
    assert not rbm_unit_ok({**unit, "ais": {**one, "ll": [float("nan"), -3.0, -2.0]}})
    assert not rbm_unit_ok({**unit, "exact": {**one, "n_hidden": "4"}})
    tuned = {"test": 0.9, "train": 0.95, "seconds": 1.5, "loss": [2.3, float("nan")]}
    assert finetune_unit_ok(tuned)
    for bad in ({"test": 1.5}, {"train": None}, {"seconds": -1.0}, {"loss": "2.3"}, {"extra": 1}):
        assert not finetune_unit_ok({**tuned, **bad}), bad


def test_a_unit_fingerprint_holds_only_what_the_unit_depends_on():
    plan = lab.PLANS["full"]
    other = {**plan, "rbm_epochs": 20, "ais": {"runs": 10, "betas": 10}, "depths": (1, 2, 3, 4, 5, 6)}
    for parts in (("tune",), ("stack",), ("stack", "tune")):  # a new claim-1 setting or depth keeps the fine-tunes
        assert lab.unit_params(plan, 1000, *parts) == lab.unit_params(other, 1000, *parts)
    assert lab.unit_params(plan, 1000, "rbm") != lab.unit_params(other, 1000, "rbm")
    assert lab.unit_params(plan, 1000, "tune") != lab.unit_params({**plan, "ft_lr": 0.2}, 1000, "tune")
    assert lab.unit_params(plan, 1000, "tune") != lab.unit_params(plan, 1001, "tune")


def test_work_units_counts_every_unit_per_seed():
    ctx = type("Ctx", (), {"size": "full", "seeds": list(range(10))})()
    assert lab.DbnLab().work_units(ctx) == 10 * (1 + 1 + 2 * 5 + 2)  # rbm, stack, 5 depths x 2, small + relu


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


def strip_seconds(x):
    """A result without what depends on the clock (seconds, time fractions, the notes that say a run resumed)."""
    if isinstance(x, dict):
        return {k: strip_seconds(v) for k, v in x.items() if "seconds" not in k and k != "time_fraction"}
    if isinstance(x, list):
        return [strip_seconds(v) for v in x]
    return x


@pytest.mark.slow
def test_killed_lab_run_resumes_to_the_uninterrupted_result(tmp_path, lab_result):
    """SIGKILL ``trainlab lab run dbn --quick --out DIR`` after some units of work are saved; the same
    command continues from DIR/work and ends with the uninterrupted run's claims and records."""
    out, work = tmp_path / "run", tmp_path / "run" / "work"
    cmd = [sys.executable, "-m", "trainlab", "--threads", "1", "lab", "run", "dbn", "--quick", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(work.glob("*.json"))) < 6:  # the RBMs, a stack, some fine-tunes
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (out / "result.json").exists()
    saved = len(list(work.glob("*.json")))
    assert 6 <= saved < 16

    resumed = run_cli("--threads", "1", "lab", "run", "dbn", "--quick", "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {saved} of 16 units done in {work}\n" in resumed.stderr  # then progress lines, as ever
    assert "fine-tuning depth 3: pre-trained and random init, seed 1001" in resumed.stderr
    r = json.loads((out / "result.json").read_text())
    assert any(n.startswith(f"resumed: {saved} of 16 units of work were loaded") for n in r["notes"])
    assert not any("computed again" in n for n in r["notes"])  # every saved unit passed its check
    straight = lab_result("dbn")  # the same lab, size and seeds, uninterrupted, without a work folder
    assert strip_seconds(r["claims"]) == strip_seconds(straight["claims"])
    assert strip_seconds(r["records"]) == strip_seconds(straight["records"])  # filters, monitor, samples too
    assert (out / "result.json").exists() and set(r["figures"]) == set(straight["figures"])

    again = run_cli("lab", "run", "dbn", "--quick", "--out", str(out))  # finished: refused, nothing lost
    assert again.returncode == 2 and again.stderr.startswith(f"error: --out {out} already holds results (result.json)")
