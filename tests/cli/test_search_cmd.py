"""``trainlab search`` as a user runs it: --json output, one-line errors, Ctrl-C, continuing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT, run_cli

SPEC = str(EXAMPLES / "search" / "digits_mlp.yaml")
SMALL = ["--set", "train.epochs=1", "--set", "data.n_train=300"]


def _space(tmp_path, space: dict) -> str:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space))
    return str(path)


@pytest.mark.slow
def test_search_json_and_the_files_it_writes(tmp_path):
    space = _space(tmp_path, {"train.lr": {"log_uniform": [1e-4, 0.3]}, "model.mlp.activation": {"choice": ["relu", "tanh"]}})
    out = tmp_path / "out"
    r = run_cli("search", SPEC, "--space", space, "--trials", "3", "--sampler", "random", "--seed", "0",
                "--out", str(out), "--json", *SMALL)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert {"best", "complete", "pruned", "failed", "stacked", "storage", "seconds"} <= set(result)
    assert {"value", "params", "trial"} <= set(result["best"]) and result["complete"] == 3
    assert r.stderr.count("[stage 1/1] trial") == 3  # progress on stderr, JSON alone on stdout
    for name in ("trials.csv", "trials.json", "best.yaml", "search.json", "search.html", "figures/history.png"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "search.html").read_text()
    assert "data:image/png;base64," in html and "<script" not in html and "http" not in html.split("<body>")[1]
    trained = run_cli("train", str(out / "best.yaml"), "--out", str(tmp_path / "run"), "--json")
    assert trained.returncode == 0, trained.stderr


@pytest.mark.parametrize("space, extra, message", [
    ({"train.lrate": {"log_uniform": [1e-4, 1]}}, [], "error: space: train.lrate=0.0001: train.lrate: unknown key"),
    ({"train.lr": {"log_uniform": [1, 1e-4]}}, [], "inverted range"),
    ({"train.lr": {"log_uniform": [0, 1]}}, [], "a log range needs bounds > 0"),
    ({"train.lr": {"choice": ["fast", "slow"]}}, [], "train.lr='fast': train.lr: expected float | null"),
    ({"train.lr": {"log_uniform": [1e-4, 1]}}, ["--folds", "0"], "--folds must be a positive integer, got 0"),
    ({"train.lr": {"log_uniform": [1e-4, 1]}}, ["--storage", "postgresql://bob:s3cret@127.0.0.1:1/db"],
     "cannot reach the database at 127.0.0.1:1"),
])
def test_mistakes_are_one_line_errors_with_exit_2(tmp_path, capsys, space, extra, message):
    from trainlab.cli.main import main

    code = main(["search", SPEC, "--space", _space(tmp_path, space), "--trials", "2", "--out", str(tmp_path / "o"),
                 *SMALL, *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "s3cret" not in err
    assert not (tmp_path / "o" / "trials.json").exists()


def test_unknown_sampler_names_the_valid_ones(tmp_path):
    r = run_cli("search", SPEC, "--space", "x.yaml", "--trials", "2", "--sampler", "bayes")
    assert r.returncode == 2 and "invalid choice: 'bayes'" in r.stderr and "random" in r.stderr


@pytest.mark.slow
def test_ctrl_c_keeps_finished_trials_and_the_same_command_continues(tmp_path):
    space = _space(tmp_path, {"train.lr": {"log_uniform": [1e-4, 0.3]}, "model.mlp.activation": {"choice": ["relu", "tanh"]}})
    out = tmp_path / "out"
    args = [sys.executable, "-m", "trainlab", "search", SPEC, "--space", space, "--trials", "8", "--sampler", "random",
            "--out", str(out), "--no-report", "--no-stack", "--set", "train.epochs=3"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stderr:  # wait for two finished trials, then press Ctrl-C
        seen.append(line)
        if "(2/8)" in line:
            proc.send_signal(signal.SIGINT)
            break
    out_text, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen) + err
    assert "interrupted: finished trials are kept" in err
    rows = json.loads((out / "trials.json").read_text())
    kept = [r for r in rows if r["state"] == "complete"]
    assert len(kept) >= 2 and all(r["state"] in ("complete", "fail") for r in rows)
    t0 = time.time()
    again = subprocess.run(args + ["--json"], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["complete"] == 8 and time.time() - t0 < 300
    rows2 = json.loads((out / "trials.json").read_text())
    assert [r["params"] for r in rows2[:len(kept)] if r["state"] == "complete"][:2] == [r["params"] for r in kept][:2]


def test_tensorboard_events_per_trial_single_and_stacked(tmp_path, capsys):
    """``--tensorboard``: each trial's run under OUT/tensorboard/STUDY, read back with
    TensorBoard's own reader; a stacked batch writes one run per trial too."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from trainlab.cli.main import main

    space = _space(tmp_path, {"train.lr": {"log_uniform": [1e-3, 0.1]}})
    for mode, extra in (("single", ["--no-stack"]), ("stacked", [])):
        out = tmp_path / mode
        code = main(["search", SPEC, "--space", space, "--trials", "2", "--sampler", "random", "--seed", "0",
                     "--out", str(out), "--tensorboard", "--no-report", "--json", *SMALL, *extra])
        assert code == 0, capsys.readouterr().err
        result = json.loads(capsys.readouterr().out)
        assert result["stacked"] == (2 if mode == "stacked" else 0)
        runs = sorted(p.parent for p in (out / "tensorboard").rglob("events.out.tfevents.*"))
        assert [r.name for r in runs] == ["trial-0", "trial-1"], runs
        for run in runs:
            acc = EventAccumulator(str(run)).Reload()
            assert "loss/train" in acc.Tags()["scalars"] and acc.Scalars("loss/train")


def test_tensorboard_without_the_package_is_one_line(tmp_path, capsys, monkeypatch):
    from trainlab.cli.main import main
    from trainlab.diagnose import tensorboard

    monkeypatch.setattr(tensorboard, "available", lambda: False)
    code = main(["search", SPEC, "--space", _space(tmp_path, {"train.lr": {"log_uniform": [1e-3, 0.1]}}),
                 "--trials", "1", "--out", str(tmp_path / "o"), "--tensorboard", *SMALL])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "tensorboard" in err
