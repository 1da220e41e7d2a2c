"""Networks as data: every block builds with the right shapes, the spec shorthands parse, the
mlp shorthand expands, init gains follow the next activation, specs round-trip through
``config()`` and YAML, errors name the block and the shapes, and LSUV runs through the spec."""

import math
import re

import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainlab.errors import ConfigError, ShapeError
from trainlab.nn import BLOCKS, Maxout, Network, Parallel, Recurrent, Residual, build, count_parameters
from trainlab.nn.activations import ACTIVATIONS


def seed(s=0):
    torch.manual_seed(s)


def modules_of(net: nn.Module, cls) -> list:
    return [m for m in net.modules() if isinstance(m, cls)]


def run(net: Network, batch: int = 5) -> torch.Tensor:
    """Forward a random batch in eval mode, then forward + backward in train mode."""
    x = torch.randn(batch, *net.input_shape)
    net.eval()
    with torch.no_grad():
        y = net(x)
    net.train()
    x.requires_grad_(True)
    net(x).square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in net.parameters())
    return y


# ---- every block builds: (layers, input shape, n_outputs, expected output shape, check)

def _skip(cls, **attrs):
    def check(net):
        res = modules_of(net, Residual)[0]
        assert isinstance(res.skip, cls)
        for k, v in attrs.items():
            assert getattr(res.skip, k) == v
    return check


def _has(cls, **attrs):
    def check(net):
        found = modules_of(net, cls)
        assert found, f"no {cls.__name__} in {net}"
        for k, v in attrs.items():
            assert getattr(found[0], k) == v
    return check


