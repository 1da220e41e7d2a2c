"""CIFAR-10 (Krizhevsky 2009): 60,000 32x32 colour images in 10 classes.

Sources, tried in order: the data folder (``data_dir`` / $TRAINLAB_DATA / ~/.cache/trainlab)
holding the python batches (``data_batch_1..5``, ``test_batch``; directly, in
``cifar-10-batches-py/`` or in ``cifar10/``) or the archive ``cifar-10-python.tar.gz``; else the
canonical archive by URL, verified by SHA-256, extracted into ``ROOT/cifar10/``.

The batches are pickles, so they are read with ``safe_pickle`` (numpy arrays only: a crafted
file cannot run code). Each holds ``{b"data": uint8 (10000, 3072), b"labels": [int], ...}`` with
rows of 1024 red, 1024 green, 1024 blue values. Images are float32 (3, 32, 32) in [0, 1]; a
stratified draw of ``n_val`` (5,000) of the 50,000 training images, seeded by ``split_seed``,
is the validation set; test is the official 10,000.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch

from trainlab.data import safe_pickle
from trainlab.data.base import Dataset, Split
from trainlab.data.cache import checksum_state, data_root, find, publish, sha256_file
from trainlab.data.download import Unreachable, download_first
from trainlab.data.progress import reporter
from trainlab.data.splits import stratified_sample
from trainlab.errors import ConfigError

URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
ARCHIVE = "cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
INNER = "cifar-10-batches-py"
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar10(n_val: int = 5000, split_seed: int = 0, data_dir: str | None = None) -> Dataset:
    """CIFAR-10: 45,000 / 5,000 / 10,000 colour images, (3, 32, 32) in [0, 1]."""
    if not isinstance(n_val, int) or isinstance(n_val, bool) or n_val < 1:
        raise ConfigError(f"cifar10: n_val must be a positive integer, got {n_val!r}")
    if not isinstance(split_seed, int) or isinstance(split_seed, bool):
        raise ConfigError(f"cifar10: split_seed must be an integer, got {split_seed!r}")
    paths, source = fetch(data_root(data_dir))
    xs, ys = zip(*(read_batch(paths[b]) for b in BATCHES[:5]))
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    if n_val >= len(y_all):
        raise ConfigError(f"cifar10: n_val must be below the {len(y_all)} training images, got {n_val}")
    va, tr = stratified_sample(y_all, n_val, split_seed)
    x_te, y_te = read_batch(paths["test_batch"])
    split = lambda x, y: Split(torch.from_numpy(x).float().div_(255.0), torch.from_numpy(y))  # noqa: E731
    return Dataset("cifar10", split(x_all[tr], y_all[tr]), split(x_all[va], y_all[va]), split(x_te, y_te), 10,
                   {"n_val": n_val, "split_seed": split_seed, "data_dir": data_dir}, source=source,
                   classes=list(CLASSES))


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One python batch -> images uint8 (N, 3, 32, 32), labels int64 (N,)."""
    d = safe_pickle.loads(path.read_bytes(), str(path), encoding="bytes")
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise ConfigError(f"{path}: not a CIFAR-10 batch (expected a dict with b'data' and b'labels')")
    x, y = np.asarray(d[b"data"]), np.asarray(d[b"labels"], dtype=np.int64)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072 or len(x) != len(y):
        raise ConfigError(f"{path}: expected uint8 data (N, 3072) and N labels, got {x.dtype} {x.shape}, {y.shape}")
    return x.reshape(-1, 3, 32, 32), y  # rows: 1024 R, 1024 G, 1024 B, each 32x32 row-major


def folders(root: Path) -> list[Path]:
    return [root, root / INNER, root / "cifar10", root / "cifar10" / INNER]


def locate(root: Path) -> dict[str, Path] | None:
    for folder in folders(root):
        if all((folder / b).is_file() for b in BATCHES):
            return {b: folder / b for b in BATCHES}
    return None


def fetch(root: Path) -> tuple[dict[str, Path], str]:
    """The six batch files and their source; downloads and extracts the archive when needed."""
    if (found := locate(root)) is not None:
        return found, f"local folder {found['test_batch'].parent}"
    archive = find([root, root / "cifar10"], [ARCHIVE])
    if archive is not None:
        source = f"local archive {archive} ({checksum_state(archive, {SHA256})})"
    else:
        reporter().message(f"cifar10: no local copy in {root}; downloading {ARCHIVE}")
        try:
            archive, url = download_first(URLS, root / "cifar10" / ARCHIVE, SHA256)
        except Unreachable as e:
            raise ConfigError(f"cifar10: no local copy and no download ({str(e).split('; ')[0]}); put the "
                              f"python batches or {ARCHIVE} in a folder and pass --data-dir DIR") from None
        source = f"downloaded from {url} (sha256 verified)"
    return extract(archive, root / "cifar10" / INNER), source


def extract(archive: Path, dest: Path) -> dict[str, Path]:
    """Extract only the six batch files (by name: no path in the archive is trusted), each
    through a temp file renamed into place, so a killed extraction leaves no partial batch."""
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    with tarfile.open(archive, "r:gz") as tar, reporter().task(f"extract {archive.name}", len(BATCHES)) as advance:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        for b in BATCHES:
            if b not in members:
                raise ConfigError(f"{archive}: no {b} inside; not the CIFAR-10 python archive")
            src = tar.extractfile(members[b])
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{b}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    while block := src.read(1 << 20):
                        fh.write(block)
                publish(tmp, dest / b)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            out[b] = dest / b
            advance(1)
    return out


def status(root: Path) -> dict:
    """Where the files are and whether the archive is the published one; fetches nothing."""
    found = locate(root)
    archive = find([root, root / "cifar10"], [ARCHIVE])
    files = {}
    if archive is not None:
        files[str(archive)] = "verified" if sha256_file(archive) == SHA256 else "unverified"
    if found is not None:
        state = "extracted from the verified archive" if files and "verified" in files.values() else "unverified"
        files[str(found["test_batch"].parent)] = f"{len(found)} batches, {state}"
    return {"cache": str(root / "cifar10"), "fetched": found is not None, "files": files}
