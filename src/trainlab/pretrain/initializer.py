"""DBN pre-training as an initializer, as the lecture frames it ("Weight 초기화 잘해보자"):

    model: {mlp: {hidden: [500, 500, 2000], activation: sigmoid, init: {dbn: {epochs: 10, k: 1, lr: 0.05}}}}

At build time every layer gets Hinton's N(0, 0.01^2) (``dbn_init_``, which also checks the
arguments). When training starts, the data pass trains one RBM per hidden layer, greedily, on
the training inputs and copies each into its Linear layer; the last dbn layer (the output layer)
keeps its fresh small init. ``stack: RUN_DIR`` loads a stack saved by ``trainlab pretrain``
instead of training one. Importing ``trainlab.pretrain`` registers the ``dbn`` initializer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from trainlab.errors import ConfigError
from trainlab.nn import activations
from trainlab.nn.init import register_data_dependent
from trainlab.pretrain.checks import check_params
from trainlab.pretrain.dbn import DBN

STACK_FILE = "stack.pt"  # a finished pre-training run's stack (DBN.state_dict), loaded with weights_only


@torch.no_grad()
def dbn_init_(tensor: torch.Tensor, epochs: int = 10, k: int = 1, lr: float = 0.05, persistent: bool = False,
              batch_size: int = 10, momentum: float = 0.5, final_momentum: float = 0.9, momentum_epochs: int = 5,
              weight_decay: float = 1e-4, sparsity_target: float | None = None, sparsity_cost: float = 0.1,
              visible: str = "bernoulli", compute_dtype: str | None = None, seed: int | None = None,
              stack: str | None = None, activation: Any = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-tensor part of DBN pre-training (Hinton, Osindero & Teh 2006): W ~ N(0, 0.01^2),
    Hinton's RBM init; the data pass then replaces the hidden layers' weights by the trained RBMs'.

    >>> w = torch.empty(500, 784)
    >>> dbn_init_(w, epochs=10, lr=0.05)
    """
    check_params({"k": k, "lr": lr, "persistent": persistent, "batch_size": batch_size, "epochs": epochs,
                  "momentum": momentum, "final_momentum": final_momentum, "momentum_epochs": momentum_epochs,
                  "weight_decay": weight_decay, "sparsity_target": sparsity_target, "sparsity_cost": sparsity_cost,
                  "visible": visible, "compute_dtype": compute_dtype}, "initializer 'dbn'")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigError(f"initializer 'dbn': seed must be an integer or null, got {seed!r}")
    if stack is not None and not isinstance(stack, str):
        raise ConfigError(f"initializer 'dbn': stack must be the path of a `trainlab pretrain` run, got {stack!r}")
    return nn.init.normal_(tensor, 0.0, 0.01, generator=generator)


class _Captured(Exception):
    """Stops a forward pass once the first pre-trained layer's input is captured."""


def layer_input(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What ``layer`` receives when ``model`` runs on ``x`` (the forward stops right there)."""
    box: list[torch.Tensor] = []

    def grab(module, inputs):
        box.append(inputs[0].detach())
        raise _Captured

    handle = layer.register_forward_pre_hook(grab)
    try:
        with torch.no_grad():
            model(x)
    except _Captured:
        pass
    finally:
        handle.remove()
    if not box:
        raise ConfigError("initializer 'dbn': the first dbn layer is not called by the model's forward")
    return box[0]


def call_order(model: nn.Module, layers: list[nn.Module], x: torch.Tensor) -> list[nn.Module]:
    order: list[nn.Module] = []
    handles = [m.register_forward_hook(lambda m, i, o: order.append(m) if m not in order else None) for m in layers]
    try:
        with torch.no_grad():
            model(x[:2])
    finally:
        for h in handles:
            h.remove()
    return order


def _is_sigmoid(spec: Any) -> bool:
    return activations.ACTIVATIONS.split(spec)[0] == "sigmoid" if spec is not None else False


def hidden_layers(model: nn.Module, x: torch.Tensor, layers: list[tuple[nn.Module, dict]]) -> list[nn.Linear]:
    """The dbn-initialized layers in call order, less the last (the output layer); each must be
    a Linear followed by sigmoid (the RBM's hidden units)."""
    kwargs = {m: kw for m, kw in layers}
    order = call_order(model, list(kwargs), x)
    if len(order) < 2:
        raise ConfigError("initializer 'dbn': needs at least one hidden layer below the output layer "
                          f"(got {len(order)} dbn layer(s))")
    hidden = order[:-1]
    for i, m in enumerate(hidden):
        act = kwargs[m].get("activation")
        if not isinstance(m, nn.Linear) or not _is_sigmoid(act):
            raise ConfigError(f"initializer 'dbn': hidden layer {i} must be a dense layer followed by sigmoid "
                              f"(the RBM's hidden units); got {type(m).__name__} followed by {act!r}: "
                              "use activation: sigmoid")
    return hidden


def dbn_settings(layers: list[tuple[nn.Module, dict]]) -> tuple[dict, int, str | None]:
    """(DBN hyperparameters, seed, stack) from the init's arguments. A null seed is drawn from
    torch's global RNG, which the run seeded before building: the same spec pre-trains the same."""
    kw = {k: v for k, v in layers[0][1].items() if k != "activation"}
    stack, seed = kw.pop("stack", None), kw.pop("seed", None)
    return kw, int(torch.randint(2 ** 31, (1,))) if seed is None else seed, stack


def load_stack(path: str | Path) -> DBN:
    """The DBN a ``trainlab pretrain`` run saved (``RUN_DIR/stack.pt``, loaded with weights_only)."""
    path = Path(path)
    file = path / STACK_FILE if path.is_dir() else path
    if not file.exists():
        raise ConfigError(f"initializer 'dbn': stack {str(path)!r} holds no finished pre-training "
                          f"({STACK_FILE} missing); run `trainlab pretrain SPEC --out {path}` first")
    return DBN().load_state_dict(torch.load(file, map_location="cpu", weights_only=True))


def dbn_pass(model: nn.Module, x: torch.Tensor, layers: list[tuple[nn.Module, dict]], val: torch.Tensor | None = None,
             log: Callable[[dict], None] | None = None) -> list[dict]:
    """Pre-train the hidden layers greedily on ``x`` (or load ``stack``) and copy the RBMs in."""
    hidden = hidden_layers(model, x, layers)
    settings, seed, stack = dbn_settings(layers)
    if stack is not None:
        dbn = load_stack(stack)
    else:
        dbn = DBN(hidden=[m.out_features for m in hidden], device=str(x.device), random_state=seed, **settings)
        x_in = layer_input(model, hidden[0], x)
        val_in = layer_input(model, hidden[0], val) if val is not None else None
        dbn.fit(x_in, X_val=val_in, log=None if log is None else (lambda r: log({"phase": "pretrain", "step": 0, **r})))
    dbn.init_linears(hidden)
    return [{"layer": i, "n_hidden": r.n_hidden, **(r.history_[-1] if r.history_ else {})} for i, r in enumerate(dbn.rbms_)]


register_data_dependent("dbn", dbn_init_, dbn_pass)
