"""The correctness reference: trained with the same seeds and data order, a stacked run ends
with parameters equal (float64, allclose) to K separate ordinary Trainer runs — for every
optimizer, schedules, clipping, max-norm, weight decay, batch norm, dropout (per-member RNG),
residual/parallel/conv nets, LSUV, per-member learning rates and weight decay, and per-member
early stopping. Plus callbacks, resume, divergence and argument checks."""

import io
import json

import pytest
import torch

from trainlab import data
from trainlab.data import from_arrays
from trainlab.ensemble import MemberStats, StackedModel, StackedTrainer, build_members
from trainlab.errors import ConfigError, DivergenceError
from trainlab.nn import build
from trainlab.train import MetricsLogger, ProgressBar, Trainer, seed_everything

from tests.train.common import RaiseAt, Recorder

from .common import MLP, as64, assert_members_equal, float64, gauss, separate

BN = {"mlp": {"hidden": [16], "activation": "relu", "init": "he_normal", "batchnorm": True}}
DROPOUT = {"mlp": {"hidden": [16, 16], "activation": "relu", "init": "he_normal", "dropout": 0.3}}
BLOCKS = {"init": "he_normal", "layers": [
    {"dense": 8}, "prelu", {"residual": [{"dense": 8}, "tanh", {"dense": 8}]}, "layernorm",
    {"residual": {"body": [{"dense": 12}, "elu"], "post": "relu"}},
    {"parallel": {"branches": [[{"dense": 6}, "relu"], [{"maxout": {"units": 4, "pieces": 3}}]]}},
    {"dense": "auto"}]}
CONV = {"layers": [{"conv2d": {"channels": 3, "kernel": 3}}, "batchnorm", "relu", "maxpool2d",
                   {"conv2d": {"channels": 4, "kernel": 2, "stride": 1, "padding": "valid"}}, "relu", "flatten",
                   {"dense": "auto"}]}
MINI = {"epochs": 3, "batch_size": 16}

CASES = {
    "sgd_full_batch": (MLP, {"optimizer": "sgd", "lr": 0.1, "steps": 25}),
    "adam_minibatch": (MLP, {"optimizer": "adam", "lr": 0.01, **MINI}),
    "momentum_step_clip_maxnorm": (MLP, {"optimizer": "momentum", "lr": 0.05, **MINI, "grad_clip": 0.3,
                                         "max_norm": 1.0, "schedule": {"step": {"step_size": 5, "gamma": 0.5}}}),
    "nesterov_one_cycle": (MLP, {"optimizer": "nesterov", "lr": 0.05, **MINI, "schedule": "one_cycle"}),
    "adamw_decay_cosine": (MLP, {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.1, **MINI, "schedule": "cosine"}),
    "adamw_torch_default_decay": (MLP, {"optimizer": "adamw", "lr": 0.01, **MINI}),
    "rmsprop_l2": (MLP, {"optimizer": "rmsprop", "lr": 0.005, "weight_decay": 0.01, **MINI}),
    "adagrad_warmup": (MLP, {"optimizer": "adagrad", "lr": 0.05, **MINI,
                             "schedule": {"warmup": {"warmup_steps": 4, "then": "cosine"}}}),
    "batchnorm": (BN, {"optimizer": "adam", "lr": 0.01, **MINI}),
    "blocks": (BLOCKS, {"optimizer": "adam", "lr": 0.01, **MINI}),
    "lsuv": ({"mlp": {"hidden": [16, 16], "activation": "tanh", "init": "lsuv"}}, {"optimizer": "sgd", "lr": 0.05, **MINI}),
}


def _stacked_run(spec, ds, config, seeds, n_out=2, rng="shared", hparams=None, init_scale=None,
                 callbacks=(), data_order="per_model", seed=0):
    lsuv = "lsuv" in json.dumps(spec)
    mods, states = build_members(spec, ds.input_shape, n_out, seeds, init_scale,
                                 data_init_x=ds.train.x if lsuv else None)
    stack = StackedModel(mods, seeds, states, rng)
    task = "classification" if ds.n_classes is not None else "regression"
    t = StackedTrainer(stack, config, task=task, device="cpu", hparams=hparams, callbacks=list(callbacks),
                       data_order=data_order, seed=seed)
    return t.fit(ds.train, ds.val)


