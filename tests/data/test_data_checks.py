"""Data that would fail or mislead mid-training is refused in one line before training starts:
a local mnist.pkl.gz that is not gzip, corrupt, cut short or holds arrays of the wrong size,
labels out of range, image and label counts that disagree; generated sets past the size limit."""

import gzip
import pickle

import numpy as np
import pytest
import torch

from trainlab import data
from trainlab.data.base import Dataset, Split
from trainlab.errors import ConfigError

from tests.data import fakes


def _pickle(parts) -> bytes:
    return gzip.compress(pickle.dumps(tuple(parts), protocol=4), mtime=0)


def _parts(n=(50, 20, 30)):
    out = []
    for i, k in enumerate(n):
        x, y = fakes.images_and_labels(k, (784,), i)
        out.append((x.astype(np.float32) / 256, y.astype(np.int64)))
    return out


def _broken(kind):
    good = fakes.mnist_pickle()
    parts = _parts()
    if kind == "not_gzip":
        return b"PK\x03\x04 this is a zip, not a gzip" + good[:100]
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "corrupt":
        return good[:20] + bytes(b ^ 0xFF for b in good[20:60]) + good[60:]
    if kind == "wrong_size":
        parts[0] = (parts[0][0][:, :700], parts[0][1])
    elif kind == "counts_differ":
        parts[1] = (parts[1][0], parts[1][1][:-3])
    elif kind == "labels_out_of_range":
        parts[2] = (parts[2][0], parts[2][1] + 10)
    elif kind == "not_three_pairs":
        parts = parts[:2]
    return _pickle(parts)


@pytest.mark.parametrize("kind, message", [
    ("not_gzip", "not a valid gzip file"),
    ("truncated", "not a valid gzip file"),
    ("corrupt", "not a valid gzip file"),
    ("wrong_size", "the train arrays are float32 (50, 700) images"),
    ("counts_differ", "the validation arrays are float32 (20, 784) images and int64 (17,) labels"),
    ("labels_out_of_range", "labels range over [10, 19], outside the 10 classes [0, 9]"),
    ("not_three_pairs", "expected ((x, y), (x, y), (x, y))"),
])
def test_a_broken_local_mnist_pickle_is_one_line_before_training(offline, kind, message):
    (offline / "mnist").mkdir(parents=True)
    (offline / "mnist" / "mnist.pkl.gz").write_bytes(_broken(kind))
    with pytest.raises(ConfigError) as e:
        data.load({"name": "mnist", "n_val": 20})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_the_well_formed_pickle_still_loads(offline):
    (offline / "mnist").mkdir(parents=True)
    (offline / "mnist" / "mnist.pkl.gz").write_bytes(fakes.mnist_pickle())
    ds = data.load({"name": "mnist", "n_val": 20})
    assert (len(ds.train), len(ds.val), len(ds.test)) == (50, 20, 30)


def _ds(x, y, n_classes=3):
    s = Split(x, y)
    return Dataset("mine", s, s, s, n_classes)


@pytest.mark.parametrize("x, y, n_classes, message", [
    (torch.zeros(5, 2), torch.tensor([0, 1, 2, 0]), 3, "5 inputs but 4 targets"),
    (torch.zeros(4, 2), torch.tensor([0, 1, 3, 0]), 3, "labels range over [0, 3], outside the 3 classes"),
    (torch.zeros(4, 2), torch.tensor([0, -1, 2, 0]), 3, "labels range over [-1, 2]"),
    (torch.zeros(4, 2), torch.tensor([0.0, 1.0, 2.0, 0.0]), 3, "class labels must be integers"),
    (torch.tensor([[0.0, float("nan")]] * 4), torch.tensor([0, 1, 2, 0]), 3, "inputs hold NaN or infinite values"),
    (torch.tensor([[0.5, 1.0], [2.0, -float("inf")], [0.0, 0.0], [1.0, 3.0]]), torch.tensor([0, 1, 2, 0]), 3,
     "inputs hold NaN or infinite values"),  # one value among finite ones (the check reads min and max)
    (torch.arange(40.0).reshape(4, 10).index_put_((torch.tensor(2), torch.tensor(7)), torch.tensor(float("nan"))),
     torch.tensor([0, 1, 2, 0]), 3, "inputs hold NaN or infinite values"),
    (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), 3, "is empty"),
    (torch.zeros(4, 2), torch.tensor([[float("inf")]] * 4), None, "targets hold NaN or infinite values"),
])
def test_data_check_refuses_what_would_fail_mid_training(x, y, n_classes, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        data.check(_ds(x, y, n_classes))


@pytest.mark.parametrize("spec, message", [
    ({"name": "spiral", "n_samples": 2**31}, "spiral: n_samples=2,147,483,648 makes 4,294,967,296 values in the generated data"),
    ({"name": "adding", "n_samples": 10**6, "length": 1000}, "over the limit of 200,000,000; if you mean it, raise the limit with TRAINLAB_MAX_DATA="),
    ({"name": "spiral", "seed": 0.5}, "dataset 'spiral': seed must be an integer, got 0.5"),
    ({"name": "mnist1d", "sequence": 3}, "dataset 'mnist1d': sequence must be true or false, got 3"),
])
def test_generated_sizes_and_kinds_are_checked_before_allocating(spec, message):
    with pytest.raises(ConfigError) as e:
        data.load(spec)
    assert message in str(e.value)


def test_the_data_limit_can_be_raised(monkeypatch):
    monkeypatch.setenv("TRAINLAB_MAX_DATA", "100")
    with pytest.raises(ConfigError, match="120 values in the generated data, over the limit of 100"):
        data.load({"name": "spiral", "n_samples": 60})
    monkeypatch.setenv("TRAINLAB_MAX_DATA", "120")
    assert len(data.load({"name": "spiral", "n_samples": 60}).train) == 36
