"""``StackedTrainer``: the Trainer's loop for K stacked members at once.

Same configuration (``TrainConfig``), same components (``optim.build``, ``schedules.build``,
the loss registry), same fixed callback events in the same order, same step plan (batch size,
steps per epoch, log points). Member k sees what a separate ``Trainer(seed=seeds[k])`` sees:
its own data order (a generator seeded ``seeds[k] + 1``, ``data_order="per_model"``) — or one
order for all (``data_order="shared"``, cheaper: one batch feeds every member; also what
``per_model`` draws when every member has the same seed, as a search's trials do).

Per-member results: ``evaluate(split)`` returns lists (one value per member); at logged steps
``metrics`` holds the means over live members under the Trainer's keys (so its callbacks —
progress bar, metrics logger, checkpointer — work unchanged) and the per-member values under
``metrics["per_model"]``. A member whose loss turns NaN/inf is marked diverged and left out of
the means; the run stops with a diagnosis only when every member has diverged.
"""

from __future__ import annotations

import math
import time

import torch

from trainlab.data.base import Split
from trainlab.ensemble.callbacks import MemberEarlyStopping, MemberGuard
from trainlab.ensemble.layers import StackedBatchNorm, StackedDropout
from trainlab.ensemble.per_model import MemberLoss, MemberSteps, clip_grad_norm_
from trainlab.ensemble.stack import StackedModel, _check_list
from trainlab.errors import ConfigError
from trainlab.train import losses, optim
from trainlab.train import trainer as _trainer
from trainlab.train.callbacks import Callback
from trainlab.train.config import TrainConfig
from trainlab.train.loop import Loop

DATA_ORDERS = ("per_model", "shared")
HPARAMS = ("lr", "weight_decay")  # per-member training hyperparameters (init_scale: at build)