def _check(spec, config, ds, seeds=(0, 1, 2), n_out=2, rng="shared", hparams=None, per_member=None):
    """Stacked run vs K separate runs: weights, final evaluation and the logged history."""
    with float64():
        ds = as64(ds)
        st = _stacked_run(spec, ds, config, list(seeds), n_out, rng, hparams)
        refs = [separate(spec, ds, {**config, **(per_member(k) if per_member else {})}, s, n_out)
                for k, s in enumerate(seeds)]
        assert_members_equal(st.model, [t.model for t in refs])
        ev = st.evaluate(ds.test)
        for k, t in enumerate(refs):
            for key, v in t.evaluate(ds.test).items():
                assert ev[key][k] == pytest.approx(v, rel=1e-9, abs=1e-12)
            hist = [{n: v for n, v in h.items() if n != "seconds"} for h in t.history]
            assert len(hist) == len(st.member_history(k))
            for a, b in zip(st.member_history(k), hist):
                assert a.keys() == b.keys() and a == pytest.approx(b, rel=1e-9, abs=1e-12)
        return st, refs


@pytest.mark.parametrize("case", sorted(CASES))
def test_stacked_run_equals_separate_runs(case):
    spec, config = CASES[case]
    _check(spec, config, gauss())


def test_dropout_with_per_member_rng_equals_separate_runs():
    _check(DROPOUT, {"optimizer": "adam", "lr": 0.01, **MINI}, gauss(), rng="per_model")


def test_binary_cross_entropy_on_the_lectures_xor():
    spec = {"mlp": {"hidden": 10, "depth": 4, "activation": "relu", "init": "he_normal"}}
    _check(spec, {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": 40},
           data.load("xor"), n_out=1)


def test_regression_on_sequences():
    ds = data.load({"name": "adding", "n_samples": 60, "length": 5})
    _check({"mlp": {"hidden": [8]}}, {"loss": "mse", "optimizer": "adam", "lr": 0.01, "epochs": 2, "batch_size": 12},
           ds, n_out=1)


def test_conv_net_on_images():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 1, 6, 6, generator=g)
    ds = from_arrays("tiny_images", x, (x[:, 0, :3].sum((1, 2)) > 0).long(), 2, {})
    _check(CONV, {"optimizer": "adam", "lr": 0.01, "epochs": 2, "batch_size": 12}, ds)


def test_per_member_learning_rates_and_weight_decay():
    lrs, wds = [0.003, 0.01, 0.03], [0.0, 0.01, 0.1]
    for opt in ("adam", "adamw", "momentum"):
        _check(MLP, {"optimizer": opt, "lr": 0.01, **MINI, "schedule": "cosine"}, gauss(),
               hparams={"lr": lrs, "weight_decay": wds}, per_member=lambda k: {"lr": lrs[k], "weight_decay": wds[k]})


def test_shared_data_order_equals_runs_that_share_a_shuffle_seed():
    with float64():
        ds = as64(gauss())
        cfg = {"optimizer": "adam", "lr": 0.01, **MINI}
        st = _stacked_run(MLP, ds, cfg, [0, 1], data_order="shared", seed=5)
        refs = []
        for s in (0, 1):  # init from seed s, but the data order of Trainer(seed=5), for both
            seed_everything(s)
            refs.append(Trainer(build(MLP, (2,), 2), cfg, device="cpu", seed=5).fit(ds.train, ds.val))
        assert_members_equal(st.model, [t.model for t in refs])
        own_order = separate(MLP, ds, cfg, 0)
        assert not torch.allclose(st.model.member_state(0)["layers.0.weight"], own_order.model.layers[0].weight)


@pytest.mark.parametrize("restore_best", [True, False])
def test_per_member_early_stopping_equals_separate_runs(restore_best):
    es = {"monitor": "val_loss", "patience": 2, "restore_best": restore_best}
    cfg = {"optimizer": "adam", "lr": 0.05, "epochs": 40, "batch_size": 16, "early_stopping": es}
    st, refs = _check(BN, cfg, gauss(noise=0.5), seeds=(0, 1, 2, 3))
    stopped = {k: t.step for k, t in enumerate(refs) if t.stop_reason}
    assert stopped and st.stopped == stopped  # the same members stop at the same steps
    assert len(set(stopped.values())) > 1  # ... not all at once, so freezing is exercised


