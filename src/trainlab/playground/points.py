"""The page's data: trainlab's 2-D data sets (or the page's own points), split train/test by the
page's ratio and seed, the input features, and the bounds of the picture.

The generated sets come from ``trainlab.data`` (the TensorFlow Playground generators and the
lecture's four XOR points); all their points are pooled and split by ``train_ratio`` as the
Playground does. Features are ``trainlab.data.preprocess``'s ``features`` transform, so an
exported spec computes exactly what the page trained on.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import torch

from trainlab import data as datasets
from trainlab.data.preprocess import PREPROCESSORS, Preprocessor
from trainlab.errors import ConfigError
from trainlab.playground.schema import DATASETS, LIMITS, point

PLAYGROUND_BOUND = 6.0  # the Playground's pictures span [-6, 6]^2
XOR4_BOUNDS = (-0.5, 1.5)  # the lecture's four points sit on the unit square
CSV_MAX_CHARS = 200_000


@dataclass
class Points:
    x_train: torch.Tensor  # (N, 2) raw coordinates
    y_train: torch.Tensor  # (N,) class labels (int64), or targets (float) for regression
    x_test: torch.Tensor
    y_test: torch.Tensor
    task: str  # classification | regression
    n_classes: int | None
    bounds: tuple[float, float]  # the square [lo, hi]^2 the pictures show
    features: Preprocessor  # raw (N, 2) -> the network's inputs (N, F)

    def to_page(self) -> dict:
        """The points as the page draws them: [[x1, x2, label], ...] per split."""
        def rows(x, y):
            return [[round(a, 4), round(b, 4), (int(c) if self.task == "classification" else round(float(c), 4))]
                    for (a, b), c in zip(x.tolist(), y.tolist())]
        return {"type": "data", "train": rows(self.x_train, self.y_train), "test": rows(self.x_test, self.y_test),
                "task": self.task, "n_classes": self.n_classes, "bounds": list(self.bounds)}


def generated_params(state: dict) -> dict | None:
    """The trainlab data set spec behind the page's data set (None for the page's own points)."""
    name = DATASETS[state["dataset"]][0]
    if name is None:
        return None
    if name == "xor":
        return {"name": "xor"}
    return {"name": name, "n_samples": state["n_samples"], "noise": state["noise"] / 100, "seed": state["seed"]}


def build(state: dict) -> Points:
    """The page's points for ``state`` (already checked by the schema)."""
    spec = generated_params(state)
    if spec is None:
        if len(state["points"]) < 2:
            raise ConfigError("state.points: the custom data set needs at least 2 points (click on the picture "
                              "or upload a CSV)")
        rows = torch.tensor(state["points"], dtype=torch.float64)
        x, y = rows[:, :2].float(), rows[:, 2].long()
        task, n_classes = "classification", max(2, int(y.max()) + 1)
    else:
        ds = datasets.load(spec)
        if spec["name"] == "xor":  # four points: train and test are the same four, as in the lecture
            features = _features(state)
            return Points(ds.train.x, ds.train.y, ds.test.x, ds.test.y, ds.task, ds.n_classes, XOR4_BOUNDS, features)
        x = torch.cat([ds.train.x, ds.val.x, ds.test.x])
        y = torch.cat([ds.train.y, ds.val.y, ds.test.y])
        task, n_classes = ds.task, ds.n_classes
    g = torch.Generator().manual_seed(state["seed"])
    perm = torch.randperm(len(x), generator=g)
    n_train = min(len(x) - 1, max(1, round(len(x) * state["train_ratio"] / 100)))
    tr, te = perm[:n_train], perm[n_train:]
    return Points(x[tr], y[tr], x[te], y[te], task, n_classes, _bounds(x), _features(state))


def _features(state: dict) -> Preprocessor:
    return PREPROCESSORS.get({"features": {"use": state["features"]}}).fit(torch.zeros(2, 2))


def _bounds(x: torch.Tensor) -> tuple[float, float]:
    """[-6, 6] unless the points reach further (uploaded data): then their range plus 10%."""
    reach = float(x.abs().max()) if len(x) else 0.0
    if reach <= PLAYGROUND_BOUND:
        return (-PLAYGROUND_BOUND, PLAYGROUND_BOUND)
    return (-reach * 1.1, reach * 1.1)


def parse_csv(text: str) -> list[list]:
    """A CSV file's text -> user points [[x1, x2, label], ...]: three columns per row (a header
    row of non-numbers is skipped), numbers only, labels small non-negative integers. Parsed as
    data, never evaluated."""
    if len(text) > CSV_MAX_CHARS:
        raise ConfigError(f"csv: {len(text)} characters is over the limit of {CSV_MAX_CHARS}")
    rows = []
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 3:
            raise ConfigError(f"csv line {i + 1}: expected 3 columns x1,x2,label, got {len(row)}")
        try:
            values = [float(c) for c in row]
        except ValueError:
            if i == 0 and not rows:
                continue  # a header
            raise ConfigError(f"csv line {i + 1}: not numbers: {','.join(row)[:60]!r}") from None
        label = values[2]
        if label != int(label):
            raise ConfigError(f"csv line {i + 1}: the label must be a class number 0..{LIMITS['max_classes'] - 1}, "
                              f"got {row[2].strip()!r}")
        rows.append(point([values[0], values[1], int(label)], f"csv line {i + 1}"))
        if len(rows) > LIMITS["max_points"]:
            raise ConfigError(f"csv: more than {LIMITS['max_points']} points")
    if len(rows) < 2:
        raise ConfigError("csv: needs at least 2 rows of x1,x2,label")
    return rows
