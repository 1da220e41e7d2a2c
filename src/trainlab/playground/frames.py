"""What the page draws, computed from a ``Session``: the output heatmap over the plane, a
small heatmap per hidden neuron, the weights (edges), the loss curves and the diagnostics.

Pictures travel as base64 bytes (one uint8 per pixel): the 100 x 100 output map is 10 kB, so
a frame stays small enough for 20+ frames a second over a local WebSocket.
"""

from __future__ import annotations

import base64
import functools
import math
import time

import torch
from torch import nn

from trainlab.diagnose import Evidence, find
from trainlab.nn.layers import Residual

GRID = 100  # output heatmap: GRID x GRID pixels
NEURON_EVERY = 5  # neuron heatmaps: every 5th pixel -> 20 x 20
HISTORY_MAX = 400  # loss-curve points kept (halved when full)
FINDINGS_EVERY_S = 1.0
# the rules that read the probe log alone (the run-level ones need a finished run's summary)
LOG_RULES = ["vanishing_gradient", "exploding_gradient", "dead_units", "saturated_units",
             "collapsing_activations", "exploding_activations", "symmetric_units", "nonfinite"]


def to_b64(values: torch.Tensor) -> str:
    return base64.b64encode(values.to(torch.uint8).contiguous().numpy().tobytes()).decode("ascii")


def to_bytes(v: torch.Tensor) -> torch.Tensor:
    """Values in [0, 1] -> bytes 0..255."""
    return (v.clamp(0, 1) * 255).round()


@functools.lru_cache(maxsize=16)
def grid(bounds: tuple[float, float], size: int = GRID) -> torch.Tensor:
    """(size*size, 2) raw points at pixel centres, row-major from the top-left corner (x1 to the
    right, x2 up). Cached: read-only."""
    lo, hi = bounds
    c = lo + (torch.arange(size, dtype=torch.float32) + 0.5) * (hi - lo) / size
    return torch.stack(torch.meshgrid(c.flip(0), c, indexing="ij")[::-1], dim=-1).reshape(-1, 2)


def _maps(h: torch.Tensor) -> dict:
    """(GRID*GRID, units) values -> every NEURON_EVERY-th pixel, each unit scaled by its own
    largest magnitude to [-1, 1], as bytes: ``{"size", "scale", "data"}``."""
    h = h.reshape(GRID, GRID, -1)[::NEURON_EVERY, ::NEURON_EVERY].permute(2, 0, 1)  # (units, 20, 20)
    scale = h.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return {"size": h.shape[1], "scale": [float(f"{v:.3g}") for v in scale.flatten().tolist()],
            "data": to_b64(to_bytes((h / scale + 1) / 2))}


def _main_linear(module: nn.Module) -> nn.Linear | None:
    """The weight layer of one hidden layer's first item (dense, maxout, or a residual body)."""
    if isinstance(module, Residual):
        module = module.body
    while isinstance(module, nn.Sequential):
        module = module[0]
    return module if isinstance(module, nn.Linear) else None


def _weights(session) -> list[list[list[float]]]:
    """Per weight layer (hidden layers, then the output), its (out, in) matrix, 3 digits."""
    seq = session.model.layers
    starts = [0] + [e + 1 for e in session.layer_ends]
    out = []
    for i in starts:
        lin = _main_linear(seq[i])
        if lin is None:
            out.append([])
            continue
        w = lin.weight.detach()
        units = session.state["layers"][len(out)]["units"] if len(out) < len(session.layer_ends) else w.shape[0]
        if w.shape[0] != units:  # maxout: (units * pieces, in) -> mean over the pieces
            w = w.reshape(units, -1, w.shape[1]).mean(1)
        out.append([[float(f"{v:.3g}") for v in row] for row in w.tolist()])
    return out


@torch.no_grad()
def _pictures(session) -> tuple[dict, dict, list[dict]]:
    """The output map, the input features' maps and each hidden layer's neuron maps, from one
    pass over the grid."""
    pts = session.points
    x = inputs = pts.features.transform(grid(tuple(pts.bounds)))
    session.model.eval()
    ends, captured = set(session.layer_ends), []
    for i, module in enumerate(session.model.layers):
        x = module(x)
        if i in ends:
            captured.append(x)
    return _output_map(session, x), _maps(inputs), [_maps(h) for h in captured]


def _output_map(session, out: torch.Tensor) -> dict:
    pic = {"size": GRID}
    if session.points.task == "regression":
        pic.update(kind="regression", data=to_b64(to_bytes((out[:, 0] + 1) / 2)))
    elif session.loss_name == "binary_cross_entropy":
        pic.update(kind="binary", data=to_b64(to_bytes(torch.sigmoid(out[:, 0]))))
    elif session.loss_name == "mse" and out.shape[1] == 1:
        pic.update(kind="binary", data=to_b64(to_bytes(out[:, 0])))
    else:
        prob = torch.softmax(out, dim=1) if session.loss_name == "cross_entropy" else out.clamp(0, 1)
        if out.shape[1] == 2:
            pic.update(kind="binary", data=to_b64(to_bytes(prob[:, 1])))
        else:
            conf, cls = prob.max(dim=1)
            pic.update(kind="multi", data=to_b64(to_bytes(conf)), classes=to_b64(cls))
    return pic


def _num(v) -> float | None:
    return None if v is None or not math.isfinite(v) else float(f"{v:.4g}")


def diagnostics(session) -> dict:
    """The latest probe record as rows for the page, and the findings (re-run every second)."""
    log = session.probes.log
    rec = log.records[-1] if log.records else None
    rows, acts = [], []
    if rec is not None:
        first = log.records[0]["params"]  # step 1: the gradient at init, before anything learned
        for name in log.param_order:
            p = rec["params"].get(name)
            if p is not None:
                rows.append({"name": name, "type": log.layers[name]["type"], "grad_norm": _num(p["grad_norm"]),
                             "grad_first": _num(first.get(name, {}).get("grad_norm")),
                             "grad_rel": _num(p["grad_rel"]), "update_ratio": _num(p["update_ratio"])})
        for name, a in rec["acts"].items():
            if log.layers.get(name.split("#")[0], {}).get("rule"):
                acts.append({"name": name, "type": log.layers[name.split("#")[0]]["type"],
                             "dead": _num(a["dead"]), "saturated": _num(a["saturated"]), "std": _num(a["std"])})
    now = time.monotonic()
    if rec is not None and now - session._findings_at > FINDINGS_EVERY_S:
        session._findings_at = now
        session.findings = [{"kind": f.kind, "severity": f.severity, "message": f.message, "fix": f.fix}
                            for f in find(Evidence(log=log), LOG_RULES)]
    return {"step": rec["step"] if rec else None, "layers": rows, "activations": acts, "findings": session.findings}


def frame(session, with_pictures: bool = True) -> dict:
    """One ``frame`` event: step, losses, history, pictures, weights, diagnostics."""
    tr, te = session.losses()
    h = session.history
    if not h or h[-1][0] != session.step_count:
        h.append([session.step_count, _num(tr), _num(te)])
        if len(h) > HISTORY_MAX:
            del h[1::2]
    msg = {"type": "frame", "step": session.step_count, "train_loss": _num(tr), "test_loss": _num(te),
           "history": h[-HISTORY_MAX:], "playing": session.playing, "diverged": session.diverged,
           "diagnostics": diagnostics(session)}
    if with_pictures:
        msg["output"], msg["inputs"], msg["neurons"] = _pictures(session)
        msg["weights"] = _weights(session)
    return msg
