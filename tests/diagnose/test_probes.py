"""Probes on models trainlab did not build: a CNN with BatchNorm2d, an LSTM, a module with shared
weights; the numbers against hand computations; the sampling schedule; no hook left behind."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.diagnose import Probes, discover
from trainlab.errors import ConfigError
from trainlab.train import Callback, Trainer

from .common import LSTMNet, SharedNet, SmallCNN, digit_images, digits, forward_hook_count, mlp, probe_run, sequences


def test_cnn_with_batchnorm2d():
    net = SmallCNN()
    probes, _ = probe_run(net, digit_images(), steps=10, every=5)
    log = probes.log
    assert log.steps == [1, 5, 10]
    # every conv, norm and ReLU is watched (the parameter-free ReLUs too), in forward order
    assert log.act_order == ["features.0", "features.1", "features.2", "features.3", "features.4",
                             "features.5", "features.6", "head"]
    rec = log.records[-1]
    assert rec["acts"]["features.1"]["mean"] == pytest.approx(0.0, abs=0.05)  # BatchNorm2d output in training
    assert rec["acts"]["features.1"]["std"] == pytest.approx(1.0, abs=0.05)
    assert 0 <= rec["acts"]["features.2"]["dead"] < 0.5 and rec["acts"]["features.2"]["min"] == 0.0
    assert log.layers["features.1"]["type"] == "BatchNorm2d"
    assert log.param_order == ["features.0", "features.1", "features.4", "features.5", "head"]
    assert log.output_layer == "head" and rec["params"]["head"]["grad_rel"] == pytest.approx(1.0)
    for name in log.param_order:
        p = rec["params"][name]
        assert p["grad_norm"] > 0 and 0 < p["update_ratio"] < 1 and p["weight_norm"] > 0
    assert forward_hook_count(net) == 0


def test_lstm_outputs_and_saturation_rule():
    net = LSTMNet()
    probes, _ = probe_run(net, sequences(), steps=6, every=3, hist_every=3)
    rec = probes.log.records[-1]
    assert set(rec["acts"]) == {"lstm", "head"}
    assert probes.log.layers["lstm"]["rule"] == "tanh"
    lstm = rec["acts"]["lstm"]
    assert -1 <= lstm["min"] <= lstm["max"] <= 1 and 0 <= lstm["saturated"] <= 1
    assert math.isnan(lstm["dead"])  # dead units are a ReLU-family notion
    # all four LSTM parameter tensors are one layer
    assert probes.log.layers["lstm"]["params"] == sum(p.numel() for p in net.lstm.parameters())
    assert rec["params"]["lstm"]["grad_norm"] > 0


def test_shared_weights_counted_once_calls_recorded_each_time():
    net = SharedNet()
    probes, _ = probe_run(net, digits(), steps=2, every=1)
    rec = probes.log.records[-1]
    # one module run twice per forward: two records; the second registration name is not a layer
    assert {"block", "block#2", "act", "act#2", "act#3"} <= set(rec["acts"])
    names = [l.name for l in discover(net)]
    assert "also_block" not in names and names.count("block") == 1
    # the tied weight belongs to enc only; dec keeps just its bias
    assert probes.log.layers["dec"]["params"] == net.dec.bias.numel()
    assert probes.log.layers["enc"]["params"] == net.enc.weight.numel() + net.enc.bias.numel()
    total = sum(info["params"] for info in probes.log.layers.values())
    assert total == sum(p.numel() for p in net.parameters())  # parameters() dedups too
    assert "dec" not in rec["acts"]  # never called as a module


def test_numbers_match_a_hand_computation():
    """SGD: the update is lr * grad, so ||dW||/||W|| and the gradient statistics are checkable."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    probes = Probes(every=1).attach(net)
    w0 = [p.detach().clone() for p in net.parameters()]
    with torch.no_grad():
        h = net[0](x)
        r = torch.relu(h)
    probes.begin(1)
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    grads = [p.grad.clone() for p in net.parameters()]
    probes.after_backward()
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    rec = probes.end(1, loss)
    a = rec["acts"]
    assert a["0"]["mean"] == pytest.approx(h.mean().item(), rel=1e-5)
    assert a["0"]["std"] == pytest.approx(h.std().item(), rel=1e-5)
    assert (a["0"]["min"], a["0"]["max"]) == pytest.approx((h.min().item(), h.max().item()))
    assert a["1"]["dead"] == pytest.approx(((r > 0).sum(0) == 0).float().mean().item())
    g = torch.cat([grads[0].flatten(), grads[1].flatten()])
    p = rec["params"]["0"]
    assert p["grad_norm"] == pytest.approx(g.norm().item(), rel=1e-5)
    assert p["grad_std"] == pytest.approx(g.std(unbiased=False).item(), rel=1e-4)
    assert p["update_ratio"] == pytest.approx(0.1 * g.norm().item() / torch.cat([w.flatten() for w in w0[:2]]).norm().item(),
                                              rel=1e-4)
    assert p["weight_std"] == pytest.approx(w0[0].std(unbiased=False).item(), rel=1e-4)
    out_norm = torch.cat([grads[2].flatten(), grads[3].flatten()]).norm().item()
    assert p["grad_rel"] == pytest.approx(g.norm().item() / out_norm, rel=1e-5)
    assert rec["loss"] == pytest.approx(loss.item())


