"""Shared helpers for the ensemble tests: float64 scope, K separate reference runs, and
comparisons between a stack's members and ordinary modules."""

import contextlib

import torch

from trainlab import data
from trainlab.data import Split
from trainlab.nn import build
from trainlab.train import Trainer, seed_everything

MLP = {"mlp": {"hidden": [16, 16], "activation": "relu", "init": "he_normal"}}


@contextlib.contextmanager
def float64():
    """Default dtype float64 inside (the equivalence reference runs in double precision)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def as64(ds):
    """A data set's splits with float64 inputs (and float targets for regression)."""
    def cast(s):
        y = s.y if s.y.dtype == torch.long else s.y.double()
        return Split(s.x.double(), y)
    return type(ds)(ds.name, cast(ds.train), cast(ds.val), cast(ds.test), ds.n_classes, ds.params)


def gauss(n=120, noise=0.3):
    return data.load({"name": "gauss", "n_samples": n, "noise": noise})


def separate(spec, ds, config, seed, n_out=2, callbacks=(), init_scale=None, val=True):
    """One ordinary run, as a user would write it: seed, build, Trainer(seed), fit."""
    seed_everything(seed)
    model = build(spec, ds.input_shape, n_out)
    if init_scale is not None:
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() >= 2:
                    p.mul_(init_scale)
    task = "classification" if ds.n_classes is not None else "regression"
    t = Trainer(model, config, task=task, device="cpu", seed=seed, callbacks=list(callbacks))
    return t.fit(ds.train, ds.val if val else None)


def max_diff(stack, k, module):
    """Largest absolute difference between member k of a stack and an ordinary module's state."""
    ms = stack.member_state(k)
    ref = module.state_dict()
    assert ms.keys() == ref.keys()
    return max((ms[n].double() - ref[n].double()).abs().max().item() for n in ref)


def assert_members_equal(stack, modules, atol=1e-9, rtol=1e-8):
    for k, m in enumerate(modules):
        ms, ref = stack.member_state(k), m.state_dict()
        assert ms.keys() == ref.keys()
        for n in ref:
            torch.testing.assert_close(ms[n], ref[n], atol=atol, rtol=rtol, check_dtype=False,
                                       msg=lambda s, n=n, k=k: f"member {k}, {n}: {s}")
