"""Initializers: distributions by KS test, variances against the formulas, gains against torch,
the registry / get contract, and LSUV on deep MLPs."""

import json
import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from trainlab.errors import ConfigError
from trainlab.nn import activations, init

NAMES = ["zeros", "constant", "uniform", "normal", "truncated_normal", "xavier_uniform",
         "xavier_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
         "orthogonal", "lsuv"]
# Linear (out, in), a tall and a wide matrix, conv (out, in, k, k) and conv1d (out, in, k).
SHAPES = [(64, 32), (7, 300), (300, 7), (16, 8, 3, 3), (32, 3, 5, 5), (20, 10, 7)]
P_MIN = 1e-4


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def sample(spec, shape, seed=0, activation=None):
    return init.get(spec, activation=activation)(torch.empty(shape), generator=gen(seed)).flatten().double().numpy()


def uniform_cdf(bound):
    return stats.uniform(-bound, 2 * bound).cdf


def normal_cdf(std):
    return stats.norm(0.0, std).cdf


# (spec, shape -> the intended frozen CDF). Each scale is the paper's formula, written out here.
KS_CASES = {
    "uniform": ("uniform", lambda s: uniform_cdf(1.0)),
    "uniform_narrow": ({"uniform": {"low": -0.05, "high": 0.05}}, lambda s: uniform_cdf(0.05)),
    "normal": ({"normal": {"std": 0.01}}, lambda s: normal_cdf(0.01)),
    "xavier_uniform": ("xavier_uniform", lambda s: uniform_cdf(math.sqrt(6 / sum(fans(s))))),
    "xavier_normal": ("xavier_normal", lambda s: normal_cdf(math.sqrt(2 / sum(fans(s))))),
    "xavier_auto_tanh": ({"xavier_normal": {"gain": "auto", "activation": "tanh"}},
                         lambda s: normal_cdf(5 / 3 * math.sqrt(2 / sum(fans(s))))),
    "he_uniform": ("he_uniform", lambda s: uniform_cdf(math.sqrt(6 / fans(s)[0]))),
    "he_normal": ("he_normal", lambda s: normal_cdf(math.sqrt(2 / fans(s)[0]))),
    "he_uniform_fan_out": ({"he_uniform": {"mode": "fan_out"}}, lambda s: uniform_cdf(math.sqrt(6 / fans(s)[1]))),
    "he_normal_fan_out": ({"he_normal": {"mode": "fan_out"}}, lambda s: normal_cdf(math.sqrt(2 / fans(s)[1]))),
    "lecun_uniform": ("lecun_uniform", lambda s: uniform_cdf(math.sqrt(3 / fans(s)[0]))),
    "lecun_normal": ("lecun_normal", lambda s: normal_cdf(math.sqrt(1 / fans(s)[0]))),
    "truncated_normal": ({"truncated_normal": {"mean": 0.5, "std": 0.02}},
                         lambda s: stats.truncnorm(-2, 2, loc=0.5, scale=0.02).cdf),
    "truncated_normal_asym": ({"truncated_normal": {"a": -1.0, "b": 3.0}},
                              lambda s: stats.truncnorm(-1, 3, loc=0.0, scale=1.0).cdf),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case", list(KS_CASES))
def test_distribution_ks(case, shape):
    spec, cdf = KS_CASES[case]
    assert stats.kstest(sample(spec, shape, seed=len(case)), cdf(shape)).pvalue > P_MIN


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.02, -1.0, 3.0)])
def test_truncated_normal_cuts_in_units_of_std(mean, std, a, b):
    w = sample({"truncated_normal": {"mean": mean, "std": std, "a": a, "b": b}}, (256, 512))
    lo, hi = mean + a * std, mean + b * std
    assert lo <= w.min() < lo + 0.01 * std and hi - 0.01 * std < w.max() <= hi


# ---- variances against the formulas (large tensors so the sample variance is within ~2%)

VAR_SHAPES = [(256, 512), (128, 64, 3, 3)]


