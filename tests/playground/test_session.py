"""One page's training without a server: real trainlab components, real training."""

import math

import pytest
import torch
import yaml

from trainlab.errors import ConfigError
from trainlab.nn.layers import Residual
from trainlab.playground import Session, preset_states
from trainlab.playground.frames import GRID, frame
from trainlab.playground.points import parse_csv
from trainlab.playground.specs import export
from trainlab.train.run import train
from trainlab.train.spec import resolve


def session(**changes):
    s = Session()
    s.apply(changes)
    return s


def test_spiral_tanh_learns_and_the_frame_has_every_picture():
    s = session(dataset="spiral", layers=[{"units": 8, "activation": "tanh", "init": "xavier"}] * 3,
                optimizer="adam", lr=0.01, features=["x1", "x2", "sin_x1", "sin_x2"])
    start = s.losses()[0]
    assert s.step(300) == 300
    f = frame(s)
    assert f["train_loss"] < 0.8 * start and f["step"] == 300
    assert f["output"]["kind"] == "binary" and f["output"]["size"] == GRID
    assert len(f["neurons"]) == 3 and all(len(n["scale"]) == 8 for n in f["neurons"])
    assert len(f["inputs"]["scale"]) == 4  # a map per input feature
    assert [len(w) for w in f["weights"]] == [8, 8, 8, 1] and len(f["weights"][0][0]) == 4
    rows = f["diagnostics"]["layers"]
    assert len(rows) == 4 and all(r["grad_norm"] > 0 for r in rows)


def test_same_seed_same_training():
    a, b = session(dataset="gauss", seed=5), session(dataset="gauss", seed=5)
    a.step(50), b.step(50)
    assert a.losses() == b.losses()
    c = session(dataset="gauss", seed=6)
    c.step(50)
    assert c.losses() != a.losses()


def test_optimizer_change_keeps_weights_structural_change_resets():
    s = session(dataset="circle")
    s.step(20)
    w = s.model.layers[0].weight.detach().clone()
    assert s.apply({"lr": 0.1, "optimizer": "adam"}) == "optimizer"
    assert s.step_count == 20 and torch.equal(s.model.layers[0].weight, w)
    assert s.apply({"layers": [{"units": 5, "residual": True, "batchnorm": True, "dropout": 0.2}]}) == "reset"
    assert s.step_count == 0 and isinstance(s.model.layers[0], Residual)


def test_a_change_that_cannot_be_built_leaves_the_session_alone():
    s = session(dataset="xor")
    s.step(5)
    with pytest.raises(ConfigError, match="at least 2 points"):
        s.apply({"dataset": "custom", "points": [[0.0, 0.0, 1]]})
    assert s.state["dataset"] == "xor" and s.step_count == 5


def test_three_classes_use_softmax():
    pts = [[-3 + i * 0.1, -3, 0] for i in range(5)] + [[3, -3 + i * 0.1, 1] for i in range(5)] + \
          [[i * 0.1, 3, 2] for i in range(5)]
    s = session(dataset="custom", points=pts, optimizer="adam", lr=0.03)
    assert s.loss_name == "cross_entropy" and s.n_out == 3
    s.step(100)
    assert frame(s)["output"]["kind"] == "multi"


def test_regression_and_l1():
    s = session(dataset="reg_plane", regularization="l1", reg_rate=0.001, optimizer="adam", lr=0.01)
    assert s.loss_name == "mse"
    first = s.losses()[0]
    s.step(200)
    assert s.losses()[0] < first and frame(s)["output"]["kind"] == "regression"


def test_divergence_stops_with_a_message():
    s = session(dataset="spiral", lr=10.0, optimizer="sgd", loss="mse",
                layers=[{"units": 16, "activation": "relu", "init": "uniform"}] * 6)
    s.playing = True
    s.step(500)
    assert s.diverged and "lower it" in s.diverged and not s.playing and s.step(5) == 0


def test_deep_sigmoid_diagnosis_names_the_vanishing_gradient():
    s = Session(preset_states()["xor_deep_sigmoid"]["state"])
    s.step(300)
    f = frame(s)
    rows = f["diagnostics"]["layers"]
    assert rows[0]["grad_first"] < 1e-3 * rows[-1]["grad_first"]
    assert "vanishing_gradient" in [x["kind"] for x in f["diagnostics"]["findings"]]
    assert abs(f["train_loss"] - math.log(2)) < 0.01


