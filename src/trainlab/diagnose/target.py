"""What ``trainlab diagnose TARGET`` points at: a spec YAML or the user's own model.

* ``spec.yaml`` — a run spec (``data``, ``model``, ``train``: its training settings are used)
  or just a model spec (``mlp: ...`` / ``layers: ...``, needs ``--data``);
* ``package.module:callable`` or ``path/to/file.py:callable`` — a function (or an nn.Module
  class) returning an ``nn.Module``. It is called with ``input_shape``, ``n_outputs`` and/or
  ``n_classes`` when its signature names them, else with no arguments; the model must accept the
  data set's inputs (checked on two samples, with a one-line error if it does not).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from trainlab import data as datasets
from trainlab.data.base import Dataset
from trainlab.errors import ConfigError, one_line
from trainlab.safe_io import check_file
from trainlab.train import losses
from trainlab.train.spec import load_file, resolve
from trainlab.train.trainer import seed_everything


@dataclass
class Target:
    name: str
    model: nn.Module
    dataset: Dataset
    train: dict = field(default_factory=dict)  # training settings from a run spec ({} otherwise)
    seed: int = 0


def load_target(target: str, data: str | dict | None = None, seed: int | None = None) -> Target:
    """Build the model TARGET names, for the data set ``data`` (or the run spec's own)."""
    if not isinstance(target, str) or not target:
        raise ConfigError("give a TARGET: a spec YAML or package.module:callable")
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or (path.is_file() and ":" not in target):
        return _from_yaml(path, data, seed)
    if ":" not in target:
        raise ConfigError(f"TARGET {target!r}: expected a spec .yaml file or package.module:callable "
                          f"(e.g. examples/diagnose_model.py:deep_sigmoid)")
    return _from_callable(target, data, 0 if seed is None else seed)


def _dataset(data: str | dict | None, what: str) -> Dataset:
    if data is None:
        raise ConfigError(f"{what} names no data set: give --data DATASET (one of: {', '.join(datasets.names())})")
    return datasets.load(data)


def _from_yaml(path: Path, data, seed) -> Target:
    raw = load_file(path)
    if "model" in raw:  # a run spec
        if data is not None:
            raw = {**raw, "data": data}
        spec = resolve(raw)
        seed = spec["seed"] if seed is None else seed
        ds = _dataset(spec["data"], str(path))
        train = {k: v for k, v in spec["train"].items()}
        return Target(spec["name"], _build(spec["model"], ds, train.get("loss", "auto"), seed), ds, train, seed)
    model_spec = {k: v for k, v in raw.items() if k != "name"}
    if not ({"mlp", "layers"} & set(model_spec)):
        raise ConfigError(f"{path}: expected a run spec (data, model, train) or a model spec (mlp or layers)")
    ds = _dataset(data, str(path))
    seed = 0 if seed is None else seed
    return Target(raw.get("name", path.stem), _build(model_spec, ds, "auto", seed), ds, {}, seed)


def _build(model_spec: dict, ds: Dataset, loss: str, seed: int) -> nn.Module:
    from trainlab.nn import build

    n_out = losses.get(losses.resolve(loss, ds.task)).n_outputs(ds.n_classes)
    seed_everything(seed)
    return build(model_spec, ds.input_shape, n_out)


def _import(module_part: str):
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        file = Path(module_part)
        if not file.is_file():
            raise ConfigError(f"TARGET: no such file {module_part!r}")
        check_file(file, "TARGET", 16 << 20)  # a regular file, not a device or a folder
        spec = importlib.util.spec_from_file_location(file.stem, file)
        if spec is None or spec.loader is None:
            raise ConfigError(f"TARGET {module_part}: not a Python file (give path/to/file.py:callable)")
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(file.stem, module)
        try:
            spec.loader.exec_module(module)
        except (SyntaxError, ValueError) as e:  # not Python, not UTF-8, NUL bytes: one line, not a traceback
            if isinstance(e, ConfigError):
                raise
            raise ConfigError(f"TARGET {module_part}: cannot be read as Python ({type(e).__name__}: {one_line(e, 160)})") from None
        return module
    if str(Path.cwd()) not in sys.path:  # the user's package, next to where they run trainlab
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module_part)
    except ModuleNotFoundError as e:
        raise ConfigError(f"TARGET: cannot import {module_part!r} ({e})") from None


def _from_callable(target: str, data, seed: int) -> Target:
    module_part, _, attr = target.rpartition(":")
    module = _import(module_part)
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
        raise ConfigError(f"TARGET: {module_part!r} has no callable {attr!r}; callables there: {', '.join(names) or '(none)'}")
    ds = _dataset(data, target)
    kwargs = _arguments(fn, ds)
    seed_everything(seed)
    model = fn(**kwargs)
    if not isinstance(model, nn.Module):
        raise ConfigError(f"TARGET: {attr}() returned {type(model).__name__}, not a torch.nn.Module")
    n_out = check_model(model, ds, target)
    train = {"loss": "binary_cross_entropy"} if ds.n_classes == 2 and n_out == 1 else {}
    return Target(attr, model, ds, train, seed)


def _arguments(fn, ds: Dataset) -> dict:
    """Pass what the callable asks for by name: input_shape, n_outputs, n_classes."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    n_out = losses.get(losses.resolve("auto", ds.task)).n_outputs(ds.n_classes)
    offer = {"input_shape": tuple(ds.input_shape), "n_outputs": n_out, "n_classes": ds.n_classes}
    return {k: v for k, v in offer.items() if k in params}


def check_model(model: nn.Module, ds: Dataset, what: str) -> int:
    """Run two samples through the model: a one-line error if it cannot take the data.
    Returns the model's output width."""
    x = ds.train.x[:2]
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as e:  # the user's model: any failure is a mismatch to report in one line
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{what}: the model fails on a batch of shape {tuple(x.shape)} from "
                          f"{ds.name}: {msg}") from None
    finally:
        model.train(was)
    if not isinstance(out, torch.Tensor) or out.ndim < 2 or out.shape[0] != 2:
        raise ConfigError(f"{what}: the model must return a (batch, outputs) tensor; got "
                          f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    if ds.n_classes and out.shape[-1] != ds.n_classes and not (ds.n_classes == 2 and out.shape[-1] == 1):
        raise ConfigError(f"{what}: the model returns {out.shape[-1]} outputs but {ds.name} has "
                          f"{ds.n_classes} classes")
    return out.shape[-1]
