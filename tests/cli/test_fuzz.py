"""Fuzz trainlab from the user's side, in-process: mutated specs, odd command lines, damaged run
folders. Each case must end with exit status 0, 1 or 2, no traceback, and a failure must be one
line ``error: ...``; a resume that fails must leave its folder byte for byte as it was.

The default suite runs EXAMPLES cases of each kind; tests/slow/test_fuzz_slow.py runs the same
properties over more than 1,000 cases. The pieces are in tests/cli/fuzz.py.
"""

import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli import fuzz
from trainlab.cli.main import main

EXAMPLES = {"specs": 80, "command_lines": 60, "run_folders": 60}
QUICK = settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def good_run(workdir):
    """A real run folder to damage: spiral, batch norm, standardize (so preprocess.pt exists),
    trained 4 steps with a checkpoint at each, then set to 8 steps (a resume trains 4 more)."""
    spec = workdir / "good.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "good", "seed": 0, "data": {"name": "spiral", "n_samples": 60, "preprocess": "standardize"},
        "model": {"mlp": {"hidden": [8], "batchnorm": True}},
        "train": {"optimizer": "adam", "lr": 0.01, "steps": 4, "batch_size": 16, "checkpoint_every": 1,
                  "log_every": 1}}))
    run = workdir / "good-run"
    assert main(["train", str(spec), "--out", str(run), "--no-progress"]) == 0
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["train"]["steps"] = 8
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    (run / "result.json").unlink()
    return run


def check_spec(workdir, case):
    damage, data = case
    spec = workdir / "spec.yaml"
    spec.write_bytes(data)
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    argv = ["train", str(spec), "--out", str(out), "--no-progress"]
    with fuzz.capped_runs():
        rc, _, err = fuzz.invoke(argv)
    fuzz.assert_clean(rc, err, (damage, data[:300]))


def draw_command_line(workdir, data) -> list[str]:
    """A fuzzed command line around the base spec, with odd paths in ``workdir``."""
    odd = fuzz.odd_paths(workdir)
    spec = workdir / "base.yaml"
    spec.write_text(yaml.safe_dump(fuzz.BASES[0]))
    return data.draw(fuzz.command_lines(str(spec), odd))


def check_command_line(workdir, argv):
    shutil.rmtree(workdir / "fresh-out", ignore_errors=True)
    with fuzz.capped_runs():
        rc, _, err = fuzz.invoke(argv)
    fuzz.assert_clean(rc, err, argv)


def check_run_folder(workdir, good_run, ops):
    run = workdir / "damaged"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(good_run, run, symlinks=True)
    fuzz.damage(run, ops)
    before = fuzz.snapshot(run)
    rc, _, err = fuzz.invoke(["train", "--resume", str(run), "--no-progress"])
    fuzz.assert_clean(rc, err, ops)
    if rc == 2:  # refused: nothing in the folder changed
        assert fuzz.snapshot(run) == before, (ops, err)
    assert not (workdir.parent / "trainlab-fuzz-pwned").exists()


@given(case=fuzz.mutated_specs())
@settings(QUICK, max_examples=EXAMPLES["specs"])
def test_mutated_specs_never_traceback(workdir, case):
    check_spec(workdir, case)


@given(data=st.data())
@settings(QUICK, max_examples=EXAMPLES["command_lines"])
def test_command_lines_never_traceback(workdir, data):
    check_command_line(workdir, draw_command_line(workdir, data))


@given(ops=fuzz.damages())
@settings(QUICK, max_examples=EXAMPLES["run_folders"])
def test_damaged_run_folders_never_traceback_and_stay_unchanged(workdir, good_run, ops):
    check_run_folder(workdir, good_run, ops)


def test_the_undamaged_run_folder_resumes(workdir, good_run):
    """The control: the folder the fuzz damages resumes cleanly when left alone."""
    check_run_folder(workdir, good_run, [])
    assert (workdir / "damaged" / "result.json").exists()
