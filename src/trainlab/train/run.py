"""A run: spec -> data + model + Trainer -> a run directory.

    RUN_DIR/config.yaml      the resolved spec (rebuilds the same model)
    RUN_DIR/metrics.jsonl    one JSON object per logged step
    RUN_DIR/checkpoints/last.pt
    RUN_DIR/result.json      final metrics, steps, epochs, seconds
    RUN_DIR/preprocess.pt    the data preprocessing fitted on train, when the spec has one
    RUN_DIR/tensorboard/     event files, with ``train.tensorboard: true``
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from trainlab import data as datasets
from trainlab.data import preprocess
from trainlab.errors import ConfigError
from trainlab.nn.spec import Network, build, count_parameters
from trainlab.train import checkpoint as ckpt
from trainlab.train import losses
from trainlab.train.callbacks import SPEC_CALLBACKS, Callback, MetricsLogger, ProgressBar
from trainlab.train.trainer import Trainer, seed_everything


PREPROCESS_FILE = "preprocess.pt"  # the data preprocessing fitted on train (weights_only state)


@dataclass
class Run:
    directory: Path
    spec: dict
    model: Network
    trainer: Trainer
    result: dict


def build_model(spec: dict, dataset: datasets.Dataset) -> Network:
    """Seed, then build the spec's model for the data set (output size from the loss)."""
    loss = losses.resolve(spec["train"]["loss"], dataset.task)
    seed_everything(spec["seed"])
    return build(spec["model"], dataset.input_shape, losses.get(loss).n_outputs(dataset.n_classes))


def new_run_dir(spec: dict, out: str | Path | None) -> Path:
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        return Path("runs") / f"{spec['name']}-{stamp}"
    out = Path(out)
    if (out / "config.yaml").exists() or (out / "result.json").exists():
        raise ConfigError(f"{out} already holds a run; resume it with --resume {out} or choose another --out")
    return out


def train(spec: dict, out: str | Path | None = None, progress: bool | None = None,
          callbacks: list[Callback] | None = None) -> Run:
    """Train a resolved spec into a new run directory."""
    directory = new_run_dir(spec, out)
    dataset = datasets.load(spec["data"])
    model = build_model(spec, dataset)
    resolved = {**spec, "model": model.config()}
    directory.mkdir(parents=True, exist_ok=True)
    if dataset.transform is not None:  # preprocessing fitted on train: kept, re-applied on resume
        preprocess.save(dataset.transform, directory / PREPROCESS_FILE)
    ckpt.write_yaml(directory / "config.yaml", resolved)
    return _fit(directory, resolved, dataset, model, None, progress, callbacks)


def resume(directory: str | Path, progress: bool | None = None,
           callbacks: list[Callback] | None = None) -> Run:
    """Continue a run from its last checkpoint (or start it, if it never saved one)."""
    directory = Path(directory)
    config = directory / "config.yaml"
    if not config.exists():
        raise ConfigError(f"--resume {directory}: no run there (missing config.yaml)")
    spec = yaml.safe_load(config.read_text())
    fitted = directory / PREPROCESS_FILE
    dataset = datasets.load(spec["data"], fitted=preprocess.load(fitted) if fitted.exists() else None)
    model = build_model(spec, dataset)
    last = directory / "checkpoints" / "last.pt"
    for stale in last.parent.glob(".*.tmp"):  # half-written by a killed process; never renamed
        stale.unlink()
    state = ckpt.load(last) if last.exists() else None
    return _fit(directory, spec, dataset, model, state, progress, callbacks)


def spec_callbacks(directory: Path, spec: dict) -> list[Callback]:
    """The callbacks the spec switches on (``train.tensorboard: true``), from ``SPEC_CALLBACKS``."""
    out = []
    for key in ("tensorboard",):
        if spec["train"].get(key):
            if key not in SPEC_CALLBACKS:
                raise ConfigError(f"train.{key}: its callback is registered by trainlab.diagnose; "
                                  f"import trainlab.diagnose first (the trainlab command does)")
            out.append(SPEC_CALLBACKS.lookup(key)(directory, spec))
    return out


def _fit(directory: Path, spec: dict, dataset, model: Network, state: dict | None,
         progress: bool | None, callbacks: list[Callback] | None) -> Run:
    t0 = time.perf_counter()
    cbs = [MetricsLogger(directory / "metrics.jsonl"), ProgressBar(enabled=progress),
           ckpt.Checkpointer(directory / "checkpoints", every=spec["train"]["checkpoint_every"])]
    cbs += spec_callbacks(directory, spec)
    trainer = Trainer(model, spec["train"], task=dataset.task, callbacks=cbs + list(callbacks or []),
                      device=spec["device"], seed=spec["seed"])
    if state is not None:
        trainer.load_state_dict(state)
    trainer.fit(dataset.train, dataset.val)
    final = {f"{split}_{k}": v for split in ("train", "val", "test")
             for k, v in trainer.evaluate(getattr(dataset, split)).items()}
    result = {"name": spec["name"], "final": final, "epochs": round(trainer.step / trainer.steps_per_epoch, 4),
              "steps": trainer.step, "seconds": round(time.perf_counter() - t0, 3),
              "parameters": count_parameters(model), "data": dataset.summary(),
              "stopped": trainer.stop_reason, "device": str(trainer.device), "run_dir": str(directory)}
    ckpt.write_json(directory / "result.json", result)
    return Run(directory, spec, model, trainer, result)