BLOCK_CASES = {
    "dense": ([{"dense": 5}], (3,), None, (5,), _has(nn.Linear, in_features=3, out_features=5)),
    "dense_sequence": ([{"dense": 5}], (4, 3), None, (4, 5), None),
    "dense_activation": ([{"dense": {"units": 5, "activation": "tanh"}}], (3,), None, (5,), _has(nn.Tanh)),
    "dense_no_bias": ([{"dense": {"units": 5, "bias": False}}], (3,), None, (5,),
                      lambda net: modules_of(net, nn.Linear)[0].bias is None),
    "activation": (["relu"], (3,), None, (3,), _has(nn.ReLU)),
    "activation_maxout": ([{"activation": {"maxout": {"pieces": 3}}}], (6,), None, (2,), _has(Maxout, pieces=3)),
    "dropout": ([{"dropout": 0.3}], (3,), None, (3,), _has(nn.Dropout, p=0.3)),
    "alpha_dropout": ([{"alpha_dropout": 0.2}], (3,), None, (3,), _has(nn.AlphaDropout, p=0.2)),
    "batchnorm_flat": (["batchnorm"], (3,), None, (3,), _has(nn.BatchNorm1d, num_features=3)),
    "batchnorm_image": (["batchnorm"], (3, 4, 4), None, (3, 4, 4), _has(nn.BatchNorm2d, num_features=3)),
    "layernorm_flat": (["layernorm"], (3,), None, (3,), _has(nn.LayerNorm, normalized_shape=(3,))),
    "layernorm_sequence": (["layernorm"], (4, 3), None, (4, 3), _has(nn.LayerNorm, normalized_shape=(3,))),
    "layernorm_image": (["layernorm"], (2, 4, 4), None, (2, 4, 4), _has(nn.LayerNorm, normalized_shape=(2, 4, 4))),
    "residual_identity": ([{"residual": [{"dense": 3}, "relu", {"dense": 3}]}], (3,), None, (3,),
                          _skip(nn.Identity)),
    "residual_projection": ([{"residual": [{"dense": 5}, "relu"]}], (3,), None, (5,),
                            _skip(nn.Linear, in_features=3, out_features=5, bias=None)),
    "residual_post": ([{"residual": {"body": [{"dense": 3}], "post": "relu"}}], (3,), None, (3,),
                      lambda net: isinstance(modules_of(net, Residual)[0].post, nn.ReLU)),
    "residual_image_strided": ([{"residual": [{"conv2d": {"channels": 8, "stride": 2}}, "relu"]}],
                               (3, 8, 8), None, (8, 4, 4),
                               _skip(nn.Conv2d, in_channels=3, out_channels=8, kernel_size=(1, 1), stride=(2, 2))),
    "parallel_concat": ([{"parallel": [[{"dense": 2}], [{"dense": 3}, "tanh"]]}], (4,), None, (5,),
                        _has(Parallel, merge="concat")),
    "parallel_sum": ([{"parallel": {"branches": [[{"dense": 3}], [{"dense": 3}, "tanh"]], "merge": "sum"}}],
                     (4,), None, (3,), _has(Parallel, merge="sum")),
    "parallel_mean": ([{"parallel": {"branches": [[{"dense": 3}], [{"dense": 3}]], "merge": "mean"}}],
                      (4,), None, (3,), _has(Parallel, merge="mean")),
    "parallel_max": ([{"parallel": {"branches": [[{"dense": 3}], ["identity", {"dense": 3}], [{"dense": 3}]],
                                    "merge": "max"}}], (4,), None, (3,), _has(Parallel, merge="max")),
    "parallel_image_concat": ([{"parallel": [[{"conv2d": 2}], [{"conv2d": {"channels": 3, "kernel": 1}}]]}],
                              (1, 5, 5), None, (5, 5, 5), _has(Parallel, dim=1)),
    "parallel_sequence_concat": ([{"parallel": [[{"dense": 2}], [{"recurrent": {"hidden": 3, "returns": "all"}}]]}],
                                 (6, 4), None, (6, 5), None),
    "recurrent": ([{"recurrent": 4}], (6, 3), None, (4,), _has(nn.LSTM, hidden_size=4)),
    "conv2d": ([{"conv2d": 4}], (3, 8, 8), None, (4, 8, 8), _has(nn.Conv2d, kernel_size=(3, 3))),
    "conv2d_valid": ([{"conv2d": {"channels": 4, "kernel": 5, "padding": "valid"}}], (3, 8, 8), None, (4, 4, 4),
                     None),
    "conv2d_strided": ([{"conv2d": {"channels": 4, "stride": 2}}], (3, 8, 8), None, (4, 4, 4), None),
    "maxpool2d": (["maxpool2d"], (3, 8, 8), None, (3, 4, 4), _has(nn.MaxPool2d)),
    "maxpool2d_k3s1": ([{"maxpool2d": {"kernel": 3, "stride": 1}}], (3, 8, 8), None, (3, 6, 6), None),
    "avgpool2d": ([{"avgpool2d": 4}], (3, 8, 8), None, (3, 2, 2), _has(nn.AvgPool2d)),
    "flatten": (["flatten"], (3, 4, 4), None, (48,), _has(nn.Flatten)),
    "maxout": ([{"maxout": 4}], (6,), None, (4,), _has(nn.Linear, out_features=8)),
    "maxout_pieces3": ([{"maxout": {"units": 4, "pieces": 3}}], (6,), None, (4,), _has(nn.Linear, out_features=12)),
    "dense_auto": ([{"dense": "auto"}], (3,), 7, (7,), None),
}
for _cell in ("rnn", "lstm", "gru"):
    for _returns, _bi, _out in [("last", False, (4,)), ("all", False, (6, 4)),
                                ("last", True, (8,)), ("all", True, (6, 8))]:
        BLOCK_CASES[f"recurrent_{_cell}_{_returns}{'_bi' if _bi else ''}"] = (
            [{"recurrent": {"hidden": 4, "cell": _cell, "returns": _returns, "bidirectional": _bi}}],
            (6, 3), None, _out, _has(Recurrent.CELLS[_cell], bidirectional=_bi))


def test_block_cases_cover_every_block():
    used = {next(iter(item)) if isinstance(item, dict) else item
            for layers, *_ in BLOCK_CASES.values() for item in layers}
    used = {name if name in BLOCKS else "activation" for name in used if name in BLOCKS or name in ACTIVATIONS}
    assert set(BLOCKS.names()) <= used


