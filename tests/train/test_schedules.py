"""Learning-rate schedules: the lr each step trains with, against the closed forms; one_cycle's
momentum; argument checks."""

import math

import pytest

from trainlab.errors import ConfigError
from trainlab.train import SCHEDULES, Callback

from .common import Recorder, fit


# ---- schedules -------------------------------------------------------------------------
LR = 0.1


def lrs_for(schedule, steps):
    rec = Recorder()
    t = fit({"optimizer": "sgd", "lr": LR, "steps": steps, "schedule": schedule, "log_every": 1},
            callbacks=[rec], val=False)
    return rec.lrs, t


def cos_between(hi, lo, frac):
    return lo + (hi - lo) * 0.5 * (1 + math.cos(math.pi * frac))


SCHEDULE_CASES = {
    "step": ({"name": "step", "step_size": 3, "gamma": 0.5}, 10, lambda t: LR * 0.5 ** (t // 3)),
    "exponential": ({"name": "exponential", "gamma": 0.9}, 10, lambda t: LR * 0.9 ** t),
    "cosine": ({"name": "cosine", "min_lr": 0.01}, 10, lambda t: cos_between(LR, 0.01, t / 10)),
    "warmup_constant": ({"name": "warmup", "warmup_steps": 4}, 10, lambda t: LR * min(1.0, (t + 1) / 4)),
    "warmup_cosine": ({"name": "warmup", "warmup_steps": 4, "then": "cosine"}, 12,
                      lambda t: LR * (t + 1) / 4 if t < 4 else cos_between(LR, 0.0, (t - 4) / 8)),
}


@pytest.mark.parametrize("case", list(SCHEDULE_CASES))
def test_schedule_lr_per_step(case):
    spec, steps, expected = SCHEDULE_CASES[case]
    lrs, t = lrs_for(spec, steps)
    assert len(lrs) == steps
    for step, lr in enumerate(lrs):
        assert lr == pytest.approx(expected(step), rel=1e-6, abs=1e-12), f"step {step}"
    # the logged lr at step s (1-based) is the rate that step trained with
    for h in t.history:
        assert h["lr"] == pytest.approx(expected(h["step"] - 1), rel=1e-6, abs=1e-12)


def test_schedule_cosine_default_reaches_zero_at_the_end():
    lrs, t = lrs_for("cosine", 20)
    assert lrs[0] == LR and lrs[10] == pytest.approx(LR / 2)
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_schedule_one_cycle():
    lrs, t = lrs_for({"name": "one_cycle", "pct_start": 0.3}, 20)
    peak = lrs.index(max(lrs))
    assert lrs[0] == pytest.approx(LR / 25)  # torch's div_factor
    assert max(lrs) == pytest.approx(LR) and peak == 5  # pct_start * 20 - 1
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a > b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    assert lrs[-1] == pytest.approx(LR / 25 / 1e4)  # / final_div_factor
    lrs, _ = lrs_for({"name": "one_cycle", "max_lr": 0.5}, 10)
    assert max(lrs) == pytest.approx(0.5)


def test_schedule_one_step_run():
    lrs, t = lrs_for("one_cycle", 1)
    assert t.step == 1 and len(lrs) == 1


def test_no_schedule_keeps_lr():
    for spec in (None, "none"):
        lrs, t = lrs_for(spec, 5)
        assert lrs == [LR] * 5 and t.scheduler is None


def test_schedule_registry_and_errors():
    assert list(SCHEDULES) == ["step", "exponential", "cosine", "one_cycle", "warmup"]
    with pytest.raises(ConfigError, match=r"unknown schedule 'cosin'.*did you mean 'cosine'"):
        fit({"steps": 1, "schedule": "cosin"})
    with pytest.raises(ConfigError, match=r"schedule 'warmup'.*then"):
        fit({"steps": 1, "schedule": {"name": "warmup", "then": "linear"}})
    with pytest.raises(ConfigError, match=r"schedule 'step'.*gamma"):
        fit({"steps": 1, "schedule": {"name": "step", "gamma": -1}})
    with pytest.raises(ConfigError, match=r"schedule 'exponential'.*unknown argument 'gama'"):
        fit({"steps": 1, "schedule": {"name": "exponential", "gama": 0.9}})


def momentum_during_fit(optimizer, schedule):
    seen = []

    class Momentum(Callback):
        def on_batch_start(self, t):
            seen.append(t.optimizer.param_groups[0].get("momentum"))

    fit({"optimizer": optimizer, "lr": 0.1, "steps": 5, "schedule": schedule}, callbacks=[Momentum()], val=False)
    return seen


def test_one_cycle_cycles_momentum_of_momentum_optimizers():
    seen = momentum_during_fit("momentum", "one_cycle")
    assert seen[0] == pytest.approx(0.95) and min(seen) == pytest.approx(0.85, abs=0.01)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_one_cycle_keeps_plain_optimizer_without_momentum(optimizer):
    assert momentum_during_fit(optimizer, "one_cycle") == [0] * 5


def test_one_cycle_with_adagrad():
    assert momentum_during_fit("adagrad", "one_cycle") == [None] * 5


def test_step_schedule_rejects_fractional_step_size():
    with pytest.raises(ConfigError, match="step_size"):
        fit({"steps": 3, "schedule": {"name": "step", "step_size": 0.5}})


def test_cosine_rejects_negative_min_lr():
    with pytest.raises(ConfigError, match="min_lr"):
        fit({"steps": 3, "schedule": {"name": "cosine", "min_lr": -1.0}})
