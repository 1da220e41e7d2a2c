"""Optuna's samplers and pruners by name (one registry each). trainlab writes neither: these are
thin constructors that fix the seed and the options a training search needs.

    SAMPLERS.get("tpe", space=space, n_trials=50, seed=0)
    PRUNERS.get("median")
"""

from __future__ import annotations

import warnings

import optuna

from trainlab.registry import Registry

SAMPLERS = Registry("sampler")
PRUNERS = Registry("pruner")


@SAMPLERS.register("random")
def random_sampler(space=None, n_trials: int = 0, seed: int | None = None):
    """Bergstra & Bengio 2012: independent draws from each distribution."""
    return optuna.samplers.RandomSampler(seed=seed)


@SAMPLERS.register("grid")
def grid_sampler(space=None, n_trials: int = 0, seed: int | None = None):
    """A full grid (``Space.grid``): about ``n_trials`` points, tried in a seeded order."""
    return optuna.samplers.GridSampler(space.grid(n_trials), seed=seed)


@SAMPLERS.register("tpe")
def tpe_sampler(space=None, n_trials: int = 0, seed: int | None = None):
    """Tree-structured Parzen estimator; ``multivariate`` models the learning rate and the
    regularization together (they interact)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=min(10, max(2, n_trials // 4)))


@SAMPLERS.register("cmaes")
def cmaes_sampler(space=None, n_trials: int = 0, seed: int | None = None):
    """CMA-ES on the numeric keys (the ``cmaes`` package); choices fall back to random draws."""
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


@SAMPLERS.register("qmc")
def qmc_sampler(space=None, n_trials: int = 0, seed: int | None = None):
    """Scrambled Sobol points: random search with fewer gaps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed,
                                          warn_independent_sampling=False, warn_asynchronous_seeding=False)


@PRUNERS.register("none")
def no_pruner():
    return optuna.pruners.NopPruner()


@PRUNERS.register("median")
def median_pruner():
    """Stop a trial whose validation metric is worse than the median of earlier trials at the
    same step (after 5 finished trials and 1 epoch)."""
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


@PRUNERS.register("hyperband")
def hyperband_pruner():
    return optuna.pruners.HyperbandPruner()


@PRUNERS.register("successive_halving")
def successive_halving_pruner():
    return optuna.pruners.SuccessiveHalvingPruner()


@PRUNERS.register("wilcoxon")
def wilcoxon_pruner():
    """For ``--folds K``: each fold's score is one report; a trial that is significantly worse
    than the best one on the folds seen so far stops (Optuna's documented k-fold pruner)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
