"""Training configuration as plain data (nanoGPT's GPTConfig idea): one object passed down,
saved with every run and checkpoint, overridable with type-checked ``--set key=value``."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Optional, Union

from trainlab.errors import ConfigError, short
from trainlab.safe_io import check_plain


@dataclass
class TrainConfig:
    loss: str = "auto"  # cross_entropy | binary_cross_entropy | mse | auto (by task)
    optimizer: Union[str, dict] = "adam"  # a name, or {name: ..., **torch kwargs}
    lr: Optional[float] = None  # None: the optimizer's usual default (sgd 0.01, adam 0.001, ...)
    weight_decay: float = 0.0  # L2 on weights (not biases)
    schedule: Union[str, dict, None] = None
    epochs: Optional[int] = 10
    steps: Optional[int] = None  # total optimizer steps; overrides epochs when set
    batch_size: Optional[int] = None  # None: full batch
    grad_clip: Optional[float] = None  # max global gradient norm
    max_norm: Optional[float] = None  # max-norm constraint on each unit's incoming weights
    early_stopping: Optional[dict] = None  # {monitor, patience, min_delta, restore_best}
    log_every: Optional[int] = None  # steps between logged metrics; None: every epoch, at most ~100 points per run
    checkpoint_every: Optional[int] = None  # steps; None: at every logged step
    eval_batch_size: int = 4096
    tensorboard: bool = False  # write TensorBoard event files to RUN_DIR/tensorboard while training

    def __post_init__(self):
        check_dataclass(self, "train")
        for name in ("epochs", "steps", "batch_size", "log_every", "checkpoint_every", "eval_batch_size"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ConfigError(f"train.{name} must be a positive integer, got {v!r}")
        for name in ("lr", "grad_clip", "max_norm"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ConfigError(f"train.{name} must be a positive number, got {v!r}")
        if self.weight_decay < 0:
            raise ConfigError(f"train.weight_decay must be a number >= 0, got {self.weight_decay!r}")
        from trainlab.train import schedules  # a bad schedule argument is refused before any work

        schedules.check(self.schedule)
        if self.epochs is None and self.steps is None:
            raise ConfigError("train: give epochs or steps")

    @classmethod
    def from_dict(cls, d: dict | None) -> "TrainConfig":
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise ConfigError(f"train: expected a mapping of training settings, got {short(d)}")
        d = dict(d)
        valid = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in d if k not in valid]
        if unknown:
            raise ConfigError(f"train: unknown key {short(unknown[0])}; valid keys: {', '.join(valid)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def type_ok(value: Any, annotation: Any) -> bool:
    """Is ``value`` (parsed from YAML) acceptable for a field annotated ``annotation``?"""
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, annotation)


def type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def check_dataclass(obj: Any, prefix: str) -> None:
    """Each field of the annotated kind; numbers finite and integers within 64 bits (NaN, inf
    and 401-digit integers are refused here, before torch sees them)."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not type_ok(value, hints[f.name]):
            raise ConfigError(f"{prefix}.{f.name}: expected {type_name(hints[f.name])}, got {short(value)}")
        check_plain(value, f"{prefix}.{f.name}")
        if hints[f.name] in (float, Optional[float]) and isinstance(value, int):
            setattr(obj, f.name, float(value))
