"""Deep belief nets: greedy layer-wise RBM training (Hinton, Osindero & Teh 2006), and the
sigmoid MLP the stack initializes for fine-tuning with labels (Hinton & Salakhutdinov 2006).

    dbn = DBN(hidden=[500, 500, 2000], epochs=10, random_state=0).fit(X)   # X in [0, 1]
    net = dbn.to_network(n_outputs=10)   # 784-500-500-2000-10 sigmoid MLP; fresh output layer
    Trainer(net, {"optimizer": "sgd", "lr": 0.1}).fit(train, val)

Each RBM trains on the previous layer's hidden probabilities P(h = 1 | v), so the MLP's hidden
activations (Linear then sigmoid) are exactly the stacked RBMs' ``transform``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from trainlab.errors import ConfigError
from trainlab.pretrain.checks import as_data, check_params
from trainlab.pretrain.rbm import RBM

RBM_PARAMS = ("visible", "k", "persistent", "lr", "momentum", "final_momentum", "momentum_epochs", "weight_decay",
              "batch_size", "epochs", "sparsity_target", "sparsity_cost", "compute_dtype", "device")


class DBN:
    def __init__(self, hidden: Any = (500, 500, 2000), visible: str = "bernoulli", k: int = 1,
                 persistent: bool = False, lr: float = 0.1, momentum: float = 0.5, final_momentum: float = 0.9,
                 momentum_epochs: int = 5, weight_decay: float = 1e-4, batch_size: int = 10, epochs: int = 10,
                 sparsity_target: float | None = None, sparsity_cost: float = 0.1, compute_dtype: str | None = None,
                 device: str = "cpu", random_state: int | None = None):
        self.hidden, self.visible, self.k, self.persistent, self.lr = hidden, visible, k, persistent, lr
        self.momentum, self.final_momentum, self.momentum_epochs = momentum, final_momentum, momentum_epochs
        self.weight_decay, self.batch_size, self.epochs = weight_decay, batch_size, epochs
        self.sparsity_target, self.sparsity_cost = sparsity_target, sparsity_cost
        self.compute_dtype, self.device, self.random_state = compute_dtype, device, random_state

    def get_params(self, deep: bool = True) -> dict:
        return {"hidden": list(self.hidden), **{n: getattr(self, n) for n in RBM_PARAMS},
                "random_state": self.random_state}

    def _check(self) -> None:
        hidden = self.hidden
        if not isinstance(hidden, (list, tuple)) or not hidden or not all(
                isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden):
            raise ConfigError(f"DBN: hidden must be a non-empty list of positive integers, got {hidden!r}")
        check_params(self.get_params(), "DBN")

    def _rbm(self, i: int) -> RBM:
        params = {n: getattr(self, n) for n in RBM_PARAMS}
        if i > 0:
            params["visible"] = "bernoulli"  # upper layers see probabilities in [0, 1]
        return RBM(self.hidden[i], random_state=self._seed + i, **params)

    def fit(self, X: Any, y: Any = None, X_val: Any = None, log: Callable[[dict], None] | None = None,
            on_epoch: Callable[["DBN", RBM], None] | None = None) -> "DBN":
        """Train the RBMs bottom-up. ``log(record)`` gets each RBM epoch's monitor record with its
        ``layer``; ``on_epoch(dbn, rbm)`` runs after every epoch (checkpoints). After
        ``load_state_dict`` the next fit continues where the saved state stopped."""
        self._check()
        x = as_data(X, self.visible, "DBN", device=self.device)
        val = as_data(X_val, self.visible, "DBN (X_val)", device=self.device, clip=True) if X_val is not None else None
        if getattr(self, "_pending", None) is None:
            self._start()
        done, current = self._pending
        self._pending = None
        self.rbms_ = []
        for i in range(len(self.hidden)):
            resumed = i == len(done) and current is not None
            rbm = RBM().load_state_dict(done[i] if i < len(done) else current) if (i < len(done) or resumed) else self._rbm(i)
            self.rbms_.append(rbm)
            if i >= len(done):
                layer_log = None if log is None else (lambda r, i=i: log({"layer": i, **r}))
                rbm.fit(x, X_val=val, log=layer_log, on_epoch=None if on_epoch is None else (lambda r: on_epoch(self, r)))
            x = rbm.transform(x)
            val = rbm.transform(val) if val is not None else None
        return self

    def _start(self) -> None:
        seed = self.random_state if self.random_state is not None else int(torch.randint(2 ** 62, (1,)))
        self._seed = int(seed)
        self._pending = ([], None)

    def transform(self, X: Any, layers: int | None = None) -> torch.Tensor:
        """Hidden probabilities of the top layer (or of the first ``layers`` RBMs)."""
        self._fitted()
        x = X
        for rbm in self.rbms_[:layers]:
            x = rbm.transform(x)
        return x

    def _fitted(self) -> None:
        if not getattr(self, "rbms_", None):
            raise ValueError("this DBN is not fitted yet: call fit(X) first")

    def prefix(self, layers: int) -> "DBN":
        """The first ``layers`` RBMs as a DBN of their own: greedy training makes them exactly
        what a ``layers``-deep DBN with the same seed would have learned."""
        self._fitted()
        part = DBN(**{**self.get_params(), "hidden": list(self.hidden[:layers])})
        part._seed, part._pending, part.rbms_ = self._seed, None, self.rbms_[:layers]
        return part

    # ---- the MLP the stack initializes -------------------------------------------------------
    def init_linears(self, linears: list[nn.Linear]) -> None:
        """Copy RBM i's weights and hidden biases into ``linears[i]`` (sizes must match)."""
        self._fitted()
        sizes = [(lin.in_features, lin.out_features) for lin in linears]
        mine = [tuple(r.components_.shape[::-1]) for r in self.rbms_]
        if sizes != mine:
            raise ConfigError(f"dbn: the stack's layer sizes (in, out) {mine} do not match the MLP's hidden layers {sizes}")
        with torch.no_grad():
            for lin, rbm in zip(linears, self.rbms_):
                lin.weight.copy_(rbm.components_)
                lin.bias.copy_(rbm.intercept_hidden_)

    def to_network(self, n_outputs: int, output_init: Any = None, input_shape: tuple | None = None) -> nn.Module:
        """A sigmoid MLP D-h1-...-hL-n_outputs (trainlab ``Network``) initialized from the stack;
        the output layer is fresh (``output_init``, default Hinton's N(0, 0.01^2)). ``input_shape``
        (default (D,)): the data's shape, e.g. (1, 28, 28); the net flattens it."""
        from trainlab.nn import build

        self._fitted()
        spec = {"mlp": {"hidden": [r.n_hidden for r in self.rbms_], "activation": "sigmoid",
                        "init": output_init or {"normal": {"std": 0.01}}}}
        net = build(spec, tuple(input_shape or (self.rbms_[0].n_features_in_,)), n_outputs)
        self.init_linears([m for m in net.modules() if isinstance(m, nn.Linear)][:-1])
        return net

    # ---- state -------------------------------------------------------------------------------
    def state_dict(self, current: RBM | None = None) -> dict:
        """Finished RBMs, the one in training (``current``) and the seed: enough to resume."""
        done = [r.state_dict() for r in getattr(self, "rbms_", []) if r is not current]
        return {"params": self.get_params(), "seed": self._seed, "rbms": done,
                "current": current.state_dict() if current is not None else None}

    def load_state_dict(self, state: dict) -> "DBN":
        for name, value in state["params"].items():
            setattr(self, name, value)
        self._seed = int(state["seed"])
        self._pending = (list(state["rbms"]), state["current"])
        self.rbms_ = [RBM().load_state_dict(s) for s in state["rbms"]]
        if state["current"] is None and len(self.rbms_) == len(self.hidden):
            self._pending = None  # complete: usable without fitting again
        return self
