"""The CLI contract: machine-readable output, exit status 2 and one line for user mistakes."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT, run_cli
from trainlab import __version__
from trainlab.cli.list_cmd import KINDS, registries
from trainlab.cli.main import main


def test_version_and_python_m(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"trainlab {__version__}"
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"trainlab {__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["search", "--help"], ["diagnose", "--help"],
                                  ["train", "--bogus"], ["nosuchcommand"]])
def test_help_and_usage_mistakes_answer_without_importing_torch(argv):
    """Importing torch takes about a second: help and argparse's own errors must not wait for it."""
    code = ("import runpy, sys\nsys.argv = ['trainlab', *sys.argv[1:]]\ntry:\n"
            "    runpy.run_module('trainlab', run_name='__main__')\nexcept SystemExit as e:\n"
            "    sys.stderr.write(f'exit {e.code} torch {\"torch\" in sys.modules}\\n')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert r.stderr.strip().splitlines()[-1] == f"exit {0 if argv[-1] == '--help' else 2} torch False", r.stderr


def test_diagnose_help_states_the_default_eval_samples():
    from trainlab.cli.main import make_parser
    from trainlab.diagnose.phases import EVAL_SAMPLES

    sub = next(a for a in make_parser()._actions if a.dest == "command")
    assert f"(default {EVAL_SAMPLES};" in " ".join(sub.choices["diagnose"].format_help().split())


@pytest.mark.parametrize("kind", KINDS)
def test_list_json(kind, capsys):
    assert main(["list", kind, "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    assert names == registries()[kind].names() and len(names) >= 2


def test_list_has_the_issue_vocabulary(capsys):
    expected = {
        "activations": ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "very_leaky_relu", "prelu", "elu",
                        "selu", "gelu", "silu", "mish", "softplus", "hard_tanh", "maxout"],
        "initializers": ["zeros", "constant", "uniform", "normal", "truncated_normal", "xavier_uniform",
                         "xavier_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                         "orthogonal", "lsuv"],
        "blocks": ["dense", "activation", "dropout", "alpha_dropout", "batchnorm", "layernorm", "residual",
                   "parallel", "recurrent", "conv2d", "maxpool2d", "avgpool2d", "flatten", "maxout"],
        "optimizers": ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"],
        "schedules": ["step", "exponential", "cosine", "one_cycle", "warmup"],
        "datasets": ["xor", "circle", "xor_2d", "gauss", "spiral"],
    }
    for kind, names in expected.items():
        assert main(["list", kind, "--json"]) == 0
        got = json.loads(capsys.readouterr().out)
        assert set(names) <= set(got), (kind, set(names) - set(got))


def _spec(tmp_path, **train):
    spec = {"name": "t", "data": {"name": "gauss", "n_samples": 200},
            "model": {"mlp": {"hidden": [8], "activation": "relu", "init": "he_normal"}},
            "train": {"optimizer": "adam", "lr": 0.05, "epochs": 5, "batch_size": 50, **train}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_train_writes_run_dir_and_json_result(tmp_path, capsys):
    spec = _spec(tmp_path)
    out = tmp_path / "run"
    assert main(["train", str(spec), "--out", str(out), "--set", "train.epochs=3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 3 * 3 and result["epochs"] == 3
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_accuracy"):
        assert key in result["final"]
    assert json.loads((out / "result.json").read_text()) == result
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["train"]["epochs"] == 3 and config["data"]["noise"] == 0.1


def test_train_summary_is_short(tmp_path, capsys):
    assert main(["train", str(_spec(tmp_path)), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "test_accuracy" in out and len(out.splitlines()) <= 3


MISTAKES = [
    (["train", "missing.yaml"], "spec file not found: missing.yaml"),
    (["train", "{spec}", "--set", "train.lr=abc"], "train.lr: expected float | null, got 'abc'"),
    (["train", "{spec}", "--set", "train.lrr=1"], "unknown key; valid train keys: loss, optimizer, lr"),
    (["train", "{spec}", "--set", "model.mlp.activation=relux"], "unknown activation 'relux'"),
    (["train", "{spec}", "--set", "train.optimizer=adamm"], "unknown optimizer 'adamm'"),
    (["train", "{spec}", "--set", "data.name=mnistt"], "unknown dataset 'mnistt'"),
    (["train", "{spec}", "--set", "model.input=[3]"],
     "model.input: the spec declares (3,) but the data has input shape (2,)"),
    (["train", "{spec}", "--set", "train.epochs=0"], "train.epochs must be a positive integer, got 0"),
    (["train", "{spec}", "--device", "tpu"], "unknown device 'tpu'; valid devices: auto, cpu, cuda"),
    (["train"], "give a SPEC.yaml to train, or --resume RUN_DIR"),
    (["train", "--resume", "{tmp}/nowhere"], "no run there"),
    (["list", "colors"], "invalid choice: 'colors'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv,message", MISTAKES)
def test_user_mistakes_exit_2_with_one_line(argv, message, tmp_path, capsys):
    spec = _spec(tmp_path)
    argv = [a.format(spec=spec, tmp=tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own usage errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_mistake_in_a_real_process_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: xor\nmodel: {layers: [{conv2d: 4}]}\n")
    proc = run_cli("train", str(bad), "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: model.layers[0] (conv2d): conv2d expects input shape "
                                   "(channels, height, width); got (2,)")
    assert "Traceback" not in proc.stderr


def test_out_dir_holding_a_run_is_not_overwritten(tmp_path, capsys):
    spec, out = _spec(tmp_path), tmp_path / "run"
    assert main(["train", str(spec), "--out", str(out)]) == 0
    before = (out / "result.json").read_text()
    assert main(["train", str(spec), "--out", str(out)]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "result.json").read_text() == before


def test_divergence_exits_1_with_a_diagnosis(tmp_path, capsys):
    spec = _spec(tmp_path, optimizer="sgd", lr=1e6)
    assert main(["train", str(spec), "--out", str(tmp_path / "r"), "--set", "model.mlp.hidden=[64, 64]"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: training diverged") and "learning rate" in err


def test_examples_all_build(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "data"))  # generated data stays in tmp
    from trainlab import data as datasets
    from trainlab.train import load_file, resolve
    from trainlab.train.run import build_model

    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert len(examples) >= 7
    for path in examples:
        spec = resolve(load_file(path))
        model = build_model(spec, datasets.load(spec["data"]))
        assert sum(p.numel() for p in model.parameters()) > 0
