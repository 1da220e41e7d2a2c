"""Activations: every registry name builds and back-propagates, gains match torch's
``calculate_gain`` (or a Monte Carlo second moment where torch has none), errors list the valid
names, and the hand-written modules (Maxout, Residual, Parallel) pass float64 gradcheck."""

import math
import re

import pytest
import torch
from torch import nn
from torch.func import functional_call

from trainlab.errors import ConfigError
from trainlab.nn import activations
from trainlab.nn.activations import ACTIVATIONS, Maxout
from trainlab.nn.layers import MERGES, Parallel, Residual

# Activations whose gain torch defines: name or spec -> calculate_gain(*args).
TORCH_GAINS = {
    "identity": ("linear",),
    "sigmoid": ("sigmoid",),
    "tanh": ("tanh",),
    "relu": ("relu",),
    "leaky_relu": ("leaky_relu",),
    "leaky_relu_0.2": ("leaky_relu", 0.2),
    "selu": ("selu",),
}
TORCH_SPECS = {"leaky_relu_0.2": {"name": "leaky_relu", "slope": 0.2}}
MC_SAMPLES = 2_000_000


def seed(s=0):
    torch.manual_seed(s)


# ---- every name builds and runs

@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_every_name_builds_and_backpropagates(name):
    seed()
    module = activations.get(name)
    assert isinstance(module, nn.Module)
    x = torch.randn(4, 6, requires_grad=True)  # 6 features: even, as maxout needs
    y = module(x)
    expected = (4, 3) if name == "maxout" else (4, 6)
    assert y.shape == expected
    y.square().sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("spec", ["relu", {"name": "relu"}, {"relu": {}}, {"relu": None}])
def test_spec_forms(spec):
    assert isinstance(activations.get(spec), nn.ReLU)


def test_modules_pass_through():
    m = nn.Tanh()
    assert activations.get(m) is m


def test_kwargs_reach_the_module():
    assert activations.get({"leaky_relu": {"slope": 0.2}}).negative_slope == 0.2
    assert activations.get({"name": "elu", "alpha": 0.5}).alpha == 0.5
    assert activations.get({"maxout": {"pieces": 3}}).pieces == 3
    prelu = activations.get({"prelu": {"init": 0.1, "num_parameters": 4}})
    assert prelu.weight.shape == (4,) and torch.allclose(prelu.weight, torch.full((4,), 0.1))


# ---- gains

@pytest.mark.parametrize("key", list(TORCH_GAINS))
def test_gain_matches_torch(key):
    spec = TORCH_SPECS.get(key, key)
    assert activations.gain(spec) == pytest.approx(torch.nn.init.calculate_gain(*TORCH_GAINS[key]), rel=1e-12)


def test_gain_default_is_identity():
    assert activations.gain() == 1.0


def test_very_leaky_relu_has_slope_one_third():
    module = activations.get("very_leaky_relu")
    assert isinstance(module, nn.LeakyReLU)
    assert module.negative_slope == pytest.approx(1 / 3, rel=1e-12)
    expected = torch.nn.init.calculate_gain("leaky_relu", 1 / 3)
    assert activations.gain("very_leaky_relu") == pytest.approx(expected, rel=1e-12)


def _mc_second_moment(spec) -> float:
    """E[f(z)^2], z ~ N(0, 1); for maxout with k pieces f(z) is the max of k independent normals."""
    gen = torch.Generator().manual_seed(1234)
    name, kwargs = ACTIVATIONS.split(spec)
    pieces = kwargs.get("pieces", 2) if name == "maxout" else 1
    z = torch.randn(MC_SAMPLES // pieces * pieces, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        fz = activations.get(spec).double()(z.reshape(-1, pieces))  # (N / pieces, 1)
    return float(fz.square().mean())


OTHER_SPECS = [n for n in ACTIVATIONS.names() if n not in TORCH_GAINS] + [
    {"elu": {"alpha": 0.5}}, {"prelu": {"init": 0.1}}, {"softplus": {"beta": 2.0}},
    {"gelu": {"approximate": "tanh"}}, {"maxout": {"pieces": 3}}, {"maxout": {"pieces": 4}},
    {"hard_tanh": {"min_val": -2.0, "max_val": 0.5}},
]


def test_other_specs_cover_every_name():
    torch_names = set(TORCH_GAINS) - set(TORCH_SPECS)
    assert torch_names | {s for s in OTHER_SPECS if isinstance(s, str)} == set(ACTIVATIONS.names())


@pytest.mark.parametrize("spec", OTHER_SPECS, ids=str)
def test_gain_is_the_second_moment_gain(spec):
    expected = 1 / math.sqrt(_mc_second_moment(spec))
    assert activations.gain(spec) == pytest.approx(expected, rel=1e-2)


def test_second_moment_gain_agrees_with_torch_where_both_apply():
    # He's derivation (Var = 2 / fan_in for relu) is the second-moment gain: the two must agree.
    assert 1 / math.sqrt(_mc_second_moment("relu")) == pytest.approx(math.sqrt(2), rel=1e-2)
    assert 1 / math.sqrt(_mc_second_moment({"leaky_relu": {"slope": 0.2}})) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2), rel=1e-2)


# ---- errors

def _valid_names_pattern() -> str:
    return re.escape("valid activations: " + ", ".join(ACTIVATIONS.names()))


@pytest.mark.parametrize("call", [activations.get, activations.gain])
def test_unknown_name_lists_valid_names(call):
    with pytest.raises(ConfigError, match=_valid_names_pattern()):
        call("relu7")
    with pytest.raises(ConfigError, match=r"unknown activation 'rleu' \(did you mean 'relu'\?\)"):
        call("rleu")
    with pytest.raises(ConfigError, match=_valid_names_pattern()):
        call({"name": "swishy", "beta": 1})