@pytest.mark.parametrize("shape", VAR_SHAPES, ids=str)
@pytest.mark.parametrize("spec, expected", [
    ("xavier_uniform", lambda fi, fo: 2 / (fi + fo)),
    ("xavier_normal", lambda fi, fo: 2 / (fi + fo)),
    ("he_uniform", lambda fi, fo: 2 / fi),
    ("he_normal", lambda fi, fo: 2 / fi),
    ({"he_normal": {"mode": "fan_out"}}, lambda fi, fo: 2 / fo),
    ({"he_uniform": {"mode": "fan_out"}}, lambda fi, fo: 2 / fo),
    ("lecun_uniform", lambda fi, fo: 1 / fi),
    ("lecun_normal", lambda fi, fo: 1 / fi),
    ({"he_normal": {"activation": "tanh"}}, lambda fi, fo: (5 / 3) ** 2 / fi),
    ({"he_normal": {"activation": "selu"}}, lambda fi, fo: 0.75**2 / fi),
], ids=lambda v: json.dumps(v) if not callable(v) else "")
def test_variance_formula(spec, expected, shape):
    w = sample(spec, shape, seed=3)
    assert w.mean() == pytest.approx(0.0, abs=0.05 * math.sqrt(expected(*fans(shape))))
    assert w.var() == pytest.approx(expected(*fans(shape)), rel=0.04)


def test_he_takes_the_builders_activation():
    w = sample("he_normal", (256, 512), activation="tanh")
    assert w.var() == pytest.approx((5 / 3) ** 2 / 512, rel=0.04)
    # an activation written in the spec wins over the context
    w = sample({"he_normal": {"activation": "relu"}}, (256, 512), activation="tanh")
    assert w.var() == pytest.approx(2 / 512, rel=0.04)


def test_gain_overrides_activation():
    w = sample({"he_normal": {"gain": 3.0}}, (256, 512), activation="tanh")
    assert w.var() == pytest.approx(9 / 512, rel=0.04)


@pytest.mark.parametrize("spec, torch_args", [
    ("identity", ("linear",)), ("sigmoid", ("sigmoid",)), ("tanh", ("tanh",)), ("relu", ("relu",)),
    ("leaky_relu", ("leaky_relu",)), ({"leaky_relu": {"slope": 0.2}}, ("leaky_relu", 0.2)),
    ("selu", ("selu",)),
], ids=str)
def test_gains_match_torch(spec, torch_args):
    assert activations.gain(spec) == pytest.approx(nn.init.calculate_gain(*torch_args), rel=1e-12)


def test_constant_and_zeros():
    assert torch.equal(init.constant_(torch.empty(3, 4), 0.25), torch.full((3, 4), 0.25))
    assert torch.equal(init.get("zeros")(torch.ones(5)), torch.zeros(5))


# ---- orthogonal

@pytest.mark.parametrize("shape", [(32, 64), (64, 64), (64, 32), (16, 8, 3, 3)], ids=str)
@pytest.mark.parametrize("spec, gain2", [
    ("orthogonal", 1.0), ({"orthogonal": {"gain": 0.5}}, 0.25),
    ({"orthogonal": {"gain": "auto", "activation": "relu"}}, 2.0), ("lsuv", 1.0),
], ids=str)
def test_orthogonal(spec, gain2, shape):
    w = init.get(spec)(torch.empty(shape, dtype=torch.float64), generator=gen()).reshape(shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    torch.testing.assert_close(gram, gain2 * torch.eye(gram.shape[0], dtype=torch.float64), atol=1e-10, rtol=0)


# ---- registry and get

def test_registry_names():
    # nn's own initializers first; later layers may add theirs (importing trainlab.pretrain adds dbn)
    assert init.names()[:len(NAMES)] == NAMES and set(init.names()[len(NAMES):]) <= {"dbn"}
    assert list(init.INITIALIZERS) == init.names()


@pytest.mark.parametrize("name", NAMES)
def test_every_name_builds_and_runs(name):
    fn = init.get(name, activation="relu")
    t = torch.full((64, 32), float("nan"))
    assert fn(t, generator=gen()) is t
    assert torch.isfinite(t).all()
    assert fn.name == name and fn.data_dependent == (name == "lsuv")
    assert init.is_data_dependent(name) == (name == "lsuv")
    json.dumps(fn.spec())  # plain data, writes back as a spec
    rebuilt = init.get(fn.spec())
    assert rebuilt.kwargs == fn.kwargs
    torch.testing.assert_close(rebuilt(torch.empty(64, 32), generator=gen()), t, rtol=0, atol=0)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("zeros", "constant")])
