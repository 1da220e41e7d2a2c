"""`trainlab diagnose`, `trainlab check` and `trainlab lr-find` from the command line."""

import json

import pytest
import yaml

from tests.conftest import EXAMPLES
from trainlab.cli.main import main

SIGMOID = str(EXAMPLES / "diagnose_model.py") + ":deep_sigmoid"
RELU = str(EXAMPLES / "diagnose_model.py") + ":deep_relu"


def test_diagnose_json_on_the_example_model(tmp_path, capsys):
    out = tmp_path / "d"
    code = main(["diagnose", SIGMOID, "--data", "digits", "--steps", "60", "--out", str(out), "--json", "--strict"])
    d = json.loads(capsys.readouterr().out)
    assert code == 1  # --strict: the findings include errors
    assert set(d) >= {"findings", "checks", "layers"}
    kinds = {f["kind"] for f in d["findings"]}
    assert "vanishing_gradient" in kinds
    for f in d["findings"]:
        assert set(f) == {"kind", "severity", "layers", "evidence", "message", "fix"}
    assert d["checks"]["loss_at_init"]["passed"] is True and d["checks"]["overfit_small"]["passed"] is False
    assert [row["name"] for row in d["layers"]][:3] == ["body.0", "body.1", "body.2"]
    saved = json.loads((out / "diagnosis.json").read_text())
    assert saved["probes"]["records"] and saved["findings"] == d["findings"]
    for name in ("activations.png", "gradients.png", "updates.png", "lr_find.png"):
        assert (out / name).stat().st_size > 0


def test_diagnose_text_on_the_fixed_model_is_healthy(tmp_path, capsys):
    code = main(["diagnose", RELU, "--data", "digits", "--steps", "100", "--out", str(tmp_path / "d"), "--strict",
                 "--no-lr-find"])
    text = capsys.readouterr().out
    assert code == 0 and "findings: 0 (healthy)" in text and "ok   overfit_small" in text


