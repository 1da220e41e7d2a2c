"""The real data sets from local folders (files in their real formats, made by the test):
shapes and dtypes, fixed and seeded splits that are disjoint, pixel scaling, the MNIST pickle,
checksum states, and MNIST-1D generated through the mnist1d package."""

import gzip
import random

import numpy as np
import pytest
import torch

from trainlab import data
from trainlab.data import catalog
from trainlab.data.idx import read_idx
from trainlab.errors import ConfigError

from tests.data import fakes


def rows(split):
    return {r.numpy().tobytes() for r in split.x.flatten(1)}


def assert_disjoint(ds):
    tr, va, te = rows(ds.train), rows(ds.val), rows(ds.test)
    assert not tr & va and not tr & te and not va & te
    assert len(tr) == len(ds.train)  # no duplicates either


@pytest.mark.parametrize("kind", ["mnist", "fashion_mnist"])
@pytest.mark.parametrize("gz, where", [(True, ""), (False, ""), (True, "sub")])
def test_idx_sets_from_a_local_folder(kind, gz, where, offline, messages):
    folder = offline / kind if where else offline
    files = fakes.write_idx_folder(folder, gz=gz, n_train=120, n_test=40)
    ds = data.load({"name": kind, "n_val": 20})
    assert ds.name == kind and ds.source == f"local folder {folder}"
    assert (len(ds.train), len(ds.val), len(ds.test)) == (100, 20, 40)
    assert ds.input_shape == (1, 28, 28) and ds.n_classes == 10 and len(ds.classes) == 10
    for s in (ds.train, ds.val, ds.test):
        assert s.x.dtype == torch.float32 and s.y.dtype == torch.int64
        assert 0 <= float(s.x.min()) and float(s.x.max()) <= 1
    # pixel k -> k / 255, and the canonical cut: val is the last n_val training images
    raw = read_idx(folder / ("train-images-idx3-ubyte" + (".gz" if gz else "")))
    assert torch.equal(ds.val.x[-1, 0], torch.from_numpy(raw[-1]).float() / 255)
    labels = np.frombuffer(gzip.decompress(files["train-labels-idx1-ubyte.gz"])[8:], np.uint8)
    assert ds.val.y.tolist() == labels[-20:].tolist()
    assert_disjoint(ds)
    assert any("not the published file" in m for m in messages)  # fixture bytes are not MNIST's
    assert set(catalog.status(kind)["files"].values()) == {"unverified"}


def test_seeded_stratified_val_split_is_fixed_and_depends_on_the_seed(offline):
    fakes.write_idx_folder(offline, n_train=200, n_test=20)
    a = data.load({"name": "fashion_mnist", "n_val": 50, "split_seed": 1})
    b = data.load({"name": "fashion_mnist", "n_val": 50, "split_seed": 1})
    c = data.load({"name": "fashion_mnist", "n_val": 50, "split_seed": 2})
    assert torch.equal(a.val.x, b.val.x) and torch.equal(a.train.y, b.train.y)
    assert not torch.equal(a.val.x, c.val.x)
    assert torch.bincount(a.val.y, minlength=10).tolist() == [5] * 10  # stratified: 20 of each of 10
    assert_disjoint(a)


def test_mnist_pickle_in_a_local_folder(offline):
    (offline / "mnist").mkdir(parents=True)
    (offline / "mnist" / "mnist.pkl.gz").write_bytes(fakes.mnist_pickle(n=(50, 20, 30)))
    ds = data.load({"name": "mnist", "n_val": 20})
    assert (len(ds.train), len(ds.val), len(ds.test)) == (50, 20, 30) and ds.input_shape == (1, 28, 28)
    # floats k/256 come back as bytes k, then k/255: the same tensors the IDX files give
    x, _ = fakes.images_and_labels(30, (784,), 2)
    assert torch.equal(ds.test.x.reshape(30, -1), torch.from_numpy(x).float() / 255)
    assert_disjoint(ds)


def test_decoded_cache_is_reused_and_keyed_by_the_sources(offline):
    fakes.write_idx_folder(offline, n_train=60, n_test=20)
    first = data.load({"name": "mnist", "n_val": 10})
    cached = list((offline / "mnist").glob(".decoded-*.npz"))
    assert len(cached) == 1
    fakes.write_idx_folder(offline, n_train=60, n_test=20, seed=5)  # new files: new key
    second = data.load({"name": "mnist", "n_val": 10})
    assert len(list((offline / "mnist").glob(".decoded-*.npz"))) == 2
    assert not torch.equal(first.train.x, second.train.x)


