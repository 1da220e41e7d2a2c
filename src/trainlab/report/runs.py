"""Read a finished run directory of any kind as plain data, for figures and reports.

    run = load("runs/xor-deep-relu-...")
    run["kind"]      # "train" | "ensemble" | "diagnose" | "lab" | "lectures"
    run["curves"]    # {"step": [...], "loss": [...], "val_loss": [...], "val_accuracy": [...]}
    run["members"]   # ensembles: each member's curves, {"loss": [[...], ...], ...}
    run["config"], run["final"], run["figures"]

What each kind leaves behind (and what ``load`` looks for, in this order):

    lectures  results.json with "labs"               (trainlab lectures)
    lab       result.json with "lab" and "claims"    (trainlab lab run)
    diagnose  diagnosis.json                          (trainlab diagnose)
    ensemble  result.json with "members", config.yaml (trainlab ensemble --out)
    train     result.json with "final", config.yaml, metrics.jsonl (trainlab train)

A folder that is none of these, or whose files are damaged, is a ``ConfigError`` naming the
folder and what is missing or broken (one line on the command line).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import yaml

from trainlab.errors import ConfigError

KINDS = ("train", "ensemble", "diagnose", "lab", "lectures")
CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "lr")


def load(directory: str | Path) -> dict:
    """The run in ``directory`` as a dict (see the module docstring)."""
    d = Path(directory)
    if not d.exists():
        raise ConfigError(f"{d}: no such run directory")
    if not d.is_dir():
        raise ConfigError(f"{d}: not a folder; give a run directory (trainlab train / ensemble / diagnose / lab run / lectures)")
    if (d / "results.json").exists():
        report = _json(d / "results.json")
        if not isinstance(report.get("labs"), list):
            raise ConfigError(f"{d}/results.json: not a lectures report (no 'labs' list)")
        return {"kind": "lectures", "dir": d, "name": d.name, "report": report}
    if (d / "diagnosis.json").exists():
        return _diagnose(d, _json(d / "diagnosis.json"))
    if not (d / "result.json").exists():
        raise ConfigError(f"{d}: not a run directory: no result.json, results.json or diagnosis.json "
                          f"(valid: a folder written by trainlab {', '.join(KINDS)})")
    result = _json(d / "result.json")
    if "lab" in result and "claims" in result:
        return {"kind": "lab", "dir": d, "name": result["lab"], "result": result}
    if "members" in result and "test" in result:
        return _ensemble(d, result)
    if "final" in result:
        return _train(d, result)
    raise ConfigError(f"{d}/result.json: not a result trainlab writes (no 'final', 'members' or 'lab' key)")


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}: damaged, not readable JSON ({type(e).__name__}: {str(e)[:80]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: damaged: expected a JSON object, got {type(data).__name__}")
    return data


def _config(d: Path) -> dict:
    path = d / "config.yaml"
    if not path.exists():
        raise ConfigError(f"{d}: incomplete run: config.yaml is missing")
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: damaged, not readable YAML ({type(e).__name__})") from None
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: damaged: expected a mapping")
    return spec


def metrics(d: Path) -> list[dict]:
    """The lines of ``metrics.jsonl`` (a half-written last line, from a killed run, is dropped)."""
    path = d / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise ConfigError(f"{path}: damaged at line {i + 1} (not JSON)") from None
    return rows


def _curves(rows: list[dict]) -> dict:
    out = {"step": [r["step"] for r in rows]}
    for key in CURVE_KEYS:
        if any(key in r for r in rows):
            out[key] = [_num(r.get(key)) for r in rows]
    return out


def _figures(d: Path, names=None) -> list[Path]:
    figs = sorted((d / "figures").glob("*.png")) if (d / "figures").is_dir() else []
    return figs + [Path(p) for p in (names or []) if Path(p).exists() and Path(p) not in figs]


def _train(d: Path, result: dict) -> dict:
    rows = metrics(d)
    return {"kind": "train", "dir": d, "name": result.get("name", d.name), "config": _config(d),
            "final": dict(result["final"]), "curves": _curves(rows), "figures": _figures(d),
            "info": {k: result.get(k) for k in ("steps", "epochs", "seconds", "parameters", "device", "stopped")}}


def _ensemble(d: Path, result: dict) -> dict:
    rows = metrics(d)
    members = {}
    for key in CURVE_KEYS:
        per = [r["per_model"][key] for r in rows if key in r.get("per_model", {})]
        if per:
            members[key] = [list(col) for col in zip(*per)]  # (K, points)
    test = result["test"]
    metric = test.get("metric", "accuracy")
    final = {f"test_{metric} (ensemble)": test.get("ensemble"), f"test_{metric} (member mean)": test.get("member_mean"),
             f"test_{metric} (member std)": test.get("member_std"), "members": result.get("members")}
    return {"kind": "ensemble", "dir": d, "name": result.get("name", d.name), "config": _config(d), "final": final,
            "curves": _curves(rows), "members": members, "figures": _figures(d),
            "info": {k: result.get(k) for k in ("steps", "seconds", "mode", "combine", "device")}}


def _diagnose(d: Path, diag: dict) -> dict:
    t = diag.get("training")
    if not isinstance(t, dict):
        raise ConfigError(f"{d}/diagnosis.json: damaged: no 'training' section")
    curves = {"step": list(t.get("loss_steps", [])), "loss": [_num(v) for v in t.get("losses", [])]}
    final = {k: t[k] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy") if k in t}
    final["findings"] = len(diag.get("findings", []))
    data = diag.get("data")
    config = {"target": diag.get("target"), "data": {"name": data.get("name") if isinstance(data, dict) else data},
              "train": {k: t.get(k) for k in ("optimizer", "lr", "batch_size", "steps", "loss")}}
    return {"kind": "diagnose", "dir": d, "name": d.name, "config": config, "final": final, "curves": curves,
            "figures": _figures(d, [d / Path(p).name for p in diag.get("figures", {}).values()
                                    if str(p).endswith(".png")]),
            "info": {"steps": t.get("steps"), "seconds": diag.get("seconds"),
                     "findings": [f.get("kind") for f in diag.get("findings", [])]}}


def _num(v) -> float:
    return math.nan if v is None or isinstance(v, str) else float(v)


def flatten(config: dict, prefix: str = "") -> dict:
    """A nested config as dotted keys: ``{"train": {"lr": 0.1}}`` -> ``{"train.lr": 0.1}``."""
    out = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
