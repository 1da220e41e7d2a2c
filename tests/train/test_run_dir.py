"""--resume checks its folder before touching it: each damage the campaign tried is refused in one
line naming the file, and a refused resume leaves the folder byte for byte as it was."""

import os
import pickle
import shutil

import pytest
import torch
import yaml

from tests.cli.fuzz import snapshot
from trainlab.errors import ConfigError
from trainlab.train import load_file, resolve, resume, run_dir, train

SPEC = {"name": "r", "seed": 0, "data": {"name": "spiral", "n_samples": 60, "preprocess": "standardize"},
        "model": {"mlp": {"hidden": [8], "batchnorm": True}},
        "train": {"optimizer": "adam", "lr": 0.01, "steps": 4, "batch_size": 16, "checkpoint_every": 1, "log_every": 1}}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A run trained 4 steps, then set to 8 (so a resume has work to do)."""
    base = tmp_path_factory.mktemp("run")
    (base / "s.yaml").write_text(yaml.safe_dump(SPEC))
    run = base / "run"
    train(resolve(load_file(base / "s.yaml")), out=run, progress=False)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["train"]["steps"] = 8
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    return run


@pytest.fixture
def run(good, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(good, copy)
    return copy


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/trainlab-run-dir-pwned",))


def _other_arch(run):
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["model"]["mlp"]["hidden"] = [9]
    (run / "config.yaml").write_text(yaml.safe_dump(config))


def _replace(name, fn):
    def damage(run):
        p = run / name
        p.unlink()
        fn(p)
    return damage


DAMAGES = {
    "empty config": (lambda r: (r / "config.yaml").write_text(""), "config.yaml is not a trainlab run config"),
    "foreign config": (lambda r: (r / "config.yaml").write_text("services: {web: {image: nginx}}\n"),
                       "config.yaml is not a trainlab run config"),
    "python-tagged config": (lambda r: (r / "config.yaml").write_text("data: !!python/object/apply:os.system ['true']\n"),
                             "config.yaml: not valid YAML"),
    "invalid spec": (lambda r: (r / "config.yaml").write_text("data: xor\nmodel: {mlp: {hidden: [-3]}}\ntrain: {}\n"),
                     "cannot rebuild the run from config.yaml: model.mlp: hidden must be a positive integer"),
    "other architecture": (_other_arch, "checkpoints/last.pt does not fit the run in config.yaml"),
    "truncated checkpoint": (lambda r: (r / "checkpoints/last.pt").write_bytes((r / "checkpoints/last.pt").read_bytes()[:500]),
                             "checkpoints/last.pt: unreadable"),
    "crafted checkpoint": (lambda r: (r / "checkpoints/last.pt").write_bytes(pickle.dumps(Evil())),
                           "checkpoints/last.pt: refused: not a plain tensor file (Unsupported"),
    "foreign checkpoint": (lambda r: torch.save({"weights": torch.ones(2)}, r / "checkpoints/last.pt"),
                           "not a trainlab checkpoint ('model' missing"),
    "bad data order": (lambda r: torch.save({**torch.load(r / "checkpoints/last.pt", weights_only=True),
                                             "perm": torch.arange(5)}, r / "checkpoints/last.pt"),
                       "its data order is not a permutation of the 36 training rows"),
    "garbage preprocess.pt": (lambda r: (r / "preprocess.pt").write_bytes(b"\x00garbage" * 10),
                              "preprocess.pt: refused: not a plain tensor file (Unsupported operand 0)"),
    "foreign preprocess.pt": (lambda r: torch.save({"name": "nope", "params": {}}, r / "preprocess.pt"),
                              "preprocess.pt: unknown preprocessing 'nope'"),
    "config -> /dev/zero": (_replace("config.yaml", lambda p: p.symlink_to("/dev/zero")), "config.yaml: not a regular file"),
    "last.pt -> /dev/zero": (_replace("checkpoints/last.pt", lambda p: p.symlink_to("/dev/zero")), "not a regular file"),
    "metrics -> /dev/zero": (_replace("metrics.jsonl", lambda p: p.symlink_to("/dev/zero")), "metrics.jsonl: not a regular file"),
    "metrics is a folder": (_replace("metrics.jsonl", lambda p: p.mkdir()), "metrics.jsonl: is a folder, not a file"),
    "last.pt is a folder": (_replace("checkpoints/last.pt", lambda p: p.mkdir()), "last.pt: is a folder, not a file"),
    "config is a loop": (_replace("config.yaml", lambda p: p.symlink_to(p)), "config.yaml: a symbolic link loop"),
}


@pytest.mark.parametrize("name", list(DAMAGES))
def test_a_damaged_run_folder_is_refused_and_left_unchanged(run, name):
    damage, message = DAMAGES[name]
    damage(run)
    before = snapshot(run)
    with pytest.raises(ConfigError) as e:
        resume(run, progress=False)
    assert message in str(e.value) and str(run) in str(e.value) and "\n" not in str(e.value), str(e.value)
    assert snapshot(run) == before
    assert not os.path.exists("/tmp/trainlab-run-dir-pwned")


def test_garbage_in_metrics_jsonl_is_skipped_and_the_run_continues(run):
    good_rows = (run / "metrics.jsonl").read_text().splitlines()
    with open(run / "metrics.jsonl", "ab") as fh:
        fh.write(b'\xff\xfegarbage\n{"step": 99, "lo')  # a junk line, then a line a kill cut short
    resume(run, progress=False)
    rows = (run / "metrics.jsonl").read_text().splitlines()
    assert rows[:4] == good_rows and len(rows) == 8  # 4 kept, 4 new; nothing unreadable left


def test_check_returns_what_resume_needs(good):
    folder = run_dir.check(good)
    assert folder.spec["train"]["steps"] == 8 and folder.state["step"] == 4 and folder.fitted is not None