def test_trainer_callbacks_see_the_same_events_and_plan():
    ds = gauss()
    cfg = {"optimizer": "adam", "lr": 0.01, "epochs": 2, "batch_size": 32}
    ref, rec = Recorder(), Recorder()
    Trainer(build(MLP, (2,), 2), cfg, callbacks=[ref], device="cpu").fit(ds.train, ds.val)
    stack = StackedModel.from_spec(MLP, (2,), 2, [0, 1])
    StackedTrainer(stack, cfg, device="cpu", callbacks=[rec]).fit(ds.train, ds.val)
    assert rec.events == ref.events and rec.lrs == ref.lrs and rec.steps == ref.steps


def test_metrics_logger_and_progress_bar_work_unchanged(tmp_path):
    ds = gauss()
    stream = io.StringIO()
    stream.isatty = lambda: True
    stack = StackedModel.from_spec(MLP, (2,), 2, [0, 1, 2])
    t = StackedTrainer(stack, {"optimizer": "adam", "lr": 0.01, "epochs": 3}, device="cpu",
                       callbacks=[MetricsLogger(tmp_path / "m.jsonl"), ProgressBar(enabled=True, stream=stream)])
    t.fit(ds.train, ds.val)
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    last = rows[-1]
    assert len(last["per_model"]["val_accuracy"]) == 3
    assert last["val_loss"] == pytest.approx(sum(last["per_model"]["val_loss"]) / 3)
    assert "3/3" in stream.getvalue()


class _Snapshot(RaiseAt):
    """Keeps the state a Checkpointer would save at ``step``, round-tripped through torch.save."""

    def on_step_end(self, t):
        if t.step == self.step:
            buf = io.BytesIO()
            torch.save(t.state_dict(), buf)
            buf.seek(0)
            self.state = torch.load(buf, weights_only=True)
            raise self.exc


def test_resume_continues_exactly():
    with float64():
        ds = as64(gauss())
        cfg = {"optimizer": "adam", "lr": 0.02, "epochs": 6, "batch_size": 16, "schedule": "cosine", "log_every": 3,
               "early_stopping": {"patience": 1}}
        kw = dict(n_out=2, rng="per_model", hparams={"lr": [0.01, 0.02, 0.04]})
        full = _stacked_run(DROPOUT, ds, cfg, [0, 1, 2], **kw)
        snap = _Snapshot(10)
        with pytest.raises(RuntimeError, match="boom"):
            _stacked_run(DROPOUT, ds, cfg, [0, 1, 2], callbacks=[snap], **kw)
        torch.manual_seed(1234)  # the resumed process starts from a different global state
        mods, states = build_members(DROPOUT, (2,), 2, [0, 1, 2])
        t = StackedTrainer(StackedModel(mods, [0, 1, 2], states, "per_model"), cfg, device="cpu",
                           hparams=kw["hparams"])
        t.load_state_dict(snap.state)
        t.fit(ds.train, ds.val)
        assert_members_equal(t.model, full.model.members(), atol=0, rtol=0)
        strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
        assert strip(t.history) == strip(full.history) and t.stopped == full.stopped


def test_a_diverging_member_does_not_disturb_the_others():
    lrs = [0.05, 1e150, 0.05]  # float64 overflows only at ~1e308
    with float64():
        ds = as64(gauss())
        cfg = {"optimizer": "sgd", "lr": 0.05, "epochs": 4, "batch_size": 16}
        st = _stacked_run({"mlp": {"hidden": [64, 64]}}, ds, cfg, [0, 1, 2], hparams={"lr": lrs})
        assert list(st.diverged) == [1]
        for k in (0, 2):
            ref = separate({"mlp": {"hidden": [64, 64]}}, ds, cfg, k)
            assert_members_equal_one(st.model, k, ref.model)
        assert st.history[-1]["loss"] == pytest.approx(sum(st.history[-1]["per_model"]["loss"][k] for k in (0, 2)) / 2)


def assert_members_equal_one(stack, k, module):
    for n, v in module.state_dict().items():
        torch.testing.assert_close(stack.member_state(k)[n], v, atol=1e-10, rtol=1e-8)


def test_all_members_diverging_stops_with_a_diagnosis():
    ds = gauss()
    stack = StackedModel.from_spec({"mlp": {"hidden": [64, 64]}}, (2,), 2, [0, 1])
    t = StackedTrainer(stack, {"optimizer": "sgd", "lr": 1e6, "epochs": 20, "batch_size": 16}, device="cpu")
    with pytest.raises(DivergenceError, match=r"training diverged: every member's loss is non-finite by step \d+ "
                                              r"\(lr 1e\+06\); the learning rate is probably too high"):
        t.fit(ds.train, ds.val)


