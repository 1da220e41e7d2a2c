"""train_members: stacked when the architecture allows, the sequential fallback (same API, a
note saying why) otherwise; both give what separate runs give."""

import pytest
import torch

from trainlab import data
from trainlab.ensemble import NotStackable, train_members
from trainlab.errors import ConfigError

from .common import MLP, as64, float64, gauss, separate

SPEC = {"seed": 3, "model": MLP, "train": {"optimizer": "adam", "lr": 0.01, "epochs": 3, "batch_size": 16}}
LSTM = {"model": {"layers": [{"recurrent": {"hidden": 4}}, {"dense": "auto"}]},
        "train": {"optimizer": "adam", "lr": 0.01, "epochs": 2, "batch_size": 16}}


def test_stacked_by_default_and_equal_to_separate_runs():
    with float64():
        ds = as64(gauss())
        members = train_members(SPEC, ds, k=3)
        assert members.mode == "stacked" and members.seeds == [3, 4, 5]
        assert members.note == "stacked: 3 members trained as one batched computation"
        ev = members.evaluate(ds.test)
        for k, seed in enumerate(members.seeds):
            ref = separate(MLP, ds, SPEC["train"], seed)
            assert ev["accuracy"][k] == pytest.approx(ref.evaluate(ds.test)["accuracy"])
            torch.testing.assert_close(members.models()[k](ds.test.x), ref.model(ds.test.x))


def test_stacked_and_sequential_paths_agree():
    """With dropout and per-member RNG: both paths replay each member's own random stream."""
    spec = {**SPEC, "model": {"mlp": {"hidden": [16, 16], "dropout": 0.3, "init": "he_normal"}}}
    with float64():
        ds = as64(gauss())
        a = train_members(spec, ds, seeds=[0, 1], rng="per_model")
        b = train_members(spec, ds, seeds=[0, 1], stacked=False)
        assert b.mode == "sequential" and b.note == "trained one after another: stacked=False"
        torch.testing.assert_close(a.outputs(ds.test.x), b.outputs(ds.test.x))
        ea, eb = a.evaluate(ds.val), b.evaluate(ds.val)
        assert ea.keys() == eb.keys() and all(ea[k] == pytest.approx(eb[k]) for k in ea)


def test_what_cannot_stack_trains_sequentially_with_a_note():
    ds = data.load({"name": "remember_first", "n_samples": 80, "length": 6})
    members = train_members(LSTM, ds, k=2)
    assert members.mode == "sequential"
    assert members.note.startswith("trained one after another: model.layers[0] (Recurrent) has no stacked form")
    ev = members.evaluate(ds.test)
    assert len(ev["loss"]) == 2 and ev["loss"][0] != ev["loss"][1]  # two seeds, two members
    exact = 0 if members.trainer.device.type == "cpu" else 1e-6  # cuDNN's LSTM: not bitwise between runs
    for k in range(2):  # each member is exactly a separate run
        ref = separate(LSTM["model"], ds, LSTM["train"], k)
        assert ev["loss"][k] == pytest.approx(ref.evaluate(ds.test)["loss"], rel=exact, abs=0)
    assert members.probabilities(ds.test.x).shape == (2, len(ds.test), 2)
    with pytest.raises(NotStackable, match=r"model.layers\[0\] \(Recurrent\) has no stacked form"):
        train_members(LSTM, ds, k=2, stacked=True)


def test_sequential_fallback_takes_per_member_hyperparameters():
    ds = gauss()
    hp = {"lr": [0.001, 0.1]}
    a = train_members(SPEC, ds, seeds=[0, 1], hparams=hp)
    b = train_members(SPEC, ds, seeds=[0, 1], hparams=hp, stacked=False)
    torch.testing.assert_close(a.outputs(ds.val.x), b.outputs(ds.val.x), atol=1e-5, rtol=1e-4)
    assert [t.lr for t in b.trainer.trainers] == [0.001, 0.1]


def test_probabilities_per_loss():
    ds = gauss()
    ce = train_members(SPEC, ds, k=2).probabilities(ds.test.x)
    assert ce.shape == (2, len(ds.test), 2)
    torch.testing.assert_close(ce.sum(-1), torch.ones(2, len(ds.test)))
    bce_spec = {**SPEC, "train": {**SPEC["train"], "loss": "binary_cross_entropy"}}
    m = train_members(bce_spec, ds, k=2)
    p = m.probabilities(ds.test.x)
    assert p.shape == (2, len(ds.test), 2)
    torch.testing.assert_close(p[..., 1], torch.sigmoid(m.outputs(ds.test.x)[..., 0]))
    torch.testing.assert_close(p.sum(-1), torch.ones(2, len(ds.test)))


def test_summary_is_mean_and_sample_std():
    ds = gauss()
    members = train_members(SPEC, ds, k=3)
    s = members.summary(ds.test)
    acc = torch.tensor(members.evaluate(ds.test)["accuracy"], dtype=torch.float64)
    assert s["metric"] == "accuracy" and s["members"] == acc.tolist()
    assert s["mean"] == pytest.approx(acc.mean().item()) and s["std"] == pytest.approx(acc.std().item())


@pytest.mark.parametrize("kwargs,message", [
    ({}, "members: give seeds, or a number of members k >= 1, got k=None"),
    ({"k": 0}, "give seeds, or a number of members k >= 1, got k=0"),
    ({"seeds": [0, "a"]}, "seeds: expected a non-empty list of integers, got [0, 'a']"),
    ({"k": 2, "stacked": "yes"}, "stacked: expected auto, true or false, got 'yes'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError) as e:
        train_members(SPEC, gauss(), **kwargs)
    assert message in str(e.value)
