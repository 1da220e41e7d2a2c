"""Per-member arithmetic against its reference: each registry loss's fused form against
``vmap`` of the registry's own function, and per-member clipping against torch's
``clip_grad_norm_`` on each member alone."""

import pytest
import torch
from torch.func import vmap

from trainlab.ensemble.per_model import MemberLoss, clip_grad_norm_
from trainlab.train.losses import LOSSES


def _targets(name, k, b, c, shared):
    shape = (b,) if shared else (k, b)
    if name == "cross_entropy":
        return torch.randint(0, c, shape)
    if name == "binary_cross_entropy":
        return torch.randint(0, 2, shape + (1,)).double()
    return torch.randn(shape + (c,), dtype=torch.float64)


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("classes_first", [False, True])  # the (K, C, B) cross-entropy a search uses
def test_member_loss_is_the_registry_loss_per_member(name, shared, classes_first):
    loss = LOSSES.lookup(name)
    k, b, c = 4, 7, 1 if name == "binary_cross_entropy" else 3
    out = torch.randn(k, b, c, dtype=torch.float64, requires_grad=True)
    y = _targets(name, k, b, c, shared)
    got = MemberLoss(name, loss, classes_first)(out, y, shared)
    ref = torch.stack([loss.fn(out[i], y if shared else y[i]) for i in range(k)])
    torch.testing.assert_close(got, ref)
    torch.testing.assert_close(got, vmap(loss.fn, in_dims=(0, None if shared else 0))(out, y))
    g1, = torch.autograd.grad(got.sum(), out)
    g2, = torch.autograd.grad(ref.sum(), out)
    torch.testing.assert_close(g1, g2)  # member i's gradient is its own loss's gradient
    if loss.correct is not None:
        counts = MemberLoss(name, loss).correct(out.detach(), y, shared)
        assert counts.tolist() == [loss.correct(out[i].detach(), y if shared else y[i]).item() for i in range(k)]


def test_clip_grad_norm_per_member_equals_torch_on_each_member():
    torch.manual_seed(0)
    k = 3
    params = [torch.randn(k, 4, 5, dtype=torch.float64, requires_grad=True),
              torch.randn(k, 1, 5, dtype=torch.float64, requires_grad=True)]
    for p, scale in zip(params, (1.0, 0.1)):
        p.grad = torch.randn_like(p) * scale * torch.tensor([0.01, 1.0, 10.0], dtype=torch.float64).view(k, 1, 1)
    expected = []
    for i in range(k):
        member = [p[i].detach().clone().requires_grad_() for p in params]
        for m, p in zip(member, params):
            m.grad = p.grad[i].clone()
        norm = torch.nn.utils.clip_grad_norm_(member, 0.5)
        expected.append((norm, [m.grad for m in member]))
    norms = clip_grad_norm_(params, 0.5, k)
    for i, (norm, grads) in enumerate(expected):
        assert norms[i].item() == pytest.approx(norm.item())
        for p, g in zip(params, grads):
            torch.testing.assert_close(p.grad[i], g)
    assert norms[0] < 0.5 < norms[2]  # one member left alone, one clipped
