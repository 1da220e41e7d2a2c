"""The non-finite guard: stops at the first NaN/inf loss with the step, the layer and the likely
cause; the weights stay finite; the last good checkpoint is kept; the CLI exits non-zero."""

import math

import pytest
import torch
from torch import nn

from trainlab.data import Split
from trainlab.errors import DivergenceError
from trainlab.train import Callback, Checkpointer, Trainer
from trainlab.train.checkpoint import load

from .common import digits, mlp


class Losses(Callback):
    def __init__(self):
        self.seen = []

    def on_after_backward(self, t):
        self.seen.append(t.step_loss.item())


def test_lr_1e6_stops_with_step_layer_and_cause(tmp_path):
    rec, ck = Losses(), Checkpointer(tmp_path, every=1)
    net = mlp(depth=3)
    with pytest.raises(DivergenceError) as info:
        Trainer(net, {"optimizer": "sgd", "lr": 1e6, "steps": 100, "batch_size": 64},
                callbacks=[rec, ck], device="cpu").fit(digits().train)
    e = info.value
    first_bad = next(i for i, v in enumerate(rec.seen, 1) if not math.isfinite(v))
    assert e.step == first_bad and e.step < 100  # the very step whose loss went non-finite
    msg = str(e)
    assert f"by step {e.step}" in msg and "lr 1e+06" in msg and "learning rate" in msg
    assert e.layer is not None and f"layer {e.layer}" in msg and e.layer in dict(net.named_modules())
    assert "overflowed" in e.cause
    # the update of the failing step was skipped: the weights are still finite
    assert all(torch.isfinite(p).all() for p in net.parameters())
    # the last good checkpoint is kept (never overwritten by a non-finite state) and named
    state = load(tmp_path / "last.pt")
    assert state["step"] == e.step - 1 and "last good checkpoint (step" in msg
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_nan_in_the_data_is_named_as_the_cause():
    d = digits()
    x = d.train.x.clone()
    x[5, 3] = math.nan
    with pytest.raises(DivergenceError, match="input batch itself contains NaN"):
        Trainer(mlp(depth=2), {"steps": 3}, device="cpu").fit(Split(x, d.train.y))


class Exploder(nn.Module):
    """Finite loss, but an inf gradient into fc1 at step 2 (a custom op with a broken backward):
    the update breaks fc1's weights, and step 3's loss is NaN."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 16), nn.Linear(16, 10)
        self.calls = 0

    def forward(self, x):
        self.calls += self.training  # training steps only
        h = self.fc1(x)
        if self.training and self.calls == 2:
            h = _InfGrad.apply(h)
        return self.fc2(torch.relu(h))


class _InfGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g * math.inf


def test_a_nonfinite_gradient_is_traced_to_the_parameter_it_broke():
    torch.manual_seed(0)
    with pytest.raises(DivergenceError) as info:
        Trainer(Exploder(), {"optimizer": "sgd", "lr": 0.1, "steps": 10, "batch_size": 64}, device="cpu").fit(digits().train)
    e = info.value
    assert e.step == 3 and e.layer == "fc1" and "fc1.weight" in e.cause and "already NaN/inf" in e.cause


def test_cli_exits_1_with_the_diagnosis(tmp_path, capsys):
    import yaml

    from trainlab.cli.main import main

    spec = {"name": "boom", "data": "digits", "model": {"mlp": {"hidden": 32, "depth": 2, "init": "he_normal"}},
            "train": {"optimizer": "sgd", "lr": 1e6, "steps": 50, "batch_size": 64}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: training diverged") and "layer" in err and len(err.splitlines()) == 1
