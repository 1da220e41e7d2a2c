"""Nothing lost: a checkpoint is written only when every tensor of the state is finite (batch-norm
running statistics and optimizer moments too), and metrics.jsonl is rewritten atomically on
resume, so an interruption at the worst moment leaves every row in place."""

import json

import pytest
import torch

from tests.train.common import BATCHNORM, Trainer, gauss, net
from trainlab import atomic
from trainlab.train import Checkpointer, MetricsLogger
from trainlab.train.checkpoint import all_finite


def _trainer(tmp_path, steps=3):
    ck = Checkpointer(tmp_path / "checkpoints", every=1)
    trainer = Trainer(net(BATCHNORM), {"optimizer": "adam", "lr": 0.01, "steps": steps, "batch_size": 20},
                      callbacks=[ck, MetricsLogger(tmp_path / "metrics.jsonl")])
    ds = gauss()
    trainer.fit(ds.train, ds.val)
    return trainer, ck


@pytest.mark.parametrize("poison", ["running_var", "running_mean", "optimizer_moment"])
def test_a_state_with_inf_anywhere_never_replaces_the_last_good_checkpoint(tmp_path, poison):
    trainer, ck = _trainer(tmp_path)
    good = ck.path.read_bytes()
    assert ck.saved_step == 3 and all(torch.isfinite(p).all() for p in trainer.model.parameters())
    bn = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.BatchNorm1d))
    if poison == "optimizer_moment":
        next(iter(trainer.optimizer.state.values()))["exp_avg_sq"][0] = float("inf")
    else:
        getattr(bn, poison)[0] = float("inf")  # the weights stay finite: the old check passed this
    trainer.step += 1
    ck._save(trainer)
    assert ck.path.read_bytes() == good and ck.saved_step == 3


def test_all_finite_walks_nested_state():
    assert all_finite({"a": [torch.ones(2), {"b": torch.tensor([1, 2])}], "c": 3})
    assert not all_finite({"a": [torch.ones(2), {"b": torch.tensor([1.0, float("nan")])}]})


def test_resume_rewrite_is_atomic_an_interruption_keeps_every_row(tmp_path, monkeypatch):
    metrics = tmp_path / "metrics.jsonl"
    rows = [{"step": s, "loss": 1.0 / s} for s in range(1, 121)]
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = metrics.read_bytes()

    def killed(*a, **k):  # the process dies just before the rename (the old code had emptied the file by now)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", killed)

    class T:
        step = 60

    with pytest.raises(KeyboardInterrupt):
        MetricsLogger(metrics).on_fit_start(T())
    assert metrics.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the temp file is cleaned up
    monkeypatch.undo()
    logger = MetricsLogger(metrics)
    logger.on_fit_start(T())
    logger._fh.close()
    assert [json.loads(ln) for ln in metrics.read_text().splitlines()] == rows[:60]