def test_generator_makes_results_reproducible(name):
    fn = init.get(name)
    a, b, c = (fn(torch.empty(16, 8, 3, 3), generator=gen(s)) for s in (7, 7, 8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_get_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    for name in NAMES:
        init.get(name)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("spec", [
    {"name": "uniform", "low": -0.5, "high": 0.5}, {"uniform": {"low": -0.5, "high": 0.5}},
    {"name": "uniform", "high": 0.5, "low": -0.5},
], ids=str)
def test_spec_forms(spec):
    fn = init.get(spec)
    assert (fn.name, fn.kwargs) == ("uniform", {"low": -0.5, "high": 0.5})


@pytest.mark.parametrize("spec", ["normal", {"normal": None}, {"normal": {}}, {"name": "normal"}], ids=str)
def test_spec_forms_fill_defaults(spec):
    assert init.get(spec).kwargs == {"mean": 0.0, "std": 1.0}


def test_resolved_kwargs_and_activation_context():
    assert init.get("he_normal").kwargs == {"mode": "fan_in", "gain": None}  # no context: he's relu
    assert init.get("he_normal", activation="tanh").kwargs["activation"] == "tanh"
    assert "activation" not in init.get("normal", activation="tanh").kwargs  # not forwarded
    assert init.get("lsuv").kwargs == {"tol": 0.1, "max_iter": 10, "target_var": 1.0}
    leaky = {"name": "leaky_relu", "slope": 0.2}
    fn = init.get("xavier_uniform", activation=leaky)
    leaky["slope"] = 0.5  # the resolved spec is a copy
    assert fn.kwargs["activation"] == {"name": "leaky_relu", "slope": 0.2}


def test_callables_pass_through():
    def mine(tensor, generator=None):
        return tensor.fill_(1.0)
    assert init.get(mine) is mine
    fn = init.get("lsuv")
    assert init.get(fn) is fn and init.is_data_dependent(fn) and not init.is_data_dependent(mine)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError, match=r"unknown initializer 'glorot'.*valid initializers: zeros, constant, "
                                          r"uniform, normal, .*orthogonal, lsuv"):
        init.get("glorot")
    with pytest.raises(ConfigError, match="did you mean 'he_normal'"):
        init.get({"hee_normal": {}})
    with pytest.raises(ConfigError, match="valid initializers"):
        init.is_data_dependent("glorot")


@pytest.mark.parametrize("spec, message", [
    ({"normal": {"stdev": 0.1}}, r"unknown argument 'stdev'; valid arguments: mean, std"),
    ({"he_normal": {"nonlinearity": "relu"}}, r"unknown argument 'nonlinearity'; valid arguments: mode, activation, gain"),
    ({"zeros": {"value": 1}}, r"valid arguments: \(none\)"),
    ({"he_normal": {"mode": "fan_middle"}}, r"he_normal: mode must be 'fan_in' or 'fan_out', got 'fan_middle'"),
    ({"he_uniform": {"mode": "fan_avg"}}, r"mode must be 'fan_in' or 'fan_out', got 'fan_avg'"),
    ({"normal": {"std": -1}}, r"normal: std must be > 0, got -1"),
    ({"normal": {"std": 0}}, r"std must be > 0, got 0"),
    ({"normal": {"mean": "zero"}}, r"mean must be a finite number, got 'zero'"),
    ({"uniform": {"low": 1, "high": -1}}, r"uniform: low must be < high, got low=1, high=-1"),
    ({"uniform": {"low": 1, "high": 1}}, r"low must be < high"),
    ({"truncated_normal": {"a": 2, "b": -2}}, r"a must be < b .*got a=2, b=-2"),
    ({"truncated_normal": {"std": -0.1}}, r"std must be > 0"),
    ({"xavier_uniform": {"gain": -1}}, r"gain must be > 0, got -1"),
    ({"xavier_normal": {"gain": "big"}}, r"gain must be a number > 0 or 'auto', got 'big'"),
    ({"orthogonal": {"gain": float("nan")}}, r"gain must be a finite number"),
    ({"he_normal": {"activation": "relux"}}, r"he_normal: activation: unknown activation 'relux'.*valid activations"),
    ({"constant": {"value": True}}, r"value must be a finite number, got True"),
    ({"lsuv": {"tol": 0}}, r"lsuv: tol must be a finite number > 0, got 0"),
    ({"lsuv": {"max_iter": 2.5}}, r"max_iter must be an integer >= 1, got 2.5"),
    ({"lsuv": {"target_var": -1}}, r"target_var must be a finite number > 0"),
    (42, r"bad initializer spec 42"),
], ids=str)
def test_bad_specs_fail_in_get(spec, message):
    with pytest.raises(ConfigError, match=message):
        init.get(spec)


def test_fans_need_a_matrix():
    with pytest.raises(ConfigError, match=r"he_normal: needs a weight with >= 2 dims.*got shape \(5,\)"):
        init.he_normal_(torch.empty(5))
    init.get({"normal": {"std": 0.1}})(torch.empty(5))  # biases are fine for fan-free inits


# ---- LSUV

def mlp(act, depth=10, width=100):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), act()]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("act", [nn.Tanh, nn.ReLU])
@pytest.mark.parametrize("training", [True, False])
def test_lsuv_unit_variance(act, training):
    torch.manual_seed(0)
    net = mlp(act).train(training)
    fn = init.get("lsuv")
    for m in net.modules():
        if isinstance(m, nn.Linear):
            fn(m.weight, generator=gen())
    x = 5 * torch.randn(256, 100, generator=gen(1))
    report = init.lsuv_(net, x, **fn.kwargs)

    linears = [f"{i}" for i in range(0, 20, 2)]
    assert [r["layer"] for r in report] == linears
    assert all(abs(r["var"] - 1) < 0.1 and 0 <= r["iterations"] <= 10 for r in report)
    assert report[0]["iterations"] >= 1  # the input has variance 25: the first layer needed rescaling
    outputs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outputs.append(o.var().item()))
             for m in net.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    np.testing.assert_allclose(outputs, [r["var"] for r in report], rtol=1e-4)
    assert all(abs(v - 1) < 0.1 for v in outputs)
    assert all(not m._forward_hooks for m in net.modules())
    assert all(m.training == training for m in net.modules())


