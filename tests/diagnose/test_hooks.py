"""Hooks are context managers that remove themselves: nothing fires after exit (STYLE rule 7)."""

import pytest
import torch
from torch import nn

from trainlab.diagnose import Hook, Hooks

from .common import forward_hook_count


def _net():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_hooks_fire_inside_and_never_after_exit():
    net, seen = _net(), []
    with Hooks(dict(net.named_children()), lambda name, m, args, out: seen.append((name, tuple(out.shape)))) as h:
        net(torch.randn(5, 4))
        assert h.active and len(h) == 3
    assert seen == [("0", (5, 3)), ("1", (5, 3)), ("2", (5, 2))]
    net(torch.randn(5, 4))
    assert len(seen) == 3 and not h.active
    assert forward_hook_count(net) == 0


def test_hooks_are_removed_when_the_body_raises():
    net = _net()
    with pytest.raises(RuntimeError, match="boom"):
        with Hooks(dict(net.named_children()), lambda *a: None):
            assert forward_hook_count(net) == 3
            raise RuntimeError("boom")
    assert forward_hook_count(net) == 0


def test_single_hook_and_double_remove():
    net, seen = _net(), []
    with Hook("first", net[0], lambda name, m, args, out: seen.append(name)) as h:
        net(torch.randn(1, 4))
    h.remove()  # idempotent
    net(torch.randn(1, 4))
    assert seen == ["first"] and forward_hook_count(net) == 0
