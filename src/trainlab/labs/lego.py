"""Lecture 10's "NN LEGO play": modules stacked any way you like — fast forward (residual),
split & merge (parallel branches), recurrent (the graph also moves sideways, through time).

Three parts, each its own module: ``lego_residual`` (a 30-layer plain net degrades, its
residual twin trains), ``lego_split`` (merged parallel branches match one branch at equal
parameters) and ``lego_recurrent`` (an RNN's gradient vanishes over time steps and it cannot
learn the adding problem; a GRU learns to carry the gradient back and solves it).
"""

from __future__ import annotations

from trainlab import data
from trainlab.labs import lego_recurrent, lego_residual, lego_split
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.registry import register

L10 = "모두를 위한 딥러닝 Lecture 10"
FAST_FORWARD = "Fast forward - 2015년도에 He가 발견 - 시그널을 잡아서 앞으로 그래프 노드 2단 앞으로 이동시킴"


@register
class Lego(Lab):
    name = "lego"
    title = ("NN LEGO: fast forward trains a 30-layer net, split & merge matches, "
             "gated RNNs carry gradients through time")
    lecture = (
        Quote(L10, "레고처럼 네트웍 모듈을 마음껏 쌓아보자", "Stack network modules as freely as LEGO bricks."),
        Quote(L10, FAST_FORWARD,
              "Fast forward, found by He in 2015: take the signal and move it two graph nodes ahead."),
        Quote(L10, "Split & Merge", "Split the input into branches and merge them again."),
        Quote(L10, "Recurrent network - graph 이동을 앞 뿐이 아닌 옆으로도 이동함",
              "Recurrent network: the graph moves not only forward but also sideways."),
    )
    data = ("digits",)  # for fast forward and split & merge; recurrent makes its own (the adding problem)
    seeds = {"quick": 3, "standard": 5, "full": 10}

    def run(self, ctx: Context) -> None:
        ds = data.load(ctx.data)
        lego_residual.run(ctx, ds)
        lego_split.run(ctx, ds)
        lego_recurrent.run(ctx)
