"""The classes the fuzzing campaign found, one test each: values that passed validation and then
crashed in torch, file-system errors on user paths, run names that escape runs/. Each is one
line ``error: ...`` naming the bad value, exit status 2, and no run folder left behind."""

import os

import pytest
import yaml

from tests.conftest import run_cli
from trainlab.cli.main import main

BASE = {"name": "t", "seed": 0, "data": {"name": "spiral", "n_samples": 60},
        "model": {"mlp": {"hidden": [8], "activation": "relu"}},
        "train": {"optimizer": "adam", "lr": 0.01, "steps": 2}}


def _run(tmp_path, capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, err


def _spec(tmp_path, edit=None, text=None):
    path = tmp_path / "spec.yaml"
    if text is not None:
        path.write_text(text)
        return path
    spec = yaml.safe_load(yaml.safe_dump(BASE))
    if edit:
        edit(spec)
    path.write_text(yaml.safe_dump(spec, width=10**6))
    return path


def _set(path, value):
    def edit(spec):
        node = spec
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return edit


VALUES = [  # (where, value, what the one line must say)
    ("train.lr", float("nan"), "spec.train.lr: nan is not a finite number"),
    ("train.optimizer", {"name": "momentum", "momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("train.optimizer", {"name": "rmsprop", "alpha": -1}, "Invalid alpha value: -1"),
    ("train.optimizer", {"name": "adam", "amsgrad": 3}, "optimizer 'adam': amsgrad must be true or false, got 3"),
    ("train.optimizer", {"name": "adam", "betas": [0.9, 2.0]}, "betas must be two numbers in [0, 1), got [0.9, 2.0]"),
    ("train.optimizer", {"name": "adam", "betas": [0.9]}, "betas must be two numbers in [0, 1), got [0.9]"),
    ("model.mlp.init", {"constant": {"value": 1e300}}, "initializer 'constant': value cannot be converted to type float"),
    ("model.mlp.init", {"orthogonal": {"gain": 1e308}}, "initializer 'orthogonal': its arguments give NaN/inf weights"),
    ("seed", 2**64, "spec.seed: 18446744073709551616 does not fit a 64-bit integer"),
    ("seed", -1, "seed: expected an integer in [0, 2**63), got -1"),
    ("train.steps", 10**400, "spec.train.steps: 1000000000000000"),
    ("model.mlp.depth", "adam", "model.mlp: depth must be a positive integer, got 'adam'"),
    ("model.mlp.batchnorm", 3, "model.mlp: batchnorm must be true or false, got 3"),
    ("data.n_samples", 2**31, "spiral: n_samples=2,147,483,648 makes 4,294,967,296 values in the generated data"),
    ("model.mlp.hidden", [1_000_000, 1_000_000], "model.mlp[2] (dense): the model would have 1,000,004,000,000 model parameters (about 16,000.1 GB to train), "
                                                 "over the limit of 100,000,000; if you mean it, raise the limit with TRAINLAB_MAX_PARAMETERS="),
    ("train.grad_clip", float("nan"), "spec.train.grad_clip: nan is not a finite number"),
    ("train.weight_decay", float("inf"), "spec.train.weight_decay: inf is not a finite number"),
    ("model.mlp.activation", {"leaky_relu": {"slope": float("nan")}}, "spec.model.mlp.activation.leaky_relu.slope: nan"),
    ("train.schedule", {"one_cycle": {"max_lr": float("inf")}}, "spec.train.schedule.one_cycle.max_lr: inf"),
    ("train.schedule", {"exponential": {"gamma": 1e308}}, "schedule 'exponential': gamma must be a number in (0, 1], got 1e+308"),
    ("train.schedule", {"warmup": {"warmup_steps": 0.5}}, "warmup_steps must be a positive integer, got 0.5"),
    ("name", "../../x", "name: '../../x' cannot name a run folder under runs/"),
    ("name", "a/b", "name: 'a/b' cannot name a run folder under runs/"),
]


@pytest.mark.parametrize("where, value, message", VALUES, ids=[f"{w}={str(v)[:20]}" for w, v, _ in VALUES])
def test_bad_values_are_refused_up_front(tmp_path, capsys, where, value, message):
    out = tmp_path / "run"
    rc, err = _run(tmp_path, capsys, ["train", str(_spec(tmp_path, _set(where, value))), "--out", str(out)])
    assert rc == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert message in err, err
    assert not out.exists()  # refused before the run folder was made


def test_a_dense_net_on_sequences_is_refused_before_training(tmp_path, capsys):
    def edit(spec):
        spec["data"] = {"name": "remember_first", "n_samples": 40, "length": 5}
        spec["model"] = {"layers": [{"dense": 8}, "relu", {"dense": "auto"}]}  # dense acts per step

    spec = _spec(tmp_path, edit)
    rc, err = _run(tmp_path, capsys, ["train", str(spec), "--out", str(tmp_path / "run")])
    assert rc == 2 and "model: outputs shape (5, 2) per example, but cross_entropy on remember_first needs (2,)" in err
    assert "end with a recurrent block returning 'last', or flatten first" in err
    assert not (tmp_path / "run").exists()


def test_a_run_name_never_leaves_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = _spec(tmp_path, _set("name", "a..%2F x"))
    assert main(["train", str(spec), "--no-progress"]) == 0
    made = [p for p in (tmp_path / "runs").iterdir()]
    assert len(made) == 1 and made[0].name.startswith("a..%2F x-")  # a folder inside runs/, oddly named
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "spec.yaml"]


@pytest.mark.parametrize("kind, message", [
    ("file", "is a file, not a folder"),
    ("under_file", "which is a file, not a folder"),
    ("dangling", "a symbolic link to"),
    ("loop", "a symbolic link loop"),
    ("long", "a name in the path is too long"),
])
def test_bad_out_paths_are_one_line(tmp_path, capsys, kind, message):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    out = {"file": tmp_path / "a-file", "under_file": tmp_path / "a-file" / "run", "dangling": tmp_path / "dangling",
           "loop": tmp_path / "loop", "long": tmp_path / ("r" * 300)}[kind]
    rc, err = _run(tmp_path, capsys, ["train", str(_spec(tmp_path)), "--out", str(out)])
    assert rc == 2 and err.startswith(f"error: --out {out}") and message in err and len(err.splitlines()) == 1, err


def test_a_read_only_out_is_one_line(tmp_path, capsys, monkeypatch):
    """Root ignores file modes here, so the read-only file system is simulated where it bites:
    the first write into the run folder."""
    from trainlab import atomic

    def read_only(*a, **k):
        raise OSError(30, "Read-only file system", str(tmp_path / "run" / "config.yaml"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    rc, err = _run(tmp_path, capsys, ["train", str(_spec(tmp_path)), "--out", str(tmp_path / "run")])
    assert rc == 2 and err == f"error: {tmp_path / 'run' / 'config.yaml'}: the file system is read-only\n"


@pytest.mark.parametrize("text, message", [
    (b"data: spiral\nname: caf\xe9\n", "not UTF-8 text (line 2, byte 22"),
    (b"data: spiral\x00\n", "a NUL byte on line 1"),
    (b"[" * 5000 + b"]" * 5000, "nested more than 50 levels deep"),
])
def test_spec_files_that_are_not_clean_text_are_one_line(tmp_path, capsys, text, message):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(text)
    rc, err = _run(tmp_path, capsys, ["train", str(spec)])
    assert rc == 2 and f"error: spec {spec}: " in err and message in err and len(err.splitlines()) == 1, err


def test_a_spec_that_is_a_folder_or_a_device_is_one_line(tmp_path, capsys):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    for path, message in ((tmp_path, "is a folder, not a file"), (tmp_path / "zero.yaml", "not a regular file")):
        rc, err = _run(tmp_path, capsys, ["train", str(path)])
        assert rc == 2 and message in err and len(err.splitlines()) == 1, err


def test_argparse_errors_with_control_characters_stay_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["list", "activations", "\x0c\n\r"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.splitlines()) == 1 and "\\x0c\\n\\r" in err


def test_a_real_process_shows_no_traceback_for_an_alias_bomb(tmp_path):
    bomb = "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10) if p else '1, 2, 3, 4, 5, 6, 7, 8, 9, 10'}]\n"
                   for p, c in zip([None, "a", "b", "c", "d", "e", "f", "g"], "abcdefgh"))
    spec = tmp_path / "bomb.yaml"
    spec.write_text(bomb + "data: spiral\nmodel: {mlp: {hidden: *h}}\ntrain: {steps: 1}\n")
    proc = run_cli("train", str(spec), timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == f"error: spec {spec}: expands (through YAML aliases) to more than 100,000 values; refused\n"
    assert os.listdir(tmp_path) == ["bomb.yaml"]
