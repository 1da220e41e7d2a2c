"""What one loss, one clip and one optimizer step mean per member of a stack.

* Losses: member k's loss is the registry loss of its own outputs, a mean over its batch. The
  training objective is the SUM over members, so member k's gradient is exactly its own loss's
  gradient (d sum / d loss_k = 1). The three registry losses have a fused form (one call with
  ``reduction='none'``); any other loss runs through ``torch.func.vmap`` of its own ``fn``.
* Gradient clipping: ``clip_grad_norm_`` per member (its own global norm).
* Per-member learning rates: every registry optimizer's update is linear in the learning rate
  (SGD, momentum, Nesterov, Adagrad, RMSprop, Adam: ``dtheta = -lr * u(state)``; AdamW's decay
  term too), so member k's update with ``lr_k`` is the group's update scaled by
  ``lr_k / lr``: ``theta = lerp(theta_old, theta_stepped, lr_k / lr)``. A frozen member
  (early-stopped) is scale 0.
* Per-member weight decay: L2 (coupled: ``g += wd_k * theta``, what torch's SGD/Adam/... do) or,
  for AdamW, decoupled (``theta *= 1 - lr * wd_k``, Loshchilov & Hutter 2019); per parameter,
  so weights and biases can differ (the Trainer decays weights only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import vmap

from trainlab.train.losses import Loss


def _ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    k, c = out.shape[0], out.shape[-1]
    return F.cross_entropy(out.reshape(-1, c), y.reshape(-1), reduction="none").view(k, -1).mean(1)


def _ce_classes_first(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``_ce`` with the classes in dim 1, (K, C, B): the softmax runs along the contiguous batch,
    5x faster on a CPU than over rows of C = 10 classes (64 members, batch 64: bench/search.py).
    Equal up to float rounding, not bit for bit, so it is opt-in (``classes_first``): the labs'
    published numbers come from the row form."""
    return F.cross_entropy(out.transpose(1, 2), y, reduction="none").mean(1)


def _bce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(out, y, reduction="none").flatten(1).mean(1)


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out, y, reduction="none").flatten(1).mean(1)


FUSED = {"cross_entropy": _ce, "binary_cross_entropy": _bce, "mse": _mse}


class MemberLoss:
    """``loss(out (K, B, ...), y, shared)`` -> (K,) per-member mean losses; ``correct`` likewise
    counts each member's correct predictions. ``shared``: y is one (B, ...) target for all."""

    def __init__(self, name: str, loss: Loss, classes_first: bool = False):
        self.name, self.base = name, loss
        self._fused = _ce_classes_first if classes_first and name == "cross_entropy" else FUSED.get(name)
        self._vmapped = {s: vmap(loss.fn, in_dims=(0, None if s else 0)) for s in (True, False)}
        self._correct = ({s: vmap(loss.correct, in_dims=(0, None if s else 0)) for s in (True, False)}
                         if loss.correct is not None else None)

    def __call__(self, out: torch.Tensor, y: torch.Tensor, shared: bool) -> torch.Tensor:
        # cross-entropy's fused form assumes (K, B, C) outputs; other shapes take the vmap path
        if self._fused is not None and (self.name != "cross_entropy" or out.dim() == 3):
            return self._fused(out, y.expand(out.shape[0], *y.shape) if shared else y)
        return self._vmapped[shared](out, y)

    def correct(self, out: torch.Tensor, y: torch.Tensor, shared: bool) -> torch.Tensor:
        # argmax over the last dim is 3x slower on a transposed view (StackedLinear's few-outputs form)
        return self._correct[shared](out.contiguous(), y)


@torch.no_grad()
def clip_grad_norm_(params: list[torch.Tensor], max_norm: float, k: int) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` for each member on its own: member k's gradients are
    scaled by min(1, max_norm / (||g_k|| + 1e-6)), ||g_k|| over all its parameters. Returns (K,)."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch.stack([g.reshape(k, -1).norm(dim=1) for g in grads])  # (P, K)
    total = norms.norm(dim=0)  # (K,)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(k, *[1] * (g.dim() - 1)))
    return total


def per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(K,) -> (K, 1, ..., 1), broadcastable against a stacked tensor ``like``."""
    return values.view(-1, *[1] * (like.dim() - 1))


class MemberSteps:
    """Wraps the optimizer step with per-member learning-rate scales and weight decay.

    ``scale`` (K,) multiplies each member's update (lr_k / lr; 0 freezes a member). ``decays``
    holds, per parameter, each member's weight decay (K,) or None; ``decoupled`` selects AdamW's
    form. With all scales 1 and no decays, ``step`` is exactly ``optimizer.step()``.
    """

    def __init__(self, optimizer, params, decays: list, scale: torch.Tensor, decoupled: bool):
        self.optimizer, self.params = optimizer, list(params)
        self.decays = [(p, d) for p, d in zip(self.params, decays) if d is not None and bool((d != 0).any())]
        self._decay_views = [per_member(d, p) for p, d in self.decays]  # (K, 1, ..., 1) each
        self.scale, self.decoupled = scale, decoupled
        self._old: list[torch.Tensor] | None = None  # the parameters before a scaled step, reused
        self.refresh()

    def refresh(self) -> None:
        """Recompute which extra work the step needs (after scales change, e.g. a freeze)."""
        self._scaled = bool((self.scale != 1).any())
        self._weights = [per_member(self.scale, p) for p in self.params]  # (K, 1, ..., 1) lerp weights

    @torch.no_grad()
    def step(self) -> None:
        """Each elementwise pass is one foreach call over all parameters (per-member factors
        broadcast), not one kernel per parameter and pass."""
        lr = self.optimizer.param_groups[0]["lr"]
        if self.decoupled and self.decays:  # AdamW: theta *= 1 - lr_k * wd_k, before the Adam update
            torch._foreach_mul_([p for p, _ in self.decays], [1 - lr * per_member(self.scale * d, p) for p, d in self.decays])
        elif self.decays:  # L2: g += wd_k * theta, as torch adds it inside step()
            pairs = [(p, d) for (p, _), d in zip(self.decays, self._decay_views) if p.grad is not None]
            if pairs:  # multiply, then add: bit for bit the per-parameter form
                torch._foreach_add_([p.grad for p, _ in pairs], torch._foreach_mul([p for p, _ in pairs],
                                                                                   [d for _, d in pairs]))
        if not self._scaled:
            self.optimizer.step()
            return
        if self._old is None:
            self._old = [torch.empty_like(p) for p in self.params]
        torch._foreach_copy_(self._old, self.params)
        self.optimizer.step()
        torch._foreach_lerp_(self._old, self.params, self._weights)  # old + scale * (new - old)
        torch._foreach_copy_(self.params, self._old)
