"""Which modules of ANY ``nn.Module`` the probes watch, and which rule reads their outputs.

* activations are read from every leaf module (and every module holding parameters directly),
  except ones that only reshape or mask (Dropout, Flatten, Identity): parameter-free layers
  such as ReLU or Sigmoid are watched too, unlike fastai's ActivationStats;
* gradients and parameters are grouped by the module that holds them directly; a parameter
  shared by two modules (tied weights) is counted once, for the first module that names it;
* the rule says what "unhealthy" means for an output: ``relu`` (dead units), ``sigmoid`` /
  ``tanh`` (saturation), or ``None``. Recurrent layers (RNN/LSTM/GRU) output tanh-squashed
  hidden states, so they get the tanh rule (unless an RNN uses relu).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

SKIP = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout,
        nn.Identity, nn.Flatten, nn.Unflatten)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm,
         nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)


@dataclass
class Layer:
    name: str
    module: nn.Module = field(repr=False)
    rule: str | None  # "relu" | "sigmoid" | "tanh" | None
    params: list[tuple[str, nn.Parameter]] = field(default_factory=list, repr=False)

    @property
    def type(self) -> str:
        return type(self.module).__name__

    @property
    def is_activation(self) -> bool:
        return self.rule is not None and not self.params

    @property
    def is_norm(self) -> bool:
        return isinstance(self.module, NORMS)

    def main_weight(self) -> nn.Parameter | None:
        """The parameter that holds the layer's units: ``weight`` if 2-D+, else the first 2-D+."""
        named = dict(self.params)
        w = named.get("weight")
        if w is not None and w.ndim >= 2:
            return w
        return next((p for _, p in self.params if p.ndim >= 2), w)


def rule_for(module: nn.Module) -> str | None:
    """The health rule for a module's output (ReLU6 is a Hardtanh subclass: check it first)."""
    if isinstance(module, (nn.ReLU, nn.ReLU6)):
        return "relu"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, (nn.Tanh, nn.Hardtanh)):
        return "tanh"
    if isinstance(module, (nn.LSTM, nn.GRU)) or (isinstance(module, nn.RNN) and module.nonlinearity == "tanh"):
        return "tanh"
    return None


def discover(model: nn.Module) -> list[Layer]:
    """The watched layers of ``model`` in registration order (``named_modules`` dedups modules
    registered under two names, so a module reused in several places is one layer)."""
    seen: set[int] = set()
    layers = []
    for name, module in model.named_modules():
        own = []
        for pname, p in module.named_parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                own.append((pname, p))
        leaf = next(module.children(), None) is None
        if (leaf and not isinstance(module, SKIP)) or own:
            layers.append(Layer(name or "model", module, rule_for(module), own))
    return layers
