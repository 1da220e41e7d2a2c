"""The RBM's energy function and what follows from it: conditionals, free energy, and the
partition function (exact by enumerating hidden states; AIS for larger hidden layers).

Parameters are plain tensors: ``W`` (H, D) like scikit-learn's ``components_``, hidden biases
``c`` (H,), visible biases ``b`` (D,). Visible units are ``bernoulli`` (binary, or probabilities
in [0, 1]) or ``gaussian`` (real, unit variance; Hinton 2010 section 13.2):

    bernoulli  E(v, h) = -b.v - c.h - h.W v        F(v) = -b.v - sum_j softplus(c_j + W_j v)
    gaussian   E(v, h) = |v - b|^2 / 2 - c.h - h.W v   F(v) = |v - b|^2 / 2 - sum_j softplus(...)

``p(v) = exp(-F(v)) / Z``; ``log Z`` sums ``exp(-E)`` over every state.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

VISIBLES = ("bernoulli", "gaussian")
EXACT_MAX_HIDDEN = 20  # 2**20 hidden states: about a second on a CPU for a few hundred visibles


def hidden_input(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor, affine=torch.addmm) -> torch.Tensor:
    """c + v W^T: (N, H). ``affine``: torch.addmm, or a mixed-precision one (precision.Mixed.affine)."""
    return affine(c, v, W.t())


def visible_mean(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor, visible: str,
                 out: torch.Tensor | None = None, affine=torch.addmm) -> torch.Tensor:
    """E[v | h]: sigmoid(b + h W) for bernoulli, b + h W for gaussian. (N, D); ``out``: written in place."""
    if out is None:
        x = affine(b, h, W)
        return torch.sigmoid(x) if visible == "bernoulli" else x
    affine(b, h, W, out=out)
    return out.sigmoid_() if visible == "bernoulli" else out


def bernoulli(p: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Binary samples with P(1) = p. The uniforms are drawn in float32 whatever p's dtype, so a
    float32 and a float64 model with the same seed draw the same numbers."""
    u = torch.rand(p.shape, generator=generator, device=p.device, dtype=torch.float32)
    return (u < p).to(p.dtype)


def sample_visible_(mean: torch.Tensor, visible: str, generator: torch.Generator | None) -> torch.Tensor:
    """``sample_visible`` in place: ``mean`` becomes the sample (the same draws, the same values:
    p - u > 0 exactly when u < p)."""
    if visible == "bernoulli":
        u = torch.rand(mean.shape, generator=generator, device=mean.device, dtype=torch.float32)
        return mean.sub_(u).gt_(0)
    return mean.add_(torch.randn(mean.shape, generator=generator, device=mean.device, dtype=torch.float32))


def sample_visible(mean: torch.Tensor, visible: str, generator: torch.Generator | None) -> torch.Tensor:
    if visible == "bernoulli":
        return bernoulli(mean, generator)
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=torch.float32)
    return mean + noise.to(mean.dtype)


def visible_term(v: torch.Tensor, b: torch.Tensor, visible: str) -> torch.Tensor:
    """The visible part of -F(v): b.v (bernoulli) or -|v - b|^2 / 2 (gaussian). (N,)"""
    if visible == "bernoulli":
        return v @ b
    return -0.5 * ((v - b) ** 2).sum(1)


def free_energy(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor, b: torch.Tensor, visible: str) -> torch.Tensor:
    """F(v) with p(v) = exp(-F(v)) / Z. (N,)"""
    return -visible_term(v, b, visible) - F.softplus(hidden_input(v, W, c)).sum(1)


def _hidden_states(n: int, start: int, stop: int, dtype, device) -> torch.Tensor:
    """Rows start..stop-1 of the 2**n binary hidden configurations. (stop - start, n)"""
    idx = torch.arange(start, stop, device=device)
    bits = torch.arange(n, device=device)
    return ((idx[:, None] >> bits) & 1).to(dtype)