@pytest.mark.parametrize("case", list(BLOCK_CASES))
def test_every_block_builds(case):
    layers, in_shape, n_outputs, out_shape, check = BLOCK_CASES[case]
    seed()
    net = build({"layers": layers}, in_shape, n_outputs)
    assert net.input_shape == in_shape
    assert net.output_shape == out_shape
    assert run(net).shape == (5, *out_shape)
    if check is not None:
        assert check(net) is not False


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_last_is_both_final_states(cell):
    """'last' of a bidirectional net: the forward direction at t = T-1, the backward one at t = 0,
    which are exactly the final hidden states torch returns in h_n."""
    seed()
    net = build({"layers": [{"recurrent": {"hidden": 4, "cell": cell, "bidirectional": True}}]}, (6, 3))
    x = torch.randn(5, 6, 3)
    rnn = modules_of(net, Recurrent)[0].rnn
    _, h_n = rnn(x)
    h_n = h_n[0] if cell == "lstm" else h_n  # (directions, B, H)
    assert torch.allclose(net(x), torch.cat([h_n[0], h_n[1]], dim=-1), atol=1e-6)


# ---- shorthands

def _linear10(net):
    (lin,) = modules_of(net, nn.Linear)
    return lin.out_features == 10


def _leaky02(net):
    (act,) = modules_of(net, nn.LeakyReLU)
    return act.negative_slope == 0.2


SHORTHANDS = {
    "flatten": (["flatten"], (2, 3), None, (6,), lambda net: len(modules_of(net, nn.Flatten)) == 1),
    "bare_activation": (["relu"], (3,), None, (3,), lambda net: len(modules_of(net, nn.ReLU)) == 1),
    "block_scalar": ([{"dense": 10}], (3,), None, (10,), _linear10),
    "block_mapping": ([{"dense": {"units": 10}}], (3,), None, (10,), _linear10),
    "name_key": ([{"name": "dense", "units": 10}], (3,), None, (10,), _linear10),
    "activation_kwargs": ([{"leaky_relu": {"slope": 0.2}}], (3,), None, (3,), _leaky02),
    "activation_block": ([{"activation": {"name": "leaky_relu", "slope": 0.2}}], (3,), None, (3,), _leaky02),
    "residual_list": ([{"residual": [{"dense": 3}, "relu"]}], (3,), None, (3,),
                      lambda net: len(modules_of(net, Residual)) == 1),
    "parallel_lists": ([{"parallel": [[{"dense": 3}], [{"dense": 4}]]}], (3,), None, (7,),
                       lambda net: len(modules_of(net, Parallel)) == 1),
    "dense_auto": ([{"dense": "auto"}], (3,), 4, (4,), lambda net: modules_of(net, nn.Linear)[0].out_features == 4),
    "single_item": ({"dense": 10}, (3,), None, (10,), _linear10),
    "block_none": ([{"flatten": None}], (2, 3), None, (6,), None),
}


@pytest.mark.parametrize("case", list(SHORTHANDS))
def test_shorthands_parse(case):
    layers, in_shape, n_outputs, out_shape, check = SHORTHANDS[case]
    seed()
    net = build({"layers": layers}, in_shape, n_outputs)
    assert net.output_shape == out_shape
    assert run(net).shape == (5, *out_shape)
    if check is not None:
        assert check(net)


def test_dense_shorthands_resolve_to_the_same_config():
    configs = [build({"layers": [item]}, (3,)).config()
               for item in ({"dense": 10}, {"dense": {"units": 10}}, {"name": "dense", "units": 10})]
    assert configs[0] == configs[1] == configs[2]
    assert configs[0]["layers"] == [{"dense": {"units": 10, "bias": True}}]


def test_activation_shorthands_resolve_to_the_same_module():
    a = build({"layers": [{"leaky_relu": {"slope": 0.2}}]}, (3,))
    b = build({"layers": [{"activation": {"name": "leaky_relu", "slope": 0.2}}]}, (3,))
    assert repr(a.layers) == repr(b.layers)


# ---- the mlp shorthand

MLP_SIGMOID = {"mlp": {"hidden": 10, "depth": 9, "activation": "sigmoid",
                       "init": {"name": "uniform", "low": -1, "high": 1}}}


def test_mlp_shorthand_expands():
    seed()
    net = build(MLP_SIGMOID, (2,), 1)
    linears = modules_of(net, nn.Linear)
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 10)] + [(10, 10)] * 8 + [(10, 1)]
    assert len(modules_of(net, nn.Sigmoid)) == 9
    assert net.output_shape == (1,)
    for m in linears:
        assert m.weight.min() >= -1 and m.weight.max() <= 1
        assert m.weight.abs().max() > 0.9  # U(-1, 1), not torch's default +-1/sqrt(fan_in)
        assert torch.equal(m.bias, torch.zeros_like(m.bias))
    types = [type(m) for m in net.layers]
    assert types == [nn.Linear, nn.Sigmoid] * 9 + [nn.Linear]


