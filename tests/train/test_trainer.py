"""The Trainer loop: reproducibility, step accounting, gradient clipping, max-norm, train/eval
modes, devices, LSUV at fit start, and exact in-process resume. Tiny nets and data."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainlab import data
from trainlab.errors import ConfigError
from trainlab.train import Callback, Checkpointer, TrainConfig, checkpoint

from .common import (BATCHNORM, DROPOUT, MLP, RaiseAt, Recorder, Trainer, fit, gauss, net, same_weights,
                     weights, without_seconds)


# ---- reproducibility -------------------------------------------------------------------
def test_same_seed_gives_identical_weights_and_metrics():
    cfg = {"lr": 0.01, "steps": 40, "batch_size": 16}
    a, b = fit(cfg, DROPOUT, seed=3), fit(cfg, DROPOUT, seed=3)
    assert same_weights(a.model, b.model)
    assert without_seconds(a.history) == without_seconds(b.history)
    assert a.evaluate(gauss().test) == b.evaluate(gauss().test)


def test_different_seed_differs():
    cfg = {"lr": 0.01, "steps": 40, "batch_size": 16}
    a, b = fit(cfg, DROPOUT, seed=3), fit(cfg, DROPOUT, seed=4)
    assert not same_weights(a.model, b.model)
    assert a.history[-1]["loss"] != b.history[-1]["loss"]


def test_trainer_seed_sets_data_order_independently_of_init():
    cfg = {"optimizer": "sgd", "lr": 0.1, "steps": 10, "batch_size": 16}
    ds = gauss()
    runs = []
    for seed in (0, 0, 1):
        trainer = Trainer(net(MLP, 0), cfg, seed=seed)  # same init, data order from the trainer seed
        runs.append(trainer.fit(ds.train).model)
    assert same_weights(runs[0], runs[1])
    assert not same_weights(runs[0], runs[2])


# ---- steps and epochs ------------------------------------------------------------------
def test_full_batch_is_one_step_per_epoch():
    ds = gauss(500)
    assert len(ds.train) == 300
    t = fit({"epochs": 4}, ds=ds)
    assert (t.batch_size, t.steps_per_epoch, t.total_steps) == (300, 1, 4)
    assert (t.step, t.epoch, t.batch_in_epoch) == (4, 4, 0)


def test_batch_larger_than_data_is_full_batch():
    t = fit({"epochs": 2, "batch_size": 10_000})
    assert (t.batch_size, t.steps_per_epoch, t.step) == (60, 1, 2)


def test_mini_batches_cover_each_sample_once_per_epoch():
    ds = gauss(500)  # 300 training samples
    rec = Recorder()
    seen, recording = [], []

    class Window(Callback):  # record the model's inputs between batch start and backward only
        def on_batch_start(self, t):
            recording.append(True)

        def on_after_backward(self, t):
            recording.clear()

    model = net()
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()) if recording else None)
    t = Trainer(model, {"epochs": 2, "batch_size": 32}, callbacks=[rec, Window()])
    t.fit(ds.train, ds.val)
    assert (t.steps_per_epoch, t.total_steps, t.step, t.epoch) == (10, 20, 20, 2)
    assert [len(x) for x in seen] == ([32] * 9 + [12]) * 2
    for epoch in range(2):
        xs = torch.cat(seen[10 * epoch: 10 * (epoch + 1)])
        assert torch.equal(xs[torch.argsort(xs[:, 0])], ds.train.x[torch.argsort(ds.train.x[:, 0])])
    assert not torch.equal(torch.cat(seen[:10]), torch.cat(seen[10:]))  # reshuffled each epoch
    assert rec.events.count("on_epoch_end") == 2


def test_steps_override_epochs():
    t = fit({"epochs": 100, "steps": 7, "batch_size": 32}, ds=gauss(500))
    assert (t.total_steps, t.step, t.epoch, t.batch_in_epoch) == (7, 7, 0, 7)
    t = fit({"epochs": 1, "steps": 25, "batch_size": 32}, ds=gauss(500))
    assert (t.total_steps, t.step, t.epoch, t.batch_in_epoch) == (25, 25, 2, 5)


def test_default_logging_once_per_epoch_and_at_the_end():
    t = fit({"epochs": 3, "batch_size": 32}, ds=gauss(500))
    assert [h["step"] for h in t.history] == [10, 20, 30]
    assert [h["epoch"] for h in t.history] == [1.0, 2.0, 3.0]
    t = fit({"steps": 7, "log_every": 3})
    assert [h["step"] for h in t.history] == [3, 6, 7]
    assert {"step", "epoch", "loss", "lr", "val_loss", "val_accuracy", "seconds"} <= set(t.history[-1])
    t = fit({"steps": 3, "log_every": 1}, val=False)
    assert "val_loss" not in t.history[-1]


def test_logged_loss_is_mean_of_step_losses_since_last_log():
    # recompute each step's loss from the batch the model saw: full batch, so it is the train loss
    rec = []

    class TrainLoss(Callback):
        def on_batch_start(self, t):
            with torch.no_grad():
                rec.append(F.cross_entropy(t.model(gauss().train.x), gauss().train.y).item())

    t = fit({"optimizer": "sgd", "lr": 0.1, "steps": 6, "log_every": 3}, callbacks=[TrainLoss()])
    assert t.history[0]["loss"] == pytest.approx(sum(rec[:3]) / 3, rel=1e-5)
    assert t.history[1]["loss"] == pytest.approx(sum(rec[3:]) / 3, rel=1e-5)


def test_config_forms():
    assert fit(TrainConfig(steps=2)).step == 2
    assert fit({"steps": 2}).config == TrainConfig(steps=2)
    t = Trainer(net(), None)
    assert t.config == TrainConfig()
    with pytest.raises(ConfigError, match="lrr"):
        Trainer(net(), {"lrr": 0.1})


# ---- gradient clipping and max-norm ---------------------------------------------------------
def grad_norm(model):
    return torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()


@pytest.mark.parametrize("clip", [0.01, 0.1])
def test_grad_clip_bounds_one_sgd_step(clip):
    norms = []

    class GradNorm(Callback):
        order = -100

        def on_after_backward(self, t):
            norms.append(grad_norm(t.model))

    model = net()
    before = weights(model)
    Trainer(model, {"optimizer": "sgd", "lr": 1.0, "steps": 1, "grad_clip": clip},
            callbacks=[GradNorm()]).fit(gauss().train)
    change = torch.cat([(model.state_dict()[k] - before[k]).flatten() for k in before]).norm().item()
    assert norms[0] > clip  # clipping had something to do
    assert change <= clip * (1 + 1e-4)
    assert change == pytest.approx(clip, rel=1e-3)  # the step is the clipped gradient itself


def test_no_clip_step_is_the_full_gradient():
    norms = []

    class GradNorm(Callback):
        def on_after_backward(self, t):
            norms.append(grad_norm(t.model))

    model = net()
    before = weights(model)
    Trainer(model, {"optimizer": "sgd", "lr": 1.0, "steps": 1, "grad_clip": 1e6},
            callbacks=[GradNorm()]).fit(gauss().train)
    change = torch.cat([(model.state_dict()[k] - before[k]).flatten() for k in before]).norm().item()
    assert change == pytest.approx(norms[0], rel=1e-4)


def row_norms(model):
    return [m.weight.norm(dim=1) for m in model.modules() if isinstance(m, nn.Linear)]


def test_max_norm_keeps_every_row_norm_below_c():
    c = 0.5
    cfg = {"optimizer": "sgd", "lr": 0.5, "steps": 30}
    free = fit(cfg).model
    assert max(n.max().item() for n in row_norms(free)) > c  # the constraint binds
    bounded = fit({**cfg, "max_norm": c}).model
    for norms in row_norms(bounded):
        assert (norms <= c + 1e-5).all()
    assert max(n.max().item() for n in row_norms(bounded)) == pytest.approx(c, rel=1e-3)


def test_max_norm_leaves_short_rows_alone():
    model = net()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(1e-3)
    t = Trainer(model, {"optimizer": "sgd", "lr": 1e-12, "steps": 1, "max_norm": 10.0})
    before = weights(model)
    t.fit(gauss().train)
    for k in before:
        assert torch.allclose(model.state_dict()[k], before[k], atol=1e-9)


# ---- train / eval modes -------------------------------------------------------------------
def test_dropout_active_in_training_off_in_evaluate():
    ds = gauss()
    checks = []

    class Probe(Callback):
        def on_batch_start(self, t):
            assert all(m.training for m in t.model.modules())
            x = ds.train.x[:20]
            with torch.no_grad():
                checks.append(torch.equal(t.model(x), t.model(x)))  # differs with dropout on

        def on_step_end(self, t):
            if t.metrics is not None:  # just evaluated on val: back in training mode
                assert all(m.training for m in t.model.modules())

    t = fit({"steps": 4, "log_every": 1}, DROPOUT, callbacks=[Probe()])
    assert checks == [False] * 4
    model = t.model
    model.train()
    a, b = t.evaluate(ds.test), t.evaluate(ds.test)
    assert a == b
    assert all(m.training for m in model.modules())
    model.eval()
    assert t.evaluate(ds.test) == a
    assert not any(m.training for m in model.modules())
    with torch.no_grad():
        ref = F.cross_entropy(model(ds.test.x), ds.test.y).item()
    assert a["loss"] == pytest.approx(ref, rel=1e-6)


def test_batchnorm_running_stats_update_in_fit_and_serve_evaluate():
    ds = gauss()
    t = Trainer(net(BATCHNORM), {"steps": 5, "batch_size": 16, "log_every": 1})
    bn = next(m for m in t.model.modules() if isinstance(m, nn.BatchNorm1d))
    assert torch.equal(bn.running_mean, torch.zeros(16))
    t.fit(ds.train, ds.val)
    assert int(bn.num_batches_tracked) == 5  # one update per step; evaluations do not update
    assert not torch.equal(bn.running_mean, torch.zeros(16))
    assert not torch.equal(bn.running_var, torch.ones(16))
    stats = bn.running_mean.clone()
    result = t.evaluate(ds.test)
    assert torch.equal(bn.running_mean, stats)
    t.model.eval()
    with torch.no_grad():
        ref = F.cross_entropy(t.model(ds.test.x), ds.test.y).item()
    t.model.train()
    assert result["loss"] == pytest.approx(ref, rel=1e-6)
    one = data.Split(ds.test.x[:1], ds.test.y[:1])  # batch statistics of one sample would fail
    assert math.isfinite(t.evaluate(one)["loss"])
    with torch.no_grad():
        bn.running_mean.add_(5.0)
    assert t.evaluate(ds.test)["loss"] != result["loss"]


def test_evaluate_in_chunks_matches_one_pass():
    t = fit({"steps": 3})
    whole = t.evaluate(gauss().test)
    t.config.eval_batch_size = 7
    chunked = t.evaluate(gauss().test)
    assert chunked["accuracy"] == whole["accuracy"]
    assert chunked["loss"] == pytest.approx(whole["loss"], rel=1e-6)


def test_evaluate_regression_has_no_accuracy():
    ds = data.load({"name": "adding", "n_samples": 60, "length": 4})
    model = net({"mlp": {"hidden": [8]}}, input_shape=(4, 2), n_outputs=1)
    t = Trainer(model, {"steps": 3}, task="regression")
    t.fit(ds.train, ds.val)
    assert t.loss_name == "mse"
    assert set(t.evaluate(ds.test)) == {"loss"}
    assert "val_accuracy" not in t.history[-1]


def test_binary_cross_entropy_with_one_output():
    model = net(n_outputs=1)
    t = Trainer(model, {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.5, "steps": 30})
    t.fit(gauss().train, gauss().val)
    result = t.evaluate(gauss().test)
    assert result["accuracy"] > 0.8
    with torch.no_grad():
        out = model(gauss().test.x)
    ref = F.binary_cross_entropy_with_logits(out, gauss().test.y.float().unsqueeze(1)).item()
    assert result["loss"] == pytest.approx(ref, rel=1e-6)


# ---- devices ------------------------------------------------------------------------------
def test_device_auto_and_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert Trainer(net(), {"steps": 1}, device="auto").device.type == expected
    t = Trainer(net(), {"steps": 1}, device="cpu")
    assert t.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in t.model.parameters())


@pytest.mark.parametrize("device", ["tpu", "gpu", "mps"])
def test_unknown_device_raises(device):
    with pytest.raises(ConfigError, match=rf"unknown device '{device}'.*auto, cpu, cuda"):
        Trainer(net(), {"steps": 1}, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_unavailable_cuda_raises(device):
    with pytest.raises(ConfigError, match="CUDA is not available"):
        Trainer(net(), {"steps": 1}, device=device)


# ---- LSUV at fit start ---------------------------------------------------------------------
LSUV = {"mlp": {"hidden": [32, 32], "activation": "tanh", "init": "lsuv"}}


def layer_output_vars(model, x):
    outs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outs.append(o.var().item()))
             for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return outs


def test_lsuv_data_init_runs_at_fit_start():
    ds = data.load({"name": "gauss", "n_samples": 100, "noise": 0.5})
    model = net(LSUV)
    before = layer_output_vars(model, ds.train.x)
    calls, at_start = [], []
    original = model.data_init
    model.data_init = lambda x, **kw: calls.append(x.shape) or original(x, **kw)

    class AtStart(Callback):
        def on_fit_start(self, t):
            at_start.extend(layer_output_vars(t.model, ds.train.x))

    Trainer(model, {"optimizer": "sgd", "lr": 0.01, "steps": 2}, callbacks=[AtStart()]).fit(ds.train)
    assert calls == [torch.Size([60, 2])]
    assert len(at_start) == 3
    assert max(abs(v - 1.0) for v in at_start) < 0.1, at_start
    assert max(abs(v - 1.0) for v in before) > 0.1  # it was LSUV that made them ~1


def test_plain_init_model_data_init_is_a_noop():
    model = net()
    assert model.data_init(gauss().train.x) is None


def test_resume_does_not_rerun_data_init(tmp_path):
    ds = gauss()
    t = Trainer(net(LSUV), {"steps": 4}, callbacks=[Checkpointer(tmp_path, every=2)]).fit(ds.train)
    model = net(LSUV, seed=5)
    calls = []
    model.data_init = lambda x: calls.append(1)
    t2 = Trainer(model, {"steps": 4})
    t2.load_state_dict(checkpoint.load(tmp_path / "last.pt"))
    t2.fit(ds.train)
    assert calls == [] and same_weights(t.model, t2.model)


# ---- exact in-process resume -------------------------------------------------------------------
RESUME_CFG = {"optimizer": "adam", "lr": 0.01, "steps": 60, "batch_size": 25, "schedule": "cosine",
              "log_every": 3, "early_stopping": {"patience": 100}}


@pytest.mark.parametrize("batch_size,position", [
    (25, (20, 6, 2)),  # batches of 25, 25, 10: the checkpoint is mid-epoch
    (30, (20, 9, 2)),  # 2 steps per epoch: saved at an epoch's last step, before on_epoch_end
    (None, (20, 19, 1)),  # full batch: no permutation
])
def test_resume_in_process_matches_uninterrupted_run(tmp_path, batch_size, position):
    ds = gauss()  # 60 training samples
    cfg = {**RESUME_CFG, "batch_size": batch_size}
    straight = Trainer(net(DROPOUT), cfg, seed=0).fit(ds.train, ds.val)

    crashed = Trainer(net(DROPOUT), cfg, seed=0,
                      callbacks=[Checkpointer(tmp_path, every=10), RaiseAt(25)])
    with pytest.raises(RuntimeError, match="boom"):
        crashed.fit(ds.train, ds.val)
    state = checkpoint.load(tmp_path / "last.pt")
    assert (state["step"], state["epoch"], state["batch_in_epoch"]) == position
    assert (state["perm"] is None) == (batch_size is None)

    torch.manual_seed(1234)  # the global RNG (dropout) must come from the checkpoint
    resumed = Trainer(net(DROPOUT, seed=7), cfg, seed=5)  # different init and data-order seed
    resumed.load_state_dict(state)
    resumed.fit(ds.train, ds.val)
    assert resumed.step == straight.step == 60
    assert same_weights(resumed.model, straight.model)
    assert resumed.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]
    assert without_seconds(resumed.history) == without_seconds(straight.history)
    assert resumed.evaluate(ds.test) == straight.evaluate(ds.test)


def test_state_dict_round_trips_through_weights_only_load(tmp_path):
    t = fit(RESUME_CFG, DROPOUT)
    checkpoint.save(tmp_path / "s.pt", t.state_dict())
    s = torch.load(tmp_path / "s.pt", weights_only=True)
    assert s["step"] == 60 and same_weights(s["model"], t.model.state_dict())
    assert set(s["rng"]) >= {"torch", "shuffle", "numpy", "python"}
