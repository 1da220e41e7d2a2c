"""The IDX format of MNIST and Fashion-MNIST (LeCun et al. 1998, yann.lecun.com/exdb/mnist).

A file is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then NDIM big-endian uint32 sizes,
then the data in C order, big-endian. MNIST uses TYPE 0x08 (uint8): images (N, 28, 28),
labels (N,). Files may be gzip-compressed (``.gz``); the reader checks sizes against the header.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from trainlab.errors import ConfigError
from trainlab.safe_io import gunzip, read_bytes

# IDX type code -> numpy dtype (big-endian where it matters)
DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODES = {dt.str.lstrip("<>|="): code for code, dt in DTYPES.items()}


def read_idx(path: str | Path) -> np.ndarray:
    """The array in an IDX file (gzip or not: detected from the first bytes)."""
    path = Path(path)
    raw = read_bytes(path, "data file")
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw, str(path))
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in DTYPES:
        raise ConfigError(f"{name}: not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ConfigError(f"{name}: IDX header cut short")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ConfigError(f"{name}: IDX size mismatch: header says {shape} ({expected} bytes), file has {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX (gzip when ``compress``, or by default when the name ends in .gz)."""
    path = Path(path)
    path.write_bytes(to_idx_bytes(array, compress if compress is not None else path.suffix == ".gz"))
    return path


def to_idx_bytes(array: np.ndarray, compress: bool = False) -> bytes:
    """The IDX encoding of ``array`` (gzip-compressed when ``compress``)."""
    array = np.asarray(array)
    key = array.dtype.str.lstrip("<>|=")
    if key not in CODES:
        raise ValueError(f"write_idx: dtype {array.dtype} has no IDX type; valid: {', '.join(CODES)}")
    code = CODES[key]
    body = array.astype(DTYPES[code], copy=False).tobytes(order="C")
    raw = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + body
    return gzip.compress(raw, mtime=0) if compress else raw