@pytest.mark.parametrize("call", [activations.get, activations.gain])
@pytest.mark.parametrize("spec, valid", [
    ({"leaky_relu": {"alpha": 0.1}}, "slope"),
    ({"name": "elu", "beta": 1.0}, "alpha"),
    ({"relu": {"inplace": True}}, "(none)"),
    ({"prelu": {"slope": 0.1}}, "init, num_parameters"),
    ({"softplus": {"threshold": 20}}, "beta"),
])
def test_bad_kwarg_lists_valid_arguments(call, spec, valid):
    name = next(iter(spec)) if "name" not in spec else spec["name"]
    with pytest.raises(ConfigError, match=re.escape(f"activation {name!r}: unknown argument") + ".*"
                       + re.escape(f"valid arguments: {valid}")):
        call(spec)


def test_maxout_module_rejects_bad_pieces():
    with pytest.raises(ConfigError, match="pieces must be an integer >= 1, got 0"):
        activations.get({"maxout": {"pieces": 0}})
    with pytest.raises(ConfigError, match=r"pieces must be an integer >= 1, got 1\.5"):
        Maxout(1.5)
    with pytest.raises(ConfigError, match="7 input features are not divisible by pieces=2"):
        Maxout(2)(torch.randn(3, 7))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # pieces=0 divides by zero today
@pytest.mark.parametrize("spec, message", [
    ({"name": "maxout", "piece": 3}, "unknown argument 'piece'; valid arguments: pieces"),
    ({"maxout": {"pieces": 0}}, "pieces must be an integer >= 1"),
])
def test_maxout_gain_checks_arguments(spec, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        activations.gain(spec)


def test_other_argument_checks():
    with pytest.raises(ConfigError, match="slope must be a number, got 'steep'"):
        activations.get({"leaky_relu": {"slope": "steep"}})
    with pytest.raises(ConfigError, match="approximate must be 'none' or 'tanh', got 'erf'"):
        activations.get({"gelu": {"approximate": "erf"}})


# ---- float64 gradcheck of the hand-written modules

def _gradcheck_module(module: nn.Module, x: torch.Tensor) -> None:
    """gradcheck with respect to the input and every parameter of ``module`` (float64)."""
    module = module.double()
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for p in module.parameters()]
    x = x.double().requires_grad_(True)

    def f(x, *ps):
        return functional_call(module, dict(zip(names, ps)), (x,))

    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-5)


def _distinct(shape, gap=0.1):
    """Values at least ``gap`` apart in random order: no ties, also not within gradcheck's eps."""
    n = math.prod(shape)
    return (torch.randperm(n).double() * gap - n * gap / 2).reshape(shape)


@pytest.mark.parametrize("pieces", [2, 3])
def test_maxout_gradcheck(pieces):
    seed()
    _gradcheck_module(Maxout(pieces), _distinct((4, 5 * pieces)))


def test_maxout_matches_reference():
    seed()
    x = torch.randn(3, 4, 6)
    expected = torch.stack([x[..., 2 * i:2 * i + 2].max(-1).values for i in range(3)], dim=-1)
    assert torch.equal(Maxout(2)(x), expected)


def test_prelu_gradcheck():
    seed()
    prelu = activations.get({"prelu": {"num_parameters": 1}})
    assert isinstance(prelu, nn.PReLU)
    _gradcheck_module(prelu, _distinct((4, 6)) + 0.05)  # no input at the kink x = 0


@pytest.mark.parametrize("projection", [False, True])
def test_residual_gradcheck(projection):
    seed()
    if projection:
        module = Residual(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 3)),
                          skip=nn.Linear(4, 3, bias=False), post=nn.Tanh())
    else:
        module = Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh()), post=nn.Sigmoid())
    _gradcheck_module(module, torch.randn(5, 4))


def test_residual_is_body_plus_skip():
    seed()
    body, skip = nn.Linear(4, 3), nn.Linear(4, 3, bias=False)
    x = torch.randn(5, 4)
    assert torch.allclose(Residual(body, skip)(x), body(x) + skip(x))
    same = Residual(nn.Linear(4, 4))  # no skip given: the identity
    assert torch.allclose(same(x), same.body(x) + x)


@pytest.mark.parametrize("merge", MERGES)
def test_parallel_gradcheck(merge):
    seed()
    branches = [nn.Linear(4, 3), nn.Sequential(nn.Linear(4, 3), nn.Tanh()), nn.Linear(4, 3)]
    module = Parallel(branches, merge).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    if merge == "max":  # gradcheck needs every max to win by far more than its eps
        with torch.no_grad():
            top2 = torch.stack([b(x) for b in module.branches]).topk(2, dim=0).values
        assert (top2[0] - top2[1]).min() > 1e-3
    _gradcheck_module(module, x)


@pytest.mark.parametrize("merge, reference", [
    ("concat", lambda outs: torch.cat(outs, -1)),
    ("sum", lambda outs: outs[0] + outs[1]),
    ("mean", lambda outs: (outs[0] + outs[1]) / 2),
    ("max", lambda outs: torch.maximum(outs[0], outs[1])),
])
def test_parallel_merges_match_reference(merge, reference):
    seed()
    branches = [nn.Linear(4, 3), nn.Linear(4, 3)]
    x = torch.randn(5, 4)
    assert torch.allclose(Parallel(branches, merge)(x), reference([b(x) for b in branches]))


def test_parallel_rejects_unknown_merge():
    with pytest.raises(ValueError, match="merge must be one of"):
        Parallel([nn.Identity(), nn.Identity()], "product")
