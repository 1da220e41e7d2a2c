"""Stacked layers: K members' parameters along a leading model dimension, one batched op each.

Activations flow as ``(K, B, *features)``: member k's batch is ``x[k]``. Every layer here
computes exactly what K copies of its ``torch.nn`` counterpart compute, one per member:

* ``Linear``: ``torch.baddbmm`` over (K, B, in) @ (K, in, out). The weight is stored transposed,
  (K, in, out), so neither the forward nor the gradient needs a transpose copy (measured on the
  10-layer XOR net, K = 64: 0.85 -> 0.50 ms a step). With ``StackedModel.transpose_few(True)``
  (a search opts in) a layer with at most 10 outputs computes its products transposed
  (``_FewOutputs``): faster, equal up to float rounding, not bit for bit.
* ``Conv2d``: one grouped convolution, members side by side in the channel dimension
  (B, K*C, H, W) with ``groups = K * groups``; pooling the same way.
* ``BatchNorm``: ``F.batch_norm`` over (B, K*C): each (member, channel) column gets its own
  batch statistics and its own running mean/var, so statistics stay per member.
* ``Dropout``: one draw over (K, B, F) gives every member its own masks; with a ``MemberRNG``
  in per-member mode each member draws from its own generator stream instead, so the masks are
  bit-for-bit those K separate runs draw.

A leaf maps its stacked tensors back to one member's ``state_dict`` entries
(``member_state``) and writes a member in (``load_member``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class StackedLayer(nn.Module):
    """Base of the leaves: tensors stored (K, *member_shape) unless a layer transforms them."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def _own(self):
        yield from self.named_parameters(recurse=False)
        yield from ((n, b) for n, b in self.named_buffers(recurse=False) if b is not None)

    def _to_member(self, name: str, row: torch.Tensor) -> torch.Tensor:
        return row

    def _from_member(self, name: str, value: torch.Tensor) -> torch.Tensor:
        return value

    def member_state(self, k: int) -> dict:
        """Member k's tensors under the names its torch.nn module uses."""
        return {name: self._to_member(name, t.detach()[k]) for name, t in self._own()}

    def member_grads(self, k: int) -> dict:
        """Member k's parameter gradients, in its module's layout."""
        return {name: self._to_member(name, p.grad[k]) for name, p in self.named_parameters(recurse=False)
                if p.grad is not None}

    @torch.no_grad()
    def load_member(self, k: int, state: dict) -> None:
        for name, t in self._own():
            t[k].copy_(self._from_member(name, state[name]))


def _stack(tensors) -> torch.Tensor:
    return torch.stack([t.detach() for t in tensors]).clone()


FEW = 11  # outputs below this (and below the rows) take _FewOutputs: a 10-class head, layers up to 10 wide


class _FewOutputs(torch.autograd.Function):
    """``baddbmm(b, h, W)`` for a layer with few outputs (a 10-class head), each product computed
    transposed: MKL's batched GEMM is slow when the result has few columns (K = 64, 64 rows,
    10 outputs: forward 0.39 -> 0.10 ms, weight gradient 0.42 -> 0.09 ms). Returns the result
    as (K, out, B*), which the layer views as (K, B*, out); the input gradient comes out in the
    input's own layout, so the activation's backward before it sees matching layouts
    (threshold_backward on a transposed gradient against a plain input runs ~35x slower)."""

    @staticmethod
    def forward(ctx, h, w, b):
        ctx.save_for_backward(h, w)
        ctx.has_bias = b is not None
        wt, ht = w.transpose(1, 2), h.transpose(1, 2)
        return torch.bmm(wt, ht) if b is None else torch.baddbmm(b.transpose(1, 2), wt, ht)

    @staticmethod
    def backward(ctx, gt):  # gt: (K, out, B*)
        h, w = ctx.saved_tensors
        dh = None
        if ctx.needs_input_grad[0]:  # (K, B*, in) in h's own layout (a narrow layer before gave it transposed)
            dh = (torch.bmm(w, gt).transpose(1, 2) if h.transpose(1, 2).is_contiguous() and not h.is_contiguous()
                  else torch.bmm(gt.transpose(1, 2), w.transpose(1, 2)))
        dw = torch.bmm(gt, h).transpose(1, 2) if ctx.needs_input_grad[1] else None  # (K, in, out)
        db = gt.sum(2, keepdim=True).transpose(1, 2) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dh, dw, db


