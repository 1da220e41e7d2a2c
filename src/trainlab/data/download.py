"""Verified downloads: stream to a temporary file beside the target while hashing, and rename
only after the SHA-256 matches the published one.

A transfer that is cut short, times out, is interrupted (Ctrl-C, SIGKILL) or arrives with the
wrong bytes never produces the final file: the temporary ``.NAME.*.part`` is deleted (or, after
a SIGKILL, left under a name nothing reads and swept on the next download into that folder).
Nothing here runs at import time.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from trainlab.data.cache import mismatch, publish
from trainlab.data.progress import reporter

TIMEOUT_S = 30.0  # per socket operation, not per file


class Unreachable(Exception):
    """The source could not deliver the file (no network, HTTP error, transfer cut short):
    the next source is tried. A wrong checksum is not this: it is a ChecksumError."""


def download(url: str, dest: str | Path, sha256: str, timeout: float = TIMEOUT_S) -> Path:
    """Fetch ``url`` to ``dest``, verified against ``sha256``; returns ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.*.part"):  # left by a killed process
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream(url, out, dest.name, timeout)
            out.flush()
            os.fsync(out.fileno())
        if actual != sha256:
            raise mismatch(dest.name, sha256, actual)
        publish(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def _stream(url: str, out, label: str, timeout: float) -> str:
    """Copy the response body to ``out``; returns its SHA-256. Network trouble -> Unreachable."""
    h, received = hashlib.sha256(), 0
    request = urllib.request.Request(url, headers={"User-Agent": "trainlab"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with reporter().task(f"download {label}", total) as advance:
                while block := resp.read(1 << 16):
                    out.write(block)
                    h.update(block)
                    received += len(block)
                    advance(len(block))
    except (urllib.error.URLError, http.client.HTTPException, socket.timeout, ConnectionError) as e:
        reason = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", None) or e
        raise Unreachable(f"{url}: {type(e).__name__}: {reason}") from e
    if total is not None and received != total:
        raise Unreachable(f"{url}: transfer cut short ({received} of {total} bytes)")
    return h.hexdigest()


def download_first(urls: list[str], dest: str | Path, sha256: str) -> tuple[Path, str]:
    """Try each mirror in turn; returns ``(dest, url)``. All unreachable -> Unreachable."""
    errors = []
    for url in urls:
        try:
            return download(url, dest, sha256), url
        except Unreachable as e:
            errors.append(str(e))
    raise Unreachable("; ".join(errors))
