"""Forward-pass statistics of deep plain nets at initialisation, for the ``init`` lab.

``forward_stats(spec, x, seed)`` builds the net a model spec describes (seeded), runs ``x``
through it once under ``no_grad`` and returns, per activation layer, the statistics the
diagnose probes measure (mean, std, saturated fraction, min, max, histogram): the probes are
driven by hand for one forward pass (no training, no backward).
"""

from __future__ import annotations

import math

import torch

from trainlab.diagnose import Probes
from trainlab.nn import build
from trainlab.train import seed_everything

BINS = 40


def plain_net(depth: int, width: int, activation: str, init) -> dict:
    """CS231n's net: ``depth`` x (dense(width) -> activation), zero biases, no output layer."""
    return {"layers": [{"dense": width}, {"activation": activation}] * depth, "init": init,
            "bias_init": "zeros"}


def gaussian_inputs(n: int, dim: int, seed: int) -> torch.Tensor:
    """(n, dim) standard normal inputs, as CS231n's ``np.random.randn(1000, 500)``."""
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(10_000 + seed))


def forward_stats(spec: dict, x: torch.Tensor, seed: int, hist: bool = True) -> list[dict]:
    """One row per activation layer: mean, std, saturated, min, max, second moment, hist."""
    seed_everything(seed)
    net = build(spec, tuple(x.shape[1:]))
    probes = Probes(every=1, hist_every=1 if hist else 2, bins=BINS).attach(net)
    probes.begin(1)  # step 1 is a histogram step when hist_every == 1
    with torch.no_grad():
        net(x)
    probes.after_backward()
    record = probes.end(1)
    rows = []
    for layer in probes.layers:
        if layer.params:  # a dense layer: we look at what the activations make of it
            continue
        a = record["acts"][layer.name]
        row = {k: a[k] for k in ("mean", "std", "saturated", "min", "max")}
        row["second_moment"] = a["std"] ** 2 + a["mean"] ** 2  # E[a^2]
        if hist:
            row["hist"] = record["hist"][layer.name]
        rows.append(row)
    return rows


def geometric_ratio(values: list[float]) -> float:
    """The per-layer factor r with values[-1] = values[0] * r^(n-1) (geometric mean of ratios)."""
    if len(values) < 2 or values[0] <= 0 or values[-1] <= 0:
        return math.nan
    return (values[-1] / values[0]) ** (1.0 / (len(values) - 1))
