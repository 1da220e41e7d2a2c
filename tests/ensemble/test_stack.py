"""StackedModel: members built from a spec equal separate builds, members go in and out,
architectures that cannot stack say which module and why, inputs are checked."""

import pytest
import torch
from torch import nn

from trainlab import data
from trainlab.ensemble import NotStackable, StackedModel, build_members, stackable
from trainlab.errors import ConfigError
from trainlab.nn import build
from trainlab.train import load_file, resolve, seed_everything
from trainlab.train.run import build_model

from tests.conftest import EXAMPLES

from .common import MLP


def test_members_start_where_separate_runs_start():
    seeds = [3, 7, 11]
    stack = StackedModel.from_spec(MLP, (2,), 2, seeds)
    for k, s in enumerate(seeds):
        seed_everything(s)
        ref = build(MLP, (2,), 2).state_dict()
        got = stack.member_state(k)
        assert got.keys() == ref.keys() and all(torch.equal(got[n], ref[n]) for n in ref)
    assert stack.seeds == seeds and stack.k == 3


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_stacks_or_says_why(path):
    spec = resolve(load_file(path))
    ds = data.load(spec["data"])
    model = build_model(spec, ds)
    reason = stackable(model)
    if any(type(m).__name__ == "Recurrent" for m in model.modules()):
        assert reason is not None and "(Recurrent) has no stacked form" in reason
        assert reason.startswith("model.layers[0]")
        return
    assert reason is None
    n_out = model.output_shape[-1]
    stack = StackedModel.from_spec(spec["model"], ds.input_shape, n_out, [0, 1])
    x = ds.val.x[:16]
    out = stack.predict(x)
    for k in range(2):
        seed_everything(k)
        ref = build(spec["model"], ds.input_shape, n_out).eval()
        torch.testing.assert_close(out[k], ref(x), atol=1e-5, rtol=1e-5)


def test_member_round_trip_and_config():
    stack = StackedModel.from_spec(MLP, (2,), 2, [0, 1, 2])
    x = torch.randn(10, 2)
    m1 = stack.member(1)
    assert m1.config() == stack.config() and m1.config()["mlp"]["hidden"] == [16, 16]
    torch.testing.assert_close(m1(x), stack(x)[1])
    with torch.no_grad():  # a change to the copy does not touch the stack ...
        next(m1.parameters()).add_(1.0)
    assert not torch.allclose(m1(x), stack(x)[1])
    stack.load_member(2, m1)  # ... until it is written into a slot
    torch.testing.assert_close(stack(x)[2], m1(x))
    torch.testing.assert_close(stack(x)[0], stack.member(0)(x))
    with pytest.raises(ConfigError, match=r"member 3 out of range; this stack has members 0..2"):
        stack.member(3)


def test_init_scale_multiplies_each_members_weights_not_biases():
    spec = {"mlp": {"hidden": [8], "bias_init": {"constant": {"value": 0.1}}}}
    (a, b), _ = build_members(spec, (2,), 2, [0, 0], init_scale=[1.0, 3.0])
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(q, p * (3.0 if p.dim() >= 2 else 1.0), msg=name)
    with pytest.raises(ConfigError, match=r"init_scale: expected a list of 2 numbers"):
        build_members(spec, (2,), 2, [0, 1], init_scale=[1.0])
    with pytest.raises(ConfigError, match=r"init_scale: every value must be a positive number, got -1"):
        build_members(spec, (2,), 2, [0, 1], init_scale=[1.0, -1])


def test_lsuv_runs_per_member_on_the_given_rows():
    spec = {"mlp": {"hidden": [32, 32], "activation": "tanh", "init": "lsuv"}}
    x = torch.randn(300, 5)
    mods, _ = build_members(spec, (5,), 2, [0, 1], data_init_x=x)
    h = mods[0].layers[0](x)  # LSUV: the first layer's output has variance ~1 on these rows
    assert h.var().item() == pytest.approx(1.0, abs=0.1)


def test_dbn_members_pretrain_on_all_given_rows_as_a_separate_run_does():
    spec = {"mlp": {"hidden": [6], "activation": "sigmoid", "init": {"dbn": {"epochs": 1, "batch_size": 50}}}}
    x = torch.rand(700, 8, generator=torch.Generator().manual_seed(0))  # more rows than LSUV's 512
    (member,), _ = build_members(spec, (8,), 2, [3], data_init_x=x)
    seed_everything(3)
    alone = build(spec, (8,), 2)
    alone.data_init(x)  # what the Trainer does when a run starts
    for (name, p), q in zip(alone.named_parameters(), member.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=0, msg=name)


def test_what_cannot_stack_says_where():
    class Mine(nn.Module):
        def forward(self, x):
            return x

    assert stackable(nn.Sequential(nn.Linear(2, 2), Mine())).startswith("model[1] (Mine) has no stacked form; stackable: dense")
    net = build({"layers": [{"dense": 4}, {"residual": [{"dense": 4}, {"recurrent": {"hidden": 4, "returns": "all"}}]}]},
                (5, 2), 2)
    assert stackable(net).startswith("model.layers[1].body[1] (Recurrent) has no stacked form")
    with pytest.raises(NotStackable, match=r"\(Recurrent\) has no stacked form"):
        StackedModel([net, net])
    assert issubclass(NotStackable, ConfigError)  # the CLI prints it as one line


def test_members_must_share_the_architecture():
    a, b = build(MLP, (2,), 2), build({"mlp": {"hidden": [16, 8]}}, (2,), 2)
    with pytest.raises(NotStackable, match="member 1 differs in architecture from member 0"):
        StackedModel([a, b])
    c = build({"mlp": {"hidden": [16, 16], "activation": "tanh"}}, (2,), 2)
    with pytest.raises(NotStackable, match="member 1 differs"):
        StackedModel([a, c])  # same shapes, different activation


def test_input_shapes_are_checked():
    stack = StackedModel.from_spec(MLP, (2,), 2, [0, 1])
    assert stack(torch.randn(5, 2)).shape == (2, 5, 2)  # shared batch
    assert stack(torch.randn(2, 5, 2)).shape == (2, 5, 2)  # one batch per member
    with pytest.raises(ConfigError, match=r"expected input \(B, \*\(2,\)\) or \(2, B, \*\(2,\)\), got \(3, 5, 2\)"):
        stack(torch.randn(3, 5, 2))
    with pytest.raises(ConfigError, match="rng: expected 'shared' or 'per_model', got 'mine'"):
        StackedModel([build(MLP, (2,), 2)], rng="mine")


def test_weight_decay_and_max_norm_targets():
    stack = StackedModel.from_spec({"layers": [{"dense": 4}, "batchnorm", "relu", {"maxout": {"units": 2}},
                                               {"dense": "auto"}]}, (3,), 2, [0, 1])
    decayed = {id(p) for p in stack.decay_parameters()}
    names = [n for n, p in stack.named_parameters() if id(p) in decayed]
    assert names == ["layers.0.weight", "layers.3.0.weight", "layers.4.weight"]  # weights, not biases or BN
    assert len(stack.constrained()) == 3


def test_state_dict_is_plain_tensors():
    stack = StackedModel.from_spec(MLP, (2,), 2, [0, 1])
    sd = stack.state_dict()
    assert sd["layers.0.weight"].shape == (2, 2, 16)  # stored (K, in, out)
    assert stack.member_state(0)["layers.0.weight"].shape == (16, 2)  # the member's Linear layout