@pytest.mark.parametrize("dropout, batchnorm", [(0.3, False), (0.0, True), (0.3, True)])
def test_mlp_dropout_and_batchnorm_placement(dropout, batchnorm):
    net = build({"mlp": {"hidden": [8, 6], "dropout": dropout, "batchnorm": batchnorm}}, (4,), 2)
    block = [nn.Linear] + ([nn.BatchNorm1d] if batchnorm else []) + [nn.ReLU] + ([nn.Dropout] if dropout else [])
    assert [type(m) for m in net.layers] == block * 2 + [nn.Linear]
    if batchnorm:
        assert [m.num_features for m in modules_of(net, nn.BatchNorm1d)] == [8, 6]
    if dropout:
        assert all(m.p == dropout for m in modules_of(net, nn.Dropout))


def test_mlp_options():
    net = build({"mlp": {"hidden": [5], "output": 3, "output_activation": "sigmoid", "flatten": False}}, (4,))
    assert [type(m) for m in net.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.Sigmoid]
    assert net.output_shape == (3,)
    net = build({"mlp": {"hidden": [5]}}, (2, 3), 4)  # flattens images / sequences by default
    assert net.output_shape == (4,) and modules_of(net, nn.Linear)[0].in_features == 6


# ---- init gains flow from the activation that follows

def _std_of(linear: nn.Linear) -> float:
    return float(linear.weight.detach().double().std())


def test_init_gain_follows_the_next_activation():
    seed()
    layers = [{"dense": 1000}, "relu", {"dense": 1000}, "tanh", {"dense": 1000}, "batchnorm", "relu",
              {"dense": {"units": 1000, "activation": "tanh"}}, {"dense": 1000}, {"dropout": 0.1},
              {"leaky_relu": {"slope": 0.2}}, {"dense": 1000}]
    net = build({"layers": layers, "init": "he_normal"}, (1000,))
    fan_in = 1000
    gains = [math.sqrt(2), 5 / 3, math.sqrt(2), 5 / 3, math.sqrt(2 / 1.04), 1.0]
    linears = modules_of(net, nn.Linear)
    assert len(linears) == len(gains)
    for lin, gain in zip(linears, gains):
        assert _std_of(lin) == pytest.approx(gain / math.sqrt(fan_in), rel=1e-2)
        assert float(lin.weight.detach().mean()) == pytest.approx(0.0, abs=3 * gain / fan_in)


def test_init_gain_through_mlp_and_conv():
    seed()
    net = build({"mlp": {"hidden": [500], "activation": "tanh"}, "init": "he_normal"}, (1000,), 500)
    hidden, out = modules_of(net, nn.Linear)
    assert _std_of(hidden) == pytest.approx((5 / 3) / math.sqrt(1000), rel=1e-2)
    assert _std_of(out) == pytest.approx(1 / math.sqrt(500), rel=1e-2)
    net = build({"layers": [{"conv2d": {"channels": 256, "kernel": 3}}, "relu"], "init": "he_normal"}, (64, 4, 4))
    (conv,) = modules_of(net, nn.Conv2d)
    assert _std_of(conv) == pytest.approx(math.sqrt(2 / (64 * 9)), rel=1e-2)


def test_per_block_init_overrides_the_global_one():
    seed()
    layers = [{"dense": {"units": 500, "init": {"normal": {"std": 0.01}}}}, "relu",
              {"dense": 500}, "relu",
              {"dense": {"units": 500, "bias_init": {"constant": {"value": 0.1}}}}]
    net = build({"layers": layers, "init": "he_normal"}, (500,))
    a, b, c = modules_of(net, nn.Linear)
    assert _std_of(a) == pytest.approx(0.01, rel=2e-2)
    assert _std_of(b) == pytest.approx(math.sqrt(2 / 500), rel=2e-2)
    assert _std_of(c) == pytest.approx(1 / math.sqrt(500), rel=2e-2)
    assert torch.equal(a.bias, torch.zeros(500)) and torch.equal(b.bias, torch.zeros(500))
    assert torch.equal(c.bias, torch.full((500,), 0.1))


