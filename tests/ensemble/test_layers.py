"""Each stacked layer computes what K copies of its torch.nn module compute, member by member:
outputs, gradients and running statistics, in float64, for per-member and shared inputs."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainlab.ensemble import StackedModel
from trainlab.nn import Maxout, Parallel, Residual

from .common import float64


def _bn(cls, c):
    def make():
        bn = cls(c)
        with torch.no_grad():  # non-trivial affine and running statistics
            bn.weight.uniform_(0.5, 1.5), bn.bias.normal_()
            bn.running_mean.normal_(), bn.running_var.uniform_(0.5, 2.0)
        return bn
    return make


def _randomized(make):
    def inner():
        m = make()
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.3)  # LayerNorm/PReLU start at constants: spread them
        return m
    return inner


CASES = {
    "linear": (lambda: nn.Linear(4, 3), (4,)),
    "linear_no_bias": (lambda: nn.Linear(4, 3, bias=False), (4,)),
    "linear_sequence": (lambda: nn.Linear(4, 3), (6, 4)),
    "mlp": (lambda: nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 2)), (4,)),
    "activations": (lambda: nn.Sequential(nn.Linear(4, 6), nn.ELU(), nn.GELU(), nn.SiLU(), nn.Mish(),
                                          nn.Softplus(), nn.Hardtanh(), nn.LeakyReLU(0.2), nn.SELU(),
                                          nn.Sigmoid(), nn.Identity()), (4,)),
    "maxout": (lambda: nn.Sequential(nn.Linear(4, 6), Maxout(2)), (4,)),
    # 2 outputs < 5 rows: with transpose_few, the transposed product, then a ReLU on its view
    "few_outputs_relu": (lambda: nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 3), nn.ReLU()), (4,)),
    "conv": (lambda: nn.Conv2d(2, 4, 3, padding="same"), (2, 6, 6)),
    "conv_strided": (lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1), (2, 7, 7)),
    "conv_groups": (lambda: nn.Conv2d(4, 4, 3, padding=1, groups=2, bias=False), (4, 5, 5)),
    "batchnorm1d": (_bn(nn.BatchNorm1d, 4), (4,)),
    "batchnorm2d": (_bn(nn.BatchNorm2d, 2), (2, 3, 3)),
    "layernorm": (_randomized(lambda: nn.LayerNorm(4)), (4,)),
    "layernorm_image": (_randomized(lambda: nn.LayerNorm([2, 3, 3])), (2, 3, 3)),
    "layernorm_plain": (lambda: nn.LayerNorm(4, elementwise_affine=False), (4,)),
    "prelu": (_randomized(lambda: nn.PReLU()), (4,)),
    "prelu_per_feature": (_randomized(lambda: nn.PReLU(4)), (4,)),
    "prelu_per_channel": (_randomized(lambda: nn.PReLU(2)), (2, 3, 3)),
    "flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(18, 3)), (2, 3, 3)),
    "flatten_partial": (lambda: nn.Sequential(nn.Flatten(1, 2), nn.Linear(3, 2)), (2, 3, 3)),
    "pools": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2)), (2, 8, 8)),
    "residual": (lambda: Residual(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4)), None, nn.ReLU()), (4,)),
    "residual_projected": (lambda: Residual(nn.Sequential(nn.Linear(4, 6), nn.ReLU()), nn.Linear(4, 6, bias=False)), (4,)),
    "parallel_concat": (lambda: Parallel([nn.Linear(4, 3), nn.Sequential(nn.Linear(4, 2), nn.Tanh())]), (4,)),
    "parallel_max": (lambda: Parallel([nn.Linear(4, 3), nn.Linear(4, 3)], "max"), (4,)),
    "parallel_images": (lambda: Parallel([nn.Conv2d(2, 3, 1), nn.Conv2d(2, 1, 3, padding=1)], "concat", 1), (2, 4, 4)),
}


def _members(make, k):
    mods = []
    for i in range(k):
        torch.manual_seed(i)
        mods.append(make())
    return mods


def _compare(make, in_shape, k=3, b=5, train=True, shared=False, transposed=False):
    with float64():
        mods = _members(make, k)
        stack = StackedModel(mods, input_shape=in_shape)
        stack.transpose_few(transposed)
        stack.train(train)
        for m in mods:
            m.train(train)
        x = torch.randn(b, *in_shape) if shared else torch.randn(k, b, *in_shape)
        xs, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
        out = stack(xs)
        ref = torch.stack([m(xr if shared else xr[i]) for i, m in enumerate(mods)])
        torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-10)
        w = torch.randn_like(out)
        (out * w).sum().backward()
        (ref * w).sum().backward()
        torch.testing.assert_close(xs.grad, xr.grad, atol=1e-12, rtol=1e-10)  # what flows back to the input
        for i, m in enumerate(mods):
            grads = stack.member_grads(i)
            expected = {n: p.grad for n, p in m.named_parameters()}
            assert grads.keys() == expected.keys()
            for n in expected:
                torch.testing.assert_close(grads[n], expected[n], atol=1e-12, rtol=1e-10)
            for n, v in m.state_dict().items():  # running statistics moved the same way
                torch.testing.assert_close(stack.member_state(i)[n], v, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("case", sorted(CASES))
def test_stacked_layer_equals_k_separate_modules(case):
    make, in_shape = CASES[case]
    _compare(make, in_shape)
    _compare(make, in_shape, shared=True)


@pytest.mark.parametrize("case", ["linear", "linear_no_bias", "linear_sequence", "mlp", "few_outputs_relu", "residual"])
def test_transposed_few_output_products_equal_k_separate_modules(case):
    make, in_shape = CASES[case]
    _compare(make, in_shape, transposed=True)
    _compare(make, in_shape, shared=True, transposed=True)


@pytest.mark.parametrize("case", ["batchnorm1d", "batchnorm2d", "mlp", "conv"])
def test_evaluation_mode_uses_each_members_running_statistics(case):
    make, in_shape = CASES[case]
    _compare(make, in_shape, train=False)


def test_batchnorm_statistics_are_per_member():
    """Different members see different batches: each keeps its own running mean."""
    with float64():
        stack = StackedModel(_members(_bn(nn.BatchNorm1d, 3), 2), input_shape=(3,))
        with torch.no_grad():
            stack.body.running_mean.zero_()
        x = torch.stack([torch.full((8, 3), 1.0), torch.full((8, 3), -2.0)]) + torch.randn(2, 8, 3) * 0.01
        stack(x)
        rm = stack.body.running_mean
        assert rm[0].mean() == pytest.approx(0.1, abs=1e-2) and rm[1].mean() == pytest.approx(-0.2, abs=1e-2)


def test_relu_after_a_stacked_linear_runs_in_place_and_members_stay_as_built():
    mods = _members(lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Tanh(), nn.ReLU(), nn.Linear(3, 2)), 2)
    stack = StackedModel(mods, input_shape=(4,))
    assert [type(m).__name__ for m in stack.body] == ["StackedLinear", "FreshReLU", "Tanh", "ReLU", "StackedLinear"]
    assert type(stack.member(0)[1]) is nn.ReLU and not stack.member(0)[1].inplace  # members as built
    x = torch.randn(2, 4)  # 3 outputs, 2 rows: the plain product, rectified in place
    out = stack.body[0](x.expand(2, 2, 4))
    assert stack.body[1](out) is out and (out >= 0).all()
    stack.transpose_few()
    view = stack.body[0](torch.randn(2, 20, 4))  # 3 outputs < 20 rows: a transposed view, not touched
    assert stack.body[1](view) is not view and (view < 0).any()


def test_linear_with_few_outputs_takes_the_transposed_product_when_asked():
    """At most 10 outputs, fewer than the rows: the product is computed as (K, out, B) and viewed."""
    torch.manual_seed(0)
    stack = StackedModel([nn.Linear(8, 3), nn.Linear(8, 3)], input_shape=(8,))
    assert stack(torch.randn(20, 8)).is_contiguous()  # the plain form unless asked (labs: bit for bit)
    stack.transpose_few()
    few, plain = stack(torch.randn(20, 8)), stack(torch.randn(2, 8))  # 3 outputs, 20 rows; 3 outputs, 2 rows
    assert not few.is_contiguous() and few.transpose(1, 2).is_contiguous() and plain.is_contiguous()


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 6), b=st.integers(1, 7), n_in=st.integers(1, 9), n_out=st.integers(1, 9),
       shared=st.booleans())
def test_linear_any_shape(k, b, n_in, n_out, shared):
    _compare(lambda: nn.Linear(n_in, n_out), (n_in,), k=k, b=b, shared=shared)


def _dropout_members(alpha, k):
    make = (lambda: nn.Sequential(nn.Linear(6, 30), nn.AlphaDropout(0.3))) if alpha else \
        (lambda: nn.Sequential(nn.Linear(6, 30), nn.Dropout(0.4), nn.Linear(30, 5)))
    mods, states = [], []
    for i in range(k):
        torch.manual_seed(100 + i)
        mods.append(make())
        states.append(torch.get_rng_state())  # where member i's own run would start drawing masks
    return mods, states


@pytest.mark.parametrize("alpha", [False, True])
def test_per_member_rng_draws_the_masks_separate_runs_draw(alpha):
    with float64():
        mods, states = _dropout_members(alpha, 3)
        stack = StackedModel(mods, seeds=[100, 101, 102], rng_states=states, rng="per_model", input_shape=(6,))
        x = torch.randn(3, 8, 6)
        outs = [stack(x), stack(x)]  # two steps: each member's stream advances as its run's would
        torch.manual_seed(999)  # the global stream is not what members use
        for i, m in enumerate(mods):
            torch.set_rng_state(states[i])
            for out in outs:
                torch.testing.assert_close(out[i], m(x[i]), atol=1e-12, rtol=1e-10)


def test_shared_rng_gives_every_member_its_own_masks_at_rate_p():
    stack = StackedModel([nn.Sequential(nn.Dropout(0.25)) for _ in range(4)], input_shape=(50,))
    out = stack(torch.ones(200, 50))  # one batch, shared by all members
    dropped = out == 0
    assert abs(dropped.float().mean().item() - 0.25) < 0.01  # 40,000 draws: sd 0.002
    for i in range(1, 4):
        assert not torch.equal(dropped[0], dropped[i])
    kept = out[~dropped]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.75))  # inverted dropout scaling
    stack.eval()
    assert torch.equal(stack(torch.ones(5, 50)), torch.ones(4, 5, 50))


def test_max_norm_caps_each_units_incoming_weights():
    with float64():
        mods = _members(lambda: nn.Sequential(nn.Linear(5, 4), nn.Conv2d(1, 3, 2)), 2)
        for m in mods:
            with torch.no_grad():
                for p in m.parameters():
                    p.mul_(10)
        stack = StackedModel(mods, input_shape=(5,))
        for layer in stack.constrained():
            layer.max_norm_(1.5)
        for i, m in enumerate(mods):
            for layer in (m[0], m[1]):
                layer.weight.data.copy_(torch.renorm(layer.weight.flatten(1), 2, 0, 1.5).view_as(layer.weight))
            for n, v in m.state_dict().items():
                torch.testing.assert_close(stack.member_state(i)[n], v)
