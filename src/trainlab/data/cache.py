"""Where data files live and whether they are the files we expect.

The data folder is ``data_dir`` (a spec's ``data.data_dir``, the CLI's ``--data-dir``), else the
``TRAINLAB_DATA`` environment variable, else ``~/.cache/trainlab``. It is both the place a user's
own copies are looked for and the cache that downloads go to (``ROOT/NAME/``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from trainlab.errors import ConfigError

ENV = "TRAINLAB_DATA"


class ChecksumError(ConfigError):
    """A file's SHA-256 is not the published one: it is deleted, never used."""


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder: ``data_dir``, else $TRAINLAB_DATA, else ~/.cache/trainlab."""
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise ConfigError(f"data.data_dir: expected a folder path, got {data_dir!r}")
    root = data_dir or os.environ.get(ENV) or Path.home() / ".cache" / "trainlab"
    root = Path(root).expanduser()
    if root.is_symlink() and not root.exists():  # a dangling link or a loop: say so, not "already exists"
        raise ConfigError(f"data folder {root}: a symbolic link that leads nowhere ({os.readlink(root)})")
    if root.exists() and not root.is_dir():
        raise ConfigError(f"data folder {root} is a file, not a folder (set by data_dir or ${ENV})")
    return root


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def checksum_state(path: Path, known: set[str]) -> str:
    """``verified`` when the file's SHA-256 is one of the published ones, else ``unverified``
    (a user's own copy, e.g. re-compressed: still parsed and shape-checked before use)."""
    return "verified" if sha256_file(path) in known else "unverified"


def mismatch(name: str, expected: str, actual: str) -> ChecksumError:
    return ChecksumError(f"checksum mismatch for {name}: expected sha256 {expected}, got {actual}; "
                         "the file was deleted")


def publish(tmp: str | Path, dest: Path) -> Path:
    """Rename a finished, verified temp file into place, readable like any new file (mkstemp
    makes it 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, dest)
    return dest


def find(folders: list[Path], names: list[str]) -> Path | None:
    """The first of ``names`` that exists in the first folder holding any of them."""
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def decoded(folder: Path, key: str, build) -> dict:
    """Arrays decoded from source files, kept as ``folder/.decoded-KEY.npz`` so the next load
    skips the slow decode (gunzip, unpickle). ``key`` is derived from the sources' SHA-256, so a
    changed source never reuses a stale decode. Loaded with ``allow_pickle=False``."""
    import numpy as np

    from trainlab.atomic import atomic_write

    path = folder / f".decoded-{key[:16]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            path.unlink(missing_ok=True)  # unreadable: decode again
    arrays = build()
    try:
        atomic_write(path, lambda fh: np.savez(fh, **arrays))
    except OSError:
        pass  # a read-only data folder still loads, just without the decoded copy
    return arrays