def test_global_bias_init_and_torch_default_weights():
    seed()
    net = build({"layers": [{"dense": 400}, "relu", {"dense": 4}],
                 "bias_init": {"constant": {"value": 0.1}}}, (400,))
    for lin in modules_of(net, nn.Linear):
        assert torch.equal(lin.bias, torch.full_like(lin.bias, 0.1))
        bound = 1 / math.sqrt(lin.in_features)  # no init given: torch's default U(+-1/sqrt(fan_in))
        assert lin.weight.abs().max() <= bound
    lstm = modules_of(build({"layers": [{"recurrent": 4}], "bias_init": {"constant": {"value": 0.1}}}, (3, 2)),
                      nn.LSTM)[0]
    assert torch.equal(lstm.bias_ih_l0, torch.full((16,), 0.1))
    assert torch.equal(lstm.bias_hh_l0, torch.full((16,), 0.1))


# ---- round trip: spec -> net -> config() -> YAML -> spec -> the same net (STYLE rule 4)

ROUND_TRIP = {
    "mlp": MLP_SIGMOID,
    "mlp_options": {"mlp": {"hidden": [12, 8], "activation": {"leaky_relu": {"slope": 0.2}}, "dropout": 0.1,
                            "batchnorm": True, "output_activation": "sigmoid"}, "init": "he_uniform"},
    "layers": {"layers": [
        {"dense": 16}, "batchnorm", "relu", {"dropout": 0.2},
        {"residual": [{"dense": 16}, "tanh", {"dense": 16}]},
        {"residual": {"body": [{"dense": 8}], "post": "relu"}},
        {"parallel": {"branches": [[{"dense": 6}, "gelu"], [{"maxout": {"units": 6, "pieces": 3}}]], "merge": "sum"}},
        {"parallel": [[{"dense": 3}], ["identity"]]},
        {"maxout": 5}, "layernorm", {"alpha_dropout": 0.1}, {"dense": "auto"}],
        "init": {"xavier_normal": {"gain": "auto"}}, "bias_init": {"constant": {"value": 0.01}}},
    "conv": {"layers": [
        {"conv2d": {"channels": 8, "init": "orthogonal"}}, "batchnorm", "relu", "maxpool2d",
        {"residual": [{"conv2d": {"channels": 12, "stride": 2}}, "relu", {"conv2d": 12}]},
        {"parallel": [[{"conv2d": {"channels": 4, "kernel": 1}}],
                      [{"conv2d": {"channels": 4, "kernel": 5, "padding": 2, "bias": False}}]]},
        "relu", "avgpool2d", "flatten", {"dense": "auto"}], "init": "he_normal", "input": [3, 16, 16]},
    "recurrent": {"layers": [
        {"recurrent": {"hidden": 8, "cell": "gru", "returns": "all", "bidirectional": True}},
        {"dense": 6}, "tanh",
        {"recurrent": {"hidden": 5, "cell": "rnn", "nonlinearity": "relu", "layers": 2, "dropout": 0.1}},
        {"dense": "auto"}], "init": "lecun_normal"},
    "lsuv_mlp": {"mlp": {"hidden": [16, 16, 16], "activation": "tanh"}, "init": "lsuv"},
}
ROUND_TRIP_INPUT = {"mlp": (2,), "mlp_options": (5,), "layers": (10,), "conv": (3, 16, 16),
                    "recurrent": (7, 4), "lsuv_mlp": (6,)}


def _build_seeded(spec, in_shape, n_outputs, seed_value, x):
    seed(seed_value)
    net = build(spec, in_shape, n_outputs)
    if net.data_init(x) is not None:
        assert "lsuv" in yaml.safe_dump(spec)
    return net


def assert_round_trip(spec, in_shape, n_outputs=3, seed_value=0):
    x = torch.randn(64, *in_shape, generator=torch.Generator().manual_seed(99))
    net = _build_seeded(spec, in_shape, n_outputs, seed_value, x)
    config = yaml.safe_load(yaml.safe_dump(net.config()))
    twin = _build_seeded(config, in_shape, n_outputs, seed_value, x)
    assert count_parameters(twin) == count_parameters(net)
    assert twin.output_shape == net.output_shape
    state, twin_state = net.state_dict(), twin.state_dict()
    assert list(state) == list(twin_state)
    for key in state:
        assert torch.equal(state[key], twin_state[key]), key
    net.eval(), twin.eval()
    with torch.no_grad():
        assert torch.equal(net(x), twin(x))
    assert twin.config() == config  # resolving a resolved spec changes nothing


