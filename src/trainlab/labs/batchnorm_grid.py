"""The grid of the ``batchnorm`` lab: a deep net with and without batch norm, trained over
initial weight scales x learning rates.

The net: 64-(64 x 8)-10, ReLU, He-normal weights times ``init_scale`` (every weight matrix,
the output layer's too), zero biases; with batch norm, ``BatchNorm1d`` after every hidden
dense layer (before the ReLU). Plain SGD, batch 64, 10 epochs on the digits' 1,078 training
images. Every (init scale, lr, seed) of one net is one member of ONE stack (per-member lr and
init scale). A cell "trains" when at least half of its seeds reach validation accuracy >= 0.8
after 10 epochs (chance is 0.1) — the criterion fixed before the runs.
"""

from __future__ import annotations

from trainlab.labs.base import Context
from trainlab.labs.common import fraction, groups, member_curves, member_steps, train_seeds

SCALES = [0.25, 0.5, 1.0, 2.0, 4.0]  # x He-normal: 0.5 ** 9 ~ 2e-3 and 2 ** 9 ~ 500 across 9 layers
LRS = [0.01, 0.1, 1.0]
DEPTH, WIDTH, BATCH, EPOCHS = 8, 64, 64, 10
TRAINS = 0.8  # validation accuracy after EPOCHS that counts as "trains"
CURVE_CELL = (1.0, 0.1)  # He scale, lr 0.1: where the plain net trains best; the Lab 10-6 comparison
HIGH_LR = 1.0
NETS = {"plain": False, "batchnorm": True}


def run_spec(bn: bool) -> dict:
    mlp = {"hidden": [WIDTH] * DEPTH, "activation": "relu", "batchnorm": bn, "init": "he_normal"}
    return {"model": {"mlp": mlp}, "train": {"optimizer": "sgd", "lr": 1.0, "epochs": EPOCHS, "batch_size": BATCH}}


def cells() -> list[tuple[float, float]]:
    return [(s, lr) for s in SCALES for lr in LRS]


def run_grid(ctx: Context, ds, bn: bool) -> dict:
    """Every (scale, lr) cell x seed of one net as one stack; per-cell accuracies and curves."""
    k, grid = len(ctx.seeds), cells()
    members = train_seeds(ctx, run_spec(bn), ds, [s for _ in grid for s in ctx.seeds],
                          hparams={"lr": [lr for _, lr in grid for _ in ctx.seeds]},
                          init_scale=[s for s, _ in grid for _ in ctx.seeds])
    acc = groups(members.evaluate(ds.val)["accuracy"], k)  # (cells, K)
    test = groups(members.evaluate(ds.test)["accuracy"], k)
    i = grid.index(CURVE_CELL)
    return {"val": dict(zip(grid, acc)), "test": dict(zip(grid, test)),
            "trains": {c: fraction(a >= TRAINS for a in v) >= 0.5 for c, v in zip(grid, acc)},
            "curve": {"steps": member_steps(members), "epochs": [h["epoch"] for h in members.trainer.member_history(0)],
                      "val_accuracy": member_curves(members, "val_accuracy")[i * k:(i + 1) * k],
                      "val_loss": member_curves(members, "val_loss")[i * k:(i + 1) * k],
                      "loss": member_curves(members, "loss")[i * k:(i + 1) * k]},
            "members": members, "mode": members.mode, "k": k}