@pytest.mark.parametrize("kwargs,message", [
    ({"hparams": {"momentum": [0.9, 0.9]}}, "hparams: unknown per-member hyperparameter 'momentum'; valid: lr, weight_decay"),
    ({"hparams": {"lr": [0.1]}}, "hparams.lr: expected a list of 2 numbers (one per member), got [0.1]"),
    ({"hparams": {"lr": [0.1, 0]}}, "hparams.lr: every value must be a positive number, got 0"),
    ({"hparams": {"weight_decay": [0.1, -1]}}, "hparams.weight_decay: expected a list of 2 numbers >= 0"),
    ({"data_order": "random"}, "data_order: unknown 'random'; valid: per_model, shared"),
    ({"seeds": [0, 1, 2]}, "seeds: expected 2 seeds (one per member), got 3"),
])
def test_bad_arguments_name_the_value_and_the_choices(kwargs, message):
    stack = StackedModel.from_spec(MLP, (2,), 2, [0, 1])
    with pytest.raises(ConfigError) as e:
        StackedTrainer(stack, {"epochs": 1}, device="cpu", **kwargs)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_member_stats_are_per_member_and_hooks_leave():
    ds = gauss()
    stack = StackedModel.from_spec({"mlp": {"hidden": [8, 8], "activation": "relu"}}, (2,), 2, [0, 1, 2])
    stats = MemberStats(every=5)
    t = StackedTrainer(stack, {"optimizer": "sgd", "lr": 0.1, "steps": 10}, device="cpu", callbacks=[stats])
    t.fit(ds.train, ds.val)
    steps = sorted({r["step"] for r in stats.records})
    assert steps == [1, 5, 10]
    rec = next(r for r in stats.records if r["step"] == 1 and r["layer"] == "layers.0")
    assert all(len(rec[key]) == 3 for key in ("act_mean", "act_std", "zero_fraction", "grad_norm", "weight_norm"))
    x = ds.train.x  # step 1's forward saw the initial weights: recompute member 2's first layer
    member = StackedModel.from_spec({"mlp": {"hidden": [8, 8], "activation": "relu"}}, (2,), 2, [0, 1, 2]).member(2)
    assert rec["act_mean"][2] == pytest.approx(member.layers[0](x).mean().item(), rel=1e-5)
    assert not any(m._forward_hooks for m in t.model.modules())
    n = len(stats.records)
    t.evaluate(ds.val)
    assert len(stats.records) == n


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_run_matches_cpu():
    """Every parameter the data determines agrees. The dense bias just before batch norm does
    not: BN subtracts it again, so its true gradient is 0 and what it gets is rounding noise,
    which Adam scales to steps of size lr. It (and the running mean that tracks it) drifts by
    ~0.05 even between two CPU runs whose inputs differ by 1e-6."""
    ds = gauss()
    cfg = {"optimizer": "adam", "lr": 0.01, **MINI}
    runs = []
    for device in ("cpu", "cuda"):
        stack = StackedModel.from_spec(BN, (2,), 2, [0, 1, 2])
        runs.append(StackedTrainer(stack, cfg, device=device).fit(ds.train, ds.val))
    undetermined = {"layers.0.bias", "layers.1.running_mean"}
    for k in range(3):
        a, b = runs[0].model.member_state(k), runs[1].model.member_state(k)
        assert undetermined < set(a)
        for n in set(a) - undetermined:
            torch.testing.assert_close(b[n].cpu(), a[n], atol=1e-4, rtol=1e-4)


def test_diagnose_probes_run_on_a_stacked_trainer():
    """The diagnose layer's Probes (a Trainer callback on any module) work unchanged; their
    numbers pool all members (MemberStats gives them per member)."""
    probes = pytest.importorskip("trainlab.diagnose.probes")
    ds = gauss()
    p = probes.Probes(every=5)
    stack = StackedModel.from_spec({"mlp": {"hidden": [8, 8]}}, (2,), 2, [0, 1, 2])
    StackedTrainer(stack, {"optimizer": "sgd", "lr": 0.1, "steps": 10}, device="cpu", callbacks=[p]).fit(ds.train)
    assert [r["step"] for r in p.log.records] == [1, 5, 10]
    assert set(p.log.records[0]["acts"]) >= {"layers.0", "layers.2", "layers.4"}  # the members' layer names
