"""`trainlab ensemble SPEC --members K [--combine mean|vote|weighted] [--json]`."""

import json

import pytest
import torch
import yaml

from tests.conftest import run_cli
from trainlab.cli import ensemble_cmd
from trainlab.cli.main import main
from trainlab.ensemble import COMBINES, DATA_ORDERS


def _spec(tmp_path, model=None, data=None, **train):
    spec = {"name": "ens", "seed": 10, "data": data or {"name": "gauss", "n_samples": 200, "noise": 0.4},
            "model": model or {"mlp": {"hidden": [8], "activation": "relu", "init": "he_normal"}},
            "train": {"optimizer": "adam", "lr": 0.05, "epochs": 4, "batch_size": 40, **train}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_json_result(tmp_path, capsys):
    assert main(["ensemble", str(_spec(tmp_path)), "--members", "3", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["members"] == 3 and r["seeds"] == [10, 11, 12] and r["mode"] == "stacked"
    test = r["test"]
    assert test["combine"] == "mean" and len(test["members"]) == 3 and test["metric"] == "accuracy"
    assert test["member_mean"] == pytest.approx(sum(test["members"]) / 3)
    assert test["gain"] == pytest.approx(test["ensemble"] - test["member_mean"])
    assert r["steps"] == 4 * 3 and r["lecture_gain"] == "+2-5%" and r["data"]["name"] == "gauss"


@pytest.mark.parametrize("combine", ["vote", "weighted"])
def test_combines(tmp_path, capsys, combine):
    assert main(["ensemble", str(_spec(tmp_path)), "-k", "3", "--combine", combine, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["combine"] == combine and sum(r["test"]["weights"]) == pytest.approx(1.0)


def test_summary_table(tmp_path, capsys):
    assert main(["ensemble", str(_spec(tmp_path)), "--members", "2", "--set", "train.epochs=2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ensemble of 2 members of ens (stacked: 2 members trained as one batched computation)")
    assert out[1].split() == ["member", "seed", "test_accuracy"]
    assert out[2].split()[:2] == ["0", "10"] and out[3].split()[:2] == ["1", "11"]
    assert out[4].startswith("members  ") and "±" in out[4]
    assert out[5].startswith("ensemble ") and "(the lecture: +2-5%)" in out[5]


def test_recurrent_spec_trains_sequentially_and_says_why(tmp_path, capsys):
    spec = _spec(tmp_path, model={"layers": [{"recurrent": {"hidden": 4}}, {"dense": "auto"}]},
                 data={"name": "remember_first", "n_samples": 60, "length": 5}, epochs=1)
    assert main(["ensemble", str(spec), "--members", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["mode"] == "sequential" and "(Recurrent) has no stacked form" in r["note"]


def test_out_writes_members_that_load(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["ensemble", str(_spec(tmp_path)), "-k", "2", "--out", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert json.loads((out / "result.json").read_text())["test"] == r["test"]
    saved = torch.load(out / "members.pt", weights_only=True)
    assert saved["seeds"] == [10, 11] and len(saved["members"]) == 2
    assert yaml.safe_load((out / "config.yaml").read_text())["seed"] == 10
    assert main(["ensemble", str(_spec(tmp_path)), "-k", "2", "--out", str(out)]) == 2  # never overwritten
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["ensemble", "{spec}", "--members", "0"], "--members must be a positive integer, got 0"),
    (["ensemble", "{spec}", "--combine", "median"], "argument --combine: invalid choice: 'median'"),
    (["ensemble", "{spec}", "--set", "train.lrr=1"], "unknown key; valid train keys"),
    (["ensemble", "missing.yaml"], "spec file not found: missing.yaml"),
    (["ensemble", "{spec}", "--combine", "vote", "--set", "data.name=adding"],
     "combine: 'vote' needs classes; for regression use mean or weighted"),
])
def test_mistakes_are_one_line(argv, message, tmp_path, capsys):
    argv = [a.format(spec=_spec(tmp_path)) for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_cli_choices_match_the_library():
    assert ensemble_cmd.COMBINES == COMBINES and ensemble_cmd.DATA_ORDERS == DATA_ORDERS


def test_real_process(tmp_path):
    proc = run_cli("ensemble", str(_spec(tmp_path)), "--members", "2", "--set", "train.epochs=1", "--combine", "vote")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ensemble of 2 members") and "Traceback" not in proc.stderr


def test_diverged_members_are_left_out_of_the_ensemble(tmp_path, capsys, monkeypatch):
    from trainlab.ensemble import stacked_trainer

    real = stacked_trainer.StackedTrainer.__init__

    def one_wild_member(self, model, config=None, **kw):  # member 1 gets a learning rate that diverges
        lr = 0.05
        real(self, model, config, **{**kw, "hparams": {"lr": [lr, 1e6, lr]}})

    monkeypatch.setattr(stacked_trainer.StackedTrainer, "__init__", one_wild_member)
    spec = _spec(tmp_path, model={"mlp": {"hidden": [64, 64]}}, optimizer="sgd", lr=0.05, epochs=6)
    assert main(["ensemble", str(spec), "--members", "3", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["diverged"] == [11] and r["seeds"] == [10, 12] and r["members"] == 2
    assert r["test"]["ensemble"] == r["test"]["ensemble"]  # a number, not NaN
