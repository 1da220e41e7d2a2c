"""Mixed precision for the RBM's training step (``RBM(compute_dtype="bfloat16")``), as autocast
does it, but explicit. The three big GEMMs of a CD step -- E[v | h] (h W), P(h | v) (v W^T) and
the gradient statistics [h0; -hk]^T [v0; vk] -- take their operands in bfloat16 (or float16)
and return their products in it (the GEMM accumulates in float32 inside; the product is then
rounded once). Everything else stays in the data's dtype (float32): the master weights and
biases, momentum buffers, the bias added to each product, sigmoids and the probabilities the
samples compare against, the bias gradients and the update itself. W is cast once per step into a reused buffer.
Binary samples compare float32 probabilities with 16-bit uniforms, four from each 64-bit random
draw: P(1) is within 2**-16 of p (the float32 path's 24-bit uniforms: 2**-24), far finer than
the 2**-9 relative rounding of a bfloat16 product, and the random numbers cost a third as much.

    mixed = Mixed(torch.bfloat16)
    W_low = mixed.cast("W", W)                                   # (H, D) bfloat16
    mixed.affine(c, mixed.cast("v", v), W_low.t(), out=h)        # h = c + v W^T, float32

On a CPU with AVX512-BF16 a bfloat16 GEMM runs at about twice float32's rate (measured here:
194 vs 97 GFLOP/s, 100x784 @ 784x256, one thread); on a GPU, at tensor-core rates. Precision:
the products carry 8 significant bits, so one step's update agrees with float64's to about 0.3%
of its largest entry (float16: 0.03%), far inside the stochastic gradient's noise.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from trainlab.pretrain import energy

COMPUTE_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


class StepOps(NamedTuple):
    """What a CD step computes with: the weights its GEMMs take, ``affine(bias, a, b, out=None)``
    (bias + a @ b), ``bernoulli(p, generator)`` and ``sample_visible_(mean, visible, generator)``."""
    W: torch.Tensor
    affine: Callable
    bernoulli: Callable
    sample_visible_: Callable


def full_ops(W: torch.Tensor) -> StepOps:
    """The data's own dtype throughout (the default)."""
    return StepOps(W, torch.addmm, energy.bernoulli, energy.sample_visible_)


class Mixed:
    """The low-precision twins of a step's GEMM operands, in buffers reused step to step."""

    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype
        self._twins: dict[str, torch.Tensor] = {}

    def cast(self, name: str, t: torch.Tensor) -> torch.Tensor:
        """``t`` in the low dtype, written into the buffer ``name`` (reallocated when the shape changes)."""
        twin = self._twins.get(name)
        if twin is None or twin.shape != t.shape or twin.device != t.device:
            twin = self._twins[name] = torch.empty(t.shape, dtype=self.dtype, device=t.device)
        return twin.copy_(t)

    def affine(self, bias: torch.Tensor, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``bias + a @ b`` (torch.addmm's signature): ``a @ b`` in the low dtype (``a`` cast if it is
        not already; ``b`` must be), then added to ``bias`` in ``bias``'s dtype."""
        if a.dtype != self.dtype:
            a = a.to(self.dtype)
        return torch.add(bias, torch.mm(a, b), out=out)

    def ops(self, W: torch.Tensor) -> StepOps:
        """This step's operations, with W cast once into its low-precision twin."""
        return StepOps(self.cast("W", W), self.affine, self.bernoulli, self.sample_visible_)

    @staticmethod
    def bernoulli(p: torch.Tensor, generator: torch.Generator | None, out: torch.Tensor | None = None) -> torch.Tensor:
        """Binary samples (p's dtype) with P(1) within 2**-16 of p: a 16-bit uniform k + 32768
        in [0, 65536) is below 65536 p exactly when k < 65536 p - 32768.5."""
        words = torch.empty((p.numel() + 3) // 4, dtype=torch.int64, device=p.device)
        k = words.random_(-2 ** 63, None, generator=generator).view(torch.int16)[:p.numel()].view(p.shape)
        threshold = torch.mul(p, 65536, out=out).sub_(32768.5)
        return torch.lt(k, threshold, out=threshold)

    def sample_visible_(self, mean: torch.Tensor, visible: str, generator: torch.Generator | None) -> torch.Tensor:
        if visible == "bernoulli":
            return self.bernoulli(mean, generator, out=mean)
        return energy.sample_visible_(mean, visible, generator)

    def outer(self, hs: torch.Tensor, vs_low: torch.Tensor) -> torch.Tensor:
        """The gradient statistics ``hs^T vs`` (H, D), in the low dtype."""
        return torch.mm(self.cast("hs", hs).t(), vs_low)
