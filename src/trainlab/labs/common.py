"""Small helpers every lab uses, so no lab copies another's code.

    members = train_seeds(ctx, spec, dataset)          # ctx.seeds, stacked when possible
    acc = members.evaluate(dataset.test)["accuracy"]   # one value per seed
    m, s = mean_std(acc); fmt_ms(acc) -> "0.912 ± 0.013"
    curves = member_curves(members, "loss")            # (K, points) of logged values
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

import torch

from trainlab.data.base import Dataset
from trainlab.labs.base import Context


def train_seeds(ctx: Context, spec: dict, dataset: Dataset, seeds: Iterable[int] | None = None, **kwargs: Any):
    """Train one member per seed of a run spec (``model``, ``train``) on ``dataset`` through
    ``trainlab.ensemble.train_members``: one stacked computation when the architecture allows,
    else one after another. Member k is exactly a separate run with seed ``seeds[k]``."""
    from trainlab.ensemble import train_members

    kwargs.setdefault("device", ctx.device)
    kwargs.setdefault("progress", False)
    seeds = list(ctx.seeds if seeds is None else seeds)
    if ctx.tensorboard is not None:  # --tensorboard: one folder per training, one run per seed in it
        from trainlab.diagnose.tensorboard import TensorBoard, run_label

        done = len(list(Path(ctx.tensorboard).glob("*"))) if Path(ctx.tensorboard).is_dir() else 0
        where = Path(ctx.tensorboard) / run_label(done, spec)
        lrs = (kwargs.get("hparams") or {}).get("lr")
        labels = [f"lr-{lr:g}-seed-{s}" for lr, s in zip(lrs, seeds)] if lrs else None
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [
            TensorBoard(where, per_member=True, seeds=seeds, labels=labels)]
    return train_members(spec, dataset, seeds, **kwargs)


def member_curves(members, key: str = "loss") -> list[list[float]]:
    """Each member's logged ``key`` (``loss``, ``val_accuracy``, ...) over its run: (K, points)."""
    return [[h.get(key, math.nan) for h in members.trainer.member_history(k)] for k in range(members.k)]


def member_steps(members) -> list[int]:
    """The steps at which ``member_curves`` values were logged (member 0's)."""
    return [h["step"] for h in members.trainer.member_history(0)]


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value); NaNs count (they mean 'diverged')."""
    v = torch.tensor([float(x) for x in values], dtype=torch.float64)
    if len(v) == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std()) if len(v) > 1 else 0.0


def fmt_ms(values: Iterable[float], digits: int = 3) -> str:
    m, s = mean_std(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def fraction(flags: Iterable[bool]) -> float:
    flags = [bool(f) for f in flags]
    return sum(flags) / len(flags) if flags else math.nan


def sig(x: float, digits: int = 3) -> str:
    """A number for a report cell: 3 significant digits, scientific when very small or large."""
    if x is None or not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def diff_se(a: Iterable[float], b: Iterable[float]) -> tuple[float, float]:
    """mean(a) - mean(b) and its standard error sqrt(s_a^2 / n_a + s_b^2 / n_b) (Welch), for
    "is A at least as good as B over seeds": A is not worse when diff >= -2 * se (~95%, one-sided
    ~97.5%). One value per side gives se 0 (no noise estimate)."""
    a, b = [float(x) for x in a], [float(x) for x in b]
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    return ma - mb, math.sqrt(sa * sa / len(a) + sb * sb / len(b))


def train_lr_grid(ctx: Context, spec: dict, dataset: Dataset, lrs: Iterable[float],
                  seeds: Iterable[int] | None = None, **kwargs: Any):
    """Every (learning rate, seed) of ``lrs`` x seeds as ONE stack (per-member lr): member
    ``i * len(seeds) + j`` is seed j at ``lrs[i]``. Split per-member lists with ``groups``."""
    seeds = list(ctx.seeds if seeds is None else seeds)
    lrs = [float(lr) for lr in lrs]
    return train_seeds(ctx, spec, dataset, [s for _ in lrs for s in seeds],
                       hparams={"lr": [lr for lr in lrs for _ in seeds]}, **kwargs)


def groups(values: list, size: int) -> list[list]:
    """A flat per-member list cut into consecutive groups of ``size`` (one group per setting)."""
    return [list(values[i:i + size]) for i in range(0, len(values), size)]


def first_step(steps: Iterable[int], values: Iterable[float], test) -> int | None:
    """The first logged step whose value passes ``test`` (e.g. ``lambda v: v <= 0.3``); None: never."""
    return next((s for s, v in zip(steps, values) if test(v)), None)


def loglog_slope(x: Iterable[float], y: Iterable[float]) -> float:
    """Least-squares slope of log10(y) against log10(x): the exponent p of y ~ x^p."""
    lx = torch.tensor([math.log10(v) for v in x], dtype=torch.float64)
    ly = torch.tensor([math.log10(v) for v in y], dtype=torch.float64)
    dx = lx - lx.mean()
    return float((dx * (ly - ly.mean())).sum() / (dx * dx).sum())


def paired_diff(a: Iterable[float], b: Iterable[float]) -> tuple[float, float]:
    """mean(a_k - b_k) over paired runs (seed k of A and of B: same init, same data order) and
    its standard error s_d / sqrt(n). Pairing removes the seed-to-seed spread both share, so a
    small but consistent difference shows; ``diff > 2 * se`` is "above the noise" (~95%)."""
    d = [float(x) - float(y) for x, y in zip(a, b)]
    m, s = mean_std(d)
    return m, s / math.sqrt(len(d)) if d else math.nan


class SplitCurves:
    """A training callback: every member's metrics on named splits at each logged step, for
    curves the trainer does not log itself (train accuracy, test accuracy per epoch)::

        curves = SplitCurves({"train": ds.train, "test": ds.test})
        members = train_seeds(ctx, spec, ds, callbacks=[curves.callback()])
        curves.epochs, curves.curve("test_accuracy")  # (points,), (K, points)

    Works with the Trainer (floats) and the StackedTrainer (lists of K). Evaluation runs in
    eval mode (dropout off, batch-norm running statistics), as the trainer's own validation."""

    def __init__(self, splits: dict):
        self.splits = dict(splits)
        self.steps: list[int] = []
        self.epochs: list[float] = []
        self.values: dict[str, list[list[float]]] = {}  # "train_accuracy" -> (points, K)

    def callback(self):
        from trainlab.train.callbacks import Callback

        owner = self

        class _Record(Callback):
            order = 15  # after the trainer has logged this step's metrics

            def on_step_end(self, t):
                if t.metrics is not None:
                    owner.record(t)

        return _Record()

    def record(self, t) -> None:
        self.steps.append(int(t.step))
        self.epochs.append(float(t.metrics["epoch"]))
        for name, split in self.splits.items():
            for key, v in t.evaluate(split).items():
                self.values.setdefault(f"{name}_{key}", []).append(v if isinstance(v, list) else [v])

    def curve(self, key: str) -> list[list[float]]:
        """(K, points): member k's ``key`` (e.g. ``test_accuracy``) at each logged step."""
        rows = self.values.get(key)
        if not rows:
            raise KeyError(f"no recorded curve {key!r}; recorded: {', '.join(self.values) or '(none)'}")
        return [list(col) for col in zip(*rows)]


