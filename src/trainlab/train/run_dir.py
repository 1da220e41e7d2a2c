"""A run folder, checked before ``--resume`` touches it.

``check(directory)`` reads everything a resume needs and refuses, in one line naming the file,
anything it cannot trust, before a single byte in the folder is changed:

- the folder is a folder; ``config.yaml`` is a regular file of bounded size (a link to
  ``/dev/zero`` is refused), safe YAML (a ``!!python`` tag is an error, never a call), a
  mapping, and a trainlab spec (``resolve`` accepts it);
- ``preprocess.pt`` and ``checkpoints/last.pt`` load with ``weights_only=True`` (a pickle that
  asks for anything else is refused) and hold the keys and kinds of values trainlab writes;
- ``metrics.jsonl`` is a regular file of bounded size (its unreadable lines — a line cut short
  by a kill — are skipped by the tolerant reader when the run continues).

``restore(trainer, state, n_train, where)`` then loads the checkpoint into the trainer built
from ``config.yaml``; a checkpoint of another architecture is refused there, still before
anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trainlab import limits
from trainlab.data import preprocess
from trainlab.errors import ConfigError, one_line
from trainlab.safe_io import check_file, load_tensors, load_yaml_file, user_path

CONFIG, METRICS, PREPROCESS, CHECKPOINT = "config.yaml", "metrics.jsonl", "preprocess.pt", "checkpoints/last.pt"
MAX_CONFIG_BYTES = 1 << 20
MAX_METRICS_BYTES = 1 << 30
STATE_KEYS = {"model": dict, "optimizer": dict, "step": int, "epoch": int, "batch_in_epoch": int,
              "rng": dict, "callbacks": list, "history": list, "stop_training": bool}


@dataclass
class RunFolder:
    directory: Path
    spec: dict  # config.yaml, resolved
    fitted: Any  # the preprocessing fitted on train, or None
    state: dict | None  # checkpoints/last.pt, or None when the run never saved one


def max_checkpoint_bytes() -> int:
    """A checkpoint holds weights and optimizer moments: bounded by the parameter limit."""
    return limits.limit("parameters") * limits.BYTES_PER_PARAMETER + (64 << 20)


def check(directory: str | Path) -> RunFolder:
    """Everything ``--resume DIRECTORY`` reads, checked; see the module docstring."""
    from trainlab.train.spec import resolve

    directory = Path(directory)
    where = f"--resume {directory}"
    with user_path(directory, "--resume"):
        if not directory.exists():
            raise ConfigError(f"{where}: no run there (no such folder)")
        if not directory.is_dir():
            raise ConfigError(f"{where}: not a folder (give the run directory)")
        config = directory / CONFIG
        if not config.exists() and not config.is_symlink():
            raise ConfigError(f"{where}: no run there (missing config.yaml)")
    raw = load_yaml_file(config, f"{where}: {CONFIG}", MAX_CONFIG_BYTES)
    if not isinstance(raw, dict) or not {"data", "model", "train"} <= raw.keys():
        raise ConfigError(f"{where}: {CONFIG} is not a trainlab run config (expected a mapping with data, model and train)")
    try:
        spec = resolve(raw)
    except ConfigError as e:
        raise ConfigError(f"{where}: {CONFIG} is not a valid trainlab spec: {e}") from None
    fitted = _preprocess(directory / PREPROCESS, where)
    metrics = directory / METRICS
    if metrics.exists() or metrics.is_symlink():
        check_file(metrics, f"{where}: {METRICS}", MAX_METRICS_BYTES)
    last = directory / CHECKPOINT
    state = None
    if last.exists() or last.is_symlink():
        state = load_tensors(last, f"{where}: {CHECKPOINT}", max_checkpoint_bytes())
        _check_state(state, f"{where}: {CHECKPOINT}")
    return RunFolder(directory, spec, fitted, state)


def _preprocess(path: Path, where: str):
    if not (path.exists() or path.is_symlink()):
        return None
    sd = load_tensors(path, f"{where}: {PREPROCESS}", 1 << 30)
    try:
        return preprocess.from_state(sd)
    except ConfigError as e:
        raise ConfigError(f"{where}: {PREPROCESS}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise ConfigError(f"{where}: {PREPROCESS} is not a fitted preprocessing trainlab wrote "
                          f"({type(e).__name__}: {one_line(e, 120)})") from None


def _check_state(state: Any, what: str) -> None:
    if not isinstance(state, dict):
        raise ConfigError(f"{what}: not a trainlab checkpoint (a {type(state).__name__}, expected a mapping)")
    for key, kind in STATE_KEYS.items():
        if not isinstance(state.get(key), kind) or (kind is int and isinstance(state[key], bool)):
            raise ConfigError(f"{what}: not a trainlab checkpoint ({key!r} missing or not a {kind.__name__})")
        if kind is int and state[key] < 0:
            raise ConfigError(f"{what}: {key} is negative ({state[key]})")
    perm = state.get("perm")
    if perm is not None and (not isinstance(perm, torch.Tensor) or perm.dtype != torch.long or perm.ndim != 1):
        raise ConfigError(f"{what}: 'perm' is not a permutation of the training rows")


def restore(trainer, state: dict, n_train: int, where: str) -> None:
    """Load ``state`` into ``trainer`` now (not when ``fit`` starts), so a checkpoint that does
    not fit the model, optimizer or data is refused before any file is touched."""
    perm = state.get("perm")
    if perm is not None and (len(perm) != n_train or not torch.equal(perm.sort().values, torch.arange(n_train))):
        raise ConfigError(f"{where}: {CHECKPOINT}: its data order is not a permutation of the {n_train} training rows")
    try:
        trainer.restore_now(state, n_train)
    except ConfigError as e:
        raise ConfigError(f"{where}: {CHECKPOINT}: {e}") from None
    except (RuntimeError, KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise ConfigError(f"{where}: {CHECKPOINT} does not fit the run in {CONFIG} (another architecture or "
                          f"optimizer?): {type(e).__name__}: {one_line(e, 240)}") from None
    if not 0 <= trainer.batch_in_epoch <= trainer.steps_per_epoch or trainer.step > trainer.total_steps:
        raise ConfigError(f"{where}: {CHECKPOINT}: its position (step {trainer.step}, batch {trainer.batch_in_epoch}) "
                          f"is outside this run's plan ({trainer.total_steps} steps, {trainer.steps_per_epoch} a epoch)")
