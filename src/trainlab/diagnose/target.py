"""What ``trainlab diagnose TARGET`` points at: a spec YAML or the user's own model.

* ``spec.yaml`` — a run spec (``data``, ``model``, ``train``: its training settings are used)
  or just a model spec (``mlp: ...`` / ``layers: ...``, needs ``--data``);
* ``package.module:callable`` or ``path/to/file.py:callable`` — a function (or an nn.Module
  class) returning an ``nn.Module``. It is called with ``input_shape``, ``n_outputs`` and/or
  ``n_classes`` when its signature names them, else with no arguments; the model must accept the
  data set's inputs (checked on two samples, with a one-line error if it does not).

A model that returns a tuple or a dict (``(logits, features)``, ``{"logits": ...}``) is told
which output holds the logits with ``output``: an index (``--output 0``) or a key
(``--output logits``); without it, the error says what the model returned and how to choose.
A model whose ``forward`` takes a dict (``forward(self, batch)`` reading ``batch["image"]``) is
fed ``{KEY: x}`` with ``input_key`` (``--input image``): a trainlab data set holds one input
tensor per row, so the dict has that one key; without it, the error names the key the model
read and how to say it.
The device is ``--device``, else the run spec's ``device``, else ``auto`` (as ``train``);
``data_dir`` (``--data-dir``) is where the data set's files are found and cached.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import warnings
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
from trainlab.train.trainer import resolve_device, seed_everything


@dataclass
class Target:
    name: str
    model: nn.Module
    dataset: Dataset
    train: dict = field(default_factory=dict)  # training settings from a run spec ({} otherwise)
    seed: int = 0
    device: str = "auto"  # --device, else the run spec's, else auto


def load_target(target: str, data: str | dict | None = None, seed: int | None = None, device: str | None = None,
                data_dir: str | None = None, output: str | int | None = None,
                input_key: str | None = None) -> Target:
    """Build the model TARGET names, for the data set ``data`` (or the run spec's own)."""
    if not isinstance(target, str) or not target:
        raise ConfigError("give a TARGET: a spec YAML or package.module:callable")
    if device is not None:
        resolve_device(device)  # a bad --device is an error before any data is loaded
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or (path.is_file() and ":" not in target):
        for flag, value, what in (("--output", output, "returns one tensor; --output is for {} models that "
                                                        "return a tuple or a dict"),
                                  ("--input", input_key, "takes one tensor; --input is for {} models whose "
                                                         "forward takes a dict")):
            if value is not None:
                raise ConfigError(f"{flag} {value}: a spec's model " + what.format("package.module:callable"))
        t = _from_yaml(path, data, seed, data_dir)
    elif ":" not in target:
        raise ConfigError(f"TARGET {target!r}: expected a spec .yaml file or package.module:callable "
                          f"(e.g. examples/diagnose_model.py:deep_sigmoid)")
    else:
        t = _from_callable(target, data, 0 if seed is None else seed, data_dir, output, input_key)
    t.device = device or t.device
    resolve_device(t.device)  # a spec's cuda on a machine without one: one line, not a silent CPU run
    return t


def _with_dir(data, data_dir: str | None):
    if data is None or data_dir is None:
        return data
    return {**(data if isinstance(data, dict) else {"name": data}), "data_dir": data_dir}


def _dataset(data: str | dict | None, what: str, data_dir: str | None = None) -> Dataset:
    if data is None:
        raise ConfigError(f"{what} names no data set: give --data DATASET (one of: {', '.join(datasets.names())})")
    return datasets.load(_with_dir(data, data_dir))


def _from_yaml(path: Path, data, seed, data_dir) -> Target:
    raw = load_file(path)
    if "model" in raw:  # a run spec
        if data is not None:
            raw = {**raw, "data": data}
        raw = {**raw, "data": _with_dir(raw.get("data"), data_dir)}
        spec = resolve(raw)
        seed = spec["seed"] if seed is None else seed
        ds = _dataset(spec["data"], str(path))
        given = raw.get("train") if isinstance(raw.get("train"), dict) else {}
        # the resolved spec fills every default; the diagnosis keeps its own evaluation chunk unless given
        train = {k: v for k, v in spec["train"].items() if k != "eval_batch_size" or k in given}
        return Target(spec["name"], _build(spec["model"], ds, train.get("loss", "auto"), seed), ds, train, seed,
                      spec.get("device", "auto"))
    model_spec = {k: v for k, v in raw.items() if k != "name"}
    if not ({"mlp", "layers"} & set(model_spec)):
        raise ConfigError(f"{path}: expected a run spec (data, model, train) or a model spec (mlp or layers)")
    ds = _dataset(data, str(path), data_dir)
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


def _from_callable(target: str, data, seed: int, data_dir=None, output=None, input_key=None) -> Target:
    module_part, _, attr = target.rpartition(":")
    module = _import(module_part)
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
        raise ConfigError(f"TARGET: {module_part!r} has no callable {attr!r}; callables there: {', '.join(names) or '(none)'}")
    ds = _dataset(data, target, data_dir)
    kwargs = _arguments(fn, ds)
    seed_everything(seed)
    model = fn(**kwargs)
    if not isinstance(model, nn.Module):
        raise ConfigError(f"TARGET: {attr}() returned {type(model).__name__}, not a torch.nn.Module")
    if input_key is not None:
        feed_dict(model, input_key)
    n_out = check_model(model, ds, target, output, input_key)
    if output is not None:
        select_output(model, output)
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


def check_model(model: nn.Module, ds: Dataset, what: str, output=None, input_key=None) -> int:
    """Run two samples through the model: a one-line error if it cannot take the data (naming
    ``--input`` when it reads its input as a dict), or if it returns several outputs and
    ``output`` does not pick the logits. Returns the output width."""
    x = ds.train.x[:2]
    was = model.training
    model.eval()
    caught: list = []
    try:
        with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = model(x)
        _reissue(caught)
    except Exception as e:  # the user's model: any failure is a mismatch to report in one line
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        batch = f"a batch of shape {tuple(x.shape)}"
        if input_key is not None:
            if isinstance(e, KeyError):
                raise ConfigError(f"{what}: the model reads key {msg} of its input dict, but --input {input_key} "
                                  f"feeds one tensor, as {{{input_key!r}: x}}: a {ds.name} row has one input") from None
            raise ConfigError(f"{what}: the model fails on {{{input_key!r}: {batch}}} from {ds.name}: {msg} "
                              f"(drop --input if it takes a tensor)") from None
        keys = _dict_keys_read(model, x)
        if keys:  # (the warning torch gave on x["key"], a "non-tuple sequence for indexing", is noise then)
            raise ConfigError(f"{what}: the model reads its input as a dict (key {keys[0]!r}); say which key "
                              f"holds the inputs with --input KEY (e.g. --input {keys[0]}): trainlab feeds "
                              f"{{KEY: {batch}}}") from None
        _reissue(caught)
        raise ConfigError(f"{what}: the model fails on {batch} from {ds.name}: {msg}") from None
    finally:
        model.train(was)
    if isinstance(out, (tuple, list, dict)):
        out = pick_output(out, output, what)
    elif output is not None:
        raise ConfigError(f"{what}: --output {output} given, but the model returns one tensor; drop --output")
    if not isinstance(out, torch.Tensor) or out.ndim < 2 or out.shape[0] != 2:
        raise ConfigError(f"{what}: the model must return a (batch, outputs) tensor; got "
                          f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    if ds.n_classes and out.shape[-1] != ds.n_classes and not (ds.n_classes == 2 and out.shape[-1] == 1):
        raise ConfigError(f"{what}: the model returns {out.shape[-1]} outputs but {ds.name} has "
                          f"{ds.n_classes} classes")
    return out.shape[-1]


def _describe(out) -> str:
    shape = lambda v: str(tuple(v.shape)) if isinstance(v, torch.Tensor) else type(v).__name__  # noqa: E731
    if isinstance(out, dict):
        return "a dict {" + ", ".join(f"{k!r}: {shape(v)}" for k, v in out.items()) + "}"
    return f"a {type(out).__name__} of {len(out)} (" + ", ".join(shape(v) for v in out) + ")"


def pick_output(out, key, what: str = "TARGET"):
    """The logits out of a tuple/list (``key`` an index) or a dict (``key`` a key)."""
    keys = list(out) if isinstance(out, dict) else list(range(len(out)))
    if key is None:
        first = keys[0] if keys else 0
        raise ConfigError(f"{what}: the model returns {_describe(out)}; say which output holds the logits "
                          f"with --output KEY (e.g. --output {first}); valid: {', '.join(map(str, keys))}")
    k = key
    if isinstance(out, dict):
        k = str(key)
    elif isinstance(key, str) and key.lstrip("-").isdigit():
        k = int(key)
    if (isinstance(out, dict) and k not in out) or (not isinstance(out, dict) and (
            not isinstance(k, int) or not -len(out) <= k < len(out))):
        raise ConfigError(f"{what}: --output {key}: the model returns {_describe(out)}; "
                          f"valid: {', '.join(map(str, keys))}")
    return out[k]


def _reissue(caught: list) -> None:
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)


class _ReadDict(Exception):
    pass


class _KeyProbe(dict):
    """An empty dict that records the first key read from it, and stops the forward there."""

    def __init__(self):
        super().__init__()
        self.read = []

    def __getitem__(self, key):
        self.read.append(key)
        raise _ReadDict(key)

    def get(self, key, default=None):
        return self[key]


def _dict_keys_read(model: nn.Module, x: torch.Tensor) -> list:
    """The key a model reads first when handed a dict instead of ``x`` (``[]``: it does not read one)."""
    probe = _KeyProbe()
    try:
        with torch.no_grad():
            model(probe)
    except Exception:  # noqa: BLE001 - _ReadDict, or whatever the model does with a dict
        pass
    return [k for k in probe.read if isinstance(k, str)]


def feed_dict(model: nn.Module, key: str) -> nn.Module:
    """Make ``model``, whose forward takes a dict, take the data set's tensor ``x`` as
    ``{key: x}`` (in place, as ``select_output``: names and weights unchanged)."""
    base = type(model)

    def forward(self, x, *args, **kwargs):
        return base.forward(self, {key: x}, *args, **kwargs)

    return _replace_forward(model, forward)


def select_output(model: nn.Module, key) -> nn.Module:
    """Make ``model`` return only its output ``key`` (in place; names and weights unchanged, so
    the probes' layer names stay the user's). Its class becomes a subclass whose forward picks."""
    base = type(model)

    def forward(self, *args, **kwargs):
        return pick_output(base.forward(self, *args, **kwargs), key)

    return _replace_forward(model, forward)


def _replace_forward(model: nn.Module, forward) -> nn.Module:
    """Give ``model`` a subclass of its class whose forward is ``forward`` (same name and module)."""
    base = type(model)
    model.__class__ = type(base.__name__, (base,), {"forward": forward, "__module__": base.__module__,
                                                     "__qualname__": base.__qualname__})
    return model
