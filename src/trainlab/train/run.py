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

from trainlab import data as datasets
from trainlab.data import preprocess
from trainlab.errors import ConfigError, ShapeError
from trainlab.nn.context import shape_str
from trainlab.nn.spec import Network, build, count_parameters
from trainlab.safe_io import user_path, writable_dir
from trainlab.train import checkpoint as ckpt
from trainlab.train import losses, run_dir
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
    """Seed, then build the spec's model for the data set (output size from the loss). A model
    whose output cannot meet the targets (a dense net on sequences gives one output per step)
    is refused here, not mid-training."""
    loss = losses.resolve(spec["train"]["loss"], dataset.task)
    seed_everything(spec["seed"])
    n_out = losses.get(loss).n_outputs(dataset.n_classes)
    model = build(spec["model"], dataset.input_shape, n_out)
    if dataset.task == "classification":
        expected = (n_out,)
    else:
        expected = tuple(dataset.train.y.shape[1:]) or (1,)
    if tuple(model.output_shape) != expected:
        hint = (" (the data are sequences (steps, features): end with a recurrent block returning 'last', "
                "or flatten first)" if len(dataset.input_shape) == 2 and len(model.output_shape) > 1 else "")
        raise ShapeError(f"model: outputs shape {shape_str(tuple(model.output_shape))} per example, but "
                         f"{loss} on {dataset.name} needs {shape_str(expected)}{hint}")
    return model


def new_run_dir(spec: dict, out: str | Path | None) -> Path:
    """The run folder: ``--out``, or ``runs/NAME-TIME`` (the name cannot leave ``runs/``).
    Checked writable before any work; a folder that already holds a run is refused."""
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        out = Path("runs") / f"{spec['name']}-{stamp}"
        if out.parent != Path("runs") or ".." in out.parts:  # spec.resolve refuses such names; never trust it
            raise ConfigError(f"name: {spec['name']!r} would place the run outside runs/")
        return writable_dir(out, "run folder")
    out = writable_dir(out, "--out")
    with user_path(out, "--out"):
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
    trainer = _trainer(directory, resolved, dataset, model, progress, callbacks)  # checks the rest first
    with user_path(directory, "run folder"):
        directory.mkdir(parents=True, exist_ok=True)
    if dataset.transform is not None:  # preprocessing fitted on train: kept, re-applied on resume
        preprocess.save(dataset.transform, directory / PREPROCESS_FILE)
    ckpt.write_yaml(directory / "config.yaml", resolved)
    return _fit(directory, resolved, dataset, model, trainer)


def resume(directory: str | Path, progress: bool | None = None,
           callbacks: list[Callback] | None = None) -> Run:
    """Continue a run from its last checkpoint (or start it, if it never saved one). The folder
    is checked first (``run_dir.check``); a resume that fails leaves it exactly as it was."""
    folder = run_dir.check(directory)
    directory, spec = folder.directory, folder.spec
    try:
        dataset = datasets.load(spec["data"], fitted=folder.fitted)
        model = build_model(spec, dataset)
        trainer = _trainer(directory, spec, dataset, model, progress, callbacks)
    except ConfigError as e:
        raise ConfigError(f"--resume {directory}: cannot rebuild the run from config.yaml: {e}") from None
    if folder.state is not None:
        run_dir.restore(trainer, folder.state, len(dataset.train), f"--resume {directory}")
    last = directory / "checkpoints" / "last.pt"
    with user_path(last.parent, "--resume"):
        for stale in last.parent.glob(".*.tmp"):  # half-written by a killed process; never renamed
            stale.unlink()
    return _fit(directory, spec, dataset, model, trainer)


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


def _trainer(directory: Path, spec: dict, dataset, model: Network, progress: bool | None,
             callbacks: list[Callback] | None) -> Trainer:
    """The run's Trainer (its optimizer, loss and early stopping checked); writes nothing."""
    cbs = [MetricsLogger(directory / "metrics.jsonl"), ProgressBar(enabled=progress),
           ckpt.Checkpointer(directory / "checkpoints", every=spec["train"]["checkpoint_every"])]
    cbs += spec_callbacks(directory, spec)
    return Trainer(model, spec["train"], task=dataset.task, callbacks=cbs + list(callbacks or []),
                   device=spec["device"], seed=spec["seed"])


def _fit(directory: Path, spec: dict, dataset, model: Network, trainer: Trainer) -> Run:
    t0 = time.perf_counter()
    trainer.fit(dataset.train, dataset.val)
    final = {f"{split}_{k}": v for split in ("train", "val", "test")
             for k, v in trainer.evaluate(getattr(dataset, split)).items()}
    result = {"name": spec["name"], "final": final, "epochs": round(trainer.step / trainer.steps_per_epoch, 4),
              "steps": trainer.step, "seconds": round(time.perf_counter() - t0, 3),
              "parameters": count_parameters(model), "data": dataset.summary(),
              "stopped": trainer.stop_reason, "device": str(trainer.device), "run_dir": str(directory)}
    ckpt.write_json(directory / "result.json", result)
    return Run(directory, spec, model, trainer, result)
