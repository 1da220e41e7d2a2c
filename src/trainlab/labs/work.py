"""Resumable lab work: a long lab (hours at full size) saves each finished unit of work, so a run
that is stopped continues where it was instead of starting over.

    result = ctx.resumable(f"s{seed}-random-d{depth}", lambda: finetune(...), params=plan, check=ok)
    result, stack = ctx.resumable(f"s{seed}-pretrain", pretrain, params=plan,
                                  state=(DBN.state_dict, lambda s: DBN().load_state_dict(s)))

With a work folder (``trainlab lab run NAME --out DIR`` uses ``DIR/work``) a unit's JSON result
is written atomically to ``WORK/KEY.json`` beside a fingerprint: the lab, size, data set,
device, torch version, the key and the ``params`` the caller passes (its plan, its seed). A later
run loads a unit whose fingerprint matches and computes the others. Torch state a later unit
needs (a pre-trained stack) goes to ``WORK/KEY.pt`` (``torch.save``; loaded with
``weights_only=True``), its SHA-256 recorded in the JSON, which is written last: a unit counts as
done only once both are complete.

A saved unit that cannot be trusted — not JSON, cut short, too big, the wrong types, NaN where a
number must be finite (``check``), a state file that does not match its hash or does not load —
is never an error: it is computed again and the lab's report says so in a note. Without a work
folder (the Python API's default, ``lectures``) ``compute`` simply runs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

import torch

from trainlab.atomic import atomic_write
from trainlab.errors import ConfigError, one_line
from trainlab.safe_io import load_tensors, read_bytes, user_path

VERSION = 1  # of the unit file format
MAX_UNIT_BYTES = 64 << 20  # a unit's JSON (the largest, a DBN unit with its figure records: ~1 MB)
MAX_STATE_BYTES = 1 << 30  # a unit's torch state (a 5 x 500 DBN with momentum buffers: 11 MB)
KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
LOCK = ".lock"  # held (flock) by the run using the folder
MISSING = object()  # no usable saved unit (a saved result may itself be None)


class Work:
    """The saved units of one lab run (``folder`` None: nothing is saved, ``compute`` just runs)."""

    def __init__(self, folder: str | Path | None, lab: str, size: str, data: str | None, device: str,
                 note: Callable[[str], None] = lambda text: None):
        self.folder = None if folder is None else Path(folder)
        self.base = {"version": VERSION, "lab": lab, "size": size, "data": data, "device": device,
                     "torch": torch.__version__}
        self.note = note
        self.loaded: list[str] = []
        self.computed: list[str] = []
        self.stale: list[str] = []  # saved with other settings

    def start(self) -> int:
        """Take the folder (one run at a time: a second one is refused in one line, not left to
        compute the same units and remove the first one's temp files), remove the temp files a
        killed run left half-written, and return how many units are saved (not yet checked)."""
        if self.folder is None:
            return 0
        with user_path(self.folder, "work folder"):
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.folder / LOCK, "a")  # noqa: SIM115 - held until close() or exit
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise ConfigError(f"{self.folder} is in use by another run of this lab (it holds {self.folder / LOCK}); "
                              "wait for it to finish or choose another --out") from None
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return sum(1 for p in self.folder.glob("*.json") if KEY.fullmatch(p.stem))

    def close(self) -> None:
        """Let another run take the folder (a process that ends, even by SIGKILL, lets it go too)."""
        if getattr(self, "_lock", None) is not None:
            self._lock.close()
            self._lock = None

    def unit(self, key: str, compute: Callable[[], Any], params: Any = None,
             check: Callable[[dict], bool] | None = None, state: tuple[Callable, Callable] | None = None) -> Any:
        """``compute()``'s result, or the saved one. ``check(result)`` must return True for a saved
        result to be used (any exception counts as False); by default every number must be finite.
        With ``state=(to_state, from_state)``, ``compute()`` returns ``(result, obj)``, ``obj`` is
        saved as ``to_state(obj)`` and loaded as ``from_state(state)``, and this returns ``(result, obj)``."""
        if not KEY.fullmatch(key):
            raise ValueError(f"work unit key {key!r}: use letters, digits, '_', '.', '-' (at most 100)")
        if self.folder is None:
            return compute()
        for path in (self.folder / f"{key}.json", self.folder / f"{key}.pt"):
            if path.is_dir():  # nothing could replace it: say so before computing, not after
                raise ConfigError(f"work unit {path} is a folder, not a file; move it away and run again")
        fingerprint = _roundtrip({**self.base, "key": key, "params": params})
        found = self._load(key, fingerprint, check or all_finite, state)
        if found is not MISSING:
            self.loaded.append(key)
            return found
        out = compute()
        result, obj = out if state is not None else (out, None)
        record = {"fingerprint": fingerprint, "result": _roundtrip(result)}
        if state is not None:
            pt = self.folder / f"{key}.pt"
            atomic_write(pt, lambda fh: torch.save(state[0](obj), fh))
            record["state_sha256"] = _sha256(pt.read_bytes())
        text = json.dumps(record, default=_plain, separators=(",", ":"))
        atomic_write(self.folder / f"{key}.json", lambda fh: fh.write(text.encode()))  # last: the unit is done
        self.computed.append(key)
        return (record["result"], obj) if state is not None else record["result"]

    def _load(self, key: str, fingerprint: dict, check: Callable, state) -> Any:
        path = self.folder / f"{key}.json"
        if not os.path.lexists(path):
            return MISSING
        try:
            record = json.loads(read_bytes(path, "work unit", MAX_UNIT_BYTES).decode("utf-8"))
        except (ConfigError, UnicodeDecodeError, ValueError, RecursionError) as e:
            return self._redo(key, f"unreadable ({one_line(str(e), 120)})")
        if not isinstance(record, dict) or set(record) - {"fingerprint", "result", "state_sha256"}:
            return self._redo(key, "not a unit record")
        if record.get("fingerprint") != fingerprint:
            self.stale.append(key)
            return MISSING
        result = record.get("result")
        try:
            ok = check(result) is True
        except Exception:  # noqa: BLE001 - any failure of the check means the content is not what the lab wrote
            ok = False
        if not ok:
            return self._redo(key, "its content is not what the lab writes (wrong types or values)")
        if state is None:
            return result
        return self._load_state(key, record.get("state_sha256"), result, state[1])

    def _load_state(self, key: str, sha: Any, result: Any, from_state: Callable) -> Any:
        pt = self.folder / f"{key}.pt"
        try:
            raw = read_bytes(pt, "work state", MAX_STATE_BYTES)
        except ConfigError as e:
            return self._redo(key, f"state file: {one_line(str(e), 120)}")
        if not isinstance(sha, str) or _sha256(raw) != sha:
            return self._redo(key, f"state file {pt.name} does not match the hash its unit recorded")
        try:
            return result, from_state(load_tensors(pt, "work state", MAX_STATE_BYTES))
        except Exception as e:  # noqa: BLE001 - a state that does not restore is computed again
            return self._redo(key, f"state file {pt.name} does not restore ({type(e).__name__})")

    def _redo(self, key: str, why: str) -> object:
        """A saved unit that cannot be trusted: the report says so, and it is computed again."""
        self.note(f"work unit {key} in {self.folder}: {why}; computed again.")
        return MISSING

    def summary(self) -> list[str]:
        """Notes for the report when this run found saved units (their seconds were measured then)."""
        notes = []
        if self.loaded:
            notes.append(f"resumed: {len(self.loaded)} of {len(self.loaded) + len(self.computed)} units of work were "
                         f"loaded from {self.folder} (computed before this run reached them, by a run of the same lab, "
                         "size, data, seeds and settings; their seconds were measured there); the others were "
                         "computed now.")
        if self.stale:
            notes.append(f"{len(self.stale)} saved units in {self.folder} were made with other settings (their "
                         f"fingerprints differ, e.g. {self.stale[0]}) and were computed again.")
        return notes


# ---- checks a lab may use in ``check`` -------------------------------------------------------------
def number(x: Any, lo: float = -math.inf, hi: float = math.inf, nan: bool = False) -> bool:
    """A real number (not a bool) in [lo, hi]; NaN only where ``nan``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    if math.isnan(x):
        return nan
    return math.isfinite(x) and lo <= x <= hi


def numbers(xs: Any, lo: float = -math.inf, hi: float = math.inf, nan: bool = False) -> bool:
    return isinstance(xs, list) and all(number(x, lo, hi, nan) for x in xs)


def all_finite(obj: Any) -> bool:
    """Plain JSON (dicts with string keys, lists, strings, bools, None) whose numbers are all finite."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, float) and not math.isfinite(x):
            return False
        elif not (x is None or isinstance(x, (bool, int, float, str))):
            return False
    return True


def _plain(x: Any) -> Any:
    """numpy / torch scalars in a unit's result as Python numbers."""
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return x.item()
    if hasattr(x, "item") and callable(x.item):
        return x.item()
    raise TypeError(f"cannot save {type(x).__name__} in a work unit: {x!r}")


def _roundtrip(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists), so computed == loaded exactly."""
    return json.loads(json.dumps(obj, default=_plain))


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