@pytest.mark.parametrize("case", list(ROUND_TRIP))
def test_round_trip(case):
    assert_round_trip(ROUND_TRIP[case], ROUND_TRIP_INPUT[case])


def test_round_trip_config_is_plain_data_and_a_copy():
    net = build(ROUND_TRIP["layers"], (10,), 3)
    config = net.config()
    assert yaml.safe_load(yaml.safe_dump(config)) == config
    config["layers"].clear()
    assert net.config()["layers"]


@settings(max_examples=15, deadline=None, derandomize=True)
@given(hidden=st.lists(st.integers(1, 12), min_size=0, max_size=4),
       activation=st.sampled_from([n for n in ACTIVATIONS.names() if n != "maxout"]),
       init=st.sampled_from([None, "he_normal", "xavier_uniform", "orthogonal", "lsuv", {"normal": {"std": 0.1}}]),
       batchnorm=st.booleans(), dropout=st.sampled_from([0.0, 0.5]),
       in_features=st.integers(1, 6), n_outputs=st.integers(1, 4), seed_value=st.integers(0, 2**16))
def test_mlp_round_trip_property(hidden, activation, init, batchnorm, dropout, in_features, n_outputs, seed_value):
    spec = {"mlp": {"hidden": hidden, "activation": activation, "batchnorm": batchnorm, "dropout": dropout}}
    if init is not None:
        spec["init"] = init
    assert_round_trip(spec, (in_features,), n_outputs, seed_value)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(width=st.integers(1, 8), depth=st.integers(1, 4), n_outputs=st.integers(1, 3))
def test_mlp_width_depth_form_round_trips(width, depth, n_outputs):
    net = build({"mlp": {"hidden": width, "depth": depth}}, (3,), n_outputs)
    assert net.config()["mlp"]["hidden"] == [width] * depth
    assert len(modules_of(net, nn.Linear)) == depth + 1
    assert_round_trip({"mlp": {"hidden": width, "depth": depth}}, (3,), n_outputs)


# ---- errors

def _raises(exc, *fragments):
    return pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments))


