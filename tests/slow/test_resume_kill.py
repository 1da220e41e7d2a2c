"""Resume after a real kill: SIGKILL a training process mid-run, resume it, and get exactly the
final metrics of an uninterrupted run with the same seed."""

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

SPEC = {
    "name": "killme", "seed": 7,
    "data": {"name": "spiral", "n_samples": 800, "noise": 0.2},
    # dropout: the resumed run must restore the RNG; batch 48 does not divide 480: mid-epoch resume
    "model": {"mlp": {"hidden": [64, 64], "activation": "relu", "init": "he_normal", "dropout": 0.2}},
    "train": {"optimizer": "momentum", "lr": 0.05, "schedule": "cosine", "epochs": 120,
              "batch_size": 48, "checkpoint_every": 7, "log_every": 50},
}


@pytest.mark.slow
def test_killed_run_resumes_to_identical_final_metrics(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    straight, killed = tmp_path / "straight", tmp_path / "killed"

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "trainlab", "train", str(spec), "--out", str(killed)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = killed / "checkpoints" / "last.pt"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for a checkpoint well into the run, then kill -9
        if ckpt.exists() and (killed / "metrics.jsonl").exists():
            lines = (killed / "metrics.jsonl").read_text().splitlines()
            if lines and json.loads(lines[-1])["step"] >= 400:
                break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "result.json").exists(), "the run finished before it could be killed"
    saved = torch.load(ckpt, weights_only=True)
    total = 120 * 10
    assert 0 < saved["step"] < total and saved["step"] % 7 == 0

    resumed = run_cli("train", "--resume", str(killed), "--json")
    assert resumed.returncode == 0, resumed.stderr
    # a temp file a kill left mid-write never passed as a checkpoint, and resume cleared it
    assert not list((killed / "checkpoints").glob("*.tmp"))
    fresh = run_cli("train", str(spec), "--out", str(straight), "--json")
    assert fresh.returncode == 0, fresh.stderr

    a, b = json.loads(fresh.stdout), json.loads(resumed.stdout)
    assert a["steps"] == b["steps"] == total
    assert a["final"] == b["final"]  # exactly equal, not approximately
    # the metrics log of the resumed run matches the uninterrupted one line for line (minus timings)
    strip = lambda p: [{k: v for k, v in json.loads(ln).items() if k != "seconds"}  # noqa: E731
                       for ln in p.read_text().splitlines()]
    assert strip(killed / "metrics.jsonl") == strip(straight / "metrics.jsonl")
