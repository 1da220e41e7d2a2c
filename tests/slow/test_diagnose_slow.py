"""Slow diagnostics tests: a real `trainlab diagnose` process on the README's example model, with
the default settings, and what the README says it finds."""

import json

import pytest

from tests.conftest import EXAMPLES, run_cli

pytestmark = pytest.mark.slow

EXAMPLE = str(EXAMPLES / "diagnose_model.py")


def test_readme_example_in_a_real_process(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # tiny batches: a second thread only waits
    out = tmp_path / "d"
    proc = run_cli("diagnose", EXAMPLE + ":deep_sigmoid", "--data", "digits", "--out", str(out), "--strict")
    assert proc.returncode == 1, proc.stderr  # --strict: there are errors
    assert "ERROR   vanishing_gradient" in proc.stdout and "fix: use ReLU" in proc.stdout
    d = json.loads((out / "diagnosis.json").read_text())
    kinds = {f["kind"] for f in d["findings"]}
    assert {"vanishing_gradient", "cannot_overfit", "underfitting"} <= kinds
    fixed = run_cli("diagnose", EXAMPLE + ":deep_relu", "--data", "digits", "--out", str(tmp_path / "r"), "--strict")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "findings: 0 (healthy)" in fixed.stdout
