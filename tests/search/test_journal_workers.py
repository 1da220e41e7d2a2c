"""Several local worker processes sharing one study in the embedded JournalStorage (one file,
OUT/journal.log): one worker that trains a trial at a time, then, once it has told its first
trial, two stacked workers started together, all on the same --out and --study. (Started all
at once, the two stacked workers could finish the study before the third process had run a
trial: on a quiet machine they did, in one CI run of five.) The study reaches N finished
trials; every trial was run and told by exactly one worker (none lost, none counted twice);
the trials table lists each once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import optuna
import pytest
import yaml

from tests.conftest import ROOT
from tests.search.common import SPEC

N = 160  # ~10 s of one-at-a-time trials: the single worker cannot finish the study before the stacked ones start


@pytest.mark.slow
def test_workers_share_one_journal_file(tmp_path):
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 3}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(
        {"train.lr": {"log_uniform": [1e-3, 0.1]}, "train.weight_decay": {"log_uniform": [1e-6, 1e-2]}}))
    out = tmp_path / "search"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    def worker(k: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "trainlab", "search", str(tmp_path / "spec.yaml"), "--space",
             str(tmp_path / "space.yaml"), "--trials", str(N), "--sampler", "random", "--seed", str(k), "--study",
             "shared", "--out", str(out), "--no-report", "--json", *(["--no-stack"] if k == 2 else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    single = worker(2)
    head = []  # its stderr up to the first trial it told
    for line in single.stderr:
        head.append(line)
        if re.search(r"\] trial \d+ \(", line):
            break
    workers = [worker(0), worker(1), single]
    outs = [w.communicate(timeout=240) for w in workers]
    outs[2] = (outs[2][0], "".join(head) + outs[2][1])
    for w, (_, err) in zip(workers, outs):
        assert w.returncode == 0, err
    study = optuna.load_study(study_name="shared", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "journal.log"))))
    trials = study.get_trials(deepcopy=False)
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(len(trials)))  # one record per trial
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials), [t.state.name for t in trials]
    # every worker checks the count before each ask: workers asking together overshoot N by at most
    # one trial each (as with Optuna's MaxTrialsCallback)
    assert N <= len(trials) <= N + 2
    # who told which trial: each worker's progress lines; every trial by exactly one worker
    told = [set(map(int, re.findall(r"\] trial (\d+) \(", err))) for _, err in outs]
    print(f"\njournal workers: {len(trials)} trials; told by worker: {[len(s) for s in told]}")
    assert sum(len(s) for s in told) == len(trials) and set().union(*told) == set(numbers)
    assert sum(bool(s) for s in told) >= 2  # the study was shared, not run by one worker alone
    assert len({t.user_attrs["worker"] for t in trials}) == sum(bool(s) for s in told)  # every trial tagged
    modes = {t.user_attrs["trainlab"]["mode"] for t in trials}
    assert "single" in modes and any(m.startswith("stacked") for m in modes), modes
    table = json.loads((out / "trials.json").read_text())
    rows = table if isinstance(table, list) else table["trials"]
    assert sorted(r["trial"] for r in rows) == numbers
    last = max((json.loads(o) for o, _ in outs), key=lambda r: r["complete"])
    assert last["complete"] == len(trials) and last["failed"] == 0
