"""Lab ``batchnorm``: a deep net with and without batch norm over a grid of initial weight
scales x learning rates; batch norm trains across the grid where the plain net fails; its
train-mode (batch statistics) and eval-mode (running statistics) behaviour measured directly;
and Lab 10-6-style validation curves with and without it.

The grid and the nets are in ``batchnorm_grid``, the mode checks in ``batchnorm_checks``, the
claims, tables and figure data in ``batchnorm_report``.
"""

from __future__ import annotations

from trainlab import data
from trainlab.labs import batchnorm_checks as checks
from trainlab.labs import batchnorm_report as report
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.batchnorm_grid import (BATCH, CURVE_CELL, DEPTH, EPOCHS, LRS, NETS, SCALES, TRAINS, WIDTH,
                                          cells, run_grid)
from trainlab.labs.registry import register


@register
class BatchNorm(Lab):
    name = "batchnorm"
    title = "Batch norm trains a deep net across init scales and learning rates where the plain net fails"
    lecture = (
        Quote("CS231n Training NN part 1", "각 layer를 거칠 때마다 normalization을 해주자.",
              "Normalise at every layer the signal passes through."),
        Quote("CS231n Training NN part 1", "정규화 => 정규화 된 것을 조정 (감마, 베타 : 학습을 통해 결정)",
              "Normalise, then adjust the normalised values (gamma, beta: learned)."),
        Quote("CS231n Training NN part 1", "traning 할때와 test 할때 다름",
              "It behaves differently in training and at test time."),
    )
    data = ("digits",)
    seeds = {"quick": 1, "standard": 3, "full": 10}

    def run(self, ctx: Context) -> None:
        ds = data.load(ctx.data)
        ctx.setup(data=f"{ctx.data}: {len(ds.train)} train / {len(ds.val)} val / {len(ds.test)} test",
                  net=f"{ds.input_shape[0]}-({WIDTH} x {DEPTH})-{ds.n_classes} ReLU, He-normal x init_scale",
                  batchnorm="BatchNorm1d after every hidden dense layer, before the ReLU (momentum 0.1)",
                  optimizer=f"sgd, batch {BATCH}, {EPOCHS} epochs", init_scales=SCALES, learning_rates=LRS,
                  criterion=f"a cell trains when >= half its seeds reach val accuracy >= {TRAINS}",
                  seeds=len(ctx.seeds))
        res = {}
        for name, bn in NETS.items():
            ctx.step(f"{name}: {len(cells())} cells x {len(ctx.seeds)} seeds in one stack")
            res[name] = run_grid(ctx, ds, bn)
        ctx.step("train vs eval mode on the trained nets")
        i = cells().index(CURVE_CELL) * len(ctx.seeds)  # seed 0 of the curve cell
        bn_model, plain_model = res["batchnorm"]["members"].models()[i], res["plain"]["members"].models()[i]
        mech = {"modes": checks.mode_checks(bn_model, ds.test.x[:BATCH], ds.test.x[BATCH:]),
                "plain_train_vs_eval": checks.train_vs_eval(plain_model, ds.test.x[:BATCH]),
                "stats": checks.running_stats(bn_model, ds.train.x, BATCH),
                "batch": checks.batch_stats(bn_model, ds.train.x[:BATCH])}
        report.claims(ctx, res, mech)
        report.tables(ctx, res, mech)
        report.records(ctx, res, mech)
        report.notes(ctx, res, mech)
