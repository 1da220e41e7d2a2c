"""Reading what a user hands to trainlab — paths, files, YAML — so that every failure is one line
naming the path and what is wrong (a ``ConfigError``: ``error: ...``, exit 2), never a
traceback, and nothing is read without a bound.

    user_path(path, what)              with-block: OSError / UnicodeDecodeError -> ConfigError naming path
    check_file(path, what, max_bytes)  a regular file (after symlinks: never /dev/zero), size bounded
    read_bytes / read_text             check_file, then read (text: UTF-8, one-line error otherwise)
    load_yaml(text, where)             PyYAML's SafeLoader, with caps on nesting depth, on the size
                                       after alias expansion (no "billion laughs"), no NUL bytes
    load_yaml_file(path, what)         read_text + load_yaml: every spec and config.yaml goes here
    check_plain(obj, where)            only str keys, finite floats, 64-bit ints, plain containers
    writable_dir(path, what)           a folder we are about to create or write: fails before any work
    read_jsonl(path, what)             tolerant JSON-lines reader: (rows, unreadable line count)
    load_tensors(path, what)           torch.load(weights_only=True) with one-line errors
    gunzip(data, what, max_bytes)      gzip data: not gzip, corrupt, cut short or too big -> one line

Later layers (data, train, diagnose, pretrain, search, labs, playground) share these; none of
them should open a user's file any other way.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import warnings
from pathlib import Path
from typing import Any, Iterator

import yaml

from trainlab.errors import ConfigError, one_line, short

MAX_SPEC_BYTES = 1 << 20  # a spec or config.yaml: 1 MiB of YAML is far more than any real one
MAX_DEPTH = 50  # nesting of mappings / lists in a YAML document
MAX_NODES = 100_000  # values in a YAML document once its aliases are expanded
MAX_INT_BITS = 63  # integers must fit a signed 64-bit value (torch, numpy, seeds)

_HINTS = {errno.ENOTDIR: "a part of the path is a file, not a folder",
          errno.ELOOP: "a symbolic link loop", errno.ENAMETOOLONG: "a name in the path is too long",
          errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
          errno.EPERM: "operation not permitted", errno.ENOSPC: "no space left on the device",
          errno.EISDIR: "it is a folder, not a file", errno.ENOENT: "no such file or folder",
          errno.EEXIST: "it already exists"}


def _reason(e: OSError) -> str:
    return _HINTS.get(e.errno) or (e.strerror or type(e).__name__).lower()


def describe_os_error(e: OSError) -> str:
    """``PATH: reason`` for an OSError, in words (the errno's meaning, not a traceback)."""
    name = e.filename if e.filename is not None else ""
    return f"{name}: {_reason(e)}" if name != "" else _reason(e)


@contextlib.contextmanager
def user_path(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Inside this block, a file-system or decoding error on ``path`` becomes one ConfigError
    line: ``WHAT PATH: reason``."""
    try:
        yield
    except ConfigError:
        raise
    except UnicodeDecodeError as e:
        line = e.object.count(b"\n", 0, e.start) + 1 if isinstance(e.object, bytes) else "?"
        raise ConfigError(f"{what} {path}: not UTF-8 text (line {line}, byte {e.start}: "
                          f"{short(e.object[e.start:e.start + 4])})") from None
    except OSError as e:
        other = f" ({e.filename})" if e.filename is not None and str(e.filename) != str(path) else ""
        raise ConfigError(f"{what} {path}: {_reason(e)}{other}") from None
    except ValueError as e:  # "embedded null byte": a path no file system can hold
        if "null" not in str(e):
            raise
        raise ConfigError(f"{what} {short(str(path))}: a path cannot hold a NUL character") from None


def check_file(path: str | os.PathLike, what: str, max_bytes: int | None = None) -> int:
    """Check that ``path`` is a regular file (following symlinks) of at most ``max_bytes``;
    return its size. A folder, a device (``/dev/zero``), a FIFO, a dangling or looping link is
    refused by name before a single byte is read."""
    path = Path(path)
    with user_path(path, what):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if path.is_symlink():
                raise ConfigError(f"{what} {path}: a symbolic link to {os.readlink(path)}, which does not exist") from None
            raise
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{what} {path}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{what} {path}: not a regular file (a device, pipe or socket); refused")
    if max_bytes is not None and st.st_size > max_bytes:
        raise ConfigError(f"{what} {path}: {st.st_size:,} bytes, over the {max_bytes:,}-byte limit for this file")
    return st.st_size


def read_bytes(path: str | os.PathLike, what: str, max_bytes: int | None = None) -> bytes:
    check_file(path, what, max_bytes)
    with user_path(path, what):
        return Path(path).read_bytes()


def read_text(path: str | os.PathLike, what: str, max_bytes: int | None = None) -> str:
    raw = read_bytes(path, what, max_bytes)
    with user_path(path, what):
        return raw.decode("utf-8")


# ---- YAML -------------------------------------------------------------------------------------
def load_yaml(text: str, where: str, strict: bool = True) -> Any:
    """Parse one YAML document with ``yaml.SafeLoader`` (plain data only: a ``!!python/...``
    tag is an error, never a call), refusing NUL bytes, nesting deeper than ``MAX_DEPTH`` and
    documents that expand (through aliases) to more than ``MAX_NODES`` values. With
    ``strict=False`` text that is not YAML is returned as the string itself (``--set k=v``)."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(f"{where}: a NUL byte on line {line}; a spec is plain text")
    try:
        _check_depth(text, where)
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expansion(node, where)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        if not strict:
            return text
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
        raise ConfigError(f"{where}: not valid YAML{at}: {one_line(problem, 200)}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as e:  # e.g. a 5,000-digit int, a bad date
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{where}: a value YAML cannot read ({type(e).__name__}: {one_line(str(e), 150)})") from None


def _check_depth(text: str, where: str) -> None:
    """Nesting depth from the event stream (the parser is not recursive; the composer is)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise ConfigError(f"{where}: nested more than {MAX_DEPTH} levels deep (line {line}); refused")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check_expansion(root: yaml.Node, where: str) -> None:
    """Count the values the document holds once every alias is expanded (shared nodes counted
    each time they are used), without expanding anything."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ConfigError(f"{where}: an alias refers to a value that contains it (a recursive document); refused")
        active.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in node.value)
        else:
            total = 1
        active.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise ConfigError(f"{where}: expands (through YAML aliases) to more than {MAX_NODES:,} values; refused")
        return total

    size(root)


def load_yaml_file(path: str | os.PathLike, what: str = "spec", max_bytes: int = MAX_SPEC_BYTES) -> Any:
    """A YAML file the user gave, read with every check of ``read_text`` and ``load_yaml``."""
    return load_yaml(read_text(path, what, max_bytes), f"{what} {path}")


def check_plain(obj: Any, where: str) -> None:
    """Refuse what YAML can write but no trainlab setting means: non-string keys, NaN and
    infinities, integers beyond 64 bits, strings holding NUL, dates, bytes, sets. Names the key path."""
    stack = [(obj, where)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise ConfigError(f"{at}: a key must be a name, got {short(k)}")
                stack.append((v, f"{at}.{k}"))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, str):
            if "\x00" in value:
                raise ConfigError(f"{at}: {short(value)} holds a NUL character")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                raise ConfigError(f"{at}: {short(value)} does not fit a 64-bit integer")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ConfigError(f"{at}: {value} is not a finite number")
        else:
            raise ConfigError(f"{at}: {short(value)} ({type(value).__name__}) is not a setting trainlab reads; "
                              "use a string, number, boolean, list or mapping")


# ---- folders we write ---------------------------------------------------------------------------
def writable_dir(path: str | os.PathLike, what: str) -> Path:
    """Check, without creating anything, that ``path`` is (or can become) a folder we can write:
    not a file, not under a file, not a dangling or looping link, no over-long name, writable."""
    path = Path(path)
    with user_path(path, what):
        for part in path.parts:
            if len(os.fsencode(part)) > 255:
                raise ConfigError(f"{what} {path}: a name in the path is too long ({len(os.fsencode(part))} bytes; at most 255)")
        if path.is_symlink() and not path.exists():
            try:
                os.stat(path)  # ELOOP for a loop
            except FileNotFoundError:
                raise ConfigError(f"{what} {path}: a symbolic link to {os.readlink(path)}, which does not exist") from None
        existing = path
        while not existing.exists():
            if existing.is_symlink():  # a dangling link (a loop raised above)  # a dangling link on the way
                raise ConfigError(f"{what} {path}: {existing} is a symbolic link to {os.readlink(existing)}, which does not exist")
            if existing.parent == existing:
                break
            existing = existing.parent
        if not existing.is_dir():
            which = "is a file" if existing == path else f"lies under {existing}, which is a file"
            raise ConfigError(f"{what} {path}: {which}, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"{what} {path}: {existing} is not writable")
    return path


# ---- run files ------------------------------------------------------------------------------------
def read_jsonl(path: str | os.PathLike, what: str, max_bytes: int | None = None) -> tuple[list[dict], int]:
    """The JSON objects in a JSON-lines file, and how many lines were unreadable (a line cut
    short by a kill, garbage): those are skipped, never fatal."""
    raw = read_bytes(path, what, max_bytes)
    rows, bad = [], 0
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            bad += 1
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad += 1
    return rows, bad


MAX_GUNZIP_BYTES = 4 << 30  # a decompressed data file (MNIST's pickle: 220 MB; a gzip bomb: refused)


def gunzip(data: bytes, what: str, max_bytes: int = MAX_GUNZIP_BYTES) -> bytes:
    """Decompress gzip ``data`` (possibly several members), refusing in one line data that is
    not gzip, is corrupt or cut short, or inflates past ``max_bytes``."""
    import zlib

    if data[:2] != b"\x1f\x8b":
        raise ConfigError(f"{what}: not a valid gzip file (it starts with {short(data[:8])})")
    out, rest = [], data
    size = 0
    try:
        while rest[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(wbits=31)
            chunk = d.decompress(rest, max_bytes + 1 - size)
            size += len(chunk)
            out.append(chunk)
            if size > max_bytes or d.unconsumed_tail:
                raise ConfigError(f"{what}: decompresses to more than {max_bytes:,} bytes; refused")
            if not d.eof:
                raise ConfigError(f"{what}: not a valid gzip file (cut short: the file is truncated)")
            rest = d.unused_data
    except zlib.error as e:
        raise ConfigError(f"{what}: not a valid gzip file (corrupt: {one_line(e, 100)})") from None
    return b"".join(out)


def load_tensors(path: str | os.PathLike, what: str, max_bytes: int | None = None, map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``: tensors and plain containers only (a pickle that
    asks for anything else is refused by torch); any failure is one line naming the file."""
    import pickle

    import torch

    check_file(path, what, max_bytes)
    try:
        with user_path(path, what), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol warnings on crafted files
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        detail = str(e).split("WeightsUnpickler error:", 1)[-1]  # torch's reason, after its boilerplate
        lines = [ln.strip() for ln in detail.splitlines() if ln.strip() and not ln.startswith("Check the documentation")]
        first = lines[0] if lines else type(e).__name__
        raise ConfigError(f"{what} {path}: refused: not a plain tensor file ({one_line(first, 200)})") from None
    except (RuntimeError, ValueError, EOFError, TypeError, AttributeError, KeyError, IndexError,
            MemoryError, OverflowError, ImportError, NotImplementedError) as e:
        if isinstance(e, ConfigError):
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{what} {path}: unreadable ({type(e).__name__}: {one_line(first, 200)})") from None
