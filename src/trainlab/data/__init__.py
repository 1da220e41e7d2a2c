"""Data sets by name: ``load("spiral")``, ``load({"name": "mnist", "n_train": 1000,
"preprocess": "standardize"})``.

Every data set takes the generic options ``n_train`` (a stratified, seeded subsample of the
training split), ``preprocess`` (fitted on the training split only; see ``preprocess``) and
``data_dir`` (where files are found and cached; ignored by generated sets). They are applied
here, once, not per loader.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from trainlab.data import catalog  # noqa: F401 (data.catalog: list, info, fetch)
from trainlab.data import preprocess as _preprocess
from trainlab.data import sequences, synthetic
from trainlab.data.base import Dataset, Split, from_arrays, split_indices
from trainlab.data.cifar_batches import cifar10
from trainlab.data.digits import digits
from trainlab.data.idx_sets import fashion_mnist, mnist
from trainlab.data.mnist1d_gen import mnist1d
from trainlab.data.splits import random_sample, stratified_sample
from trainlab.errors import ConfigError
from trainlab.registry import Registry, check_kinds

DATASETS = Registry("dataset")
for _name in ("xor", "circle", "xor_2d", "gauss", "spiral", "reg_plane", "reg_gauss"):
    DATASETS.register(_name, getattr(synthetic, _name))
DATASETS.register("digits", digits)
for _name in ("adding", "remember_first"):
    DATASETS.register(_name, getattr(sequences, _name))
DATASETS.register("mnist1d", mnist1d)
DATASETS.register("mnist", mnist)
DATASETS.register("fashion_mnist", fashion_mnist)
DATASETS.register("cifar10", cifar10)

# options every data set takes, with their defaults (a spec may add them; --set may too)
GENERIC = {"n_train": None, "preprocess": "none", "data_dir": None}
FILE_BACKED = ("mnist1d", "mnist", "fashion_mnist", "cifar10")  # read or write the data folder


def load(spec: Any, fitted: _preprocess.Preprocessor | None = None) -> Dataset:
    """Build a data set from a name or ``{"name": ..., **params}``; then subsample ``n_train``
    and apply ``preprocess`` (fitted on train, or the already ``fitted`` one, e.g. on resume)."""
    name, kwargs = DATASETS.split(spec)
    loader = DATASETS.lookup(name)
    own = _own_params(loader)
    bad = [k for k in kwargs if k not in own and k not in GENERIC]
    if bad:
        raise ConfigError(f"dataset {name!r}: unknown argument {bad[0]!r}; valid arguments: "
                          f"{', '.join(list(own) + [g for g in GENERIC if g not in own])}")
    generic = {k: kwargs.pop(k) for k in list(kwargs) if k in GENERIC and k not in own}
    check_kinds(loader, kwargs, f"dataset {name!r}", ints=True)  # seed: 0.5, sequence: 3 -> one line
    ds = loader(**kwargs)
    n_train = generic.get("n_train")
    if n_train is not None:
        ds = subsample(ds, n_train)
    ds.options = {"n_train": n_train, "preprocess": generic.get("preprocess", "none")}
    check(ds)
    return apply_preprocess(ds, ds.options["preprocess"], fitted)


def check(ds: Dataset) -> Dataset:
    """Refuse, in one line before training, data that would fail or mislead mid-run: inputs and
    targets of different counts, an empty split, labels outside [0, n_classes), non-finite
    inputs or targets."""
    for split in ("train", "val", "test"):
        s = getattr(ds, split)
        where = f"dataset {ds.name!r}: {split} split"
        if len(s.x) != len(s.y):
            raise ConfigError(f"{where} has {len(s.x)} inputs but {len(s.y)} targets; they must match")
        if len(s.x) == 0:
            raise ConfigError(f"{where} is empty")
        if s.x.is_floating_point() and not _finite(s.x):
            raise ConfigError(f"{where}: inputs hold NaN or infinite values")
        if ds.n_classes is None:
            if s.y.is_floating_point() and not _finite(s.y):
                raise ConfigError(f"{where}: targets hold NaN or infinite values")
            continue
        if s.y.is_floating_point() or s.y.is_complex() or s.y.ndim != 1:
            raise ConfigError(f"{where}: class labels must be integers, one per example (got {s.y.dtype} {tuple(s.y.shape)})")
        low, high = int(s.y.min()), int(s.y.max())
        if low < 0 or high >= ds.n_classes:
            raise ConfigError(f"{where}: labels range over [{low}, {high}], outside the {ds.n_classes} classes "
                              f"[0, {ds.n_classes - 1}]")
    return ds


def _finite(t: torch.Tensor) -> bool:
    """No NaN or inf in ``t`` (not empty): its min and max are finite (a NaN makes both NaN).
    One pass and no mask: 30x faster than ``isfinite(t).all()`` on MNIST's 55M values."""
    return all(bool(torch.isfinite(v)) for v in t.aminmax())


def subsample(ds: Dataset, n: Any) -> Dataset:
    """Keep ``n`` training rows: stratified by class (each class keeps its share) for
    classification, seeded by the data set's own ``split_seed`` / ``seed`` (else 0)."""
    total = len(ds.train)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= total:
        raise ConfigError(f"data.n_train: expected an integer in [1, {total}] (the training split's size), got {n!r}")
    seed = ds.params.get("split_seed") if ds.params.get("split_seed") is not None else ds.params.get("seed", 0)
    if ds.n_classes is not None:
        idx = stratified_sample(ds.train.y.numpy(), n, int(seed))[0]
    else:
        idx = random_sample(total, n, int(seed))
    idx = torch.from_numpy(np.asarray(idx, dtype=np.int64))
    ds.train = Split(ds.train.x[idx], ds.train.y[idx])
    return ds


def apply_preprocess(ds: Dataset, spec: Any, fitted: _preprocess.Preprocessor | None = None) -> Dataset:
    """Fit ``spec`` on ds.train (unless ``fitted`` is given) and transform every split."""
    if fitted is None:
        if _preprocess.is_none(spec):
            return ds
        fitted = _preprocess.get(spec).fit(ds.train.x)
    ds.train, ds.val, ds.test = (Split(fitted.transform(s.x), s.y) for s in (ds.train, ds.val, ds.test))
    ds.transform = fitted
    return ds


def _own_params(loader) -> dict:
    sig = inspect.signature(loader)
    return {n: p.default for n, p in sig.parameters.items() if p.default is not p.empty}


def defaults(name: str) -> dict:
    """The data set's own parameters and their defaults (for resolved specs and --set checks);
    the generic options (``GENERIC``) are not listed: a spec names them only when it uses them."""
    return _own_params(DATASETS.lookup(name))


def names() -> list[str]:
    return DATASETS.names()


__all__ = ["Dataset", "Split", "DATASETS", "GENERIC", "load", "check", "defaults", "names", "subsample",
           "apply_preprocess", "from_arrays", "split_indices"]
