"""Shared helpers for the diagnostics tests: small data sets, models trainlab did not build
(a CNN with BatchNorm2d, an LSTM, a module with shared weights), and a probed training run."""

import functools

import torch
from torch import nn

from trainlab import data
from trainlab.data import Split
from trainlab.data.base import Dataset
from trainlab.diagnose import Probes
from trainlab.nn import build
from trainlab.train import Trainer, seed_everything


@functools.lru_cache(maxsize=None)
def digits() -> Dataset:
    return data.load("digits")


@functools.lru_cache(maxsize=None)
def digit_images() -> Dataset:
    """digits as (1, 8, 8) images, for convolutional nets."""
    d = digits()
    img = lambda s: Split(s.x.reshape(-1, 1, 8, 8), s.y)  # noqa: E731
    return Dataset("digit_images", img(d.train), img(d.val), img(d.test), 10)


@functools.lru_cache(maxsize=None)
def sequences() -> Dataset:
    return data.load({"name": "remember_first", "n_samples": 400, "length": 12})


def mlp(activation="relu", init="he_normal", depth=10, width=64, seed=0, n_in=64, n_out=10, **kw) -> nn.Module:
    seed_everything(seed)
    return build({"mlp": {"hidden": width, "depth": depth, "activation": activation, "init": init, **kw}},
                 (n_in,), n_out)


class SmallCNN(nn.Module):
    """conv -> BatchNorm2d -> ReLU -> pool -> conv -> BatchNorm2d -> ReLU -> linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class LSTMNet(nn.Module):
    def __init__(self, n_in=1, hidden=16, n_out=2):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(out[:, -1])


class SharedNet(nn.Module):
    """One Linear applied twice per forward, and a decoder whose weight is tied to the encoder's."""

    def __init__(self, n_in=64, hidden=32, n_out=10):
        super().__init__()
        self.enc = nn.Linear(n_in, hidden)
        self.block = nn.Linear(hidden, hidden)
        self.act = nn.Tanh()
        self.dec = nn.Linear(hidden, n_in)
        self.dec.weight = self.enc.weight  # tied: (hidden, n_in), used transposed in forward
        self.head = nn.Linear(n_in, n_out)
        self.also_block = self.block  # the same module registered under a second name

    def forward(self, x):
        h = self.act(self.block(self.act(self.block(self.act(self.enc(x))))))
        recon = torch.nn.functional.linear(h, self.dec.weight.t(), self.dec.bias)
        return self.head(recon)


def probe_run(model, ds, steps=20, every=5, hist_every=10, val=True, **cfg):
    seed_everything(0)
    probes = Probes(every=every, hist_every=hist_every)
    config = {"optimizer": "adam", "lr": 1e-3, "steps": steps, "batch_size": 32, **cfg}
    trainer = Trainer(model, config, task=ds.task, callbacks=[probes], device="cpu", seed=0)
    trainer.fit(ds.train, ds.val if val else None)
    return probes, trainer


def forward_hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


class VanillaRNN(nn.Module):
    """A tanh RNN whose recurrent weights are orthogonal times ``gain``: gain > 1 makes the
    gradient through time explode (Pascanu et al. 2013)."""

    def __init__(self, gain=1.0, hidden=32):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True)
        with torch.no_grad():
            nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=gain)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


@functools.lru_cache(maxsize=None)
def long_sequences() -> Dataset:
    return data.load({"name": "remember_first", "n_samples": 400, "length": 50})


def tensorboard_events(logdir):
    """TensorBoard's own reader (``EventAccumulator``) on ``logdir``, every value kept."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    ea.Reload()
    return ea


def raw_events(logdir) -> list:
    """Every record of every event file in ``logdir`` as an ``Event``, as written (TensorBoard's
    loader checks each record's CRCs; ``EventAccumulator`` would convert the values)."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    out = []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        out += [Event.FromString(r) for r in RawEventFileLoader(str(path), detect_file_replacement=False).Load()]
    return out
