"""The page's state as trainlab specs: the model spec the page trains, and the run spec it
exports (YAML plus the ``trainlab train`` command line)."""

from __future__ import annotations

import yaml

from trainlab.errors import ConfigError
from trainlab.playground.points import generated_params
from trainlab.playground.schema import INITS


def _init(name: str) -> dict:
    spec = INITS[name]
    return {} if spec is None else {"init": spec}


def hidden_items(layer: dict) -> list:
    """One hidden layer as spec items: dense (or maxout) -> [batchnorm] -> activation ->
    [dropout], wrapped in a residual block (a projection when the width changes) if asked."""
    if layer["activation"] == "maxout":
        core = [{"maxout": {"units": layer["units"], "pieces": 2, **_init(layer["init"])}}]
        if layer["batchnorm"]:
            core.append("batchnorm")
    else:
        core = [{"dense": {"units": layer["units"], **_init(layer["init"])}}]
        if layer["batchnorm"]:
            core.append("batchnorm")
        core.append({"activation": layer["activation"]})
    if layer["dropout"]:
        core.append({"dropout": layer["dropout"]})
    return [{"residual": {"body": core}}] if layer["residual"] else core


def model_spec(state: dict) -> tuple[dict, list[int]]:
    """The model spec, and for each hidden layer the index of its last item (whose output the
    page draws as that layer's neuron pictures)."""
    items, ends = [], []
    rbm = [layer["init"] == "rbm" for layer in state["layers"]]
    if any(rbm) and not all(rbm):
        raise ConfigError("state.layers: RBM pre-training initializes the whole stack (each RBM learns from "
                          "the one below): set every hidden layer's init to rbm, or none")
    for layer in state["layers"]:
        items += hidden_items(layer)
        ends.append(len(items) - 1)
    # a DBN's output layer is fresh, on top of the pre-trained stack: it takes the dbn init too
    # (N(0, 0.01^2), not pre-trained), which also marks where the stack ends
    items.append({"dense": {"units": "auto", **_init("rbm" if any(rbm) else state["output_init"])}})
    return {"layers": items, "bias_init": "zeros"}, ends


def loss_name(state: dict, task: str) -> str:
    """``auto``: binary cross-entropy for two classes (one output unit, as the Playground's one
    output neuron), cross-entropy (softmax) for more, mse for regression."""
    if state["loss"] != "auto":
        return state["loss"]
    if task == "regression":
        return "mse"
    n = len({p[2] for p in state["points"]}) if state["dataset"] == "custom" else 2
    return "binary_cross_entropy" if n <= 2 else "cross_entropy"


def train_spec(state: dict, task: str, steps: int) -> dict:
    spec = {"loss": loss_name(state, task), "optimizer": state["optimizer"], "lr": state["lr"],
            "steps": max(1, int(steps)), "batch_size": state["batch_size"]}
    if state["regularization"] == "l2" and state["reg_rate"] > 0:
        spec["weight_decay"] = state["reg_rate"]
    if state["schedule"] != "none":
        spec["schedule"] = state["schedule"]
    return spec


def run_spec(state: dict, task: str, steps: int) -> dict:
    """A run spec ``trainlab train`` accepts. The page's own points have no trainlab data set:
    that is an error naming the choice."""
    data = generated_params(state)
    if data is None:
        raise ConfigError("export: the custom points have no trainlab data set; export works for "
                          "circle, xor, gauss, spiral, xor4, reg_plane and reg_gauss")
    if state["features"] != ["x1", "x2"]:
        data = {**data, "preprocess": {"features": {"use": list(state["features"])}}}
    model, _ = model_spec(state)
    return {"name": f"playground-{state['dataset']}", "seed": state["seed"], "data": data, "model": model,
            "train": train_spec(state, task, steps)}


def export(state: dict, task: str, steps: int) -> dict:
    """``{"type": "export", "yaml", "command", "notes"}`` for the page."""
    spec = run_spec(state, task, steps)
    notes = []
    if state["regularization"] == "l1" and state["reg_rate"] > 0:
        notes.append("L1 regularization has no trainlab train key (train.weight_decay is L2): it is left out.")
    if state["schedule"] != "none":
        notes.append(f"The page's {state['schedule']} schedule spans 10,000 steps; the exported run's spans its "
                     f"{spec['train']['steps']} steps.")
    if state["dataset"] != "xor4":
        notes.append("trainlab train splits the data 60/20/20 (train/val/test) by the data set's seed; the page "
                     f"used {state['train_ratio']}% train / {100 - state['train_ratio']}% test.")
    text = yaml.safe_dump(spec, sort_keys=False, default_flow_style=None)
    return {"type": "export", "yaml": text, "command": "trainlab train playground.yaml", "notes": notes,
            "spec": spec}
