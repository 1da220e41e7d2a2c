"""Labs: every claim of the lectures as a runnable experiment that checks itself.

    from trainlab.labs import LABS, run_lab
    LABS.names()                                # in lecture order
    result = run_lab("xor-deep", size="quick")  # claims, verdict, tables, figure data

One module per lab (``xor_deep.py``, ``init.py``, ...), each registering a ``Lab`` subclass.
"""

from __future__ import annotations

import importlib
import pkgutil

from trainlab.labs.base import SIZES, Claim, Context, Lab, Quote, jsonable
from trainlab.labs.registry import LABS, register
from trainlab.labs.runner import run_lab

INFRASTRUCTURE = {"base", "registry", "runner", "common", "work"}

# The order of the report: Lecture 10 first (XOR, ReLU, init, dropout, ensembles, LEGO), then
# CS231n's part 1 (babysitting, preprocessing), then Lab 10's MNIST progression.
ORDER = ("xor-deep", "vanishing-gradient", "activations", "init", "dbn", "dropout", "ensemble", "batchnorm",
         "lego", "babysitting", "preprocessing", "hparam", "mnist")


def _import_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in INFRASTRUCTURE and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    order = {name: i for i, name in enumerate(ORDER)}
    LABS._items = dict(sorted(LABS._items.items(), key=lambda kv: order.get(kv[0], len(order))))


_import_all()

__all__ = ["LABS", "ORDER", "SIZES", "Claim", "Context", "Lab", "Quote", "jsonable", "register", "run_lab"]
