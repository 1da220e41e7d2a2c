"""Run directories: what ``train`` writes (config.yaml that rebuilds the model, metrics.jsonl,
checkpoints/last.pt, result.json), refusing to overwrite a run, ``resume``, and atomic writes."""

import json

import pytest
import torch
import yaml

from trainlab import data
from trainlab.errors import ConfigError
from trainlab.train import Callback, resolve, resume, train
from trainlab.train.checkpoint import atomic_write, write_json, write_yaml
from trainlab.train.run import build_model

FINAL_KEYS = {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy"}


def make_spec(**train_over):
    train_cfg = {"optimizer": "adam", "lr": 0.02, "epochs": 8, "batch_size": 16, **train_over}
    return resolve({"name": "tiny", "seed": 1, "device": "cpu",
                    "data": {"name": "gauss", "n_samples": 100, "noise": 0.4},
                    "model": {"mlp": {"hidden": [8], "activation": "tanh", "dropout": 0.2}},
                    "train": train_cfg})


@pytest.fixture
def spec():
    return make_spec()


@pytest.fixture
def run(spec, tmp_path):
    return train(spec, out=tmp_path / "run", progress=False)


class RaiseAt(Callback):
    order = 50  # after the Checkpointer

    def __init__(self, step):
        self.step = step

    def on_step_end(self, t):
        if t.step == self.step:
            raise RuntimeError("killed")


def read_metrics(directory):
    lines = (directory / "metrics.jsonl").read_text().splitlines()
    return [json.loads(ln) for ln in lines]


def without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# ---- what a run writes ------------------------------------------------------------------
def test_run_directory_layout(run):
    d = run.directory
    assert {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()} == {
        "config.yaml", "metrics.jsonl", "checkpoints/last.pt", "result.json"}


def test_config_yaml_is_the_resolved_spec_with_the_model_config(run, spec):
    config = yaml.safe_load((run.directory / "config.yaml").read_text())
    assert config == run.spec
    assert config["model"] == run.model.config()
    assert {k: v for k, v in config.items() if k != "model"} == {k: v for k, v in spec.items() if k != "model"}
    assert config["model"]["input"] == [2] and config["model"]["mlp"]["output"] == 2
    assert resolve(config) == config  # a written config is already resolved


def test_config_yaml_rebuilds_the_identical_model(run, spec):
    config = yaml.safe_load((run.directory / "config.yaml").read_text())
    ds = data.load(config["data"])
    a, b = build_model(spec, ds), build_model(config, ds)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    a.eval()
    b.eval()
    assert torch.equal(a(ds.test.x), b(ds.test.x))
    assert str(a) == str(b)


def test_build_model_is_seeded_by_the_spec(spec):
    ds = data.load(spec["data"])
    torch.manual_seed(123)
    a = build_model(spec, ds)
    b = build_model(spec, ds)
    c = build_model({**spec, "seed": 2}, ds)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters()))


def test_metrics_jsonl_one_object_per_logged_step(run):
    rows = read_metrics(run.directory)
    assert len(rows) == 8  # 60 samples / 16 -> 4 steps per epoch, logged once per epoch
    for row in rows:
        assert {"step", "epoch", "loss", "lr", "val_loss", "val_accuracy", "seconds"} <= set(row)
    assert [r["step"] for r in rows] == [4 * (i + 1) for i in range(8)]
    assert rows[-1]["step"] == run.result["steps"] == 32
    assert rows == run.trainer.history


