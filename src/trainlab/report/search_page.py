"""Figures and one self-contained HTML page for a search directory (``trainlab.search``).

    write("runs/search-digits")   # OUT/figures/*.png and OUT/search.html

Figures: Optuna's matplotlib optimization history (every stage), parallel coordinates and
parameter importances (the last stage), and CS231n's scatter of learning rate against
regularization coloured by validation accuracy (every stage, log axes).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import optuna

from trainlab.atomic import atomic_write
from trainlab.report.html import CSS, _e, _figure, _table, _value
from trainlab.report.plotting import figure, save

PAGE = "search.html"
LR, REG = "train.lr", "train.weight_decay"


def write(out: str | Path, storage: str | None = None) -> Path:
    """Draw the figures and write ``OUT/search.html``; returns the page's path."""
    from trainlab.search import load, open_storage

    out = Path(out)
    record, table = load(out)
    store, _ = open_storage(storage if storage is not None else _journal(record, out), out)
    studies = [optuna.load_study(study_name=s["study"], storage=store) for s in record["stages"]]
    figs = figures(out / "figures", record, table, studies)
    page = render(record, table, figs, out)
    atomic_write(out / PAGE, lambda fh: fh.write(page.encode()))
    return out / PAGE


def _journal(record: dict, out: Path) -> str | None:
    kind, _, where = record["storage"].partition(" ")
    return where if kind == "journal" else None


def figures(directory: Path, record: dict, table: list[dict], studies: list) -> list[tuple[str, str]]:
    directory.mkdir(parents=True, exist_ok=True)
    metric = record["metric"]
    done = [s for s in studies if any(t.state.name == "COMPLETE" for t in s.get_trials(deepcopy=False))]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if done:
            out.append(_optuna_fig(lambda: optuna.visualization.matplotlib.plot_optimization_history(
                done if len(done) > 1 else done[0], target_name=metric), directory / "history.png",
                f"Optimization history: {metric} of every trial and the best so far, per stage."))
        scatter = _scatter(table, record, directory / "lr_reg.png")
        if scatter:
            out.append(scatter)
        if done and len(done[-1].best_trial.params) > 1:
            out.append(_optuna_fig(lambda: optuna.visualization.matplotlib.plot_parallel_coordinate(
                done[-1], target_name=metric), directory / "parallel.png",
                f"Parallel coordinates of the last stage's trials, coloured by {metric}."))
            if sum(t.state.name == "COMPLETE" for t in done[-1].get_trials(deepcopy=False)) >= 3:
                out.append(_optuna_fig(lambda: optuna.visualization.matplotlib.plot_param_importances(
                    done[-1], target_name=metric), directory / "importances.png",
                    "Parameter importances in the last stage (Optuna's PED-ANOVA evaluator)."))
    return [(f"figures/{name}", caption) for name, caption in out if name]


def _optuna_fig(draw, path: Path, caption: str) -> tuple[str, str]:
    import matplotlib

    try:
        with matplotlib.rc_context():  # Optuna's plots switch to the ggplot style; keep it to themselves
            ax = draw()
    except (ValueError, RuntimeError, ImportError) as e:  # too few trials for this plot
        return "", f"{path.stem}: {e}"
    fig = (ax.flat[0] if isinstance(ax, np.ndarray) else ax).figure
    fig.set_size_inches(9.0, 4.8)
    return save(fig, path).name, caption


def _scatter(table: list[dict], record: dict, path: Path) -> tuple[str, str] | None:
    """CS231n's picture: each trial at (learning rate, regularization), coloured by its score."""
    pts = [r for r in table if LR in r["params"] and REG in r["params"]]
    if not pts:
        return None
    fig, axes = figure(1, width=6.0, height=4.4)
    ax = axes[0][0]
    good = [r for r in pts if isinstance(r["value"], float) and math.isfinite(r["value"])]
    bad = [r for r in pts if r not in good]
    markers = "osD^v<>"
    vmin = min((r["value"] for r in good), default=0.0)
    vmax = max((r["value"] for r in good), default=1.0)
    sc = None
    for stage in sorted({r["stage"] for r in good}):
        rs = [r for r in good if r["stage"] == stage]
        sc = ax.scatter([r["params"][LR] for r in rs], [r["params"][REG] for r in rs], c=[r["value"] for r in rs],
                        cmap="viridis", vmin=vmin, vmax=vmax, marker=markers[(stage - 1) % len(markers)], s=28,
                        edgecolors="k", linewidths=0.3, label=f"stage {stage}")
    if bad:
        ax.scatter([r["params"][LR] for r in bad], [r["params"][REG] for r in bad], marker="x", color="C3",
                   label="failed / pruned / diverged")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("L2 regularization (weight decay)")
    ax.legend(fontsize=7)
    if sc is not None:
        fig.colorbar(sc, ax=ax, label=record["metric"])
    ax.set_title("Learning rate vs regularization (CS231n)", fontsize=9)
    return save(fig, path).name, (f"Every trial at its learning rate and L2 strength (log axes), coloured by "
                                  f"{record['metric']}; markers by stage, crosses for trials without a score.")


def render(record: dict, table: list[dict], figs: list[tuple[str, str]], root: Path) -> str:
    best = record.get("best") or {}
    summary = {"study": record["study"], "storage": record["storage"], "metric": f"{record['metric']} ({record['direction']})",
               "sampler": record["sampler"], "pruner": record["pruner"], "folds": record["folds"],
               "trials": f"{record['complete']} complete, {record['pruned']} pruned, {record['failed']} failed, "
                         f"{record['stacked']} trained stacked",
               "best": f"{best.get('value'):.4f} (stage {best.get('stage')}, trial {best.get('trial')})" if best else "—",
               "best parameters": best.get("params") if best else None}
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>search {_e(record['study'])}</title><style>{CSS}</style></head><body>",
             f"<h1>Hyperparameter search: {_e(record['study'])}</h1>",
             "<dl class='setup'>" + "".join(f"<dt>{_e(k)}</dt><dd>{_value(v)}</dd>" for k, v in summary.items()) + "</dl>"]
    stage_rows = [[s["stage"], s["study"], s.get("epochs", s.get("steps")), s["trials"],
                   "; ".join(f"{k} {list(v.values())[0]}" for k, v in s["space"].items()),
                   " ".join(s.get("warnings") or []) or "—"] for s in record["stages"]]
    parts.append(_table({"title": "Stages (coarse to fine)", "columns": ["stage", "study", "length", "trials", "space",
                                                                        "warnings"], "rows": stage_rows}))
    sign = 1 if record["direction"] == "maximize" else -1
    ranked = sorted((r for r in table if isinstance(r["value"], float)), key=lambda r: (-r["stage"], -sign * r["value"]))
    keys = sorted({k for r in table for k in r["params"]})
    rows = [[r["stage"], r["trial"], r["state"], r["value"], r["fold_std"], r["mode"]] + [r["params"].get(k) for k in keys]
            for r in ranked[:15]]
    parts.append(_table({"title": "Best trials (latest stage first)",
                         "columns": ["stage", "trial", "state", "value", "spread over folds", "mode"] + keys,
                         "rows": rows}))
    parts += [_figure(root / name, caption) for name, caption in figs]
    parts.append("</body></html>")
    return "\n".join(parts)

