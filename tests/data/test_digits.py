import torch

from trainlab import data


def test_digits_shapes_scaling_and_stratified_fixed_split():
    d = data.load("digits")
    assert d.input_shape == (64,) and d.n_classes == 10
    assert (len(d.train), len(d.val), len(d.test)) == (1078, 359, 360)
    x = torch.cat([d.train.x, d.val.x, d.test.x])
    assert x.dtype == torch.float32 and x.min() == 0 and x.max() == 1
    rows = lambda s: {tuple(r.tolist()) for r in s.x}  # noqa: E731
    assert not rows(d.train) & rows(d.test)
    overall = torch.bincount(torch.cat([d.train.y, d.val.y, d.test.y]), minlength=10).float()
    for split, frac in ((d.train, 0.6), (d.val, 0.2), (d.test, 0.2)):  # each class in proportion
        counts = torch.bincount(split.y, minlength=10).float()
        assert (counts - overall * frac).abs().max() <= 1
    again = data.load({"name": "digits"})
    assert torch.equal(again.train.x, d.train.x) and torch.equal(again.test.y, d.test.y)
    other = data.load({"name": "digits", "split_seed": 1})
    assert not torch.equal(other.train.y, d.train.y)


def test_digits_are_scikit_learns_load_digits_read_without_importing_scikit_learn():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    from trainlab.data.digits import _arrays

    pixels, labels = _arrays()
    bunch = load_digits()
    assert (pixels == bunch.data).all() and (labels == bunch.target).all() and labels.dtype == bunch.target.dtype
    code = ("import sys; from trainlab import data; d = data.load('digits'); "
            "print(len(d.train), 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1078", "False"]  # scikit-learn's import (~1.3 s) is not paid for its bundled file
