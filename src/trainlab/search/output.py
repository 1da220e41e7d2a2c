"""The search directory's tables and record, read back from the studies in the storage (so a
continued or shared study's files show every worker's trials)."""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path

import optuna
from trainlab.atomic import atomic_write, write_json, write_yaml
from trainlab.search.space import Space
from trainlab.search.trials import ATTR

RESULT_FILE, RECORD_FILE = "result.json", "search.json"


def rows(store, record: dict) -> list[dict]:
    """One dict per trial of every stage, in stage then trial order."""
    out = []
    for entry in record["stages"]:
        study = optuna.load_study(study_name=entry["study"], storage=store)
        for t in study.get_trials(deepcopy=False):
            a = t.user_attrs.get(ATTR, {})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                retried = optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t)
            out.append({"stage": entry["stage"], "study": entry["study"], "trial": t.number,
                        "state": t.state.name.lower(), "value": _num(t.value), "fold_std": a.get("fold_std"),
                        "folds": a.get("fold_values"), "mode": a.get("mode"), "seconds": a.get("seconds"),
                        "loss_first": a.get("loss_first"), "loss_last": a.get("loss_last"),
                        "diverged": a.get("diverged"), "retried_from": retried, "params": dict(t.params),
                        "curve": a.get("curve")})
    return out


def best_of(record: dict, table: list[dict]) -> dict | None:
    """The best complete trial of the latest stage that has one (stages differ in length, so
    values are compared within a stage only)."""
    sign = 1 if record["direction"] == "maximize" else -1
    for entry in reversed(record["stages"]):
        done = [r for r in table if r["stage"] == entry["stage"] and r["state"] == "complete"
                and isinstance(r["value"], float)]
        if done:
            b = max(done, key=lambda r: sign * r["value"])
            return {"value": b["value"], "params": b["params"], "trial": b["trial"], "stage": b["stage"],
                    "study": b["study"], "fold_std": b["fold_std"]}
    return None


def write(out: Path, record: dict, store, spec: dict, unit: str, plan: list[int], interrupted: bool) -> dict:
    table = rows(store, record)
    write_json(out / "trials.json", table)
    atomic_write(out / "trials.csv", lambda fh: fh.write(to_csv(table).encode()))
    best = best_of(record, table)
    if best is not None:
        stage = best["stage"] - 1
        space = Space.parse(record["stages"][stage]["space"])
        from trainlab.train.spec import apply_overrides

        best_spec = apply_overrides(space.apply(spec, best["params"]), [f"train.{unit}={plan[-1]}"])
        best_spec["name"] = f"{spec['name']}-best"
        write_yaml(out / "best.yaml", best_spec)
    counts = {s: sum(r["state"] == s for r in table) for s in ("complete", "pruned", "fail", "running", "waiting")}
    stacked = sum(1 for r in table if (r["mode"] or "").startswith("stacked"))
    record.update({"best": best, "complete": counts["complete"], "pruned": counts["pruned"],
                   "failed": counts["fail"], "running": counts["running"], "stacked": stacked,
                   "interrupted": interrupted, "out": str(out)})
    write_json(out / RECORD_FILE, record)
    return {"best": best, "complete": counts["complete"], "pruned": counts["pruned"], "failed": counts["fail"],
            "stacked": stacked, "storage": record["storage"], "seconds": None, "stages": record["stages"],
            "metric": record["metric"], "direction": record["direction"], "out": str(out), "interrupted": interrupted}


def write_result(out: Path, result: dict) -> None:
    write_json(out / RESULT_FILE, result)


def to_csv(table: list[dict]) -> str:
    keys = sorted({k for r in table for k in r["params"]})
    cols = ["stage", "trial", "state", "value", "fold_std", "mode", "seconds", "loss_first", "loss_last",
            "diverged", "retried_from"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols + keys)
    for r in table:
        w.writerow([_cell(r[c]) for c in cols] + [_cell(r["params"].get(k)) for k in keys])
    return buf.getvalue()


def _num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else str(v)


def _cell(v) -> str:
    return "" if v is None else str(v)


def load(out: str | Path) -> tuple[dict, list[dict]]:
    """``(search.json, trials.json)`` of a search directory (what the report draws from)."""
    import json

    out = Path(out)
    return json.loads((out / RECORD_FILE).read_text()), json.loads((out / "trials.json").read_text())

