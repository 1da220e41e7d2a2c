"""What the probes collected: one record per sampled step, plain Python numbers (JSON-ready).

    record = {"step": 10, "loss": 2.1,
              "acts":   {"layers.1": {"mean", "std", "min", "max", "dead", "saturated"}, ...},
              "hist":   {"layers.1": [counts, ...]},          # histogram steps only; range = min..max
              "params": {"layers.0": {"grad_norm", "grad_std", "grad_rel", "weight_norm",
                                      "weight_std", "update_ratio", "row_spread"}, ...}}

Activation keys are module names in the order the forward pass produced them; a module called
twice in one forward (shared weights) gives ``name`` and ``name#2``. ``grad_rel`` is a layer's
gradient norm over the output layer's (the last parameterised layer to run): the
vanishing / exploding index.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PARAM_FIELDS = ("grad_norm", "grad_std", "grad_rel", "weight_norm", "weight_std", "update_ratio",
                "row_spread")


class ProbeLog:
    def __init__(self):
        self.records: list[dict] = []
        self.layers: dict[str, dict] = {}  # name -> {"type", "rule", "params", "activation": bool}
        self.act_order: list[str] = []  # activation keys, in forward order
        self.param_order: list[str] = []  # parameterised layers, in forward order (unused ones last)
        self.output_layer: str | None = None  # the last parameterised layer the forward ran

    def __len__(self) -> int:
        return len(self.records)

    @property
    def steps(self) -> list[int]:
        return [r["step"] for r in self.records]

    def add(self, record: dict) -> None:
        for key in record["acts"]:
            if key not in self.act_order:
                self.act_order.append(key)
        self.records.append(record)

    def series(self, section: str, key: str, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one field of one layer over the sampled steps (NaN where absent)."""
        steps = np.array(self.steps, dtype=np.int64)
        vals = np.array([_num(r.get(section, {}).get(key, {}).get(field)) for r in self.records])
        return steps, vals

    def summary(self, section: str, key: str, field: str, how: str = "median", last: int | None = None,
                first: int | None = None) -> float:
        """A robust summary over the run (or its ``last`` / ``first`` samples), ignoring NaN."""
        v = self.series(section, key, field)[1]
        v = v[-last:] if last else v
        v = v[:first] if first else v
        v = v[np.isfinite(v)]
        if not len(v):
            return math.nan
        return float({"median": np.median, "max": np.max, "min": np.min, "last": lambda a: a[-1]}[how](v))

    def hist_records(self) -> list[dict]:
        return [r for r in self.records if r.get("hist")]

    def layer_table(self) -> list[dict]:
        """One row per watched layer (forward order) with median statistics over the run."""
        rows = []
        for key in self.act_order:
            base = key.split("#")[0]
            info = self.layers.get(base, {})
            row = {"name": key, "type": info.get("type"), "rule": info.get("rule"), "kind": "activation"}
            for f in ("mean", "std", "min", "max", "dead", "saturated"):
                row[f] = json_safe(self.summary("acts", key, f))
            if key == base and base in self.param_order:
                row["kind"] = "layer"
                row["parameters"] = info.get("params")
                for f in PARAM_FIELDS:
                    row[f] = json_safe(self.summary("params", base, f))
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        return {"layers": self.layers, "act_order": self.act_order, "param_order": self.param_order,
                "output_layer": self.output_layer, "records": json_safe(self.records)}

    @classmethod
    def from_dict(cls, d: dict) -> "ProbeLog":
        log = cls()
        log.layers, log.act_order, log.param_order = d["layers"], d["act_order"], d["param_order"]
        log.output_layer, log.records = d.get("output_layer"), d["records"]
        return log


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def json_safe(obj: Any) -> Any:
    """NaN/inf -> None, recursively, so the output is strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
