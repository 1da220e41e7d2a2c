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
    for split, n in ((d.train, 1078), (d.test, 360)):  # every class in proportion (±2 images)
        counts = torch.bincount(split.y, minlength=10).float()
        assert (counts - n / 10).abs().max() <= 3
    again = data.load({"name": "digits"})
    assert torch.equal(again.train.x, d.train.x) and torch.equal(again.test.y, d.test.y)
    other = data.load({"name": "digits", "split_seed": 1})
    assert not torch.equal(other.train.y, d.train.y)
