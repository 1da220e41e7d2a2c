"""DBN: greedy stacking, the MLP it initializes, the ``dbn`` initializer in specs (round trip,
pre-training logged in metrics.jsonl, loading a saved stack) and its one-line errors."""

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from trainlab.errors import ConfigError
from trainlab.nn import build
from trainlab.pretrain import DBN, RBM
from trainlab.pretrain.run import pretrain
from trainlab.train import resolve, train

X = torch.tensor(load_digits().data[:400] / 16.0, dtype=torch.float32)
SPEC = {"name": "t", "seed": 3, "device": "cpu", "data": {"name": "digits", "preprocess": "scale01", "n_train": 300},
        "model": {"mlp": {"hidden": [24, 12], "activation": "sigmoid", "init": {"dbn": {"epochs": 2, "lr": 0.05}}}},
        "train": {"optimizer": "sgd", "lr": 0.5, "epochs": 2, "batch_size": 50}}


def test_each_rbm_trains_on_the_previous_layers_probabilities():
    dbn = DBN(hidden=[16, 8], epochs=2, random_state=0).fit(X)
    first = RBM(16, epochs=2, random_state=0).fit(X)  # layer i is seeded random_state + i
    assert torch.equal(first.components_, dbn.rbms_[0].components_)
    second = RBM(8, epochs=2, random_state=1).fit(first.transform(X))
    assert torch.equal(second.components_, dbn.rbms_[1].components_)
    torch.testing.assert_close(dbn.transform(X), second.transform(first.transform(X)))


def test_initialized_mlp_activations_equal_stacked_transforms():
    dbn = DBN(hidden=[16, 8, 6], epochs=1, random_state=0).fit(X)
    net = dbn.to_network(n_outputs=10)
    acts = []
    hooks = [m.register_forward_hook(lambda m, i, o: acts.append(o)) for m in net.modules() if isinstance(m, nn.Sigmoid)]
    with torch.no_grad():
        net(X)
    for h in hooks:
        h.remove()
    assert len(acts) == 3
    for i, a in enumerate(acts):
        torch.testing.assert_close(a, dbn.transform(X, layers=i + 1))
    out = [m for m in net.modules() if isinstance(m, nn.Linear)][-1]
    assert out.weight.shape == (10, 6) and float(out.weight.detach().std()) < 0.02  # a fresh output layer


def test_dbn_state_resumes_mid_stack():
    straight = DBN(hidden=[12, 6], epochs=3, persistent=True, random_state=4).fit(X)
    saved = []
    DBN(hidden=[12, 6], epochs=3, persistent=True, random_state=4).fit(
        X, on_epoch=lambda d, r: saved.append(d.state_dict(current=r)))
    mid = saved[4]  # layer 2, epoch 2 of 3
    assert len(mid["rbms"]) == 1 and mid["current"]["epochs_done"] == 2
    resumed = DBN().load_state_dict(mid).fit(X)
    for a, b in zip(straight.rbms_, resumed.rbms_):
        assert torch.equal(a.components_, b.components_)


def test_dbn_init_round_trips_and_pretrains_in_a_run(tmp_path):
    run = train(resolve(SPEC), out=tmp_path / "run", progress=False)
    spec = run.spec["model"]
    assert spec["mlp"]["init"]["name"] == "dbn" and spec["mlp"]["init"]["epochs"] == 2
    torch.manual_seed(0)
    rebuilt = build(spec, (64,), 10)
    assert rebuilt.config() == spec
    assert sum(p.numel() for p in rebuilt.parameters()) == sum(p.numel() for p in run.model.parameters())
    lines = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    pre = [r for r in lines if r.get("phase") == "pretrain"]
    assert [(r["layer"], r["epoch"]) for r in pre] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert lines[:4] == pre and all("loss" in r for r in lines[4:])  # pre-training first, then fine-tuning


def test_pretrained_stack_loads_into_a_run_with_the_same_weights(tmp_path):
    """`trainlab pretrain` then `init: {dbn: {stack: DIR}}` equals pre-training inside the run."""
    result = pretrain(resolve(SPEC), out=tmp_path / "pre")
    assert [r["n_hidden"] for r in result["layers"]] == [24, 12]
    spec = resolve({**SPEC, "train": {**SPEC["train"], "epochs": 1}})
    inside = train(spec, out=tmp_path / "inside", progress=False).model
    spec["model"] = {"mlp": {**SPEC["model"]["mlp"], "init": {"dbn": {"stack": str(tmp_path / "pre")}}}}
    loaded = train(spec, out=tmp_path / "loaded", progress=False).model
    for (name, a), (_, b) in zip(inside.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name  # same init, so the same weights after the same fine-tuning


@pytest.mark.parametrize("mlp,match", [
    ({"hidden": [8], "activation": "relu"}, r"hidden layer 0 must be a dense layer followed by sigmoid.*'relu'"),
    ({"hidden": [8], "activation": "sigmoid", "init": {"dbn": {"k": 0}}}, r"initializer 'dbn': k must be an integer >= 1, got 0"),
    ({"hidden": [8], "activation": "sigmoid", "init": {"dbn": {"epochs": 1, "visible": "binary"}}},
     r"unknown visible 'binary'; valid visibles: bernoulli, gaussian"),
])
def test_dbn_init_errors(tmp_path, mlp, match):
    mlp = {"init": {"dbn": {"epochs": 1}}, **mlp}
    spec = resolve({**SPEC, "model": {"mlp": mlp}})
    with pytest.raises(ConfigError, match=match):
        train(spec, out=tmp_path / "run", progress=False)


def test_unscaled_data_is_named_with_its_range(tmp_path):
    spec = resolve({**SPEC, "data": {"name": "digits", "n_train": 300, "preprocess": "standardize"}})
    with pytest.raises(ConfigError, match=r"inputs in \[0, 1\], but the data ranges over \[-\d[.\d]*, \d+[.\d]*\].*"
                                          r"preprocess: scale01.*visible: gaussian"):
        train(spec, out=tmp_path / "run", progress=False)


def test_stack_with_other_hidden_sizes_is_refused(tmp_path):
    pretrain(resolve(SPEC), out=tmp_path / "pre")
    mlp = {"hidden": [24, 10], "activation": "sigmoid", "init": {"dbn": {"stack": str(tmp_path / "pre")}}}
    with pytest.raises(ConfigError, match=r"do not match the MLP's hidden layers \[\(64, 24\), \(24, 10\)\]"):
        train(resolve({**SPEC, "model": {"mlp": mlp}}), out=tmp_path / "run", progress=False)


def test_gaussian_visibles_on_standardized_data(tmp_path):
    spec = resolve({**SPEC, "data": {"name": "digits", "preprocess": "standardize", "n_train": 300},
                    "model": {"mlp": {"hidden": [16], "activation": "sigmoid",
                                      "init": {"dbn": {"epochs": 1, "lr": 0.01, "visible": "gaussian"}}}}})
    run = train(spec, out=tmp_path / "run", progress=False)
    assert np.isfinite(run.result["final"]["test_loss"])
