"""Small stand-ins for the real data files, in their real formats, and a local HTTP server.

Nothing here touches the internet: the server binds 127.0.0.1 on a free port, serves bytes from
a dict, and can cut a transfer short (``/cut/NAME`` sends the headers of the whole file and half
its body, then closes)."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from trainlab.data.idx import to_idx_bytes

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def images_and_labels(n: int, shape: tuple, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct uint8 images (the row index is written into the first pixels) and balanced
    labels 0..9 in a seeded order."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    flat = x.reshape(n, -1)
    flat[:, 0], flat[:, 1] = np.arange(n) % 256, np.arange(n) // 256  # rows never coincide
    y = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    return x, y


def idx_files(n_train: int = 120, n_test: int = 40, seed: int = 0) -> dict[str, bytes]:
    """The four MNIST-style IDX files (gzip bytes), keyed by their published names (.gz)."""
    xtr, ytr = images_and_labels(n_train, (28, 28), seed)
    xte, yte = images_and_labels(n_test, (28, 28), seed + 1)
    out = {}
    for name, arr in zip(IDX_NAMES, (xtr, ytr, xte, yte)):
        out[name + ".gz"] = to_idx_bytes(arr, compress=True)
    return out


def write_idx_folder(folder: Path, gz: bool = True, **kw) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    files = idx_files(**kw)
    for name, data in files.items():
        if gz:
            (folder / name).write_bytes(data)
        else:
            (folder / name[:-3]).write_bytes(gzip.decompress(data))
    return files


def mnist_pickle(n: tuple = (50, 20, 30), seed: int = 0) -> bytes:
    """A ``mnist.pkl.gz`` like deeplearning.net's: ((x, y) train, val, test), x float32 k/256."""
    parts = []
    for i, k in enumerate(n):
        x, y = images_and_labels(k, (784,), seed + i)
        parts.append((x.astype(np.float32) / 256, y.astype(np.int64)))
    return gzip.compress(pickle.dumps(tuple(parts), protocol=4), mtime=0)


def cifar_batch(n: int, seed: int) -> bytes:
    x, y = images_and_labels(n, (3072,), seed)
    d = {b"batch_label": b"fake", b"labels": [int(v) for v in y], b"data": x,
         b"filenames": [f"{i}.png".encode() for i in range(n)]}
    return pickle.dumps(d, protocol=4)


def cifar_files(n_per_batch: int = 30) -> dict[str, bytes]:
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {name: cifar_batch(n_per_batch, i) for i, name in enumerate(names)}


def write_cifar_folder(folder: Path, n_per_batch: int = 30) -> Path:
    """CIFAR-10's python batches, unpacked as the archive does, under ``folder``."""
    inner = folder / "cifar-10-batches-py"
    inner.mkdir(parents=True, exist_ok=True)
    for name, raw in cifar_files(n_per_batch).items():
        (inner / name).write_bytes(raw)
    return inner


def write_offline_sets(folder: Path) -> None:
    """Small MNIST-format IDX files and CIFAR-10 batches in ``folder``: every file-backed set loads."""
    write_idx_folder(folder, n_train=120, n_test=40)
    write_cifar_folder(folder, 20)


def cifar_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        self.hits.append(self.path)
        cut = self.path.startswith("/cut/")
        data = self.files.get(self.path[4:] if cut else self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if cut else data)
        if cut:
            self.close_connection = True

    def log_message(self, *args):
        pass


@contextmanager
def http_server(files: dict[str, bytes]):
    """Serve ``{"/path": bytes}`` on 127.0.0.1; yields (base_url, hits)."""
    handler = type("Handler", (_Handler,), {"files": dict(files), "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


DEAD = "http://127.0.0.1:9/"  # the discard port: connection refused, instantly, offline