@pytest.mark.parametrize("layers, in_shape, exc, fragments", [
    ([{"conv2d": 4}], (2,), ShapeError, ["model.layers[0] (conv2d)", "(channels, height, width)", "got (2,)"]),
    ([{"dense": 4}], (3, 4, 4), ShapeError, ["model.layers[0] (dense)", "(3, 4, 4)", "add a flatten block"]),
    (["flatten", {"dense": 4}, "maxpool2d"], (3, 4, 4), ShapeError, ["model.layers[2] (maxpool2d)", "got (4,)"]),
    ([{"parallel": {"branches": [[{"dense": 3}], [{"dense": 4}]], "merge": "sum"}}], (2,), ShapeError,
     ["model.layers[0] (parallel)", "cannot sum branch outputs of shapes (3,), (4,)"]),
    ([{"parallel": [[{"conv2d": 2}], [{"conv2d": {"channels": 2, "padding": "valid"}}]]}], (1, 5, 5), ShapeError,
     ["cannot concat branch outputs of shapes (2, 5, 5), (2, 3, 3)"]),
    ([{"dense": 4}, {"residual": [{"conv2d": 2}]}], (3,), ShapeError,
     ["model.layers[1] (residual).body[0] (conv2d)", "got (4,)"]),
    ([{"residual": {"body": [{"dense": 5}], "projection": "none"}}], (3,), ShapeError,
     ["model.layers[0] (residual)", "(3,) to (5,)", "projection: auto"]),
    ([{"recurrent": 4}], (3,), ShapeError, ["(recurrent)", "(steps, features)", "got (3,)"]),
    (["batchnorm"], (4, 3), ShapeError, ["(batchnorm)", "got (4, 3)"]),
    ([{"activation": "maxout"}], (5,), ShapeError, ["model.layers[0] (activation)", "not divisible by pieces=2"]),
    ([{"conv2d": {"channels": 2, "kernel": 7, "padding": "valid"}}], (1, 5, 5), ShapeError,
     ["model.layers[0] (conv2d)", "cannot take input shape (1, 5, 5)"]),
    ([{"convolution": 4}], (3,), ConfigError, ["model.layers[0]", "unknown block 'convolution'",
                                               "valid blocks: " + ", ".join(BLOCKS.names())]),
    (["desne"], (3,), ConfigError, ["unknown block 'desne'", "did you mean 'dense'", "valid blocks: "]),
    ([{"name": "dense", "units": 4, "width": 3}], (3,), ConfigError,
     ["model.layers[0] (dense)", "unknown argument 'width'",
      "valid arguments: units, bias, init, bias_init, activation"]),
    ([{"dropout": {"rate": 0.1}}], (3,), ConfigError, ["(dropout)", "unknown argument 'rate'", "valid arguments: p"]),
    ([{"name": "dense"}], (3,), ConfigError, ["model.layers[0] (dense)", "missing argument 'units'"]),
    ([{"conv2d": {"kernel": 3}}], (1, 4, 4), ConfigError, ["missing argument 'channels'"]),
    ([{"dropout": 1.5}], (3,), ConfigError, ["model.layers[0] (dropout)", "p must be a probability in [0, 1)",
                                             "got 1.5"]),
    ([{"alpha_dropout": -0.1}], (3,), ConfigError, ["p must be a probability", "got -0.1"]),
    ([{"dense": 0}], (3,), ConfigError, ["units must be a positive integer or 'auto', got 0"]),
    ([{"dense": "auto"}], (3,), ConfigError, ["'auto' needs a data set"]),
    ([{"dense": {"units": 3, "activation": "relu9"}}], (3,), ConfigError,
     ["model.layers[0] (dense)", "unknown activation 'relu9'", "valid activations: "]),
    ([{"dense": {"units": 3, "init": "he_norm"}}], (3,), ConfigError, ["unknown initializer 'he_norm'"]),
    ([{"recurrent": {"hidden": 3, "cell": "transformer"}}], (4, 3), ConfigError,
     ["unknown cell 'transformer'; valid cells: rnn, lstm, gru"]),
    ([{"recurrent": {"hidden": 3, "returns": "first"}}], (4, 3), ConfigError, ["returns must be 'last' or 'all'"]),
    ([{"parallel": {"branches": [[{"dense": 3}], [{"dense": 3}]], "merge": "product"}}], (3,), ConfigError,
     ["unknown merge 'product'; valid merges: concat, sum, mean, max"]),
    ([{"parallel": [[{"dense": 3}]]}], (3,), ConfigError, ["branches must be a list of at least 2"]),
    ([], (3,), ConfigError, ["expected a non-empty list of layers"]),
    ([3], (3,), ConfigError, ["model.layers[0]", "bad layer 3"]),
    ([{"conv2d": {"channels": 2, "padding": "full"}}], (1, 4, 4), ConfigError,
     ["padding must be 'same', 'valid' or an integer, got 'full'"]),
])
def test_layer_errors(layers, in_shape, exc, fragments):
    with _raises(exc, *fragments):
        build({"layers": layers}, in_shape)


def test_shape_errors_are_config_errors():
    assert issubclass(ShapeError, ConfigError) and issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("spec, in_shape, exc, fragments", [
    ({"layers": [{"dense": 2}], "input": [3]}, (2,), ShapeError,
     ["model.input", "declares (3,)", "input shape (2,)"]),
    ({"layers": [{"dense": 2}], "input": [3, 4]}, (12,), ShapeError, ["(3, 4)", "(12,)"]),
    ({"layers": [{"dense": 2}], "optimizer": "sgd"}, (2,), ConfigError,
     ["unknown key 'optimizer'", "valid keys: layers, mlp, init, bias_init, input"]),
    ({"layers": [{"dense": 2}], "mlp": {"hidden": 3}}, (2,), ConfigError, ["exactly one of 'layers' or 'mlp'"]),
    ({"init": "he_normal"}, (2,), ConfigError, ["exactly one of 'layers' or 'mlp'"]),
    ([{"dense": 2}], (2,), ConfigError, ["model: expected a mapping"]),
    ({"layers": [{"dense": 2}], "init": "kaiming"}, (2,), ConfigError,
     ["unknown initializer 'kaiming'", "valid initializers: "]),
    ({"mlp": {"hidden": 3, "widht": 4}}, (2,), ConfigError, ["model.mlp", "unknown key 'widht'", "valid keys: hidden"]),
    ({"mlp": {"hidden": [3, 0]}}, (2,), ConfigError, ["model.mlp", "hidden must be a positive integer"]),
    ({"mlp": {"hidden": [3], "depth": 2}}, (2,), ConfigError, ["depth=2 needs hidden to be one width"]),
    ({"mlp": {"hidden": [3], "activation": "rlu"}}, (2,), ConfigError, ["model.mlp", "unknown activation 'rlu'"]),
    ({"mlp": {"hidden": [3]}}, (2,), ConfigError, ["model.mlp", "output 'auto' needs a data set"]),
])
def test_model_errors(spec, in_shape, exc, fragments):
    n_outputs = None if "output 'auto'" in fragments[-1] else 2
    with _raises(exc, *fragments):
        build(spec, in_shape, n_outputs)