def test_row_spread_flags_identical_units():
    net = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.randn(1, 6).expand(5, 6))  # every unit the same incoming weights
    probes = Probes(every=1).attach(net)
    probes.begin(1)
    net(torch.randn(8, 6)).sum().backward()
    probes.after_backward()
    rec = probes.end(1)
    assert rec["params"]["0"]["row_spread"] == pytest.approx(0.0, abs=1e-6)
    assert 0.3 < rec["params"]["2"]["row_spread"] < 3  # random init: about 1


def test_sampling_schedule_and_no_hooks_between_samples():
    class Spy(Callback):
        order = 100  # after the probes armed (or not) their hooks

        def __init__(self):
            self.armed = []

        def on_batch_start(self, t):
            self.armed.append(forward_hook_count(t.model) > 0)

    spy = Spy()
    net = mlp(depth=2)
    probes = Probes(every=4, hist_every=8)
    Trainer(net, {"steps": 10, "batch_size": 64}, callbacks=[probes, spy], device="cpu").fit(digits().train, digits().val)
    assert probes.log.steps == [1, 4, 8, 10]  # first, every 4th, last
    assert spy.armed == [s in (1, 4, 8, 10) for s in range(1, 11)]
    assert [bool(r.get("hist")) for r in probes.log.records] == [True, False, True, False]
    assert forward_hook_count(net) == 0
    net(digits().val.x)  # nothing fires after the run: the log does not grow
    assert len(probes.log) == 4


def test_validation_passes_do_not_fire_the_probes():
    probes, trainer = probe_run(mlp(depth=2), digits(), steps=4, every=1, log_every=1)
    assert len(trainer.history) == 4 and "val_loss" in trainer.history[-1]
    assert all(set(r["acts"]) == {"layers.0", "layers.1", "layers.2", "layers.3", "layers.4"} for r in probes.log.records)


def test_histograms_follow_the_data_range():
    probes, _ = probe_run(mlp(depth=2), digits(), steps=2, every=1, hist_every=1)
    rec = probes.log.records[0]
    assert set(rec["hist"]) == set(rec["acts"])
    for key, counts in rec["hist"].items():
        width = 10 if key == "layers.4" else 64
        assert len(counts) == probes.bins
        assert sum(counts) == 32 * width  # every value of the (32, width) batch output lands in a bin
    lin = rec["acts"]["layers.0"]
    assert lin["min"] < 0 < lin["max"]  # negative values are part of the range


def test_hooks_removed_when_training_fails_mid_forward():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 10)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("boom")
            return self.fc(x)

    net = Boom()
    with pytest.raises(RuntimeError, match="boom"):
        Trainer(net, {"steps": 5, "batch_size": 64}, callbacks=[Probes(every=1)], device="cpu").fit(digits().train)
    assert forward_hook_count(net) == 0


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"every": 1.5}, {"every": 3, "hist_every": 10}, {"bins": 0}])
def test_probe_arguments_are_checked(kwargs):
    with pytest.raises(ConfigError, match="probes"):
        Probes(**kwargs)


def test_statistics_reduced_on_device_then_one_transfer(monkeypatch):
    """Every number of a sampled step reaches the CPU in a single .cpu() call."""
    calls = []
    real = torch.Tensor.cpu

    def spy(self, *a, **kw):
        calls.append(tuple(self.shape))
        return real(self, *a, **kw)

    net = mlp(depth=3)
    probes = Probes(every=1).attach(net)
    x, y = digits().train.x[:32], digits().train.y[:32]
    probes.begin(1)
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    probes.after_backward()
    monkeypatch.setattr(torch.Tensor, "cpu", spy)
    probes.end(1, loss)
    assert len(calls) == 1 and len(calls[0]) == 1
    assert np.isfinite(probes.log.records[0]["params"]["layers.0"]["grad_norm"])


class Functional(nn.Module):
    """Activations called as functions, plus one nn.ReLU module (which calls F.relu itself)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out, self.act = nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(32, 10), nn.ReLU()
        with torch.no_grad():
            self.fc2.bias.fill_(-5.0)  # pushes the sigmoid into its tail

    def forward(self, x):
        h = torch.nn.functional.relu(self.fc1(x))
        h = torch.sigmoid(self.fc2(h))
        return self.out(self.act(h).tanh())


def test_functional_activations_are_seen_once_and_the_mode_is_left():
    from torch.overrides import _get_current_function_mode_stack

    net = Functional()
    probes, _ = probe_run(net, digits(), steps=4, every=2, hist_every=2)
    rec = probes.log.records[-1]
    assert list(rec["acts"]) == ["fc1", "fc1:relu", "fc2", "fc2:sigmoid", "act", "act:tanh", "out"]  # no act:relu
    assert rec["acts"]["fc2:sigmoid"]["saturated"] == 1.0 and rec["acts"]["fc1:relu"]["min"] == 0.0
    assert 0 <= rec["acts"]["fc1:relu"]["dead"] < 1
    assert probes.log.layers["fc2:sigmoid"] == {"type": "sigmoid()", "rule": "sigmoid", "params": 0}
    assert _get_current_function_mode_stack() == [] and forward_hook_count(net) == 0
