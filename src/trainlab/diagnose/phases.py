"""The small pieces a diagnosis is run with: the evaluation sample, progress through its phases,
an evaluation at one step of a run, and the record of a check that could not run."""

from __future__ import annotations

import torch

from trainlab.data.base import Split
from trainlab.train.callbacks import Callback

EVAL_SAMPLES = 2000  # rows of each split an evaluation uses: accuracy to about +-1 point


def sample(split: Split, n: int | None, seed: int = 0) -> Split:
    """A fixed, seeded subset of ``n`` rows (the whole split when it is smaller, or ``n`` is None)."""
    if n is None or len(split) <= n:
        return split
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(10_000 + seed))[:n].sort().values
    return Split(split.x[idx], split.y[idx])


class EvalAt(Callback):
    """Evaluates ``split`` once, after step ``step`` of the run (``result``: loss, accuracy)."""

    order = 20

    def __init__(self, step: int, split: Split):
        self.step, self.split, self.result = step, split, None

    def on_step_end(self, trainer):
        if trainer.step == self.step:
            self.result = trainer.evaluate(self.split)


class StepProgress(Callback):
    """``say("training: 60/300 steps, loss 0.41")`` at every tenth of the run."""

    order = 30

    def __init__(self, say, label: str, parts: int = 10):
        self.say, self.label, self.parts = say, label, parts

    def on_fit_start(self, trainer):
        self.every = max(1, trainer.total_steps // self.parts)

    def on_step_end(self, trainer):
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            loss = trainer.step_value if trainer.step_value is not None else trainer.step_loss
            loss = f", loss {float(loss):.4g}" if loss is not None else ""
            self.say(f"{self.label}: {trainer.step}/{trainer.total_steps} steps{loss}")


def not_run(exc: BaseException) -> dict:
    """A check that raised: not a pass, not a failure — the reason, in one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return {"passed": None, "not_run": reason, "message": f"not run: {reason}"}
