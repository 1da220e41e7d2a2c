"""Run specs: the YAML a user writes (data + model + train + seed + device), resolved with
every default filled in, and ``--set key=value`` overrides checked against it."""

from __future__ import annotations

import copy
import typing
from pathlib import Path
from typing import Any

import yaml

from trainlab import data as datasets
from trainlab.errors import ConfigError
from trainlab.nn.spec import MLP_DEFAULTS
from trainlab.train.config import TrainConfig, type_name, type_ok

TOP_KEYS = {"name": str, "seed": int, "device": str, "data": Any, "model": dict, "train": dict}


def load_file(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"spec file not found: {path}")
    if path.is_dir():
        raise ConfigError(f"spec path is a folder, not a YAML file: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(e, 'problem', e)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a spec must be a mapping with data, model and train keys")
    raw.setdefault("name", path.stem)
    return raw


def resolve(raw: dict) -> dict:
    """Fill defaults: data parameters from the data set, train fields from TrainConfig."""
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise ConfigError(f"spec: unknown key {unknown[0]!r}; valid keys: {', '.join(TOP_KEYS)}")
    for key in ("data", "model"):
        if key not in raw:
            raise ConfigError(f"spec: missing key {key!r}")
    if not isinstance(raw["model"], dict):
        raise ConfigError(f"model: expected a mapping with 'layers' or 'mlp', got {raw['model']!r}")
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
            raise ConfigError(f"{key}: expected {type_name(TOP_KEYS[key])}, got {spec[key]!r}")


def parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. train.lr=0.1")
    key, value = text.split("=", 1)
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
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
            raise ConfigError(f"--set {key}: expected {type_name(TOP_KEYS[top])}, got {value!r}")
        spec[top] = value
        return
    if top == "train":
        hints = typing.get_type_hints(TrainConfig)
        if len(path) != 2 or path[1] not in hints:
            raise ConfigError(f"--set {key}: unknown key; valid train keys: {', '.join(hints)}")
        if not type_ok(value, hints[path[1]]):
            raise ConfigError(f"--set {key}: expected {type_name(hints[path[1]])}, got {value!r}")
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
        raise ConfigError(f"--set {key}: expected {type(old).__name__} like the current {old!r}, got {value!r}")
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
