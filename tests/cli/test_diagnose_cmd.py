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