class StackedLinear(StackedLayer):
    """``y_k = x_k W_k^T + b_k`` for every member k in one ``torch.baddbmm``."""

    def __init__(self, members: list[nn.Linear]):
        super().__init__(len(members))
        self.weight = nn.Parameter(_stack(m.weight.t() for m in members).contiguous())  # (K, in, out)
        bias = _stack(m.bias for m in members).unsqueeze(1) if members[0].bias is not None else None
        self.bias = nn.Parameter(bias) if bias is not None else None  # (K, 1, out)
        self.transposed = False  # few outputs: products transposed (equal up to float rounding; opt-in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[1:-1]  # (B,) or (B, T) for sequences
        h = x if x.dim() == 3 else x.reshape(self.k, -1, x.shape[-1])  # (K, B*, in)
        if self.transposed and self.weight.shape[2] < min(FEW, h.shape[1]):  # a classifier head: _FewOutputs
            out = _FewOutputs.apply(h, self.weight, self.bias).transpose(1, 2)
        else:
            out = torch.bmm(h, self.weight) if self.bias is None else torch.baddbmm(self.bias, h, self.weight)
        return out if x.dim() == 3 else out.reshape(self.k, *lead, out.shape[-1])

    def _to_member(self, name, row):
        return row.t() if name == "weight" else row[0]

    def _from_member(self, name, value):
        return value.t() if name == "weight" else value.unsqueeze(0)

    @torch.no_grad()
    def max_norm_(self, c: float) -> None:
        """Max-norm on each unit's incoming weights (a column of the stored (K, in, out))."""
        w = self.weight.transpose(1, 2).reshape(-1, self.weight.shape[1])  # (K*out, in) copy
        self.weight.copy_(torch.renorm(w, 2, 0, c).view(self.k, -1, w.shape[1]).transpose(1, 2))


class FreshReLU(nn.ReLU):
    """The ReLU right after a stacked Linear: it rectifies the Linear's fresh output in place (the
    Linear's backward does not read its output; one (K, B, out) tensor fewer a step keeps the
    step's working set in cache: 64 members, 64 wide, ~5-10% of a step), except a view (the
    few-outputs form's transposed result), where autograd's in-place-on-a-view bookkeeping costs
    more than it saves (measured: 10 narrow layers, 8.9 -> 11.0 ms a step)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) if x._is_view() else torch.relu_(x)


def _merge_members(x: torch.Tensor) -> torch.Tensor:
    """(K, B, C, *rest) -> (B, K*C, *rest): members side by side in the channel dimension."""
    k, b, c = x.shape[:3]
    return x.transpose(0, 1).reshape(b, k * c, *x.shape[3:])


def _split_members(x: torch.Tensor, k: int) -> torch.Tensor:
    """(B, K*C, *rest) -> (K, B, C, *rest), a view."""
    return x.view(x.shape[0], k, -1, *x.shape[2:]).transpose(0, 1)


class StackedConv2d(StackedLayer):
    """K convolutions as one grouped convolution over members side by side in channels."""

    def __init__(self, members: list[nn.Conv2d]):
        super().__init__(len(members))
        m = members[0]
        self.weight = nn.Parameter(_stack(c.weight for c in members))  # (K, out, in/groups, kh, kw)
        self.bias = nn.Parameter(_stack(c.bias for c in members)) if m.bias is not None else None
        self.stride, self.padding, self.dilation, self.groups = m.stride, m.padding, m.dilation, m.groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias.flatten() if self.bias is not None else None
        out = F.conv2d(_merge_members(x), self.weight.flatten(0, 1), bias, self.stride, self.padding,
                       self.dilation, self.groups * self.k)
        return _split_members(out, self.k)

    @torch.no_grad()
    def max_norm_(self, c: float) -> None:
        w = self.weight.view(-1, self.weight[0, 0].numel())  # (K*out, in*kh*kw): one row per unit
        w.copy_(torch.renorm(w, 2, 0, c))


class StackedPool(nn.Module):
    """Max/avg pooling (parameter-free) over members side by side in channels."""

    def __init__(self, pool: nn.Module, k: int):
        super().__init__()
        self.pool, self.k = pool, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _split_members(self.pool(_merge_members(x)), self.k)


class StackedBatchNorm(StackedLayer):
    """Batch norm (Ioffe & Szegedy 2015) with statistics per member: ``F.batch_norm`` over
    (B, K*C, *rest) normalises each (member, channel) column on its own batch statistics and
    updates its own running mean and variance."""

    def __init__(self, members: list[nn.modules.batchnorm._BatchNorm]):
        super().__init__(len(members))
        m = members[0]
        self.eps, self.momentum = m.eps, m.momentum
        self.weight = nn.Parameter(_stack(b.weight for b in members)) if m.affine else None  # (K, C)
        self.bias = nn.Parameter(_stack(b.bias for b in members)) if m.affine else None
        if m.track_running_stats:
            self.register_buffer("running_mean", _stack(b.running_mean for b in members))  # (K, C)
            self.register_buffer("running_var", _stack(b.running_var for b in members))
            self.register_buffer("num_batches_tracked", _stack(b.num_batches_tracked for b in members))  # (K,)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        momentum = self.momentum if self.momentum is not None else 0.0
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average, as torch does
                momentum = 1.0 / float(self.num_batches_tracked[0])
        use_batch = self.training or self.running_mean is None
        flat = [t.view(-1) if t is not None else None
                for t in (self.running_mean, self.running_var, self.weight, self.bias)]
        out = F.batch_norm(_merge_members(x), *flat, use_batch, momentum, self.eps)
        return _split_members(out, self.k)


class StackedLayerNorm(StackedLayer):
    """Layer norm over each sample's trailing ``normalized_shape``, then a per-member affine."""

    def __init__(self, members: list[nn.LayerNorm]):
        super().__init__(len(members))
        m = members[0]
        self.normalized_shape, self.eps = tuple(m.normalized_shape), m.eps
        has_w, has_b = m.weight is not None, m.bias is not None
        self.weight = nn.Parameter(_stack(n.weight for n in members)) if has_w else None  # (K, *shape)
        self.bias = nn.Parameter(_stack(n.bias for n in members)) if has_b else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.layer_norm(x, self.normalized_shape, None, None, self.eps)
        view = (self.k,) + (1,) * (x.dim() - 1 - len(self.normalized_shape)) + self.normalized_shape
        if self.weight is not None:
            out = out * self.weight.view(view)
        return out + self.bias.view(view) if self.bias is not None else out


