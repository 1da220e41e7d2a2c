"""Optimizers by name: classes, default lrs, kwargs, that each one lowers the loss, and weight
decay on weights (ndim >= 2) only."""

import pytest
import torch

from trainlab import data
from trainlab.errors import ConfigError
from trainlab.train import OPTIMIZERS
from trainlab.train.optim import default_lr

from .common import BATCHNORM, Trainer, fit, gauss, net, weights


# ---- optimizers and weight decay ---------------------------------------------------------
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_lowers_the_loss(name):
    ds = gauss(100, 0.5)
    t = Trainer(net({"mlp": {"hidden": [8], "activation": "tanh"}}), {"optimizer": name, "lr": 10 * default_lr(name),
                                                                        "steps": 50})
    before = t.evaluate(ds.train)["loss"]
    t.fit(ds.train)
    after = t.evaluate(ds.train)["loss"]
    assert after < 0.75 * before, f"{name}: {before:.4f} -> {after:.4f}"


def test_optimizer_classes_and_default_lrs():
    expected = {"sgd": (torch.optim.SGD, 0.01), "momentum": (torch.optim.SGD, 0.01),
                "nesterov": (torch.optim.SGD, 0.01), "adagrad": (torch.optim.Adagrad, 0.01),
                "rmsprop": (torch.optim.RMSprop, 0.001), "adam": (torch.optim.Adam, 0.001),
                "adamw": (torch.optim.AdamW, 0.001)}
    assert list(OPTIMIZERS) == list(expected)
    for name, (cls, lr) in expected.items():
        t = Trainer(net(), {"optimizer": name})
        assert type(t.optimizer) is cls and t.lr == lr and t.optimizer.param_groups[0]["lr"] == lr
    t = Trainer(net(), {"optimizer": "nesterov"})
    assert t.optimizer.param_groups[0]["momentum"] == 0.9 and t.optimizer.param_groups[0]["nesterov"]


def test_optimizer_kwargs_and_errors():
    t = Trainer(net(), {"optimizer": {"name": "momentum", "momentum": 0.95}, "lr": 0.2})
    assert t.optimizer.param_groups[0]["momentum"] == 0.95 and t.optimizer.param_groups[0]["lr"] == 0.2
    with pytest.raises(ConfigError, match=r"unknown optimizer 'adamm'.*did you mean 'adam'"):
        Trainer(net(), {"optimizer": "adamm"})
    with pytest.raises(ConfigError, match="optimizer 'sgd'"):
        Trainer(net(), {"optimizer": {"name": "sgd", "betas": (0.9, 0.99)}})
    with pytest.raises(ConfigError, match="train.lr"):
        Trainer(net(), {"lr": -0.1})
    with pytest.raises(ConfigError, match="train.weight_decay"):
        Trainer(net(), {"weight_decay": -1.0})


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_weight_decay_only_on_weights(optimizer):
    model = net(BATCHNORM)
    t = Trainer(model, {"optimizer": optimizer, "weight_decay": 0.01})
    groups = t.optimizer.param_groups
    decayed = [p for g in groups if g["weight_decay"] > 0 for p in g["params"]]
    plain = [p for g in groups if g["weight_decay"] == 0 for p in g["params"]]
    assert {id(p) for p in decayed} == {id(p) for p in model.parameters() if p.ndim >= 2}
    assert {id(p) for p in plain} == {id(p) for p in model.parameters() if p.ndim < 2}
    assert all(g["weight_decay"] == 0.01 for g in groups if g["params"][0].ndim >= 2)
    assert len(decayed) == 2 and len(plain) == 4  # 2 Linear weights; 2 biases, BN weight and bias


def test_no_weight_decay_is_one_group_without_decay():
    model = net()
    t = Trainer(model, {"optimizer": "sgd"})
    assert len(t.optimizer.param_groups) == 1
    assert t.optimizer.param_groups[0]["weight_decay"] == 0
    assert len(t.optimizer.param_groups[0]["params"]) == len(list(model.parameters()))


def test_weight_decay_shrinks_the_trained_weight_norm():
    cfg = {"optimizer": "sgd", "lr": 0.1, "steps": 100}
    plain = fit(cfg).model
    decayed = fit({**cfg, "weight_decay": 0.1}).model

    def norm(model, weights_only):
        return sum(p.pow(2).sum() for p in model.parameters() if (p.ndim >= 2) == weights_only).sqrt().item()

    assert norm(decayed, True) < 0.9 * norm(plain, True)


def test_weight_decay_leaves_biases_of_a_zero_gradient_model_alone():
    # With a zero loss gradient, only the decay term moves parameters: W shrinks by (1 - lr*wd)
    # per SGD step, biases do not move.
    model = net()
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim < 2:
                p.fill_(0.5)
    before = weights(model)
    t = Trainer(model, {"optimizer": "sgd", "lr": 0.1, "weight_decay": 0.5, "steps": 1, "loss": "mse"},
                task="regression")
    ds = gauss()
    with torch.no_grad():
        target = model(ds.train.x).clone()  # mse against the model's own output: zero gradient
    t.fit(data.Split(ds.train.x, target))
    for name, p in model.state_dict().items():
        if p.ndim >= 2:
            assert torch.allclose(p, before[name] * (1 - 0.1 * 0.5))
        else:
            assert torch.equal(p, before[name])


def test_adamw_without_weight_decay_decays_nothing():
    from trainlab.nn.spec import build
    from trainlab.train import optim

    net = build({"mlp": {"hidden": [4]}}, (2,), 2)
    opt = optim.build("adamw", net, 1e-3, 0.0)
    assert all(g["weight_decay"] == 0.0 for g in opt.param_groups)


# ---- fused kernels -------------------------------------------------------------------------
def test_fused_kernel_where_torch_has_one_and_the_same_steps_as_the_default():
    """adam, adamw, sgd (+momentum, nesterov) and adagrad get torch's fused update on the CPU;
    rmsprop has none and builds as usual; ``foreach`` in the spec opts out. The fused update
    takes the same steps as torch's default one (float64, 20 steps)."""
    from trainlab.train import optim

    def build(spec, model):
        return optim.build(spec, model, 0.01)

    model = torch.nn.Linear(3, 2)
    for name in ("sgd", "momentum", "nesterov", "adagrad", "adam", "adamw"):
        assert build(name, model).defaults["fused"] is True, name
    assert not build("rmsprop", model).defaults.get("fused")
    assert not build({"name": "adam", "foreach": True}, model).defaults.get("fused")

    torch.manual_seed(0)
    x, y = torch.randn(32, 3, dtype=torch.float64), torch.randn(32, 2, dtype=torch.float64)
    for name in ("momentum", "adagrad", "adam", "adamw"):
        nets = [torch.nn.Linear(3, 2).double() for _ in range(2)]
        nets[1].load_state_dict(nets[0].state_dict())
        opts = [build(name, nets[0]), build({"name": name, "foreach": True}, nets[1])]
        assert opts[0].defaults["fused"] and not opts[1].defaults.get("fused")
        for _ in range(20):
            for m, o in zip(nets, opts):
                o.zero_grad()
                torch.nn.functional.mse_loss(m(x), y).backward()
                o.step()
        for a, b in zip(nets[0].parameters(), nets[1].parameters()):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_a_bad_optimizer_kwarg_is_still_a_one_line_error():
    from trainlab.train import optim

    with pytest.raises(ConfigError, match="optimizer 'adam'.*betaz"):
        optim.build({"name": "adam", "betaz": 0.9}, torch.nn.Linear(2, 1), 0.01)
