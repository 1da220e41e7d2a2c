"""The options every data set takes (n_train, preprocess, data_dir), applied once in data.load;
and their path through specs, --set overrides and run directories (preprocess.pt, resume)."""

import pytest
import torch

from trainlab import data
from trainlab.data import preprocess as pp
from trainlab.errors import ConfigError
from trainlab.train import apply_overrides, resolve, resume, train

from tests.data import fakes


def test_n_train_is_a_stratified_seeded_subsample_of_train_only():
    full = data.load("digits")
    ds = data.load({"name": "digits", "n_train": 100})
    assert len(ds.train) == 100 and len(ds.val) == len(full.val) and len(ds.test) == len(full.test)
    counts = torch.bincount(ds.train.y, minlength=10)
    share = torch.bincount(full.train.y, minlength=10) / len(full.train) * 100
    assert (counts - share).abs().max() < 1 and counts.sum() == 100  # largest-remainder quotas
    full_rows = {r.numpy().tobytes() for r in full.train.x}
    assert all(r.numpy().tobytes() in full_rows for r in ds.train.x)  # a subset of train
    again = data.load({"name": "digits", "n_train": 100})
    assert torch.equal(again.train.x, ds.train.x)  # seeded by the data set's split_seed
    other = data.load({"name": "digits", "n_train": 100, "split_seed": 1})
    assert not torch.equal(other.train.y, ds.train.y)


def test_n_train_tiny_for_overfitting_and_regression_sets():
    ds = data.load({"name": "digits", "n_train": 20})
    assert torch.bincount(ds.train.y, minlength=10).tolist() == [2] * 10
    reg = data.load({"name": "adding", "n_samples": 200, "n_train": 30})
    assert len(reg.train) == 30 and reg.n_classes is None


@pytest.mark.parametrize("n", [0, 1079, 2.5, True, "10"])
def test_bad_n_train(n):
    with pytest.raises(ConfigError, match=r"data.n_train: expected an integer in \[1, 1078\]"):
        data.load({"name": "digits", "n_train": n})


def test_unknown_argument_lists_generic_options_too():
    with pytest.raises(ConfigError, match="unknown argument 'n_trian'; valid arguments: split_seed, n_train, preprocess, data_dir"):
        data.load({"name": "digits", "n_trian": 3})


def test_preprocess_through_load_and_a_given_fitted_transform():
    ds = data.load({"name": "digits", "preprocess": "standardize"})
    assert isinstance(ds.transform, pp.Standardize) and ds.summary()["preprocess"] == "standardize"
    assert ds.train.x.mean(0).abs().max() < 1e-5
    other = pp.get("center").fit(torch.zeros(2, 64))  # a fitted state given explicitly wins (resume)
    raw = data.load("digits")
    ds2 = data.load({"name": "digits", "preprocess": "standardize"}, fitted=other)
    assert torch.equal(ds2.train.x, raw.train.x) and ds2.transform is other
    assert data.load({"name": "digits", "preprocess": "none"}).transform is None


def test_data_dir_is_accepted_everywhere_and_ignored_by_generated_sets(tmp_path):
    ds = data.load({"name": "spiral", "data_dir": str(tmp_path)})
    assert len(ds.train) == 300 and not any(tmp_path.iterdir())


def spec(**data_kw):
    return resolve({"name": "d", "data": {"name": "digits", **data_kw},
                    "model": {"mlp": {"hidden": [16], "activation": "relu"}},
                    "train": {"epochs": 2, "batch_size": 64}})


def test_set_overrides_accept_the_generic_keys():
    s = apply_overrides(spec(), ["data.preprocess=zca", "data.n_train=200", "data.data_dir=/tmp/x"])
    assert s["data"] == {"name": "digits", "split_seed": 0, "preprocess": "zca", "n_train": 200, "data_dir": "/tmp/x"}
    s = apply_overrides(spec(), ["data.preprocess={pca: {k: 10, whiten: true}}"])
    assert s["data"]["preprocess"] == {"pca": {"k": 10, "whiten": True}}
    with pytest.raises(ConfigError, match="unknown key 'n_trian'"):
        apply_overrides(spec(), ["data.n_trian=3"])


def test_a_run_saves_the_fitted_transform_and_resume_reuses_it(tmp_path):
    run = train(spec(preprocess={"pca": {"k": 20, "whiten": True}}, n_train=300), out=tmp_path / "r", progress=False)
    saved = pp.load(tmp_path / "r" / "preprocess.pt")
    assert isinstance(saved, pp.PCA) and saved.output_shape() == (20,)
    assert run.result["data"]["input_shape"] == [20] and run.result["data"]["n_train"] == 300
    # resume must use the saved state, not refit: replace it with a different fitted transform
    pp.save(pp.get("center").fit(data.load("digits").train.x), tmp_path / "r" / "preprocess.pt")
    with pytest.raises(Exception, match="64|20"):  # a (64,)-shaped input no longer fits the 20-input model
        resume(tmp_path / "r", progress=False)
    pp.save(saved, tmp_path / "r" / "preprocess.pt")
    again = resume(tmp_path / "r", progress=False)
    assert again.result["final"] == run.result["final"]


def test_every_data_set_trains_from_a_spec(offline, tmp_path):
    """Specs train on every data set (real formats from local folders, small sizes)."""
    fakes.write_offline_sets(offline)
    small = {"mnist": {"n_val": 20}, "fashion_mnist": {"n_val": 20}, "cifar10": {"n_val": 20},
             "mnist1d": {"n_samples": 200}, "adding": {"n_samples": 100, "length": 5},
             "remember_first": {"n_samples": 100, "length": 5}}
    for name in data.names():
        s = resolve({"name": name, "data": {"name": name, **small.get(name, {}), "preprocess": "center"},
                     "model": {"mlp": {"hidden": [8], "activation": "relu"}}, "train": {"steps": 3}})
        r = train(s, out=tmp_path / name, progress=False)
        assert r.result["steps"] == 3 and (tmp_path / name / "preprocess.pt").exists(), name
