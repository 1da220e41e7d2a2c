"""Hyperparameter search on Optuna (CS231n's last part): random, grid, TPE, CMA-ES and QMC
samplers, pruning, coarse-to-fine stages, k-fold cross-validation, stacked trials, and studies
on a journal file or shared by many machines on PostgreSQL.

    from trainlab.search import search
    result = search(spec, {"train.lr": {"log_uniform": [1e-4, 1]}}, trials=30, sampler="random",
                    stages=2, folds=1, out="runs/search-digits")
    result["best"]                     # {"value", "params", "trial", "stage", ...}

Figures and the HTML page of a search directory: ``trainlab.report.search_page.write(out)``.
Watching one live in optuna-dashboard (read-only): ``serve_dashboard("runs/search-digits")``.
"""

from trainlab.search.components import PRUNERS, SAMPLERS
from trainlab.search.dashboard import serve as serve_dashboard
from trainlab.search.output import load
from trainlab.search.runner import search
from trainlab.search.space import KINDS, Dim, Space
from trainlab.search.stages import narrow, stage_epochs
from trainlab.search.storage import open_storage
from trainlab.search.trials import MEMBER_KEYS, Evaluator, kfold

__all__ = ["KINDS", "MEMBER_KEYS", "PRUNERS", "SAMPLERS", "Dim", "Evaluator", "Space", "kfold", "load", "narrow",
           "open_storage", "search", "serve_dashboard", "stage_epochs"]