def test_argument_to_a_block_without_arguments_names_the_path():
    with _raises(ConfigError, "model.layers[1]", "flatten", "takes no arguments"):
        build({"layers": [{"dense": 2}, {"flatten": 3}]}, (3,))


@pytest.mark.parametrize("size, out", [(7, 4), (9, 5)])
def test_residual_strided_projection_on_odd_sizes(size, out):
    seed()
    net = build({"layers": [{"residual": [{"conv2d": {"channels": 4, "stride": 2}}]}]}, (3, size, size))
    assert net.output_shape == (4, out, out)
    assert modules_of(net, Residual)[0].skip.stride == (2, 2)
    run(net)


def test_residual_projection_mismatch_is_caught_by_the_projection_check():
    layers = [{"residual": [{"conv2d": 4}, "maxpool2d"]}]
    try:
        net = build({"layers": layers}, (3, 7, 7))
    except ShapeError as e:
        assert "cannot project the skip" in str(e)
    else:
        assert net.output_shape == (4, 3, 3)
        run(net)


# ---- LSUV through the spec

@pytest.mark.parametrize("training", [True, False])
def test_lsuv_through_the_spec(training):
    seed()
    net = build({"mlp": {"hidden": 64, "depth": 5, "activation": "tanh"}, "init": "lsuv"}, (20,), 3)
    net.train(training)
    x = 3 * torch.randn(256, 20)
    report = net.data_init(x)
    linears = modules_of(net, nn.Linear)
    assert len(report) == len(linears) == 6
    assert net.training is training
    variances = {}

    def hook(module, inputs, output):
        variances[module] = float(output.detach().double().var())

    handles = [m.register_forward_hook(hook) for m in linears]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    tol = 0.1  # lsuv's default tol
    for lin in linears:
        assert abs(variances[lin] - 1.0) < tol
    assert [row["var"] for row in report] == pytest.approx([variances[m] for m in linears], rel=1e-9)


def test_lsuv_per_block_and_options():
    seed()
    layers = [{"dense": {"units": 32, "init": {"lsuv": {"tol": 0.01, "target_var": 2.0}}}}, "tanh",
              {"dense": 32}, "tanh", {"dense": {"units": 4, "init": "lsuv"}}]
    net = build({"layers": layers, "init": "he_normal"}, (8,))
    x = torch.randn(128, 8)
    untouched = modules_of(net, nn.Linear)[1].weight.detach().clone()
    report = net.data_init(x)
    assert len(report) == 2
    first, middle, last = modules_of(net, nn.Linear)
    assert [row["var"] for row in report] == [pytest.approx(2.0, abs=0.01), pytest.approx(1.0, abs=0.1)]
    with torch.no_grad():
        assert abs(float(first(x).double().var()) - 2.0) < 0.01
        assert abs(float(net(x).double().var()) - 1.0) < 0.1  # the last layer is the output
    assert torch.equal(middle.weight, untouched)  # he_normal, not an lsuv layer


def test_data_init_without_lsuv_is_none():
    net = build({"mlp": {"hidden": [4]}, "init": "he_normal"}, (3,), 2)
    assert net.data_init(torch.randn(8, 3)) is None


def test_mlp_flattens_only_inputs_that_are_not_flat():
    image = build({"mlp": {"hidden": [8]}}, (1, 4, 4), 3)
    assert type(image.layers[0]) is nn.Flatten and image(torch.zeros(2, 1, 4, 4)).shape == (2, 3)
    flat = build({"mlp": {"hidden": [8]}}, (16,), 3)
    assert not modules_of(flat, nn.Flatten)