def test_checkpoint_loads_weights_only(run):
    state = torch.load(run.directory / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 32
    model_state = run.model.state_dict()
    assert all(torch.equal(state["model"][k], model_state[k]) for k in model_state)
    assert state["history"] == run.trainer.history


def test_result_json(run):
    result = json.loads((run.directory / "result.json").read_text())
    assert result == run.result
    assert set(result["final"]) == FINAL_KEYS
    assert all(isinstance(v, float) for v in result["final"].values())
    for split in ("train", "val", "test"):
        assert 0 <= result["final"][f"{split}_accuracy"] <= 1
    assert result["final"]["test_accuracy"] > 0.7  # two well separated blobs
    assert (result["epochs"], result["steps"]) == (8, 32)
    assert result["seconds"] > 0
    assert result["parameters"] == sum(p.numel() for p in run.model.parameters())
    assert result["name"] == "tiny" and result["stopped"] is None and result["device"] == "cpu"
    assert result["data"]["n_train"] == 60 and result["data"]["noise"] == 0.4
    ds = data.load(run.spec["data"])
    assert result["final"]["test_loss"] == pytest.approx(run.trainer.evaluate(ds.test)["loss"])


def test_no_temp_files_left(run):
    assert not [p for p in run.directory.rglob("*") if p.name.endswith(".tmp")]


def test_train_twice_into_the_same_directory_is_refused(run, spec):
    before = snapshot(run.directory)
    with pytest.raises(ConfigError, match=r"already holds a run.*--resume"):
        train(spec, out=run.directory, progress=False)
    assert snapshot(run.directory) == before


def test_train_refused_when_only_result_exists(tmp_path, spec):
    (tmp_path / "result.json").write_text("{}")
    with pytest.raises(ConfigError, match="already holds a run"):
        train(spec, out=tmp_path, progress=False)


def test_training_is_reproducible_across_run_directories(tmp_path, spec):
    a = train(spec, out=tmp_path / "a", progress=False)
    b = train(spec, out=tmp_path / "b", progress=False)
    assert a.result["final"] == b.result["final"]
    assert without_seconds(read_metrics(a.directory)) == without_seconds(read_metrics(b.directory))


# ---- resume -----------------------------------------------------------------------------
def test_resume_finished_run_keeps_final_metrics(run):
    metrics_before = (run.directory / "metrics.jsonl").read_text()
    again = resume(run.directory, progress=False)
    assert again.result["final"] == run.result["final"]
    assert again.result["steps"] == run.result["steps"]
    assert (run.directory / "metrics.jsonl").read_text() == metrics_before
    assert json.loads((run.directory / "result.json").read_text())["final"] == run.result["final"]


@pytest.mark.parametrize("checkpoint_every,kill_at", [(None, 14), (7, 17)])
def test_resume_interrupted_run_matches_uninterrupted(tmp_path, checkpoint_every, kill_at):
    spec = make_spec(checkpoint_every=checkpoint_every)
    straight = train(spec, out=tmp_path / "straight", progress=False)
    with pytest.raises(RuntimeError, match="killed"):
        train(spec, out=tmp_path / "killed", progress=False, callbacks=[RaiseAt(kill_at)])
    assert not (tmp_path / "killed" / "result.json").exists()
    saved = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert saved == (12 if checkpoint_every is None else 14)
    resumed = resume(tmp_path / "killed", progress=False)
    assert resumed.result["final"] == straight.result["final"]
    assert resumed.result["steps"] == straight.result["steps"]
    s, r = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(s[k], r[k]) for k in s)
    assert without_seconds(read_metrics(resumed.directory)) == without_seconds(read_metrics(straight.directory))


def test_resume_run_that_never_checkpointed_starts_it(tmp_path, spec):
    straight = train(spec, out=tmp_path / "a", progress=False)
    with pytest.raises(RuntimeError):
        train(spec, out=tmp_path / "b", progress=False, callbacks=[RaiseAt(1)])  # before any checkpoint
    assert not (tmp_path / "b" / "checkpoints" / "last.pt").exists()
    resumed = resume(tmp_path / "b", progress=False)
    assert resumed.result["final"] == straight.result["final"]


def test_resume_removes_stale_temp_checkpoints(run):
    stale = run.directory / "checkpoints" / ".last.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    resume(run.directory, progress=False)
    assert not stale.exists()


def test_resume_without_a_run_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="missing config.yaml"):
        resume(tmp_path, progress=False)


def test_resume_finished_early_stopped_run_does_not_train_more(tmp_path):
    spec = make_spec(optimizer="sgd", lr=0.5, epochs=200, log_every=4,
                     early_stopping={"patience": 2, "min_delta": 1e9, "restore_best": False})
    run = train(spec, out=tmp_path / "run", progress=False)
    assert run.result["steps"] == 12 and run.result["stopped"].startswith("early stopping")
    lines = (run.directory / "metrics.jsonl").read_text()
    again = resume(run.directory, progress=False)
    assert again.result["steps"] == run.result["steps"]
    assert again.result["final"] == run.result["final"]
    assert (run.directory / "metrics.jsonl").read_text() == lines


# ---- atomic writes ----------------------------------------------------------------------
def test_atomic_write_writes_and_leaves_no_temp(tmp_path):
    path = tmp_path / "sub" / "f.bin"
    atomic_write(path, lambda fh: fh.write(b"hello"))
    assert path.read_bytes() == b"hello"
    assert [p.name for p in path.parent.iterdir()] == ["f.bin"]
    atomic_write(path, lambda fh: fh.write(b"bye"))
    assert path.read_bytes() == b"bye"
    assert [p.name for p in path.parent.iterdir()] == ["f.bin"]


def test_atomic_write_keeps_the_old_file_when_the_writer_raises(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("old")

    def writer(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, writer)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, lambda fh: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_write_failure_on_new_path_creates_nothing(tmp_path):
    with pytest.raises(ValueError):
        atomic_write(tmp_path / "new.txt", lambda fh: (_ for _ in ()).throw(ValueError("x")))
    assert list(tmp_path.iterdir()) == []


def test_write_json_and_yaml_round_trip(tmp_path):
    obj = {"a": [1, 2.5, None], "b": {"c": "d"}, "e": True}
    write_json(tmp_path / "x.json", obj)
    write_yaml(tmp_path / "x.yaml", obj)
    assert json.loads((tmp_path / "x.json").read_text()) == obj
    assert yaml.safe_load((tmp_path / "x.yaml").read_text()) == obj
    assert list((tmp_path / "x.yaml").read_text().splitlines())[0] == "a:"  # key order kept
