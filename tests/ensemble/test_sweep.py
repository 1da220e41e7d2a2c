"""sweep: member-wise settings share one stack, structural ones get a stack each; every row's
numbers are what separate runs give."""

import pytest

from trainlab.ensemble import sweep
from trainlab.errors import ConfigError

from .common import gauss, separate

SPEC = {"model": {"mlp": {"hidden": [8], "activation": "relu", "init": "he_normal"}},
        "train": {"optimizer": "adam", "lr": 0.01, "epochs": 2, "batch_size": 16}}


def test_grid_rows_and_stacks(monkeypatch):
    import trainlab.ensemble.sweeps as sweep_mod

    calls = []
    real = sweep_mod.train_members

    def counting(spec, ds, seeds, **kw):
        calls.append((spec["model"]["mlp"]["activation"], list(seeds), kw.get("hparams")))
        return real(spec, ds, seeds, **kw)

    monkeypatch.setattr(sweep_mod, "train_members", counting)
    ds = gauss()
    rows = sweep(SPEC, ds, seeds=[0, 1], grid={"model.mlp.activation": ["tanh", "relu"], "lr": [0.003, 0.03]},
                 split="test")
    assert len(rows) == 4 and len(calls) == 2  # 2 activations = 2 stacks of 2 lrs x 2 seeds
    assert calls[0] == ("tanh", [0, 1, 0, 1], {"lr": [0.003, 0.003, 0.03, 0.03]})
    row = next(r for r in rows if r["model.mlp.activation"] == "relu" and r["lr"] == 0.03)
    assert row["seeds"] == [0, 1] and row["metric"] == "test_accuracy" and row["mode"] == "stacked"
    spec = {"mlp": {**SPEC["model"]["mlp"], "activation": "relu"}}
    for seed, value in zip([0, 1], row["values"]):
        ref = separate(spec, ds, {**SPEC["train"], "lr": 0.03}, seed)
        assert value == pytest.approx(ref.evaluate(ds.test)["accuracy"], abs=1e-6)
    assert row["mean"] == pytest.approx(sum(row["values"]) / 2)


def test_init_scale_and_weight_decay_are_member_settings():
    rows = sweep(SPEC, gauss(), seeds=[0], grid={"init_scale": [0.5, 2.0], "weight_decay": [0.0, 0.1]})
    assert [(r["init_scale"], r["weight_decay"]) for r in rows] == [(0.5, 0.0), (0.5, 0.1), (2.0, 0.0), (2.0, 0.1)]
    assert all(r["std"] == 0.0 and len(r["values"]) == 1 for r in rows)


@pytest.mark.parametrize("grid,message", [
    ({"momentum": [0.9]}, "sweep: unknown grid key 'momentum'; use lr, weight_decay, init_scale or a dotted path"),
    ({"model.mlpp.activation": ["relu"]}, "sweep: grid key 'model.mlpp.activation': model has no 'mlpp'; valid keys: mlp"),
    ({"lr": []}, "sweep: grid['lr'] must be a non-empty list of values, got []"),
    ({"model.mlp.activation": ["relux"]}, "unknown activation 'relux'"),
])
def test_grid_mistakes(grid, message):
    with pytest.raises(ConfigError) as e:
        sweep(SPEC, gauss(), seeds=[0], grid=grid)
    assert message in str(e.value)
