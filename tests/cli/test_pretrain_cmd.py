"""``trainlab pretrain``: the run directory, one-line errors, and resume after SIGKILL with the
same final weights as an unbroken run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from tests.conftest import ROOT, run_cli
from trainlab.cli.main import main

SPEC = {"name": "pre", "seed": 1, "device": "cpu", "data": {"name": "digits", "preprocess": "scale01"},
        "model": {"mlp": {"hidden": [48, 24], "activation": "sigmoid",
                          "init": {"dbn": {"epochs": 3, "lr": 0.05, "persistent": True}}}},
        "train": {"optimizer": "sgd", "lr": 0.5, "epochs": 2, "batch_size": 50}}


def write(tmp_path, spec=SPEC, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


def test_pretrain_writes_stack_metrics_and_figures(tmp_path, capsys):
    assert main(["pretrain", str(write(tmp_path)), "--out", str(tmp_path / "run"), "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert [(r["n_visible"], r["n_hidden"]) for r in result["layers"]] == [(64, 48), (48, 24)]
    assert "layer 2/2 epoch 3/3: recon error" in err  # progress, one line an epoch
    run = tmp_path / "run"
    stack = torch.load(run / "stack.pt", weights_only=True)
    assert len(stack["rbms"]) == 2 and stack["current"] is None
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 6
    assert {p.name for p in (run / "figures").iterdir()} == {"filters.png", "samples.png", "monitor.png"}


@pytest.mark.parametrize("override,match", [
    ("model.mlp.init={dbn: {k: 0}}", "error: initializer 'dbn': k must be an integer >= 1, got 0"),
    ("model.mlp.init=he_normal", "error: pretrain: the spec's model has no dbn initializer"),
    ("model.mlp.activation=relu", "error: initializer 'dbn': hidden layer 0 must be a dense layer followed by sigmoid"),
    ("data.preprocess=standardize", "error: DBN: bernoulli visible units need inputs in [0, 1], but the data ranges over"),
    ("model.mlp.init={dbn: {compute_dtype: float8}}",
     "error: initializer 'dbn': unknown compute_dtype 'float8'; valid: null (the data's dtype), bfloat16, float16"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, override, match):
    assert main(["pretrain", str(write(tmp_path)), "--out", str(tmp_path / "run"), "--set", override]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(match), lines
    assert not (tmp_path / "run").exists() or not (tmp_path / "run" / "stack.pt").exists()


def test_pretrain_in_bfloat16_keeps_float32_weights(tmp_path):
    override = "model.mlp.init={dbn: {epochs: 1, persistent: true, compute_dtype: bfloat16}}"
    assert main(["pretrain", str(write(tmp_path)), "--out", str(tmp_path / "run"), "--no-figures", "--set", override]) == 0
    stack = torch.load(tmp_path / "run" / "stack.pt", weights_only=True)
    assert [r["params"]["compute_dtype"] for r in stack["rbms"]] == ["bfloat16", "bfloat16"]
    assert all(w.dtype == torch.float32 for r in stack["rbms"] for w in r["weights"])


def test_train_with_a_nan_rate_is_one_line_exit_2(tmp_path, capsys):
    assert main(["train", str(write(tmp_path)), "--out", str(tmp_path / "run"),
                 "--set", "model.mlp.init={dbn: {epochs: 1, lr: .nan}}"]) == 2
    err = capsys.readouterr().err  # refused up front (the spec's finite-number check, or the dbn initializer's)
    assert err.startswith("error: ") and err.count("\n") == 1 and "lr" in err and "nan" in err


@pytest.mark.slow
def test_killed_pretraining_resumes_to_identical_weights(tmp_path):
    spec = {**SPEC, "model": {"mlp": {**SPEC["model"]["mlp"], "hidden": [200, 100],
                                      "init": {"dbn": {"epochs": 8, "lr": 0.05, "persistent": True}}}}}
    path = write(tmp_path, spec)
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "trainlab", "pretrain", str(path), "--out", str(killed),
                             "--no-figures"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    metrics, deadline = killed / "metrics.jsonl", time.time() + 120
    while time.time() < deadline:  # kill -9 in the second RBM, after a few of its epochs
        if metrics.exists() and sum('"layer": 1' in ln for ln in metrics.read_text().splitlines()) >= 3:
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (killed / "stack.pt").exists()
    saved = torch.load(killed / "checkpoints" / "pretrain.pt", weights_only=True)["dbn"]
    assert len(saved["rbms"]) == 1 and 0 < saved["current"]["epochs_done"] < 8

    resumed = run_cli("pretrain", "--resume", str(killed), "--no-figures", "--json")
    assert resumed.returncode == 0, resumed.stderr
    fresh = run_cli("pretrain", str(path), "--out", str(straight), "--no-figures", "--json")
    assert fresh.returncode == 0, fresh.stderr
    a, b = (torch.load(d / "stack.pt", weights_only=True) for d in (straight, killed))
    for ra, rb in zip(a["rbms"], b["rbms"]):
        for ta, tb in zip(ra["weights"], rb["weights"]):
            assert torch.equal(ta, tb)  # exactly, not approximately
    strip = lambda p: [{k: v for k, v in json.loads(ln).items() if k != "seconds"}  # noqa: E731
                       for ln in (p / "metrics.jsonl").read_text().splitlines()]
    assert strip(killed) == strip(straight) and len(strip(killed)) == 16
