"""Synthetic data sets: shapes and dtypes, disjoint seeded splits, the lecture's XOR points,
class balance, argument checks, and the registry's errors."""

import pytest
import torch

from trainlab import data
from trainlab.errors import ConfigError

NAMES = ["xor", "circle", "xor_2d", "gauss", "spiral", "adding", "remember_first"]
SEEDED = [n for n in NAMES if n != "xor"]  # xor is the fixed 4-point set: no seed, no split
PLAYGROUND = ["circle", "xor_2d", "gauss", "spiral"]
SEQUENCES = ["adding", "remember_first"]
SMALL = {"n_samples": 200}  # keep the sequence sets quick where defaults are not the point


def splits(ds):
    return [ds.train, ds.val, ds.test]


def all_x(ds):
    return torch.cat([s.x for s in splits(ds)])


def all_y(ds):
    return torch.cat([s.y for s in splits(ds)])


def test_registry_holds_every_synthetic_dataset():
    assert set(NAMES) <= set(data.names())
    assert set(NAMES) <= set(data.DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_defaults_shapes_and_dtypes(name):
    ds = data.load(name)
    assert ds.name == name
    for s in splits(ds):
        assert s.x.dtype == torch.float32
        assert len(s.x) == len(s.y) > 0
        assert tuple(s.x.shape[1:]) == ds.input_shape
        assert torch.isfinite(s.x).all()
    if name in SEQUENCES:
        assert len(ds.input_shape) == 2  # (T, F)
        assert ds.input_shape == ((50, 2) if name == "adding" else (50, 1))
    else:
        assert ds.input_shape == (2,)
    if name == "adding":
        assert ds.n_classes is None and ds.task == "regression"
        for s in splits(ds):
            assert s.y.dtype == torch.float32 and s.y.shape == (len(s.x), 1)
    else:
        assert ds.n_classes == 2 and ds.task == "classification"
        for s in splits(ds):
            assert s.y.dtype == torch.int64 and s.y.ndim == 1
            assert int(s.y.min()) >= 0 and int(s.y.max()) < ds.n_classes


@pytest.mark.parametrize("name", SEEDED)
def test_split_sizes_sum_to_n_samples_60_20_20(name):
    ds = data.load(name)
    n = data.defaults(name)["n_samples"]
    assert len(ds.train) + len(ds.val) + len(ds.test) == n
    assert (len(ds.train), len(ds.val), len(ds.test)) == (round(0.6 * n), round(0.2 * n), round(0.2 * n))
    s = ds.summary()
    assert (s["n_train"], s["n_val"], s["n_test"]) == (len(ds.train), len(ds.val), len(ds.test))


def n_unique_rows(x):
    return len(torch.unique(x.flatten(1), dim=0))


@pytest.mark.parametrize("name", SEEDED)
def test_splits_are_disjoint(name):
    ds = data.load(name)
    # no row in two splits <=> the distinct rows of the union number the sum of each split's
    assert n_unique_rows(all_x(ds)) == sum(n_unique_rows(s.x) for s in splits(ds))
    # and no duplicate rows inside the set either
    assert n_unique_rows(all_x(ds)) == len(all_x(ds))


@pytest.mark.parametrize("name", SEEDED)
def test_same_seed_same_data_other_seed_differs(name):
    kw = SMALL if name in SEQUENCES else {}
    a = data.load({"name": name, **kw, "seed": 1})
    b = data.load({"name": name, **kw, "seed": 1})
    c = data.load({"name": name, **kw, "seed": 2})
    for sa, sb in zip(splits(a), splits(b)):
        assert torch.equal(sa.x, sb.x) and torch.equal(sa.y, sb.y)
    assert not torch.equal(a.train.x, c.train.x)
    assert a.params["seed"] == 1 and c.params["seed"] == 2


def test_default_seed_is_reproducible_across_loads():
    a, b = data.load("spiral"), data.load({"name": "spiral"})
    assert torch.equal(a.test.x, b.test.x) and torch.equal(a.test.y, b.test.y)


def test_xor_is_the_four_lecture_points():
    ds = data.load("xor")
    expected_x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    for s in splits(ds):  # trained and evaluated on the same 4 points
        assert torch.equal(s.x, expected_x)
        assert s.y.tolist() == [0, 1, 1, 0]
    assert ds.params == {}
    assert data.defaults("xor") == {}


@pytest.mark.parametrize("name", [n for n in SEEDED if n != "adding"])
def test_classes_roughly_balanced(name):
    ds = data.load(name)
    frac = all_y(ds).float().mean().item()
    assert 0.4 < frac < 0.6, f"{name}: class-1 fraction {frac:.3f}"
    if name in ("circle", "gauss", "spiral"):  # generated half and half
        assert all_y(ds).sum().item() == data.defaults(name)["n_samples"] // 2
    for s in splits(ds):
        assert 0.3 < s.y.float().mean().item() < 0.7


def test_xor_2d_labels_follow_quadrant_at_zero_noise():
    ds = data.load({"name": "xor_2d", "noise": 0.0})
    x, y = all_x(ds), all_y(ds)
    assert torch.equal(y, (x[:, 0] * x[:, 1] >= 0).long())
    assert (x.abs() >= 0.3).all()  # kept away from the axes


def test_circle_radii_at_zero_noise():
    ds = data.load({"name": "circle", "noise": 0.0})
    r, y = all_x(ds).norm(dim=1), all_y(ds)
    assert (r[y == 1] <= 2.5 + 1e-5).all()
    assert ((r[y == 0] >= 3.5 - 1e-5) & (r[y == 0] <= 5 + 1e-5)).all()


def test_gauss_blob_centres():
    ds = data.load({"name": "gauss", "n_samples": 2000, "noise": 0.0})
    x, y = all_x(ds), all_y(ds)
    assert torch.allclose(x[y == 1].mean(0), torch.tensor([2.0, 2.0]), atol=0.1)
    assert torch.allclose(x[y == 0].mean(0), torch.tensor([-2.0, -2.0]), atol=0.1)
    assert abs(x[y == 1].std().item() - 0.5) < 0.05  # std = 0.5 + 3.5 * noise


def test_adding_target_is_sum_of_two_marked_values():
    ds = data.load({"name": "adding", "n_samples": 100, "length": 10})
    for s in splits(ds):
        values, markers = s.x[..., 0], s.x[..., 1]  # (N, T)
        assert torch.equal(markers.sum(1), torch.full((len(s.x),), 2.0))
        assert (markers[:, :5].sum(1) == 1).all() and (markers[:, 5:].sum(1) == 1).all()
        assert torch.allclose((values * markers).sum(1, keepdim=True), s.y)


def test_remember_first_label_is_sign_of_first_step():
    ds = data.load({"name": "remember_first", "n_samples": 100, "length": 7})
    assert ds.input_shape == (7, 1)
    for s in splits(ds):
        assert torch.equal(s.y, (s.x[:, 0, 0] > 0).long())


@pytest.mark.parametrize("name", PLAYGROUND)
@pytest.mark.parametrize("noise", [-0.1, 1.5, "a", None, float("nan")])
def test_bad_noise_raises_naming_noise(name, noise):
    with pytest.raises(ConfigError, match=r"noise"):
        data.load({"name": name, "noise": noise})


def test_bool_noise_rejected():
    with pytest.raises(ConfigError, match=r"noise"):
        data.load({"name": "circle", "noise": True})


@pytest.mark.parametrize("name", PLAYGROUND + SEQUENCES)
@pytest.mark.parametrize("n_samples", [0, 9, -5, 10.5, "100", True])
def test_bad_n_samples_raises_naming_it(name, n_samples):
    with pytest.raises(ConfigError, match=r"n_samples"):
        data.load({"name": name, "n_samples": n_samples})


@pytest.mark.parametrize("name", SEQUENCES)
@pytest.mark.parametrize("length", [0, 1, 2.5, "50", False])
def test_bad_length_raises_naming_it(name, length):
    with pytest.raises(ConfigError, match=r"length"):
        data.load({"name": name, "n_samples": 20, "length": length})


@pytest.mark.parametrize("turns", [0, -1.0, "x"])
def test_spiral_bad_turns(turns):
    with pytest.raises(ConfigError, match=r"turns"):
        data.load({"name": "spiral", "turns": turns})


def test_boundary_values_accepted():
    assert len(all_x(data.load({"name": "circle", "n_samples": 10, "noise": 0}))) == 10
    assert len(all_x(data.load({"name": "circle", "n_samples": 10, "noise": 1}))) == 10
    assert data.load({"name": "adding", "n_samples": 10, "length": 2}).input_shape == (2, 2)


def test_unknown_argument_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown argument 'nois'.*n_samples, noise, seed"):
        data.load({"name": "circle", "nois": 0.2})
    with pytest.raises(ConfigError, match=r"unknown argument 'seed'"):
        data.load({"name": "xor", "seed": 1})


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ConfigError) as info:
        data.load("spirall")
    msg = str(info.value)
    assert "spirall" in msg and "did you mean 'spiral'" in msg
    for name in NAMES:
        assert name in msg
    with pytest.raises(ConfigError, match="valid datasets"):
        data.defaults("nope")


def test_spec_forms_are_equivalent():
    a = data.load({"name": "circle", "noise": 0.2})
    b = data.load({"circle": {"noise": 0.2}})
    assert torch.equal(a.train.x, b.train.x)
    assert a.params == b.params == {"n_samples": 500, "noise": 0.2, "seed": 0}


def test_defaults():
    assert data.defaults("spiral") == {"n_samples": 500, "noise": 0.1, "seed": 0, "turns": 1.75}
    assert data.defaults("circle") == {"n_samples": 500, "noise": 0.1, "seed": 0}
    assert data.defaults("adding") == {"n_samples": 2000, "length": 50, "seed": 0}
    # the defaults are exactly what a default load records as its parameters
    for name in SEEDED:
        if name not in SEQUENCES:
            assert data.load(name).params == data.defaults(name)


def test_split_indices_partition():
    tr, va, te = data.split_indices(101, (0.6, 0.2, 0.2), seed=3)
    assert sorted(torch.cat([tr, va, te]).tolist()) == list(range(101))
    assert (len(tr), len(va)) == (61, 20)
    again = data.split_indices(101, (0.6, 0.2, 0.2), seed=3)
    assert all(torch.equal(a, b) for a, b in zip((tr, va, te), again))