def test_export_is_a_spec_trainlab_accepts():
    s = session(dataset="spiral", features=["x1", "x2", "x1_x2"], regularization="l2", reg_rate=0.001,
                schedule="cosine", layers=[{"units": 6, "activation": "maxout", "init": "lsuv"}])
    out = export(s.state, s.points.task, 100)
    spec = resolve(yaml.safe_load(out["yaml"]))
    assert spec["data"]["preprocess"] == {"features": {"use": ["x1", "x2", "x1_x2"]}}
    assert spec["train"]["weight_decay"] == 0.001 and spec["train"]["schedule"] == "cosine"
    assert out["command"] == "trainlab train playground.yaml"
    assert any("60/20/20" in n for n in out["notes"]) and any("10,000 steps" in n for n in out["notes"])


def test_exported_spec_trains_in_trainlab(tmp_path):
    """Every per-layer choice at once: the export builds and trains through trainlab.train."""
    layers = [{"units": 6, "activation": "maxout", "init": "lsuv", "batchnorm": True},
              {"units": 5, "activation": "elu", "init": "orthogonal", "dropout": 0.2, "residual": True},
              {"units": 5, "activation": "tanh", "init": "normal_small", "residual": True}]
    s = session(dataset="reg_gauss", features=["x1", "x2", "x1_sq", "x2_sq"], layers=layers, output_init="lecun",
                optimizer="momentum", lr=0.01, schedule="warmup")
    s.step(30)
    run = train(resolve(yaml.safe_load(export(s.state, s.points.task, 30)["yaml"])), out=tmp_path / "run",
                progress=False)
    assert run.result["steps"] == 30 and math.isfinite(run.result["final"]["train_loss"])
    page_params = sum(p.numel() for p in s.model.parameters())
    assert page_params == sum(p.numel() for p in run.model.parameters())


def test_csv_is_parsed_as_data():
    assert parse_csv("x1,x2,label\n1,2,0\n-3.5,4e-1,1\n") == [[1.0, 2.0, 0], [-3.5, 0.4, 1]]
    for text, match in [("1,2,0\n1,2\n", "line 2: expected 3 columns"), ("1,2,0\n=1+1,2,1\n", "line 2: not numbers"),
                        ("1,2,0\n1,2,0.5\n", "class number"), ("1,2,0\n", "at least 2 rows"),
                        ("1,2,0\n1,inf,1\n", r"line 2\[1\]")]:
        with pytest.raises(ConfigError, match=match):
            parse_csv(text)


def test_rbm_pretraining_initializes_the_stack_and_then_trains():
    """Lecture 10's first answer, on the page: the hidden layers start from RBMs trained greedily
    on the points (not from their N(0, 0.01^2) draw), and the net then fine-tunes."""
    layers = [{"units": 6, "activation": "sigmoid", "init": "rbm"}] * 2
    s = session(dataset="circle", layers=layers, optimizer="adam", lr=0.03)
    w = s.model.to_torch().state_dict() if hasattr(s.model, "to_torch") else s.model.state_dict()
    first = next(v for k, v in w.items() if k.endswith("weight") and v.ndim == 2)
    assert first.std() > 0.05  # trained RBM weights, far from the 0.01 draw they started as
    assert s.step(1000) == 1000 and frame(s)["train_loss"] < 0.1  # fine-tuned: the circle is fitted
    layers = [item for item in export(s.state, s.points.task, 100)["spec"]["model"]["layers"] if "dense" in item]
    assert all("dbn" in item["dense"]["init"] for item in layers)  # the export pre-trains the same way


def test_rbm_needs_every_hidden_layer_and_sigmoid():
    s = session(dataset="circle")
    with pytest.raises(ConfigError, match="every hidden layer's init to rbm"):
        s.apply({"layers": [{"units": 4, "activation": "sigmoid", "init": "rbm"},
                            {"units": 4, "activation": "sigmoid", "init": "xavier"}]})
    with pytest.raises(ConfigError, match="sigmoid"):
        s.apply({"layers": [{"units": 4, "activation": "relu", "init": "rbm"}]})