class StackedPReLU(StackedLayer):
    """PReLU with a learned slope per member: ``x if x > 0 else a_k * x`` (torch's gradients)."""

    def __init__(self, members: list[nn.PReLU]):
        super().__init__(len(members))
        self.weight = nn.Parameter(_stack(p.weight for p in members))  # (K, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.weight.shape[1]  # n > 1: one slope per channel, channels at dim 2 here
        view = (self.k,) + (1,) * (x.dim() - 1) if n == 1 else (self.k, 1, n) + (1,) * (x.dim() - 3)
        return torch.where(x > 0, x, self.weight.view(view) * x)


class StackedDropout(nn.Module):
    """(Alpha) dropout; ``rng`` (a ``MemberRNG``) in per-member mode draws member k's mask from
    member k's own stream, else one draw covers all members."""

    def __init__(self, p: float, alpha: bool, rng=None):
        super().__init__()
        self.p, self.alpha, self.rng = p, alpha, rng

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        fn = F.alpha_dropout if self.alpha else F.dropout
        if self.rng is None or not self.rng.per_model:
            return fn(x, self.p, True)
        return torch.stack([self.rng.call(k, fn, x[k], self.p, True) for k in range(x.shape[0])])

    def extra_repr(self) -> str:
        return f"p={self.p}, alpha={self.alpha}"


class StackedFlatten(nn.Module):
    """``nn.Flatten(start, end)`` shifted past the model dimension."""

    def __init__(self, start_dim: int, end_dim: int):
        super().__init__()
        self.start = start_dim + 1 if start_dim >= 0 else start_dim
        self.end = end_dim + 1 if end_dim >= 0 else end_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(self.start, self.end)


class MemberRNG:
    """Per-member random streams, so stacked dropout draws the masks K separate runs draw.

    Member k's stream starts where a separate run's global generator stands when its training
    starts (seeded, model built, LSUV run). A draw swaps member k's state into torch's global
    generator, runs the op, stores the advanced state and puts the global state back.
    """

    def __init__(self, cpu_states: list[torch.Tensor], seeds: list[int], per_model: bool):
        self.states = {"cpu": [s.clone() for s in cpu_states], "cuda": None}
        self.seeds, self.per_model = list(seeds), per_model

    def call(self, k: int, fn, x: torch.Tensor, *args):
        kind = "cuda" if x.is_cuda else "cpu"
        if kind == "cuda" and self.states["cuda"] is None:
            self.states["cuda"] = self._cuda_states(x.device)
        get, put = ((lambda: torch.cuda.get_rng_state(x.device), lambda s: torch.cuda.set_rng_state(s, x.device))
                    if kind == "cuda" else (torch.get_rng_state, torch.set_rng_state))
        saved = get()
        try:
            put(self.states[kind][k])
            out = fn(x, *args)
            self.states[kind][k] = get()
        finally:
            put(saved)
        return out

    def _cuda_states(self, device) -> list[torch.Tensor]:
        """A separate run's CUDA generator is only seeded (building draws on the CPU)."""
        saved, out = torch.cuda.get_rng_state(device), []
        for s in self.seeds:
            torch.cuda.manual_seed(s)
            out.append(torch.cuda.get_rng_state(device))
        torch.cuda.set_rng_state(saved, device)
        return out

    def state_dict(self) -> dict:
        return {"cpu": list(self.states["cpu"]), "cuda": self.states["cuda"], "per_model": self.per_model}

    def load_state_dict(self, state: dict) -> None:
        self.states = {"cpu": list(state["cpu"]), "cuda": state["cuda"]}
        self.per_model = state["per_model"]
