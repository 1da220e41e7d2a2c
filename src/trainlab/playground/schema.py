"""What a page may say to the server, checked before anything acts on it.

Every message is one JSON object ``{"type": ..., ...}``. Unknown types, unknown fields, wrong
types and out-of-range values raise ``ConfigError`` naming the field, the value and what is
allowed; the server turns that into an ``error`` event and keeps the connection. Nothing from
the page is executed or unpickled: the text is parsed with ``json.loads`` and every value is
compared against the tables below.

The limits bound the work one page can ask for: layers x units (the net's size), points (the
data), steps per message and per second, message size.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from trainlab.data.preprocess import FEATURES
from trainlab.errors import ConfigError
from trainlab.nn.activations import ACTIVATIONS
from trainlab.train.optim import OPTIMIZERS

LIMITS = {
    "max_layers": 12,  # hidden layers (the lecture's deep net has 10)
    "max_units": 16,  # neurons per hidden layer
    "max_points": 1000,  # user points (clicked or uploaded)
    "max_classes": 6,  # classes of user points
    "max_samples": 1000,  # generated points
    "max_step_n": 1000,  # steps one "step" message may ask for
    "max_seed_steps": 5000,  # steps of the 8-seed run
    "max_message_bytes": 262_144,
    "steps_per_s": 3000,  # training steps per second per page, at most
    "frames_per_s": 30,
}

# data sets: name -> (trainlab data set, task); "custom" is the page's own points
DATASETS = {
    "circle": ("circle", "classification"), "xor": ("xor_2d", "classification"),
    "gauss": ("gauss", "classification"), "spiral": ("spiral", "classification"),
    "xor4": ("xor", "classification"), "reg_plane": ("reg_plane", "regression"),
    "reg_gauss": ("reg_gauss", "regression"), "custom": (None, "classification"),
}
# weight initializers offered, by page name -> trainlab initializer spec (None: PyTorch's default)
INITS = {
    "tf_uniform": {"uniform": {"low": -0.5, "high": 0.5}},  # TensorFlow Playground's fixed init
    "zeros": "zeros", "uniform": {"uniform": {"low": -1.0, "high": 1.0}},
    "normal_small": {"normal": {"std": 0.01}}, "xavier": "xavier_uniform", "he": "he_normal",
    "lecun": "lecun_normal", "orthogonal": "orthogonal", "lsuv": "lsuv",
    # Lecture 10's first answer: a deep belief net, RBMs trained greedily on the page's points
    # (Gaussian visibles: the inputs are real numbers), then fine-tuned (trainlab.pretrain)
    "rbm": {"dbn": {"visible": "gaussian", "epochs": 20, "lr": 0.01, "batch_size": 16}},
    "default": None,
}
ACTIVATION_CHOICES = ACTIVATIONS.names()
LOSSES = ("auto", "binary_cross_entropy", "cross_entropy", "mse")
SCHEDULES = ("none", "step", "exponential", "cosine", "warmup")
REGULARIZATION = ("none", "l1", "l2")

LAYER_DEFAULT = {"units": 4, "activation": "tanh", "init": "tf_uniform", "dropout": 0.0,
                 "batchnorm": False, "residual": False}
DEFAULT_STATE = {
    "dataset": "circle", "noise": 0, "train_ratio": 50, "n_samples": 500, "batch_size": 10, "seed": 0,
    "features": ["x1", "x2"],
    "layers": [dict(LAYER_DEFAULT), {**LAYER_DEFAULT, "units": 2}],
    "output_init": "tf_uniform", "loss": "auto", "optimizer": "sgd", "lr": 0.03, "schedule": "none",
    "regularization": "none", "reg_rate": 0.0, "points": [],
}
# fields whose change keeps the weights (only the optimizer is rebuilt); any other change resets
OPTIMIZER_FIELDS = frozenset({"lr", "optimizer", "schedule", "regularization", "reg_rate", "batch_size"})
MESSAGE_FIELDS = {
    "set": {"state"}, "play": set(), "pause": set(), "reset": set(), "step": {"n"}, "export": set(),
    "seeds": {"steps"}, "csv": {"text"}, "ping": set(), "ack": set(),
}


def _int(v: Any, lo: int, hi: int, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ConfigError(f"{where}: expected an integer in [{lo}, {hi}], got {_show(v)}")
    return v


def _float(v: Any, lo: float, hi: float, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise ConfigError(f"{where}: expected a number in [{lo:g}, {hi:g}], got {_show(v)}")
    return float(v)


def _choice(v: Any, choices, where: str) -> str:
    if not isinstance(v, str) or v not in choices:
        raise ConfigError(f"{where}: unknown value {_show(v)}; valid: {', '.join(choices)}")
    return v


def _bool(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f"{where}: expected true or false, got {_show(v)}")
    return v


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _mapping(v: Any, fields, where: str) -> dict:
    if not isinstance(v, dict):
        raise ConfigError(f"{where}: expected an object, got {_show(v)}")
    unknown = [k for k in v if k not in fields]
    if unknown:
        raise ConfigError(f"{where}: unknown field {_show(unknown[0])}; valid fields: {', '.join(fields)}")
    return v


def _layer(v: Any, where: str) -> dict:
    v = _mapping(v, LAYER_DEFAULT, where)
    out = {**LAYER_DEFAULT, **v}
    return {"units": _int(out["units"], 1, LIMITS["max_units"], f"{where}.units"),
            "activation": _choice(out["activation"], ACTIVATION_CHOICES, f"{where}.activation"),
            "init": _choice(out["init"], INITS, f"{where}.init"),
            "dropout": _float(out["dropout"], 0.0, 0.9, f"{where}.dropout"),
            "batchnorm": _bool(out["batchnorm"], f"{where}.batchnorm"),
            "residual": _bool(out["residual"], f"{where}.residual")}


def _features(v: Any, where: str) -> list[str]:
    if not isinstance(v, list) or not 1 <= len(v) <= len(FEATURES):
        raise ConfigError(f"{where}: expected a list of 1 to {len(FEATURES)} names from {', '.join(FEATURES)}, "
                          f"got {_show(v)}")
    out = [_choice(f, FEATURES, f"{where}[{i}]") for i, f in enumerate(v)]
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: a feature is listed twice in {_show(v)}")
    return [f for f in FEATURES if f in out]  # canonical order: the network's inputs


def point(v: Any, where: str) -> list:
    """One user point [x1, x2, label]: coordinates in [-100, 100], an integer class label."""
    if not isinstance(v, list) or len(v) != 3:
        raise ConfigError(f"{where}: expected [x1, x2, label], got {_show(v)}")
    return [_float(v[0], -100, 100, f"{where}[0]"), _float(v[1], -100, 100, f"{where}[1]"),
            _int(v[2], 0, LIMITS["max_classes"] - 1, f"{where}[2] (class)")]


def _points(v: Any, where: str) -> list:
    if not isinstance(v, list) or len(v) > LIMITS["max_points"]:
        raise ConfigError(f"{where}: expected a list of at most {LIMITS['max_points']} points, got "
                          f"{_show(v) if not isinstance(v, list) else f'{len(v)} points'}")
    return [point(p, f"{where}[{i}]") for i, p in enumerate(v)]


CHECKS = {
    "dataset": lambda v, w: _choice(v, DATASETS, w),
    "noise": lambda v, w: _int(v, 0, 50, w),
    "train_ratio": lambda v, w: _int(v, 10, 90, w),
    "n_samples": lambda v, w: _int(v, 20, LIMITS["max_samples"], w),
    "batch_size": lambda v, w: _int(v, 1, 1000, w),
    "seed": lambda v, w: _int(v, 0, 2**31 - 1, w),
    "features": _features,
    "layers": lambda v, w: _layers(v, w),
    "output_init": lambda v, w: _choice(v, INITS, w),
    "loss": lambda v, w: _choice(v, LOSSES, w),
    "optimizer": lambda v, w: _choice(v, OPTIMIZERS.names(), w),
    "lr": lambda v, w: _float(v, 1e-5, 10.0, w),
    "schedule": lambda v, w: _choice(v, SCHEDULES, w),
    "regularization": lambda v, w: _choice(v, REGULARIZATION, w),
    "reg_rate": lambda v, w: _float(v, 0.0, 10.0, w),
    "points": _points,
}
assert set(CHECKS) == set(DEFAULT_STATE)


def _layers(v: Any, where: str) -> list[dict]:
    if not isinstance(v, list) or len(v) > LIMITS["max_layers"]:
        raise ConfigError(f"{where}: expected a list of at most {LIMITS['max_layers']} layers, got "
                          f"{_show(v) if not isinstance(v, list) else f'{len(v)} layers'}")
    return [_layer(layer, f"{where}[{i}]") for i, layer in enumerate(v)]


def check_changes(changes: Any) -> dict:
    """A partial state from the page, every field checked; returns the checked values."""
    changes = _mapping(changes, CHECKS, "state")
    return {k: CHECKS[k](v, f"state.{k}") for k, v in changes.items()}


def merge(state: dict, changes: dict) -> dict:
    """The state after ``changes`` (already checked), with the cross-field rules enforced."""
    new = {**copy.deepcopy(state), **copy.deepcopy(changes)}
    if new["dataset"] == "custom" and len({p[2] for p in new["points"]}) > 2 and new["loss"] == "binary_cross_entropy":
        raise ConfigError("state.loss: binary_cross_entropy needs two classes; the points have more "
                          "(use cross_entropy, mse or auto)")
    if DATASETS[new["dataset"]][1] == "regression" and new["loss"] in ("binary_cross_entropy", "cross_entropy"):
        raise ConfigError(f"state.loss: {new['loss']} needs class labels; {new['dataset']} is a regression "
                          f"set (use mse or auto)")
    return new


def default_state() -> dict:
    return copy.deepcopy(DEFAULT_STATE)


def parse(text: Any) -> dict:
    """One message from the page -> ``{"type": ..., **fields}``, checked; ConfigError if bad."""
    if isinstance(text, (bytes, bytearray)):
        raise ConfigError("message: binary frames are not accepted; send JSON text")
    if not isinstance(text, str):
        raise ConfigError(f"message: expected JSON text, got {type(text).__name__}")
    if len(text.encode("utf-8", "surrogatepass")) > LIMITS["max_message_bytes"]:
        raise ConfigError(f"message: {len(text)} characters is over the limit of {LIMITS['max_message_bytes']} bytes")
    try:
        msg = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise ConfigError(f"message: not valid JSON ({str(e)[:80]})") from None
    if not isinstance(msg, dict):
        raise ConfigError(f"message: expected a JSON object with a 'type', got {_show(msg)}")
    kind = _choice(msg.get("type"), MESSAGE_FIELDS, "message.type")
    _mapping({k: v for k, v in msg.items() if k != "type"}, MESSAGE_FIELDS[kind], f"message {kind!r}")
    if kind == "set":
        if "state" not in msg:
            raise ConfigError("message 'set': missing field 'state'")
        return {"type": kind, "state": check_changes(msg["state"])}
    if kind == "step":
        return {"type": kind, "n": _int(msg.get("n", 1), 1, LIMITS["max_step_n"], "message 'step'.n")}
    if kind == "seeds":
        return {"type": kind, "steps": _int(msg.get("steps", 500), 10, LIMITS["max_seed_steps"], "message 'seeds'.steps")}
    if kind == "csv":
        text = msg.get("text")
        if not isinstance(text, str):
            raise ConfigError(f"message 'csv'.text: expected the file's text, got {_show(text)}")
        return {"type": kind, "text": text}
    return {"type": kind}


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def choices() -> dict:
    """What the page offers in its menus (sent once, in the hello event)."""
    return {"datasets": list(DATASETS), "features": list(FEATURES), "activations": ACTIVATION_CHOICES,
            "inits": list(INITS), "losses": list(LOSSES), "optimizers": OPTIMIZERS.names(),
            "schedules": list(SCHEDULES), "regularization": list(REGULARIZATION)}