def test_lsuv_follows_call_order_and_modules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.second = nn.Linear(20, 5)  # registered first, called second
            self.first = nn.Linear(10, 20)
            self.norm = nn.BatchNorm1d(5)
            self.unused = nn.Linear(3, 3)

        def forward(self, x):
            return self.norm(self.second(torch.tanh(self.first(x))))

    net = Net()
    x = torch.randn(64, 10, generator=gen())
    running = net.norm.running_mean.clone()
    assert [r["layer"] for r in init.lsuv_(net, x)] == ["first", "second"]
    assert torch.equal(net.norm.running_mean, running)  # only weights change
    before = net.first.weight.clone()
    assert [r["layer"] for r in init.lsuv_(net, x, target_var=2.0, modules=[net.second])] == ["second"]
    assert torch.equal(net.first.weight, before)
    with pytest.raises(ConfigError, match="'unused' is not called"):
        init.lsuv_(net, x, modules=[net.unused])
    with pytest.raises(ConfigError, match="'norm' .* no weight of ndim >= 2"):
        init.lsuv_(net, x, modules=[net.norm])
    assert all(not m._forward_hooks for m in net.modules())


def test_lsuv_zero_variance_names_the_layer():
    net = nn.Sequential(nn.Linear(8, 8, bias=False), nn.ReLU(), nn.Linear(8, 8)).eval()
    with pytest.raises(ConfigError, match=r"layer '0' has output variance 0"):
        init.lsuv_(net, torch.zeros(16, 8))  # all-zero input, no bias
    assert all(not m._forward_hooks for m in net.modules())
    assert not net.training


def test_lsuv_checks_arguments():
    net = mlp(nn.Tanh, depth=1)
    with pytest.raises(ConfigError, match="tol must be"):
        init.lsuv_(net, torch.randn(4, 100), tol=-1)
