"""The fallback for architectures that cannot be stacked: K ordinary ``Trainer`` runs, one after
another, behind ``StackedTrainer``'s API (``fit``, per-member ``evaluate``, ``member_history``).

Each member's run is exactly a separate run with its seed: the global RNG is put back to where
that member's build left it (so LSUV and dropout draw what a lone run draws) and its Trainer
gets ``seed=seeds[k]`` (its data order), or one shared seed with ``data_order="shared"``.
User callbacks see each member's Trainer in turn (``on_fit_start`` fires K times).
"""

from __future__ import annotations

import torch
from torch import nn

from trainlab.data.base import Split
from trainlab.errors import ConfigError, DivergenceError
from trainlab.train import optim
from trainlab.train.callbacks import Callback
from trainlab.train.config import TrainConfig
from trainlab.train.trainer import Trainer


class SequentialTrainer:
    def __init__(self, models: list[nn.Module], config: TrainConfig | dict | None = None, *,
                 task: str = "classification", callbacks: list[Callback] | None = None,
                 device: str = "auto", seed: int = 0, seeds: list[int] | None = None,
                 data_order: str = "per_model", hparams: dict | None = None,
                 rng_states: list[torch.Tensor] | None = None):
        from trainlab.ensemble.stacked_trainer import DATA_ORDERS, HPARAMS

        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        if data_order not in DATA_ORDERS:
            raise ConfigError(f"data_order: unknown {data_order!r}; valid: {', '.join(DATA_ORDERS)}")
        self.models, self.k = list(models), len(models)
        self.seeds = list(seeds) if seeds is not None else list(range(self.k))
        if len(self.seeds) != self.k:
            raise ConfigError(f"seeds: expected {self.k} seeds (one per member), got {len(self.seeds)}")
        hparams = dict(hparams or {})
        bad = [h for h in hparams if h not in HPARAMS]
        if bad:
            raise ConfigError(f"hparams: unknown per-member hyperparameter {bad[0]!r}; valid: {', '.join(HPARAMS)}")
        base_lr = self.config.lr if self.config.lr is not None else optim.default_lr(
            optim.OPTIMIZERS.split(self.config.optimizer)[0])
        self.configs = []
        for k in range(self.k):
            over = {h: hparams[h][k] for h in HPARAMS if h in hparams and len(hparams[h]) == self.k}
            if len(over) != len(hparams):
                raise ConfigError(f"hparams: every list needs {self.k} values (one per member), got {hparams!r}")
            self.configs.append(TrainConfig.from_dict({**self.config.to_dict(), "lr": base_lr, **over}))
        self.task, self.callbacks, self.device_name = task, list(callbacks or []), device
        self.seed, self.data_order, self.rng_states = seed, data_order, rng_states
        self.trainers: list[Trainer] = []
        self.diverged: dict[int, int] = {}
        self.stopped: dict[int, int] = {}

    def fit(self, train: Split, val: Split | None = None) -> "SequentialTrainer":
        self.trainers = []
        for k, model in enumerate(self.models):
            if self.rng_states is not None:  # where member k's build left the global RNG
                torch.set_rng_state(self.rng_states[k])
            if torch.cuda.is_available():
                torch.cuda.manual_seed_all(self.seeds[k])
            seed = self.seeds[k] if self.data_order == "per_model" else self.seed
            t = Trainer(model, self.configs[k], task=self.task, callbacks=self.callbacks,
                        device=self.device_name, seed=seed)
            self.trainers.append(t)
            try:
                t.fit(train, val)
            except DivergenceError:
                self.diverged[k] = t.step
            if t.stop_reason and k not in self.diverged:
                self.stopped[k] = t.step
        if len(self.diverged) == self.k:
            raise DivergenceError(f"training diverged: every member's loss is non-finite (lr "
                                  f"{self.configs[0].lr:g}); the learning rate is probably too high: "
                                  f"lower it (try 10x smaller) or clip gradients")
        return self

    @property
    def device(self) -> torch.device:
        return self.trainers[0].device if self.trainers else torch.device("cpu")

    @property
    def step(self) -> int:
        return max((t.step for t in self.trainers), default=0)

    @property
    def steps_per_epoch(self) -> int:
        return self.trainers[0].steps_per_epoch

    def evaluate(self, data: Split) -> dict:
        """Per-member mean loss (and accuracy): lists of K floats, as ``StackedTrainer``."""
        rows = [t.evaluate(data) for t in self.trainers]
        return {key: [r[key] for r in rows] for key in rows[0]}

    def member_history(self, k: int) -> list[dict]:
        return [{key: v for key, v in h.items() if key != "seconds"} for h in self.trainers[k].history]

    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Every member's outputs (K, N, *output_shape) in evaluation mode."""
        outs = []
        with torch.no_grad():
            for m in self.models:
                was = m.training
                m.eval()
                x_dev = x.to(next(m.parameters()).device)
                outs.append(torch.cat([m(x_dev[i:i + batch_size]) for i in range(0, len(x), batch_size)]))
                m.train(was)
        return torch.stack(outs)

    def member(self, k: int) -> nn.Module:
        return self.models[k]

