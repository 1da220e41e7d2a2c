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


KILL_SPEC = {  # many logged rows (log_every 1): the metrics rewrite at each resume has real work to do
    "name": "killresume", "seed": 3,
    "data": {"name": "spiral", "n_samples": 400, "noise": 0.2},
    "model": {"mlp": {"hidden": [32, 32], "activation": "relu", "init": "he_normal", "batchnorm": True}},
    "train": {"optimizer": "adam", "lr": 0.01, "steps": 700, "batch_size": 32, "checkpoint_every": 5,
              "log_every": 1},
}


def _rows(path):
    """Every readable row of metrics.jsonl (a last line a kill cut short is not one)."""
    out = []
    for ln in path.read_text().splitlines():
        try:
            out.append(json.loads(ln))
        except ValueError:
            pass
    return out


def _wait_for_rewrite(metrics, proc, timeout=60.0):
    """Return when the resumed process has started replacing metrics.jsonl: its temp file exists,
    the file's inode changed (renamed over), or the file shrank (what a rewrite in place, the old
    code, does first: it emptied the file, then wrote the rows back)."""
    st0 = metrics.stat()
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        st = metrics.stat()
        if st.st_ino != st0.st_ino or st.st_size < st0.st_size or list(metrics.parent.glob(".metrics.jsonl.*.tmp")):
            return
    raise AssertionError("the resume never rewrote metrics.jsonl")


def _wait_for_step(metrics, proc, step, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the process ended before it could be killed"
        rows = _rows(metrics) if metrics.exists() else []
        if rows and rows[-1]["step"] >= step:
            return
        time.sleep(0.005)
    raise AssertionError(f"no step {step} within {timeout} s")


@pytest.mark.slow
def test_sigkill_during_resume_loses_no_metrics_rows(tmp_path):
    """Kill -9 a run, then kill -9 each resume of it: at the moment it rewrites metrics.jsonl and
    at random moments while it trains. After every kill, every row up to the checkpoint is still
    there; the final resume ends with the uninterrupted run's metrics, row for row."""
    import random

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(KILL_SPEC))
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    start = [sys.executable, "-m", "trainlab", "train", str(spec), "--out", str(killed), "--no-progress"]
    again = [sys.executable, "-m", "trainlab", "train", "--resume", str(killed), "--no-progress"]
    metrics, ckpt = killed / "metrics.jsonl", killed / "checkpoints" / "last.pt"
    rng = random.Random(0)
    kills = []
    for attempt in range(4):
        proc = subprocess.Popen(start if attempt == 0 else again, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt in (1, 3):  # at the rewrite itself
            _wait_for_rewrite(metrics, proc)
        else:  # somewhere in training: a random number of steps past where it started
            _wait_for_step(metrics, proc, (kills[-1][1] if kills else 0) + rng.randint(20, 120))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not (killed / "result.json").exists(), "the run finished before it could be killed"
        step = torch.load(ckpt, weights_only=True)["step"]
        steps = [r["step"] for r in _rows(metrics)]
        kills.append((attempt, step, len(steps)))
        assert steps[:step] == list(range(1, step + 1)), kills  # nothing at or before the checkpoint lost
    done = run_cli("train", "--resume", str(killed), "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    fresh = run_cli("train", str(spec), "--out", str(straight), "--json", timeout=600)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(done.stdout)["final"] == json.loads(fresh.stdout)["final"]
    strip = lambda p: [{k: v for k, v in r.items() if k != "seconds"} for r in _rows(p)]  # noqa: E731
    assert strip(metrics) == strip(straight / "metrics.jsonl")
    assert len(strip(metrics)) == 700
