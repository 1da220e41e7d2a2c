"""The fixed event set and the callbacks on it: event order and counts, unknown event names,
on_exception, stopping, the non-finite guard (DivergenceError), and early stopping."""

import pytest

from trainlab.errors import ConfigError, DivergenceError
from trainlab.train import EVENTS, Callback, EarlyStopping

from .common import RaiseAt, Recorder, Trainer, fit, gauss, net, same_weights, weights


# ---- events -----------------------------------------------------------------------------
def test_event_order_and_counts():
    rec = Recorder()
    t = fit({"epochs": 3, "batch_size": 32}, callbacks=[rec])  # 60 samples: 2 steps per epoch
    assert t.steps_per_epoch == 2
    batch = ["on_batch_start", "on_after_backward", "on_step_end"]
    epoch = ["on_epoch_start", *batch, *batch, "on_epoch_end"]
    assert rec.events == ["on_fit_start", *epoch * 3, "on_fit_end"]
    assert rec.steps == [1, 2, 3, 4, 5, 6]
    assert set(rec.events) == set(EVENTS) - {"on_exception"}


def test_partial_last_epoch_has_no_epoch_end():
    rec = Recorder()
    t = fit({"steps": 3, "batch_size": 32}, callbacks=[rec])
    assert rec.events.count("on_epoch_start") == 2 and rec.events.count("on_epoch_end") == 1 == t.epoch
    assert rec.events.count("on_step_end") == 3 and rec.events[-1] == "on_fit_end"


def test_events_list():
    assert EVENTS == ("on_fit_start", "on_epoch_start", "on_batch_start", "on_after_backward", "on_step_end",
                      "on_epoch_end", "on_fit_end", "on_exception")


def test_callbacks_run_by_order():
    calls = []

    def make(name, order):
        cls = type(name, (Callback,), {"order": order,
                                       "on_fit_start": lambda self, t: calls.append(name)})
        return cls()

    fit({"steps": 1}, callbacks=[make("late", 5), make("early", -5), make("mid", 0)])
    assert calls == ["early", "mid", "late"]


def test_unknown_event_name_is_a_type_error():
    with pytest.raises(TypeError) as info:
        class Typo(Callback):
            def on_step_ended(self, trainer):
                pass
    msg = str(info.value)
    assert "on_step_ended" in msg
    for e in EVENTS:
        assert e in msg


def test_other_methods_are_allowed_on_callbacks():
    class Fine(Callback):
        def helper(self):
            return 1

        def on_fit_start(self, trainer):
            pass

    assert Fine().helper() == 1


def test_exception_fires_on_exception_and_propagates():
    rec = Recorder()
    err = ValueError("inside training")
    with pytest.raises(ValueError, match="inside training"):
        fit({"steps": 10}, callbacks=[rec, RaiseAt(3, err)])
    assert rec.exc is err
    assert rec.events[-1] == "on_exception" and "on_fit_end" not in rec.events
    assert rec.events.count("on_step_end") == 3


def test_keyboard_interrupt_fires_on_exception():
    rec = Recorder()
    with pytest.raises(KeyboardInterrupt):
        fit({"steps": 10}, callbacks=[rec, RaiseAt(2, KeyboardInterrupt())])
    assert isinstance(rec.exc, KeyboardInterrupt)


def test_callback_can_stop_training():
    class Stop(Callback):
        def on_step_end(self, t):
            if t.step == 4:
                t.stop_training, t.stop_reason = True, "enough"

    rec = Recorder()
    t = fit({"steps": 50, "batch_size": 16}, callbacks=[rec, Stop()])
    assert t.step == 4 and t.stop_reason == "enough" and rec.events[-1] == "on_fit_end"


# ---- divergence ---------------------------------------------------------------------------
def test_huge_lr_raises_divergence_error_with_step_and_lr():
    rec = Recorder()
    with pytest.raises(DivergenceError) as info:
        fit({"optimizer": "sgd", "lr": 1e6, "steps": 100, "log_every": 1}, callbacks=[rec])
    msg = str(info.value)
    assert f"by step {rec.exc_step}" in msg and 1 < rec.exc_step < 100
    assert "lr 1e+06" in msg and "learning rate" in msg
    assert isinstance(rec.exc, DivergenceError)


def test_divergence_detected_at_logged_steps_by_default():
    with pytest.raises(DivergenceError, match=r"step \d+"):
        fit({"optimizer": "sgd", "lr": 1e6, "epochs": 30}, val=False)


# ---- early stopping ------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_evaluations():
    es = {"monitor": "val_loss", "patience": 3, "min_delta": 1e-3}
    t = fit({"optimizer": "sgd", "lr": 1e-12, "epochs": 50, "log_every": 1, "early_stopping": es})
    assert t.step == 4  # the first evaluation sets the best, then 3 without improvement
    assert len(t.history) == 4
    assert t.stop_training
    assert "early stopping" in t.stop_reason and "val_loss" in t.stop_reason and "3 evaluations" in t.stop_reason
    assert "best at step 1" in t.stop_reason


def test_no_early_stopping_runs_to_the_end():
    t = fit({"epochs": 5, "log_every": 1})
    assert t.step == 5 and t.stop_reason is None and not t.stop_training


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_restore_best(restore):
    snapshots = {}

    class Snap(Callback):
        def on_step_end(self, t):
            snapshots[t.step] = weights(t.model)

    es = {"patience": 2, "min_delta": 1e9, "restore_best": restore}  # only the first evaluation is "best"
    t = fit({"optimizer": "sgd", "lr": 0.5, "epochs": 50, "log_every": 1, "early_stopping": es},
            callbacks=[Snap()])
    assert t.step == 3
    assert not same_weights(snapshots[1], snapshots[3])
    assert same_weights(t.model.state_dict(), snapshots[1 if restore else 3])
    if restore:
        assert t.evaluate(gauss().val)["loss"] == pytest.approx(t.history[0]["val_loss"])


def test_early_stopping_on_accuracy_maximises():
    es = EarlyStopping(monitor="val_accuracy", patience=1, restore_best=False)
    assert es.sign == -1.0
    es.best = -0.9

    class T:
        metrics = {"val_accuracy": 0.95}
        step = 7
        stop_training = False
    es.on_step_end(T)
    assert es.best == -0.95 and es.best_step == 7 and not T.stop_training


def test_early_stopping_unknown_key_is_a_config_error():
    with pytest.raises(ConfigError, match=r"patiense.*patience"):
        Trainer(net(), {"early_stopping": {"patiense": 3}})


@pytest.mark.parametrize("kwargs,match", [({"monitor": "val_acc"}, "monitor"), ({"patience": 0}, "patience"),
                                          ({"patience": 1.5}, "patience")])
def test_early_stopping_checks_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        EarlyStopping(**kwargs)
    with pytest.raises(ConfigError, match=match):
        Trainer(net(), {"early_stopping": kwargs})


def test_progress_bar_is_off_when_output_is_not_a_terminal():
    import io

    from trainlab.train import ProgressBar

    quiet = io.StringIO()
    fit({"optimizer": "sgd", "steps": 20}, callbacks=[ProgressBar(stream=quiet)])
    assert quiet.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    loud = Tty()
    fit({"optimizer": "sgd", "steps": 20}, callbacks=[ProgressBar(stream=loud)])
    assert "train" in loud.getvalue() and "20/20" in loud.getvalue()
