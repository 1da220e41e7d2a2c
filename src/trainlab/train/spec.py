"""Run specs: the YAML a user writes (data + model + train + seed + device), resolved with
every default filled in, and ``--set key=value`` overrides checked against it."""

from __future__ import annotations

import copy
import re
import typing
from pathlib import Path
from typing import Any


from trainlab import data as datasets
from trainlab.errors import ConfigError, short
from trainlab.nn.spec import MLP_DEFAULTS
from trainlab.safe_io import check_plain, load_yaml, load_yaml_file
from trainlab.train.config import TrainConfig, type_name, type_ok

TOP_KEYS = {"name": str, "seed": int, "device": str, "data": Any, "model": dict, "train": dict}
NAME_RE = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*")  # one folder name under runs/: no '/', no leading '.' 
MAX_NAME = 100


def load_file(path: str | Path, what: str = "spec") -> dict:
    """A spec file, read with ``safe_io``'s checks (a regular UTF-8 file of bounded size, safe
    YAML with capped nesting and alias expansion, plain values only)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"{what} file not found: {path}")
    raw = load_yaml_file(path, what)
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} {path}: a spec must be a mapping with data, model and train keys, "
                          f"got {type(raw).__name__}")
    check_plain(raw, what)
    raw.setdefault("name", _default_name(path.stem))
    return raw


def _default_name(stem: str) -> str:
    """The file name as a run name, with characters a folder name should not hold replaced."""
    return re.sub(r"[\\\x00-\x1f\x7f]", "_", stem).lstrip(".")[:MAX_NAME] or "run"


def resolve(raw: dict) -> dict:
    """Fill defaults: data parameters from the data set, train fields from TrainConfig."""
    if not isinstance(raw, dict):
        raise ConfigError(f"spec: expected a mapping with data, model and train keys, got {short(raw)}")
    check_plain(raw, "spec")
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise ConfigError(f"spec: unknown key {unknown[0]!r}; valid keys: {', '.join(TOP_KEYS)}")
    for key in ("data", "model"):
        if key not in raw:
            raise ConfigError(f"spec: missing key {key!r}")
    if not isinstance(raw["model"], dict):
        raise ConfigError(f"model: expected a mapping with 'layers' or 'mlp', got {short(raw['model'])}")
    name, params = datasets.DATASETS.split(raw["data"])
    data = {"name": name, **datasets.defaults(name), **params}
    train = TrainConfig.from_dict(raw.get("train")).to_dict()
    spec = {"name": raw.get("name", "run"), "seed": raw.get("seed", 0), "device": raw.get("device", "auto"),
            "data": data, "model": copy.deepcopy(raw["model"]), "train": train}
    _check_top(spec)
    return spec


def _check_top(spec: dict) -> None:
    for key in ("name", "seed", "device"):
        if not type_ok(spec[key], TOP_KEYS[key]):
            raise ConfigError(f"{key}: expected {type_name(TOP_KEYS[key])}, got {short(spec[key])}")
    if not NAME_RE.fullmatch(spec["name"]) or len(spec["name"]) > MAX_NAME:
        raise ConfigError(f"name: {short(spec['name'])} cannot name a run folder under runs/: use 1 to {MAX_NAME} "
                          "characters, no '/' or '\\', no control characters, not starting with '.'")
    if not 0 <= spec["seed"] < 2**63:
        raise ConfigError(f"seed: expected an integer in [0, 2**63), got {short(spec['seed'])}")


def parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. train.lr=0.1")
    key, value = text.split("=", 1)
    parsed = load_yaml(value, f"--set {key.strip()}", strict=False) if value.strip() else ""
    check_plain(parsed, f"--set {key.strip()}")
    return key.strip().split("."), parsed


def apply_overrides(spec: dict, overrides: list[str]) -> dict:
    """Apply ``key=value`` overrides to a resolved spec; unknown keys and wrong types are errors."""
    spec = copy.deepcopy(spec)
    for text in overrides:
        path, value = parse_override(text)
        _set(spec, path, value, text)
    TrainConfig.from_dict(spec["train"])  # re-validate values (e.g. epochs >= 1)
    _check_top(spec)
    return spec


def _set(spec: dict, path: list[str], value: Any, text: str) -> None:
    key = ".".join(path)
    top = path[0]
    if top not in TOP_KEYS:
        raise ConfigError(f"--set {key}: unknown key {top!r}; valid keys: {', '.join(TOP_KEYS)}")
    if len(path) == 1:
        if top in ("data", "model", "train"):
            raise ConfigError(f"--set {key}: set a field inside it, e.g. {top}.<field>=value")
        if not type_ok(value, TOP_KEYS[top]):
            raise ConfigError(f"--set {key}: expected {type_name(TOP_KEYS[top])}, got {short(value)}")
        spec[top] = value
        return
    if top == "train":
        hints = typing.get_type_hints(TrainConfig)
        if len(path) != 2 or path[1] not in hints:
            raise ConfigError(f"--set {key}: unknown key; valid train keys: {', '.join(hints)}")
        if not type_ok(value, hints[path[1]]):
            raise ConfigError(f"--set {key}: expected {type_name(hints[path[1]])}, got {short(value)}")
        spec["train"][path[1]] = value
        return
    if top == "data" and path[1:] == ["name"]:
        datasets.DATASETS.lookup(value)  # a new data set: its own defaults apply
        spec["data"] = {"name": value, **datasets.defaults(value)}
        return
    node, allowed_new = spec[top], _new_keys(path)
    for i, part in enumerate(path[1:-1], start=1):
        node = _child(node, part, ".".join(path[: i + 1]))
    last = path[-1]
    if isinstance(node, list):
        old = _child(node, last, key)
        idx = int(last)
    else:
        if not isinstance(node, dict) or (last not in node and last not in allowed_new):
            valid = ", ".join(node) if isinstance(node, dict) else "(none)"
            raise ConfigError(f"--set {key}: unknown key {last!r}; valid keys here: {valid}")
        old, idx = node.get(last, allowed_new.get(last)), last
    if old is not None and not _same_kind(old, value):
        raise ConfigError(f"--set {key}: expected {type(old).__name__} like the current {short(old)}, got {short(value)}")
    node[idx] = value


def _new_keys(path: list[str]) -> dict:
    """Optional keys a spec may lack but --set may add, with their defaults."""
    if path[:2] == ["model", "mlp"] and len(path) == 3:
        return MLP_DEFAULTS
    if path[0] == "model" and len(path) == 2:
        return {"input": None, "init": None, "bias_init": "zeros"}
    if path[0] == "data" and len(path) == 2:
        return datasets.GENERIC  # n_train, preprocess, data_dir: every data set takes them
    return {}


def _child(node: Any, part: str, where: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    valid = ", ".join(node) if isinstance(node, dict) else f"0..{len(node) - 1}" if isinstance(node, list) else "(none)"
    raise ConfigError(f"--set: unknown key {where!r}; valid here: {valid}")


def _same_kind(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return isinstance(new, int) or isinstance(old, float)
    if isinstance(old, (str, dict)) and isinstance(new, (str, dict)):
        return True  # a component given by name or by {name: ..., **kwargs}
    return isinstance(new, type(old))