def test_diagnose_run_spec_that_diverges_exits_1(tmp_path, capsys):
    spec = {"data": "digits", "model": {"mlp": {"hidden": 32, "depth": 2, "init": "he_normal"}},
            "train": {"optimizer": "sgd", "lr": 1e6, "batch_size": 64}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    code = main(["diagnose", str(path), "--steps", "50", "--out", str(tmp_path / "d"), "--no-checks", "--no-lr-find"])
    text = capsys.readouterr().out
    assert code == 1 and "ERROR   nonfinite" in text and "lr_too_high" in text


def test_check_and_lr_find_commands(tmp_path, capsys):
    assert main(["check", RELU, "--data", "digits", "--steps", "40", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert all(c["passed"] in (True, None) for c in checks.values()) and "nonfinite" in checks
    assert main(["check", SIGMOID, "--data", "digits", "--steps", "40", "--budget", "50"]) == 1
    assert "FAIL overfit_small" in capsys.readouterr().out
    assert main(["lr-find", RELU, "--data", "digits", "--out", str(tmp_path / "lr")]) == 0
    text = capsys.readouterr().out
    assert "suggested lr" in text and "too high" in text and (tmp_path / "lr" / "lr_find.png").exists()


@pytest.mark.parametrize("args,match", [
    (["diagnose", "examples/nope.py:f", "--data", "digits"], "no such file"),
    (["diagnose", SIGMOID, "--data", "digitz"], "unknown dataset 'digitz'"),
    (["diagnose", SIGMOID], "--data DATASET"),
    (["diagnose", SIGMOID, "--data", "digits", "--every", "0"], "every must be a positive integer"),
    (["lr-find", SIGMOID, "--data", "digits", "--start", "1", "--end", "0.1"], "start_lr"),
])
def test_user_mistakes_are_one_line_exit_2(args, match, capsys, tmp_path):
    assert main(args + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err and len(err.strip().splitlines()) == 1


def test_tensorboard_flag_writes_event_files(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    assert main(["diagnose", RELU, "--data", "digits", "--steps", "20", "--every", "5", "--no-checks",
                 "--no-lr-find", "--out", str(tmp_path / "d"), "--tensorboard"]) == 0
    assert list((tmp_path / "d" / "tensorboard").glob("events.out.tfevents.*"))


MODELS = "tests/diagnose/real_models.py"


def test_output_picks_the_logits_of_a_tuple_or_dict_model(capsys):
    assert main(["check", f"{MODELS}:tuple_net", "--data", "digits"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "returns a tuple of 2" in err and "--output" in err and len(err.splitlines()) == 1
    assert main(["check", f"{MODELS}:tuple_net", "--data", "digits", "--output", "5"]) == 2
    assert "--output 5" in (err := capsys.readouterr().err) and "valid: 0, 1" in err
    for target, key in (("tuple_net", "0"), ("dict_net", "logits")):
        assert main(["check", f"{MODELS}:{target}", "--data", "digits", "--output", key, "--steps", "20",
                     "--budget", "60", "--json"]) in (0, 1)
        checks = json.loads(capsys.readouterr().out)["checks"]
        assert checks["loss_at_init"]["passed"] is True and checks["nonfinite"]["passed"] is True


def test_tuple_output_through_diagnose_and_lr_find(tmp_path, capsys):
    assert main(["diagnose", f"{MODELS}:tuple_net", "--data", "digits", "--output", "0", "--steps", "20",
                 "--out", str(tmp_path / "d"), "--json", "--no-progress"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["checks"]["loss_at_init"]["passed"] is True and d["lr_find"]["lrs"]
    assert [row["name"] for row in d["layers"]][:2] == ["fc", "fc:relu"]  # the user's names, not a wrapper's
    assert main(["lr-find", f"{MODELS}:tuple_net", "--data", "digits", "--steps", "20",
                 "--out", str(tmp_path / "lr")]) == 2
    assert "returns a tuple of 2" in capsys.readouterr().err
    assert main(["lr-find", f"{MODELS}:tuple_net", "--data", "digits", "--output", "0", "--steps", "20",
                 "--out", str(tmp_path / "lr")]) == 0
    assert "suggested lr" in capsys.readouterr().out


def test_dict_input_model_is_fed_with_input_key(tmp_path, capsys):
    net = f"{MODELS}:dict_input_net"
    assert main(["check", net, "--data", "digits"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1  # no torch warning either
    assert "reads its input as a dict (key 'pixels')" in err and "--input pixels" in err
    assert main(["check", net, "--data", "digits", "--input", "image", "--output", "logits"]) == 2
    assert "reads key 'pixels'" in (err := capsys.readouterr().err) and "--input image" in err
    assert main(["check", net, "--data", "digits", "--input", "pixels"]) == 2  # then the dict it returns
    assert "--output KEY (e.g. --output logits)" in capsys.readouterr().err
    assert main(["check", net, "--data", "digits", "--input", "pixels", "--output", "logits", "--steps", "20",
                 "--budget", "60", "--json"]) in (0, 1)
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert checks["loss_at_init"]["passed"] is True and checks["input_independent"]["passed"] is True
    assert main(["diagnose", net, "--data", "digits", "--input", "pixels", "--output", "logits", "--steps", "20",
                 "--out", str(tmp_path / "d"), "--json", "--no-progress"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["training"]["steps"] == 20 and d["lr_find"]["lrs"] and "fc" in [r["name"] for r in d["layers"]]
    assert main(["lr-find", net, "--data", "digits", "--input", "pixels", "--output", "logits", "--steps", "20",
                 "--out", str(tmp_path / "lr")]) == 0
    assert main(["check", RELU, "--data", "digits", "--input", "x"]) == 2  # a model that takes a tensor
    assert "drop --input" in capsys.readouterr().err


def test_input_and_output_are_refused_for_a_spec(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"data": "digits", "model": {"mlp": {"hidden": 8, "depth": 1}}}))
    for flag in ("--input", "--output"):
        assert main(["check", str(spec), flag, "x"]) == 2
        err = capsys.readouterr().err
        assert f"error: {flag} x: a spec's model" in err and "package.module:callable" in err


def test_a_spec_asking_for_cuda_is_not_run_on_the_cpu(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the spec's device is honoured by running there")
    spec = {"data": "digits", "device": "cuda", "model": {"mlp": {"hidden": 16, "depth": 1}}, "train": {"lr": 0.01}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    for cmd in ("diagnose", "check", "lr-find"):
        assert main([cmd, str(path), "--out", str(tmp_path / cmd)]) == 2
        assert "'cuda' requested but CUDA is not available" in capsys.readouterr().err
    assert main(["check", str(path), "--device", "cpu", "--steps", "10", "--budget", "10"]) in (0, 1)
    assert main(["check", SIGMOID, "--data", "digits", "--device", "tpu"]) == 2
    assert "valid devices: auto, cpu, cuda" in capsys.readouterr().err


def test_data_dir_reaches_the_data_set(monkeypatch, tmp_path, capsys):
    from trainlab import data

    seen = []
    real = data.load
    monkeypatch.setattr(data, "load", lambda spec: seen.append(spec) or real(spec))
    assert main(["lr-find", RELU, "--data", "digits", "--data-dir", str(tmp_path), "--steps", "20",
                 "--out", str(tmp_path / "lr")]) == 0
    assert main(["check", RELU, "--data", "digits", "--data-dir", str(tmp_path), "--steps", "5", "--budget", "5"]) in (0, 1)
    assert main(["diagnose", RELU, "--data", "digits", "--data-dir", str(tmp_path), "--steps", "5", "--no-checks",
                 "--no-lr-find", "--out", str(tmp_path / "d")]) == 0
    assert seen == [{"name": "digits", "data_dir": str(tmp_path)}] * 3


def test_diagnose_shows_progress_through_each_phase(tmp_path, capsys):
    assert main(["diagnose", RELU, "--data", "digits", "--steps", "20", "--out", str(tmp_path / "d")]) == 0
    captured = capsys.readouterr()
    for line in ("diagnose: check 1/4: loss_at_init", "diagnose: LR range test", "diagnose: training: 20/20 steps",
                 "diagnose: check: input_independent"):
        assert line in captured.err
    assert "evaluated on 1,078 train / 359 val rows: the whole splits" in captured.out
    assert main(["diagnose", RELU, "--data", "digits", "--steps", "20", "--out", str(tmp_path / "e"),
                 "--no-progress", "--no-checks", "--no-lr-find"]) == 0
    assert capsys.readouterr().err == ""