def test_cifar10_from_local_batches(offline):
    folder = fakes.write_cifar_folder(offline, 40)
    ds = data.load({"name": "cifar10", "n_val": 50})
    assert (len(ds.train), len(ds.val), len(ds.test)) == (150, 50, 40)
    assert ds.input_shape == (3, 32, 32) and ds.train.x.dtype == torch.float32 and ds.train.y.dtype == torch.int64
    # rows are 1024 R, 1024 G, 1024 B: channel c of image i is data[i, 1024c : 1024(c+1)]
    x, _ = fakes.images_and_labels(40, (3072,), 5)
    assert torch.equal(ds.test.x[3, 2].flatten(), torch.from_numpy(x[3, 2048:]).float() / 255)
    assert torch.bincount(ds.val.y, minlength=10).tolist() == [5] * 10
    assert_disjoint(ds)
    assert ds.source == f"local folder {folder}"


def test_cifar10_from_a_local_archive(offline):
    offline.mkdir(parents=True)
    (offline / "cifar-10-python.tar.gz").write_bytes(fakes.cifar_tar(fakes.cifar_files(20)))
    ds = data.load({"name": "cifar10", "n_val": 10})
    assert ds.source.startswith("local archive") and "unverified" in ds.source
    assert len(ds.test) == 20 and (offline / "cifar10" / "cifar-10-batches-py" / "test_batch").exists()


@pytest.mark.parametrize("spec, message", [
    ({"name": "mnist", "n_val": 0}, r"n_val must be an integer in \[1, 59999\]"),
    ({"name": "mnist", "n_val": 500}, "n_val must be below the 120 training images"),
    ({"name": "cifar10", "n_val": -1}, "n_val must be a positive integer"),
    ({"name": "mnist", "data_dir": 3}, "data_dir: expected a folder path"),
])
def test_bad_parameters_are_one_line_errors(offline, spec, message):
    fakes.write_idx_folder(offline, n_train=120, n_test=20)
    with pytest.raises(ConfigError, match=message) as e:
        data.load(spec)
    assert "\n" not in str(e.value)


def test_mnist1d_generated_locally_cached_and_global_rng_untouched(offline, messages):
    np.random.seed(123)
    random.seed(123)
    before = (np.random.random(), random.random())
    np.random.seed(123)
    random.seed(123)
    ds = data.load({"name": "mnist1d", "n_samples": 500})
    assert (np.random.random(), random.random()) == before  # make_dataset's set_seed was undone
    assert (len(ds.train), len(ds.val), len(ds.test)) == (320, 80, 100)
    assert ds.input_shape == (40,) and ds.n_classes == 10 and ds.train.x.dtype == torch.float32
    pool = torch.bincount(torch.cat([ds.train.y, ds.val.y]), minlength=10).float()
    assert (torch.bincount(ds.val.y, minlength=10) - 0.2 * pool).abs().max() < 1  # stratified
    assert (offline / "mnist1d" / "mnist1d-n500-seed42.npz").exists() and any("generating" in m for m in messages)
    again = data.load({"name": "mnist1d", "n_samples": 500, "sequence": True})
    assert again.input_shape == (40, 1) and torch.equal(again.train.x.squeeze(-1), ds.train.x)
    assert sum("generating" in m for m in messages) == 1  # the second load read the cache
    other = data.load({"name": "mnist1d", "n_samples": 500, "seed": 7})
    assert not torch.equal(other.test.x, ds.test.x)
    assert_disjoint(ds)


def test_mnist1d_matches_the_package_directly(offline):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = 300
    ref = make_dataset(args)
    ds = data.load({"name": "mnist1d", "n_samples": 300})
    np.testing.assert_allclose(ds.test.x.numpy(), ref["x_test"].astype(np.float32))
    assert ds.test.y.tolist() == ref["y_test"].tolist()


FIXTURE_FREE = ["xor", "circle", "xor_2d", "gauss", "spiral", "adding", "remember_first", "digits"]


@pytest.mark.parametrize("name", data.names())
def test_every_registered_data_set_has_shapes_dtypes_and_disjoint_splits(name, offline):
    fakes.write_offline_sets(offline)
    small = {"mnist": {"n_val": 20}, "fashion_mnist": {"n_val": 20}, "cifar10": {"n_val": 20},
             "mnist1d": {"n_samples": 200}, "adding": {"n_samples": 200}, "remember_first": {"n_samples": 200}}
    ds = data.load({"name": name, **small.get(name, {})})
    for s in (ds.train, ds.val, ds.test):
        assert s.x.dtype == torch.float32 and len(s) > 0 and tuple(s.x.shape[1:]) == ds.input_shape
        assert s.y.dtype == (torch.float32 if ds.n_classes is None else torch.int64)
    assert len(ds.input_shape) in (1, 2, 3)
    if name != "xor":  # xor trains and evaluates on the same 4 points, by design
        assert_disjoint(ds)
    assert isinstance(ds.summary()["source"], str)
