"""The main job: run labs, draw their figures, and write the report.

    OUT/report.html        one self-contained page (figures embedded); ``trainlab lab run`` writes
                           one too, for its one lab (the same renderer)
    OUT/results.json       every lab's result (the lab JSON schema), plus size, time, environment
    OUT/<lab>/*.png        the figures, also as files
    OUT/<lab>/result.json  each lab's result as soon as it finishes (a killed run keeps the done ones)

``run_one`` is ``trainlab lab run``; ``lectures`` is ``trainlab lectures``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

import torch

from trainlab.atomic import atomic_write, write_json
from trainlab.labs import LABS, run_lab
from trainlab.report import html
from trainlab.report.lab_figures import draw_lab
from trainlab.train.trainer import resolve_device

Say = Callable[[str], None]


def run_one(name: str, out: str | Path, size: str = "standard", seeds=None, data: str | None = None,
            device: str = "auto", say: Say | None = None, tensorboard: bool = False, resumable: bool = False) -> dict:
    """Run one lab, draw its figures into ``out`` and write ``out/result.json`` and
    ``out/report.html`` (and TensorBoard events to ``out/tensorboard`` with ``tensorboard``).
    ``resumable``: finished units of work go to ``out/work``, and a run stopped before it wrote
    result.json continues from them (``trainlab.labs.work``)."""
    out = Path(out)
    result = run_lab(name, size=size, seeds=seeds, data=data, device=device, on_step=say,
                     tensorboard=out / "tensorboard" if tensorboard else None,
                     work=out / "work" if resumable else None)
    draw_lab(result, out)
    write_json(out / "result.json", result)
    write_page(lab_page(result), out)
    return result


def lab_page(result: dict) -> dict:
    """The report dict of one lab's page (``trainlab lab run`` writes it as report.html)."""
    return {"title": f"trainlab lab {result['lab']}: {result['title']}", "size": result.get("size", ""),
            "created": datetime.now().strftime("%Y-%m-%d %H:%M"), "seconds": result.get("seconds", 0),
            "environment": result.get("environment", {}), "labs": [result]}


def write_page(report: dict, out: str | Path) -> Path:
    """``OUT/report.html`` rendered from ``report`` (figure paths relative to ``out``)."""
    page = html.render(report, out)
    atomic_write(Path(out) / "report.html", lambda fh: fh.write(page.encode("utf-8")))
    return Path(out) / "report.html"


def lectures(out: str | Path, size: str = "standard", names: Iterable[str] | None = None, seeds=None,
             device: str = "auto", say: Say | None = None, tensorboard: bool = False) -> dict:
    """Run every lab (or ``names``) and write the report; returns the report dict."""
    out = Path(out)
    names = list(names) if names is not None else LABS.names()
    for name in names:  # fail on a typo before an hour of training, not after
        LABS.lookup(name)
    device = str(resolve_device(device))  # likewise a device that is not here ("auto": the one used)
    say = say or (lambda text: None)
    t0, results = time.perf_counter(), []
    for i, name in enumerate(names, 1):
        prefix = f"[{i}/{len(names)}] {name}"
        say(f"{prefix}: starting")
        result = run_lab(name, size=size, seeds=seeds, device=device, catch=True,
                         on_step=lambda text, p=prefix: say(f"{p}: {text}"),
                         tensorboard=out / name / "tensorboard" if tensorboard else None)
        draw_lab(result, out / name)
        result["figures"] = [f"{name}/{p}" for p in result["figures"]]
        result["captions"] = {f"{name}/{p}": c for p, c in result["captions"].items()}
        write_json(out / name / "result.json", result)
        results.append(result)
        passed = sum(c["passed"] for c in result["claims"])
        say(f"{prefix}: {result['verdict']} ({passed}/{len(result['claims'])} claims) in {result['seconds']:.1f} s")
    return write_report(results, out, size, time.perf_counter() - t0, device)


def write_report(results: list[dict], out: str | Path, size: str, seconds: float, device: str = "cpu") -> dict:
    """``OUT/results.json`` and ``OUT/report.html`` from lab results whose figure paths are
    relative to ``out``."""
    out = Path(out)
    report = {"title": "trainlab: the lectures, reproduced", "size": size,
              "created": datetime.now().strftime("%Y-%m-%d %H:%M"), "seconds": round(seconds, 1),
              "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": device},
              "verdicts": {r["lab"]: r["verdict"] for r in results}, "labs": results}
    write_json(out / "results.json", report)
    write_page(report, out)
    return report


def printer(stream=None) -> Say:
    """Progress lines with the elapsed time, e.g. ``  12.3 s  [2/11] init: tanh x 0.01``."""
    stream = stream or sys.stderr
    t0 = time.perf_counter()

    def say(text: str) -> None:
        stream.write(f"{time.perf_counter() - t0:7.1f} s  {text}\n")
        stream.flush()

    return say
