"""Run one lab: resolve its size, seeds and data set, call it, and collect its result as data.

    result = run_lab("xor-deep", size="quick")
    result["verdict"], [c["passed"] for c in result["claims"]]

The result follows the lab JSON schema ``{"lab", "title", "quick", "size", "data", "seeds",
"claims": [{"id", "claim", "passed", "measured", "expected", "lecture"}], "verdict", "figures",
"seconds", ...}``; ``figures`` is filled by ``trainlab.report.lectures`` when it draws them.
"""

from __future__ import annotations

import platform
import time
import traceback
from pathlib import Path
from typing import Callable

import torch

from trainlab.errors import ConfigError
from trainlab.labs.base import Context, check_size
from trainlab.labs.registry import LABS
from trainlab.labs.work import Work
from trainlab.train.trainer import resolve_device


def resolve_seeds(lab, size: str, seeds) -> list[int]:
    """None: the lab's default seeds for ``size``; a count N: the first N default seeds (from
    ``SEED_BASE``); a list or range: exactly those seeds (``--seeds 100-109``, ``--seeds 3,5,8``)."""
    if seeds is None:
        return lab.default_seeds(size)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"--seeds must be a positive integer, got {seeds}")
        return lab.default_seeds(size, seeds)
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ConfigError(f"seeds: expected a positive count or a list of non-negative integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: each seed once, got {seeds!r}")
    return seeds


def resolve_data(lab, size: str, data: str | None) -> str | None:
    if data is None:
        return lab.default_data(size)
    if not lab.data:
        raise ConfigError(f"lab {lab.name!r} makes its own data; it takes no --data (got {data!r})")
    if data not in lab.data:
        raise ConfigError(f"lab {lab.name!r} cannot run on data set {data!r}; valid data sets: {', '.join(lab.data)}")
    return data


def run_lab(name: str, size: str = "standard", seeds=None, data: str | None = None, device: str = "auto",
            on_step: Callable[[str], None] | None = None, catch: bool = False, tensorboard=None,
            work: str | Path | None = None) -> dict:
    """Run lab ``name`` and return its result dict (verdict ``pass`` only if every claim passed).

    ``catch=True`` (used by ``lectures``): a lab that crashes gives a ``fail`` result carrying the
    error instead of stopping the other labs. User mistakes (``ConfigError``) always raise.
    ``work``: a folder where the lab's resumable units are saved, and loaded from by a later run
    (``trainlab lab run --out DIR`` uses ``DIR/work``; see ``trainlab.labs.work``).
    """
    lab = LABS.lookup(name)()
    size = check_size(size)
    device = str(resolve_device(device))  # a bad or missing device fails now, not mid-lab
    ctx = Context(lab, size, resolve_seeds(lab, size, seeds), resolve_data(lab, size, data), device, on_step,
                  tensorboard=tensorboard)
    ctx.work = Work(work, lab.name, size, ctx.data, device, ctx.note)
    ctx.note(lab.seed_note(ctx.seeds))
    saved = ctx.work.start()
    if saved and on_step is not None:
        total = lab.work_units(ctx)
        on_step(f"resuming: {saved} of {total if total is not None else '?'} units done in {work}")
    error = None
    try:
        lab.run(ctx)
    except ConfigError:
        raise
    except Exception as e:  # a bug in a lab (or a diverged run nobody expected): report it, loudly
        if not catch:
            raise
        error = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
    finally:
        ctx.work.close()
    for text in ctx.work.summary():
        ctx.note(text)
    claims = [c.to_dict() for c in ctx.claims]
    passed = error is None and bool(claims) and all(c["passed"] for c in claims)
    return {"lab": lab.name, "title": lab.title, "quick": size == "quick", "size": size, "data": ctx.data,
            "seeds": ctx.seeds, "claims": claims, "verdict": "pass" if passed else "fail", "figures": [],
            "seconds": round(time.perf_counter() - ctx.t0, 2), "lecture": [q.to_dict() for q in lab.lecture],
            "setup": ctx.setup_info, "tables": ctx.tables, "records": ctx.records, "notes": ctx.notes,
            "error": error, "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                                            "device": device, "python": platform.python_version()}}
