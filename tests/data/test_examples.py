"""The real-data example specs (examples/real_data/, kept out of examples/*.yaml because those
are built by a test that has no data folder) resolve, build and train a few steps on files in
the real formats, and digits_mlp.yaml trains for real."""

import pytest

from tests.conftest import EXAMPLES
from tests.data import fakes
from trainlab.train import apply_overrides, load_file, resolve, train

REAL = sorted((EXAMPLES / "real_data").glob("*.yaml"))


def test_there_is_an_example_for_every_real_data_set():
    names = {resolve(load_file(p))["data"]["name"] for p in REAL}
    assert names == {"mnist", "fashion_mnist", "cifar10", "mnist1d"}


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_real_data_examples_train_a_few_steps(path, offline, tmp_path):
    fakes.write_offline_sets(offline)
    spec = resolve(load_file(path))
    small = {"mnist1d": ["data.n_samples=200"]}.get(spec["data"]["name"], ["data.n_val=20"])
    spec = apply_overrides(spec, small + ["train.steps=2", "train.batch_size=8"])
    run = train(spec, out=tmp_path / "run", progress=False)
    assert run.result["steps"] == 2


def test_digits_example_learns(tmp_path):
    run = train(resolve(load_file(EXAMPLES / "digits_mlp.yaml")), out=tmp_path / "run", progress=False)
    assert run.result["final"]["test_accuracy"] > 0.9
    assert (tmp_path / "run" / "preprocess.pt").exists()
