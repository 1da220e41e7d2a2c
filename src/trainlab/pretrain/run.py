"""``trainlab pretrain``: only the pre-training of a spec whose model has a ``dbn`` init, into a
run directory that a later run loads with ``init: {dbn: {stack: RUN_DIR}}``.

    RUN_DIR/config.yaml              the resolved spec
    RUN_DIR/metrics.jsonl            one record per RBM epoch (layer, epoch, recon_error, ...)
    RUN_DIR/checkpoints/pretrain.pt  the whole state after each epoch (atomic; weights_only)
    RUN_DIR/stack.pt                 the finished stack (DBN.state_dict)
    RUN_DIR/result.json              per-layer final monitors, seconds

A killed run resumes (``resume_pretrain``) from its last epoch and ends with the same weights as
an unbroken one: each RBM's generators, momentum buffers and persistent chain are in the state.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import torch
import yaml

from trainlab import data as datasets
from trainlab.atomic import atomic_write
from trainlab.data import preprocess
from trainlab.errors import ConfigError
from trainlab.nn.spec import Network
from trainlab.train import checkpoint as ckpt
from trainlab.train.run import PREPROCESS_FILE, build_model, new_run_dir
from trainlab.train.trainer import resolve_device
from trainlab.pretrain.dbn import DBN
from trainlab.pretrain.initializer import STACK_FILE, dbn_settings, hidden_layers, layer_input

CHECKPOINT = Path("checkpoints") / "pretrain.pt"


def pretrain(spec: dict, out: str | Path | None = None, echo: Callable[[str], None] | None = None) -> dict:
    """Pre-train a resolved spec's ``dbn`` layers into a new run directory; returns result.json."""
    directory = new_run_dir(spec, out)
    dataset = datasets.load(spec["data"])
    model = build_model(spec, dataset)
    _dbn_layers(model)  # fail before writing anything
    directory.mkdir(parents=True, exist_ok=True)
    if dataset.transform is not None:
        preprocess.save(dataset.transform, directory / PREPROCESS_FILE)
    ckpt.write_yaml(directory / "config.yaml", {**spec, "model": model.config()})
    return _run(directory, dataset, model, None, echo)


def resume_pretrain(directory: str | Path, echo: Callable[[str], None] | None = None) -> dict:
    directory = Path(directory)
    if not (directory / "config.yaml").exists():
        raise ConfigError(f"--resume {directory}: no pre-training run there (missing config.yaml)")
    spec = yaml.safe_load((directory / "config.yaml").read_text())
    fitted = directory / PREPROCESS_FILE
    dataset = datasets.load(spec["data"], fitted=preprocess.load(fitted) if fitted.exists() else None)
    model = build_model(spec, dataset)
    last = directory / CHECKPOINT
    for stale in last.parent.glob(".*.tmp"):  # half-written by a killed process; never renamed
        stale.unlink()
    state = ckpt.load(last) if last.exists() else None
    return _run(directory, dataset, model, state, echo)


def _dbn_layers(model: Network) -> list:
    layers = [(m, kw) for m, name, kw in model._data_dependent if name == "dbn"]
    if not layers:
        raise ConfigError("pretrain: the spec's model has no dbn initializer; add "
                          "init: {dbn: {epochs: 10}} to model.mlp (with activation: sigmoid)")
    return layers


def _run(directory: Path, dataset, model: Network, state: dict | None, echo) -> dict:
    t0 = time.perf_counter()
    layers = _dbn_layers(model)
    x = dataset.train.x
    hidden = hidden_layers(model, x, layers)
    settings, seed, stack = dbn_settings(layers)
    if stack is not None:
        raise ConfigError("pretrain: the spec's dbn init loads a finished stack (stack: ...); nothing to pre-train")
    device = str(resolve_device(spec_device(directory)))
    dbn = DBN(hidden=[m.out_features for m in hidden], random_state=seed, device=device, **settings)
    metrics = directory / "metrics.jsonl"
    if state is not None:
        dbn.load_state_dict(state["dbn"])
        finished, current = state["dbn"]["rbms"], state["dbn"]["current"]
        states = list(enumerate(finished)) + ([(len(finished), current)] if current is not None else [])
        done = [{"layer": i, **h} for i, s in states for h in s["history"]]  # the log up to the checkpoint
        atomic_write(metrics, lambda fh: fh.write("".join(json.dumps(r) + "\n" for r in done).encode()))
    elif metrics.exists():
        metrics.unlink()
    n_layers = len(hidden)

    def log(record: dict) -> None:
        with metrics.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if echo is not None:
            echo(_line(record, n_layers, dbn.epochs))

    def save(d: DBN, rbm) -> None:
        ckpt.save(directory / CHECKPOINT, {"dbn": d.state_dict(current=rbm)})

    x_in = layer_input(model, hidden[0], x)
    val_in = layer_input(model, hidden[0], dataset.val.x) if dataset.val is not None else None
    dbn.fit(x_in, X_val=val_in, log=log, on_epoch=save)
    ckpt.save(directory / STACK_FILE, dbn.state_dict())
    result = {"name": directory.name, "layers": [{"layer": i, "n_visible": r.n_features_in_, "n_hidden": r.n_hidden,
                                                  **(r.history_[-1] if r.history_ else {})}
                                                 for i, r in enumerate(dbn.rbms_)],
              "epochs": dbn.epochs, "seconds": round(time.perf_counter() - t0, 3), "run_dir": str(directory),
              "stack": str(directory / STACK_FILE), "data": dataset.summary()}
    ckpt.write_json(directory / "result.json", result)
    return result


def spec_device(directory: Path) -> str:
    return yaml.safe_load((directory / "config.yaml").read_text()).get("device", "auto")


def _line(r: dict, n_layers: int, epochs: int) -> str:
    parts = [f"layer {r['layer'] + 1}/{n_layers} epoch {r['epoch']}/{epochs}: recon error {r['recon_error']:.4g}"]
    if "free_energy_gap" in r:
        parts.append(f"free-energy gap {r['free_energy_gap']:.3g}")
    if "pseudo_likelihood" in r:
        parts.append(f"pseudo-likelihood {r['pseudo_likelihood']:.4g}")
    return ", ".join(parts) + f" ({r['seconds']:.1f} s)"


def load_network_stack(directory: str | Path) -> tuple[DBN, dict]:
    """The finished stack of a pretrain run and its spec (for figures and reuse)."""
    directory = Path(directory)
    spec = yaml.safe_load((directory / "config.yaml").read_text())
    return DBN().load_state_dict(torch.load(directory / STACK_FILE, map_location="cpu", weights_only=True)), spec
