"""Mixed precision (``compute_dtype``): one bfloat16 step against autograd's float64 gradient,
training that agrees with float32 as closely as float32 agrees with itself under other random
draws, float32 master state, the 16-bit sampler's statistics, and the default path unchanged."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from trainlab.errors import ConfigError
from trainlab.pretrain import DBN, RBM, free_energy
from trainlab.pretrain.precision import Mixed

X = torch.tensor(load_digits().data[:600] / 16.0, dtype=torch.float32)


@pytest.mark.parametrize("compute_dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("visible,k,persistent,momentum", [("bernoulli", 1, True, 0.0), ("bernoulli", 2, False, 0.5),
                                                           ("gaussian", 1, False, 0.0)])
def test_low_precision_step_is_the_free_energy_gradient(compute_dtype, visible, k, persistent, momentum):
    """One step changes (W, c, b) by lr * -grad of [mean F(v0) - mean F(vk)] (float64 autograd at
    the same v0, vk) to within 1% of the largest change: the low-precision GEMMs' rounding."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 12, generator=g) if visible == "bernoulli" else torch.randn(40, 12, generator=g)
    rbm = RBM(6, visible=visible, k=k, persistent=persistent, lr=0.1, momentum=momentum, final_momentum=momentum,
              weight_decay=0.0, batch_size=40, epochs=0, compute_dtype=compute_dtype, random_state=3).fit(x)
    rbm.components_ += 0.5 * torch.randn(6, 12, generator=g)  # away from the tiny init
    rbm.partial_fit(x)  # the persistent chain now exists
    for v in rbm._velocity:
        v.zero_()  # the step's change is then lr * gradient, with or without momentum
    before = [t.clone() for t in rbm._params()]
    v0, vk = rbm._step(x)
    params = [t.double().requires_grad_() for t in before]
    objective = (free_energy(v0.double(), *params, visible).mean()
                 - free_energy(vk.detach().double(), *params, visible).mean())
    errors = []
    for b, a, grad in zip(before, rbm._params(), torch.autograd.grad(objective, params)):
        change, want = (a - b).double(), -0.1 * grad
        errors.append(float((change - want).abs().max()))
        assert a.dtype == torch.float32 and errors[-1] < 0.01 * float(want.abs().max()), (errors[-1], want)
    assert errors[0] > 1e-6  # W's change is rounded: the GEMMs did run in low precision (float32's error: ~1e-8)


def fit(seed: int, compute_dtype=None, reseed: int | None = None, **kw) -> RBM:
    """5 epochs on digits; ``reseed``: the same init, other random draws in training."""
    rbm = RBM(16, epochs=0, compute_dtype=compute_dtype, random_state=seed, **kw).fit(X)
    if reseed is not None:
        rbm._rng.manual_seed(reseed)
    rbm.epochs, rbm._resumed = 5, True
    return rbm.fit(X)


@pytest.mark.parametrize("kw", [{}, {"persistent": True, "momentum": 0.0, "final_momentum": 0.0, "weight_decay": 0.0}])
def test_bfloat16_training_agrees_with_float32(kw):
    """From one seed, bfloat16 and float32 training end as close as float32 and float32 with other
    random draws (within 2x, and within 0.05 mean absolute difference of P(h | v)); the exact
    log-likelihood (16 hidden units: enumerated) is within 0.2 nats, and the state stays float32."""
    ref, bf, other = fit(0, **kw), fit(0, "bfloat16", **kw), fit(0, reseed=1234, **kw)
    t_ref = ref.transform(X)
    mad_bf, mad_other = float((bf.transform(X) - t_ref).abs().mean()), float((other.transform(X) - t_ref).abs().mean())
    assert 0 < mad_bf < min(0.05, 2 * mad_other), (mad_bf, mad_other)
    assert abs(bf.log_likelihood(X) - ref.log_likelihood(X)) < 0.2
    state = [*bf._params(), *bf._velocity] + ([bf._chain] if bf._chain is not None else [])
    assert all(t.dtype == torch.float32 for t in state) and bf.transform(X).dtype == torch.float32


def test_default_path_is_float32_and_unchanged():
    """compute_dtype None is the data's dtype: bit for bit what no argument gives, and not what bfloat16 gives."""
    a = RBM(16, epochs=2, random_state=0).fit(X)
    b = RBM(16, epochs=2, random_state=0, compute_dtype=None).fit(X)
    c = RBM(16, epochs=2, random_state=0, compute_dtype="bfloat16").fit(X)
    assert all(torch.equal(p, q) for p, q in zip(a._params(), b._params()))
    assert not torch.equal(a.components_, c.components_)
    assert a._mixed is None and c._mixed.dtype == torch.bfloat16


def test_bfloat16_resumes_bit_for_bit():
    straight = RBM(8, epochs=3, persistent=True, compute_dtype="bfloat16", random_state=2).fit(X)
    part = RBM(8, epochs=1, persistent=True, compute_dtype="bfloat16", random_state=2).fit(X)
    resumed = RBM().load_state_dict(part.state_dict()).set_params(epochs=3)
    assert resumed.compute_dtype == "bfloat16"
    resumed.fit(X)
    assert all(torch.equal(p, q) for p, q in zip(straight._params(), resumed._params()))


def test_sixteen_bit_samples_have_the_right_means():
    p = torch.tensor([0.0, 1e-6, 0.05, 0.3, 0.5, 0.9, 1 - 1e-6, 1.0]).repeat(20000, 1)  # (20000, 8)
    s = Mixed.bernoulli(p, torch.Generator().manual_seed(0))
    assert s.dtype == torch.float32 and set(s.unique().tolist()) <= {0.0, 1.0}
    mean, want = s.mean(0), p[0]
    sd = (want * (1 - want) / len(p)).sqrt()
    assert torch.all((mean - want).abs() <= 5 * sd + 2 ** -16), mean  # P(1) within 2**-16 of p, 5 sd of noise
    assert mean[0] == 0 and mean[-1] == 1
    q = torch.rand(30, 7)
    assert torch.equal(Mixed.bernoulli(q.clone(), torch.Generator().manual_seed(1)),
                       Mixed.bernoulli(q, torch.Generator().manual_seed(1), out=q))  # in place: the same draws


@pytest.mark.parametrize("make", [lambda d: RBM(4, compute_dtype=d), lambda d: DBN(hidden=[4], compute_dtype=d)])
@pytest.mark.parametrize("value", ["float8", "fp32", 16])
def test_bad_compute_dtype_is_one_config_error(make, value):
    with pytest.raises(ConfigError, match=rf"unknown compute_dtype {value!r}; valid: null \(the data's dtype\), "
                                          r"bfloat16, float16$"):
        make(value).fit(np.ones((4, 3)))