def exact_log_z(W: torch.Tensor, c: torch.Tensor, b: torch.Tensor, visible: str, chunk: int = 65536) -> float:
    """log Z summed over all 2**H hidden states (visibles integrated out analytically), in float64.

    bernoulli: log Z = logsumexp_h [c.h + sum_i softplus(b_i + (h W)_i)]
    gaussian:  log Z = D/2 log 2 pi + logsumexp_h [c.h + |b + h W|^2 / 2 - |b|^2 / 2]
    """
    H, D = W.shape
    if H > EXACT_MAX_HIDDEN:
        raise ValueError(f"exact log Z enumerates 2**n_hidden states; n_hidden={H} > {EXACT_MAX_HIDDEN}: use AIS")
    W, c, b = W.double(), c.double(), b.double()
    parts = []
    for start in range(0, 2 ** H, chunk):
        h = _hidden_states(H, start, min(2 ** H, start + chunk), torch.float64, W.device)
        x = torch.addmm(b, h, W)  # (S, D)
        if visible == "bernoulli":
            parts.append(h @ c + F.softplus(x).sum(1))
        else:
            parts.append(h @ c + 0.5 * (x ** 2).sum(1) - 0.5 * float((b ** 2).sum()))
    log_z = float(torch.logsumexp(torch.cat(parts), 0))
    return log_z + (0.5 * D * math.log(2 * math.pi) if visible == "gaussian" else 0.0)


def ais_log_z(W: torch.Tensor, c: torch.Tensor, b: torch.Tensor, visible: str, base_bias: torch.Tensor | None = None,
              runs: int = 100, betas: int = 1000, generator: torch.Generator | None = None) -> tuple[float, float]:
    """Annealed importance sampling estimate of log Z (Salakhutdinov & Murray 2008).

    The base model A has no hidden units and visible biases ``base_bias`` (default: the RBM's
    own ``b``; Salakhutdinov & Murray use the data's base rates), so log Z_A is known in closed
    form. Intermediate models, for beta from 0 to 1:

        log p*_beta(v) = (1 - beta) a(v) + beta a_B(v) + sum_j softplus(beta (c_j + W_j v))

    with a(v) the visible term of A and a_B that of the RBM. ``runs`` chains start from A; each
    accumulates log p*_k(v) - log p*_{k-1}(v), then moves by one Gibbs sweep that leaves p*_k
    invariant. Returns (log Z estimate, its standard error from the spread of the weights).
    """
    W, c, b = W.double(), c.double(), b.double()
    a = b.clone() if base_bias is None else base_bias.double().to(W.device)
    D = W.shape[1]
    grid = torch.linspace(0.0, 1.0, int(betas) + 1, dtype=torch.float64).tolist()

    def log_p(v: torch.Tensor, beta: float) -> torch.Tensor:
        return ((1 - beta) * visible_term(v, a, visible) + beta * visible_term(v, b, visible)
                + F.softplus(beta * hidden_input(v, W, c)).sum(1))

    if visible == "bernoulli":
        v = bernoulli(torch.sigmoid(a).expand(runs, D), generator)
        log_z_a = float(F.softplus(a).sum())
    else:
        v = a + torch.randn(runs, D, generator=generator, dtype=torch.float64, device=W.device)
        log_z_a = 0.5 * D * math.log(2 * math.pi)
    log_z_a += W.shape[0] * math.log(2.0)  # p*_0 includes prod_j (1 + exp(0)) = 2**H
    log_w = torch.zeros(runs, dtype=torch.float64, device=W.device)
    for prev, beta in zip(grid[:-1], grid[1:]):
        log_w += log_p(v, beta) - log_p(v, prev)
        if beta < 1.0:  # one Gibbs sweep under p*_beta
            h = bernoulli(torch.sigmoid(beta * hidden_input(v, W, c)), generator)
            x = (1 - beta) * a + beta * torch.addmm(b, h, W)
            v = sample_visible(torch.sigmoid(x) if visible == "bernoulli" else x, visible, generator)
    log_mean_w = torch.logsumexp(log_w, 0) - math.log(runs)
    # delta-method standard error of log(mean w): std(w) / (sqrt(runs) mean(w))
    w = torch.exp(log_w - log_w.max())
    se = float(w.std() / (math.sqrt(runs) * w.mean())) if runs > 1 else float("nan")
    return log_z_a + float(log_mean_w), se