def accuracy_se(values: Iterable[float], n_test: int) -> float:
    """Standard error of a model's mean test accuracy over seeds (``values``, one per seed) on a
    fixed test set of ``n_test`` examples: the seed spread (variance / seeds) plus the test set's
    binomial sampling error p (1 - p) / n_test."""
    v = [float(x) for x in values]
    m, s = mean_std(v)
    return math.sqrt(s * s / len(v) + m * (1 - m) / n_test)


def diff_margin(a: Iterable[float], b: Iterable[float], n_test: int, z: float = 2.0) -> float:
    """The noise margin for comparing two models' mean test accuracies (per-seed lists ``a`` and
    ``b``) on one test set: ``z * sqrt(SE_a^2 + SE_b^2)`` (``accuracy_se``); a difference smaller
    than this is within seed and test-set noise (z = 2: about a 95% two-sided band)."""
    return z * math.sqrt(accuracy_se(a, n_test) ** 2 + accuracy_se(b, n_test) ** 2)


def layer_stats(records: list[dict], key: str = "grad_norm") -> tuple[list[int], list[str], list]:
    """``MemberStats.records`` as a grid: (sampled steps, layer names, values (steps, layers, K))
    for the layers that carry ``key`` (``grad_norm`` / ``weight_norm``: parameterised layers;
    ``act_std`` ...: every layer), layers in forward order."""
    rows = [r for r in records if key in r]
    steps = sorted({r["step"] for r in rows})
    names = list(dict.fromkeys(r["layer"] for r in rows))
    cell = {(r["step"], r["layer"]): r[key] for r in rows}
    return steps, names, [[cell.get((s, n)) for n in names] for s in steps]


def spec_parameters(model_spec: dict, dataset: Dataset, loss: str = "auto") -> int:
    """Parameter count of the net a model spec builds for ``dataset`` (output size from its
    loss: classes for cross-entropy, 1 for regression or binary cross-entropy)."""
    from trainlab.nn.spec import build, count_parameters
    from trainlab.train import losses

    n_out = losses.get(losses.resolve(loss, dataset.task)).n_outputs(dataset.n_classes)
    return count_parameters(build(model_spec, dataset.input_shape, n_out))


@torch.no_grad()
def forward_in_mode(model, x: torch.Tensor, train: bool, layer=None):
    """One forward pass in train (``True``) or eval mode: (output, ``layer``'s input, its
    output), the last two None without a ``layer``. The model's mode and buffers (batch-norm
    running statistics) are put back afterwards, so a measurement never changes the model."""
    from trainlab.diagnose.hooks import Hook

    buffers = {n: b.clone() for n, b in model.named_buffers()}
    seen = {}

    def keep(name, module, inputs, out):
        seen["in"], seen["out"] = inputs[0].detach().clone(), out.detach().clone()

    was = model.training
    model.train(train)
    try:
        if layer is None:
            y = model(x)
        else:
            with Hook("layer", layer, keep):
                y = model(x)
    finally:
        model.train(was)
        for n, b in model.named_buffers():
            b.copy_(buffers[n])
    return y, seen.get("in"), seen.get("out")
