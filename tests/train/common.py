"""Shared helpers for the training tests: tiny nets, a small data set, a CPU Trainer, and
callbacks that record events or raise at a chosen step."""

import functools

import torch

from trainlab import data
from trainlab.nn.spec import build
from trainlab.train import Callback, seed_everything
from trainlab.train import Trainer as _Trainer

MLP = {"mlp": {"hidden": [16], "activation": "relu", "init": "he_normal"}}
DROPOUT = {"mlp": {"hidden": [16], "activation": "relu", "init": "he_normal", "dropout": 0.3}}
BATCHNORM = {"mlp": {"hidden": [16], "activation": "relu", "init": "he_normal", "batchnorm": True}}


@functools.lru_cache(maxsize=None)
def gauss(n_samples=100, noise=0.3):
    return data.load({"name": "gauss", "n_samples": n_samples, "noise": noise})


def Trainer(model, config=None, **kw):
    """The Trainer on CPU unless a test says otherwise: tests feed it CPU tensors directly, and
    "auto" would pick a GPU where there is one."""
    kw.setdefault("device", "cpu")
    return _Trainer(model, config, **kw)


def net(spec=MLP, seed=0, input_shape=(2,), n_outputs=2):
    seed_everything(seed)  # initialisation draws from the global RNG
    return build(spec, input_shape, n_outputs)


def fit(config, spec=MLP, seed=0, ds=None, callbacks=(), val=True, **kw):
    ds = ds or gauss()
    trainer = Trainer(net(spec, seed), config, callbacks=list(callbacks), seed=seed, **kw)
    return trainer.fit(ds.train, ds.val if val else None)


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    a = a if isinstance(a, dict) else a.state_dict()
    b = b if isinstance(b, dict) else b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def without_seconds(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


class Recorder(Callback):
    """Records the events in order, the lr each step trains with, and what on_exception received."""

    def __init__(self):
        self.events, self.lrs, self.steps = [], [], []

    def on_fit_start(self, t):
        self.events.append("on_fit_start")

    def on_epoch_start(self, t):
        self.events.append("on_epoch_start")

    def on_batch_start(self, t):
        self.events.append("on_batch_start")
        self.lrs.append(t.optimizer.param_groups[0]["lr"])  # the lr step t.step trains with

    def on_after_backward(self, t):
        self.events.append("on_after_backward")

    def on_step_end(self, t):
        self.events.append("on_step_end")
        self.steps.append(t.step)

    def on_epoch_end(self, t):
        self.events.append("on_epoch_end")

    def on_fit_end(self, t):
        self.events.append("on_fit_end")

    def on_exception(self, t, exc):
        self.events.append("on_exception")
        self.exc, self.exc_step = exc, t.step


class RaiseAt(Callback):
    order = 50  # after the Checkpointer (40), so a checkpoint due this step is written first

    def __init__(self, step, exc=RuntimeError("boom")):
        self.step, self.exc = step, exc

    def on_step_end(self, t):
        if t.step == self.step:
            raise self.exc