class StackedTrainer(Loop):
    """``StackedTrainer(stack, config).fit(train, val)``; ``evaluate(split)`` -> per-member lists.

    ``hparams``: optional per-member ``{"lr": [K], "weight_decay": [K]}``; ``seeds``: the
    members' seeds for data order (default: the stack's). ``classes_first``: cross-entropy over
    (K, C, B), faster on a CPU, equal up to float rounding (``per_model.MemberLoss``).
    """

    def __init__(self, model: StackedModel, config: TrainConfig | dict | None = None, *,
                 task: str = "classification", callbacks: list[Callback] | None = None,
                 device: str = "auto", seed: int = 0, seeds: list[int] | None = None,
                 data_order: str = "per_model", hparams: dict | None = None, classes_first: bool = False):
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        if data_order not in DATA_ORDERS:
            raise ConfigError(f"data_order: unknown {data_order!r}; valid: {', '.join(DATA_ORDERS)}")
        self.device = _trainer.resolve_device(device)
        self.model, self.k = model.to(self.device), model.k
        self.task, self.data_order = task, data_order
        self.loss_name = losses.resolve(self.config.loss, task)
        self.loss = losses.get(self.loss_name)
        self.member_loss = MemberLoss(self.loss_name, self.loss, classes_first)
        cfg = self.config
        self.lr = self._default_lr()
        self.hparams = self._check_hparams(hparams or {})
        self.optimizer = optim.build(cfg.optimizer, model, self.lr, 0.0)
        self._steps = self._member_steps()
        self.callbacks = self._callback_list(callbacks, MemberGuard(), MemberEarlyStopping)
        seeds = list(seeds) if seeds is not None else list(model.seeds)
        if len(seeds) != self.k:
            raise ConfigError(f"seeds: expected {self.k} seeds (one per member), got {len(seeds)}")
        self.seeds = seeds
        # members whose seeds are all equal (a search's trials) draw one order: one batch feeds all
        self._one_order = data_order == "shared" or len(set(seeds)) == 1
        self.shuffles = ([torch.Generator().manual_seed((seeds[0] if data_order == "per_model" else seed) + 1)]
                         if self._one_order else [torch.Generator().manual_seed(s + 1) for s in seeds])
        self.step = self.epoch = self.batch_in_epoch = 0
        self.perm: torch.Tensor | None = None  # (K, N) per member, or (N,) shared
        self.metrics: dict | None = None
        self.history: list[dict] = []
        self.stop_training, self.stop_reason = False, None
        self.scheduler = None
        self.diverged: dict[int, int] = {}  # member -> step its loss was first seen non-finite
        self.stopped: dict[int, int] = {}  # member -> step it was frozen (early stopping)
        self._frozen_buffers: dict[int, dict] = {}
        self.batch, self.step_losses = None, None  # this step's batch and (K,) losses, for callbacks
        self._resume_state: dict | None = None
        self._pending: list[torch.Tensor] = []
        # train()/eval() walks every module: skip it when nothing behaves differently
        self._mode_matters = any(isinstance(m, (StackedBatchNorm, StackedDropout)) for m in model.modules())

    @property
    def step_loss(self) -> torch.Tensor | None:
        """This step's loss averaged over members (a 0-d tensor, as the Trainer's ``step_loss``)."""
        return self.step_losses.detach().mean() if self.step_losses is not None else None

    def _check_hparams(self, hparams: dict) -> dict:
        bad = [h for h in hparams if h not in HPARAMS]
        if bad:
            raise ConfigError(f"hparams: unknown per-member hyperparameter {bad[0]!r}; valid: {', '.join(HPARAMS)} "
                              f"(init_scale is given when the stack is built)")
        out = {"lr": _check_list(hparams["lr"], self.k, "hparams.lr") if "lr" in hparams else [self.lr] * self.k}
        wd = hparams.get("weight_decay", [self.config.weight_decay] * self.k)
        if not isinstance(wd, (list, tuple)) or len(wd) != self.k or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 for v in wd):
            raise ConfigError(f"hparams.weight_decay: expected a list of {self.k} numbers >= 0, got {wd!r}")
        out["weight_decay"] = [float(v) for v in wd]
        return out

    def _member_steps(self) -> MemberSteps:
        """Per-member lr scales and weight decay, matching what a Trainer with member k's
        settings does: ``weight_decay > 0`` decays weights only (biases, norm scales not);
        ``weight_decay == 0`` leaves the optimizer's own default decay on every parameter
        (torch's AdamW: 0.01), as ``optim.build`` does for one model."""
        params = list(self.model.parameters())
        dtype, dev = params[0].dtype, self.device
        scale = torch.tensor([lr / self.lr for lr in self.hparams["lr"]], dtype=dtype, device=dev)
        wd = torch.tensor(self.hparams["weight_decay"], dtype=dtype, device=dev)
        decays = [None] * len(params)
        if bool((wd > 0).any()):  # member-wise decay replaces the optimizer's group decay
            group = self.optimizer.param_groups[0]
            default = torch.full_like(wd, float(group.get("weight_decay", 0.0) or 0.0))
            weights = {id(p) for p in self.model.decay_parameters()}
            decays = [torch.where(wd > 0, wd if id(p) in weights else torch.zeros_like(wd), default) for p in params]
            for g in self.optimizer.param_groups:
                g["weight_decay"] = 0.0
        decoupled = optim.OPTIMIZERS.split(self.config.optimizer)[0] == "adamw"
        return MemberSteps(self.optimizer, params, decays, scale, decoupled)

    # ---- the loop (Loop.fit, as the Trainer's) ----------------------------------------------
    def _before_fit_end(self) -> None:
        self._restore_frozen_buffers()

    def _new_epoch(self, n: int) -> None:
        if self.batch_size >= n:
            self.perm = None
        elif self._one_order:
            self.perm = torch.randperm(n, generator=self.shuffles[0]).to(self.device)
        else:  # (K, N): member k's permutation, drawn as its own Trainer would
            self.perm = torch.stack([torch.randperm(n, generator=g) for g in self.shuffles]).to(self.device)

    def _next_batch(self, data: Split) -> tuple[torch.Tensor, torch.Tensor, bool]:
        if self.perm is None:
            return data.x, data.y, True
        i = self.batch_in_epoch * self.batch_size
        idx = self.perm[..., i:i + self.batch_size]  # (B,) or (K, B)
        return data.x[idx], data.y[idx], idx.dim() == 1

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor, shared: bool) -> None:
        cfg, opt = self.config, self.optimizer
        opt.zero_grad(set_to_none=True)
        per = self.member_loss(self.model(xb), yb, shared)  # (K,)
        per.sum().backward()  # member k's gradient is its own loss's gradient
        self.batch, self.step_losses = (xb, yb), per
        for fn in self._after_backward:
            fn(self)
        if cfg.grad_clip is not None:
            clip_grad_norm_(list(self.model.parameters()), cfg.grad_clip, self.k)
        self._steps.step()
        lr = opt.param_groups[0]["lr"]
        if cfg.max_norm is not None:
            for layer in self.model.constrained():
                layer.max_norm_(cfg.max_norm)
        if self.scheduler is not None:
            self.scheduler.step()
        self.step += 1
        self.batch_in_epoch += 1
        self._losses.append(per.detach())
        self.metrics = self._log(lr) if (self.step % self.log_every == 0 or self.step == self.total_steps) else None

    def _log(self, lr: float) -> dict:
        per = torch.stack(self._losses).mean(0).tolist()  # (K,) mean loss since the last log
        self._losses.clear()
        live = [k for k in range(self.k) if k not in self.diverged and math.isfinite(per[k])]
        m = {"step": self.step, "epoch": self.epoch + self.batch_in_epoch / self.steps_per_epoch,
             "loss": _mean(per, live), "lr": lr}
        members = {"loss": per, "lr": (self._steps.scale * lr).tolist()}  # each member's rate
        if self.val is not None and live:
            self._restore_frozen_buffers()
            ev = self.evaluate(self.val)
            for key, values in ev.items():
                m[f"val_{key}"] = _mean(values, live)
                members[f"val_{key}"] = values
        m["seconds"] = round(time.perf_counter() - self.t0, 4)
        m["per_model"] = members
        self.history.append(m)
        return m

    @torch.no_grad()
    def evaluate(self, data: Split) -> dict:
        """Per-member mean loss (and accuracy) over a split, in eval mode: lists of K floats."""
        data = data.to(self.device)
        was_training = self.model.training
        if self._mode_matters:
            self.model.eval()
        sums = []  # per chunk: (K, 2) = (loss * rows, correct); one host sync at the end
        bs, classify = self.config.eval_batch_size, self.task == "classification"
        for i in range(0, len(data), bs):
            x, y = data.x[i:i + bs], data.y[i:i + bs]
            out = self.model(x)
            if y.dtype == torch.long or y.ndim == 1:
                y = self.loss.prepare(y, out.shape[-1])
            loss = self.member_loss(out, y, True) * len(x)
            cols = [loss, self.member_loss.correct(out, y, True).to(loss.dtype)] if classify else [loss]
            sums.append(torch.stack(cols, dim=1))
        if self._mode_matters:
            self.model.train(was_training)
        totals = torch.stack(sums).sum(0) / max(1, len(data))  # (K, 1 or 2)
        out = {"loss": totals[:, 0].tolist()}
        if classify:
            out["accuracy"] = totals[:, 1].tolist()
        return out

    def member_history(self, k: int) -> list[dict]:
        """Member k's logged metrics, shaped like a Trainer's history (up to its early stop)."""
        end = self.stopped.get(k, self.step)
        return [{"step": h["step"], "epoch": h["epoch"], **{key: v[k] for key, v in h["per_model"].items()}}
                for h in self.history if h["step"] <= end]

    # ---- freezing members (early stopping) -------------------------------------------------
    def freeze(self, k: int) -> None:
        """Stop updating member k: its update scale becomes 0 and its buffers (batch-norm
        running statistics) are put back to their values now whenever they are read."""
        self.stopped.setdefault(k, self.step)
        self._steps.scale[k] = 0.0
        self._steps.refresh()
        self._frozen_buffers[k] = {n: b[k].clone() for n, b in self.model.named_buffers() if b.dim() >= 1}
        if len(self.stopped) + len(set(self.diverged) - set(self.stopped)) >= self.k:
            self.stop_training = True

    @torch.no_grad()
    def _restore_frozen_buffers(self) -> None:
        buffers = dict(self.model.named_buffers())
        for k, saved in self._frozen_buffers.items():
            for n, v in saved.items():
                buffers[n][k].copy_(v)

    # ---- checkpoints (Loop.state_dict / load_state_dict, plus the members' own state) ------
    def _extra_state(self, state: dict) -> None:
        state["rng"]["shuffles"] = [g.get_state() for g in self.shuffles]
        state.update({"member_rng": self.model.rng_state_dict(), "scale": self._steps.scale.cpu(),
                      "diverged": dict(self.diverged), "stopped": dict(self.stopped),
                      "frozen_buffers": self._frozen_buffers})

    def _no_losses(self) -> torch.Tensor:
        return torch.zeros(0, self.k)

    def _restore_extra(self, s: dict) -> None:
        self.model.load_rng_state_dict(s["member_rng"])
        for g, st in zip(self.shuffles, s["rng"]["shuffles"]):
            g.set_state(st)
        self._steps.scale.copy_(s["scale"].to(self.device))
        self._steps.refresh()
        self.diverged, self.stopped = dict(s["diverged"]), dict(s["stopped"])
        self._frozen_buffers = {k: {n: v.to(self.device) for n, v in d.items()} for k, d in s["frozen_buffers"].items()}


def _mean(values: list[float], live: list[int]) -> float:
    return sum(values[k] for k in live) / len(live) if live else float("nan")
