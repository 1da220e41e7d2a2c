"""A view of a spec-built ``Network`` whose modules are named after the spec, for drawing its graph.

``torch.utils.tensorboard``'s ``add_graph`` traces the model and names every node after the
module path that produced it (``Network/Sequential[layers]/Linear[0]``). ``scoped(net)`` returns
a module that holds the SAME submodules (no copy: same parameters, same outputs) under names
taken from the spec, so TensorBoard's graph reads like Lecture 10's ``tf.name_scope`` picture:

* an ``mlp`` spec: one scope per hidden layer, ``Layer1`` ... ``LayerN`` (its dense, batchnorm,
  activation and dropout together, as the lecture's ``with tf.name_scope("Layer1")``), then
  ``Output``; a leading ``flatten`` is its own scope;
* a ``layers`` spec: each block under its spec path, ``layers[0]``, ``layers[1]`` ... (the path
  errors name, ``model.layers[i]``); a residual or parallel block keeps its inner names.

Any other module is returned unchanged (its own attribute names are already its names).
"""

from __future__ import annotations

from torch import nn


class Scope(nn.Sequential):
    """A name scope: the modules of one spec block, run in order."""


class SpecGraph(nn.Module):
    """The network as its spec names it; ``forward`` runs the scopes in order."""

    def __init__(self, scopes: list[tuple[str, nn.Module]]):
        super().__init__()
        for name, module in scopes:
            self.add_module(name, module)

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


def scope_names(net: nn.Module) -> list[str]:
    """The top-level scope names ``scoped(net)`` uses (empty for a module not built from a spec)."""
    groups = _groups(net)
    return [g[0] for g in groups] if groups else []


def display_names(net: nn.Module) -> dict[str, str]:
    """Module name -> its name in the spec's terms, for tags: ``layers.1`` -> ``Layer1/Sigmoid``
    (a module alone in its scope: the scope, ``layers[3]``; deeper: ``layers[2]/body.0``).
    Empty for a module not built from a spec."""
    groups = _groups(net) or []
    out = {}
    for scope, idx, wrap in groups:
        for i in idx:
            top = f"layers.{i}"
            out[top] = f"{scope}/{type(net.layers[i]).__name__}" if wrap else scope
            for sub, _ in net.layers[i].named_modules():
                if sub:
                    out[f"{top}.{sub}"] = f"{out[top]}/{sub}"
    return out


def scoped(net: nn.Module) -> nn.Module:
    """``net`` with its blocks named after the spec (see the module docstring)."""
    groups = _groups(net)
    if not groups:
        return net
    layers = list(net.layers)
    scopes = []
    for name, idx, wrap in groups:
        mods = [layers[i] for i in idx]
        scopes.append((name, Scope(*mods) if wrap else mods[0]))
    return SpecGraph(scopes)


def _groups(net: nn.Module) -> list[tuple[str, list[int], bool]] | None:
    """(scope name, indices into ``net.layers``, wrap in a ``Scope``) per spec block; None when
    ``net`` was not built from a spec."""
    config = getattr(net, "config", None)
    layers = getattr(net, "layers", None)
    if not callable(config) or not isinstance(layers, nn.Sequential):
        return None
    spec = config()
    if "layers" in spec:
        if len(spec["layers"]) != len(layers):
            return None
        return [(f"layers[{i}]", [i], False) for i in range(len(layers))]
    if "mlp" not in spec:
        return None
    from trainlab.nn.spec import mlp_layers

    items = mlp_layers(**spec["mlp"], input_rank=len(net.input_shape))
    if len(items) != len(layers):
        return None
    groups: list[tuple[str, list[int], bool]] = []
    n_dense = sum(1 for it in items if isinstance(it, dict) and "dense" in it)
    hidden = 0
    for i, item in enumerate(items):
        if item == "flatten":
            groups.append(("flatten", [i], False))
        elif isinstance(item, dict) and "dense" in item:
            hidden += 1
            groups.append((f"Layer{hidden}" if hidden < n_dense else "Output", [i], True))
        else:
            groups[-1][1].append(i)  # batchnorm / activation / dropout: in its dense's scope
    return groups
