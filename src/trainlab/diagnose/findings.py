"""Findings: what is wrong, in plain words, with the numbers behind it and the lecture's fix.

A finding has a stable ``kind`` (the key a program matches on), a ``severity`` (info | warning
| error), the ``layers`` concerned, the ``evidence`` numbers, a ``message`` of one or two
sentences, and a ``fix``. Rules (``trainlab.diagnose.rules``) read the collected numbers — the
probe log, the sanity checks, the training summary, the LR range test — and return findings;
a healthy net (10-layer ReLU + He MLP on digits) produces none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from trainlab.diagnose.log import json_safe
from trainlab.errors import ConfigError
from trainlab.registry import Registry

SEVERITIES = ("info", "warning", "error")

# kind -> the remedy the lectures (CS231n "Training Neural Networks I", Lecture 10) give for it
FIXES = {
    "vanishing_gradient": "use ReLU (or leaky ReLU) with He initialization instead of sigmoid/tanh, add batch "
                          "normalization, or add residual connections; for recurrent nets use an LSTM/GRU",
    "exploding_gradient": "clip the gradient norm (train.grad_clip), lower the learning rate, or initialize with a "
                          "smaller scale (Xavier/He, orthogonal for recurrent weights); batch normalization helps",
    "dead_units": "lower the learning rate, initialize biases at zero (or slightly positive), use He init, or use "
                  "leaky ReLU / ELU so negative units still pass a gradient",
    "saturated_units": "initialize with Xavier (tanh/sigmoid) scaling instead of large random weights, normalize the "
                       "inputs, add batch normalization, or switch to ReLU",
    "collapsing_activations": "the weights are too small for this depth: use Xavier init (tanh) or He init (ReLU), "
                              "or data-dependent LSUV init, or batch normalization",
    "exploding_activations": "the weights are too large for this depth: use Xavier/He init (variance 1/fan_in or "
                             "2/fan_in), normalize the inputs, or add batch normalization",
    "symmetric_units": "never initialize weights to zero or to one constant: every unit then computes the same "
                       "function and gets the same update; use small random (Xavier/He) init",
    "loss_at_init": "at initialization the output should be nearly uniform: scale the last layer's weights down "
                    "(or use Xavier/He init) and check that the loss matches the task",
    "lr_too_high": "lower the learning rate (try 3-10x smaller, or the LR range test's suggestion); gradient "
                   "clipping or a warm-up schedule also help",
    "lr_too_low": "raise the learning rate (try 10x larger, or the LR range test's suggestion)",
    "overfitting": "get more data, add regularization (weight decay, dropout), use a smaller model, or stop early "
                   "(train.early_stopping)",
    "underfitting": "train longer, use a bigger model, lower the regularization, or fix the learning rate",
    "nonfinite": "lower the learning rate or clip gradients; check the inputs for NaN/inf and the model for "
                 "log(0), division by zero or exp overflow",
    "cannot_overfit": "a model should reach 100% on a tiny subset: if it cannot, look for a bug (labels, loss, "
                      "frozen layers) or a learning rate far off",
    "input_independent": "the model does no better with its real inputs than with zeros: check that the inputs "
                         "reach the model (preprocessing, shapes, a detached tensor) and the learning rate",
    "gradcheck_failed": "a custom module's backward disagrees with finite differences: fix its gradient "
                        "(custom autograd.Function) or remove in-place edits of saved tensors",
    "l2_no_effect": "adding L2 regularization did not raise the loss: the weights are all zero (zero init) or "
                    "not trainable",
}


@dataclass
class Finding:
    kind: str
    severity: str
    message: str
    layers: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str = ""

    def __post_init__(self):
        if self.kind not in FIXES:
            raise ConfigError(f"finding: unknown kind {self.kind!r}; valid kinds: {', '.join(FIXES)}")
        if self.severity not in SEVERITIES:
            raise ConfigError(f"finding: unknown severity {self.severity!r}; valid: {', '.join(SEVERITIES)}")
        self.fix = self.fix or FIXES[self.kind]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "layers": list(self.layers),
                "evidence": json_safe(self.evidence), "message": self.message, "fix": self.fix}


RULES = Registry("finding rule")  # name -> rule(evidence: Evidence) -> list[Finding]


def rule(name: str) -> Callable:
    return RULES.register(name)


def find(evidence: Any, rules: list[str] | None = None) -> list[Finding]:
    """Run every rule (or the named ones) over the collected evidence; errors first."""
    out: list[Finding] = []
    for name in rules or RULES.names():
        out.extend(RULES.lookup(name)(evidence))
    return sorted(out, key=lambda f: -SEVERITIES.index(f.severity))


def layer_range(names: list[str]) -> str:
    """A subject for a message: ``layer fc1``; ``layers fc1, fc2``; ``6 layers (body.0 .. body.10)``."""
    if len(names) == 1:
        return f"layer {names[0]}"
    if len(names) <= 4:
        return "layers " + ", ".join(names)
    return f"{len(names)} layers ({names[0]} .. {names[-1]})"
