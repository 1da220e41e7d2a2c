"""A search space as data: dotted spec keys (the ``--set`` vocabulary) -> one distribution each.

    space = Space.parse({"train.lr": {"log_uniform": [1e-6, 1]},
                         "model.mlp.activation": {"choice": ["relu", "tanh"]}})
    space.validate(spec, dataset)    # before any trial: unknown key, wrong type, bad range -> ConfigError
    params = space.suggest(trial)    # {"train.lr": 0.0031, "model.mlp.activation": "tanh"}
    run_spec = space.apply(spec, params)

Distributions: ``uniform: [low, high]``, ``log_uniform: [low, high]`` (CS231n: learning rate and
regularization on log scales), ``int: [low, high]``, ``log_int: [low, high]``, ``choice: [...]``.
Each key is checked by the same machinery as ``trainlab train --set`` (``train.spec.apply_overrides``)
at its bounds and at every choice, and each such corner builds the model and its optimizer once,
so a bad activation name or an impossible depth fails before the first trial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import optuna
import yaml

from trainlab.errors import ConfigError
from trainlab.train.spec import apply_overrides

KINDS = ("uniform", "log_uniform", "int", "log_int", "choice")


@dataclass(frozen=True)
class Dim:
    key: str  # dotted spec key, e.g. "train.lr"
    kind: str  # one of KINDS
    values: tuple  # (low, high) for numeric kinds; the choices for "choice"

    @property
    def numeric(self) -> bool:
        return self.kind != "choice"

    @property
    def log(self) -> bool:
        return self.kind in ("log_uniform", "log_int")

    @property
    def integer(self) -> bool:
        return self.kind in ("int", "log_int")

    def distribution(self) -> optuna.distributions.BaseDistribution:
        if self.kind == "choice":
            return optuna.distributions.CategoricalDistribution(list(self.values))
        low, high = self.values
        if self.integer:
            return optuna.distributions.IntDistribution(int(low), int(high), log=self.log)
        return optuna.distributions.FloatDistribution(float(low), float(high), log=self.log)

    def corners(self) -> list:
        """The values checked before any trial: both bounds, or every choice."""
        return list(self.values)

    def to_data(self) -> dict:
        return {self.kind: list(self.values)}

    def describe(self) -> str:
        if self.kind == "choice":
            return "{" + ", ".join(map(str, self.values)) + "}"
        return f"{self.kind} [{self.values[0]:g}, {self.values[1]:g}]"


class Space:
    """An ordered set of ``Dim``; round-trips through ``to_data`` / ``parse``."""

    def __init__(self, dims: list[Dim]):
        self.dims = list(dims)
        self.by_key = {d.key: d for d in self.dims}

    @classmethod
    def parse(cls, data: Any, where: str = "space") -> "Space":
        if not isinstance(data, dict) or not data:
            raise ConfigError(f"{where}: expected a mapping of dotted keys to distributions, e.g. "
                              f"{{train.lr: {{log_uniform: [1e-6, 1]}}}}, got {data!r}")
        return cls([_parse_dim(str(k), v, where) for k, v in data.items()])

    @classmethod
    def load(cls, path) -> "Space":
        from trainlab.safe_io import load_yaml_file

        # the safe reader: one-line errors for missing, unreadable, non-UTF-8, nested or aliased bombs
        return cls.parse(load_yaml_file(path, "--space"), where=str(path))

    def to_data(self) -> dict:
        return {d.key: d.to_data() for d in self.dims}

    def distributions(self) -> dict:
        return {d.key: d.distribution() for d in self.dims}

    def suggest(self, trial: optuna.trial.BaseTrial) -> dict:
        """Sample (or, for a fixed/asked trial, read) one value per key, in space order."""
        out = {}
        for d in self.dims:
            if d.kind == "choice":
                out[d.key] = trial.suggest_categorical(d.key, list(d.values))
            elif d.integer:
                out[d.key] = trial.suggest_int(d.key, int(d.values[0]), int(d.values[1]), log=d.log)
            else:
                out[d.key] = trial.suggest_float(d.key, float(d.values[0]), float(d.values[1]), log=d.log)
        return out

    def apply(self, spec: dict, params: dict) -> dict:
        """A copy of the resolved ``spec`` with ``params`` set, checked like ``--set``."""
        return apply_overrides(spec, [f"{k}={_yaml_value(v)}" for k, v in params.items()])

    def validate(self, spec: dict, check=None) -> None:
        """Set every key at each of its corners (bounds, choices) through the ``--set`` machinery;
        ``check(spec)`` (e.g. build the model and its optimizer) runs on each corner spec."""
        for d in self.dims:
            for value in d.corners():
                try:
                    corner = self.apply(spec, {d.key: value})
                    if check is not None:
                        check(corner)
                except ConfigError as e:
                    raise ConfigError(f"space: {d.key}={value!r}: {_strip_set(str(e))}") from None

    def grid(self, n_trials: int) -> dict:
        """The search space for Optuna's GridSampler at a budget of ``n_trials``: choices as they
        are; each numeric range as ``round((n_trials / choices) ** (1 / numeric dims))`` evenly
        spaced points (log-spaced for log ranges; at least 2) — 9 trials on 2 ranges: 3 x 3."""
        choices = math.prod(len(d.values) for d in self.dims if d.kind == "choice")
        numeric = [d for d in self.dims if d.numeric]
        per = max(2, round((max(1, n_trials) / choices) ** (1 / len(numeric)))) if numeric else 0
        return {d.key: list(d.values) if d.kind == "choice" else grid_points(d, per) for d in self.dims}


def grid_points(d: Dim, n: int) -> list:
    """``n`` evenly spaced points of a numeric dim (in log space for log ranges), ends included."""
    lo, hi = d.values
    if d.log:
        lo, hi = math.log10(lo), math.log10(hi)
    pts = [lo + (hi - lo) * i / (n - 1) for i in range(n)] if n > 1 else [(lo + hi) / 2]
    if d.log:
        pts = [10 ** p for p in pts]
    pts = [min(max(p, d.values[0]), d.values[1]) for p in pts]  # 10 ** log10(0.3) is 0.30000000000000004
    return sorted({int(round(p)) for p in pts}) if d.integer else [float(p) for p in pts]


def _parse_dim(key: str, spec: Any, where: str) -> Dim:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ConfigError(f"{where}: {key}: expected one distribution like {{log_uniform: [low, high]}} or "
                          f"{{choice: [a, b]}}, got {spec!r}; valid distributions: {', '.join(KINDS)}")
    (kind, values), = spec.items()
    if kind not in KINDS:
        raise ConfigError(f"{where}: {key}: unknown distribution {kind!r}; valid distributions: {', '.join(KINDS)}")
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{where}: {key}: {kind} needs a non-empty list, got {values!r}")
    if kind == "choice":
        if len(set(map(repr, values))) != len(values):
            raise ConfigError(f"{where}: {key}: choice lists a value twice: {values!r}")
        return Dim(key, kind, tuple(values))
    if len(values) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ConfigError(f"{where}: {key}: {kind} needs [low, high] numbers, got {values!r}")
    low, high = values
    if kind in ("int", "log_int") and not all(isinstance(v, int) or float(v).is_integer() for v in values):
        raise ConfigError(f"{where}: {key}: {kind} needs integer bounds, got {values!r}")
    if not low < high:
        word = "empty" if low == high else "inverted"
        raise ConfigError(f"{where}: {key}: {word} range [{low}, {high}]: low must be below high")
    if kind.startswith("log") and low <= 0:
        raise ConfigError(f"{where}: {key}: a log range needs bounds > 0, got [{low}, {high}]")
    if kind in ("int", "log_int"):
        return Dim(key, kind, (int(low), int(high)))
    return Dim(key, kind, (float(low), float(high)))


def _yaml_value(v: Any) -> str:
    """A value as the ``--set`` parser reads it back (PyYAML needs 1.0e-06, not 1e-06)."""
    return yaml.safe_dump(v, default_flow_style=True).replace("\n...\n", "").strip()


def _strip_set(message: str) -> str:
    return message[len("--set "):] if message.startswith("--set ") else message
