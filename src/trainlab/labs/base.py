"""What a lab is: one lecture claim turned into an experiment that checks itself.

A lab subclasses ``Lab`` and implements ``run(ctx)``. It builds its runs from trainlab's pieces,
measures, and reports through the ``Context``:

    ctx.setup(net="10 x 10 sigmoid", optimizer="sgd lr 0.1", steps=10_001)  # shown in the report
    ctx.claim("sigmoid_stuck", "the 10-layer sigmoid net is stuck at cost ln 2",
              passed=abs(loss - 0.6931) < 0.01, measured={"loss": loss}, expected="0.6931 (ln 2)")
    ctx.table("seeds", "Seeds reaching accuracy 1.0", ["net", "solved"], rows)
    ctx.record("curves", {"sigmoid": [...], "relu": [...]})   # the data behind the figure
    ctx.note("the lecture's uniform(-1, 1) init solves 4/10 seeds")
    result = ctx.resumable(f"s{seed}-relu", lambda: train_one(seed), params=plan)  # saved; see labs/work.py

The verdict is ``pass`` only when every claim passed. A lab never loosens a check to pass: a
claim that does not reproduce is reported as ``fail`` with its measured numbers. Figures are drawn
from ``ctx.record``-ed data by ``trainlab.report.lab_figures`` (results are data: a report can be
re-drawn from ``results.json`` without training again).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from trainlab.errors import ConfigError
from trainlab.labs.work import Work

SIZES = ("quick", "standard", "full")  # quick: seconds (tests, CI); standard: the lectures default; full: the real experiment
# Default seeds start here. Every lab's setup (steps, sizes, learning rates) was chosen while
# looking at seeds 0..N-1 (N: its largest seed count, at most 256); its verdicts are reported on
# SEED_BASE, SEED_BASE + 1, ...: seeds nobody looked at while designing it.
SEED_BASE = 1000


@dataclass(frozen=True)
class Quote:
    """A claim in the lecture's own words (Korean notes in ``shared/seeds``) with an English gloss."""

    source: str  # e.g. "모두를 위한 딥러닝 Lecture 10-1" or "CS231n Training NN part 1"
    text: str  # the lecture's words, as written
    english: str  # what it says, in English

    def to_dict(self) -> dict:
        return {"source": self.source, "text": self.text, "english": self.english}


class Lab:
    """Base class for labs. Class attributes describe it; ``run`` measures and claims."""

    name: str = ""  # registry name, e.g. "xor-deep"
    title: str = ""  # one line, e.g. "Deep sigmoid nets cannot learn XOR; ReLU can"
    lecture: tuple[Quote, ...] = ()
    data: tuple[str, ...] = ()  # data sets ``--data`` may choose; the first is the default; () = its own data
    seeds: dict = {"quick": 3, "standard": 5, "full": 10}  # how many seeds per size (from SEED_BASE)

    def default_seeds(self, size: str, n: int | None = None) -> list[int]:
        """``n`` (default: this size's count) seeds from ``SEED_BASE``: disjoint from the design seeds."""
        return list(range(SEED_BASE, SEED_BASE + (self.seeds[size] if n is None else n)))

    def design_seeds(self) -> range:
        """The seeds this lab's setup was designed on: 0 .. (its largest seed count) - 1."""
        return range(max(self.seeds.values()))

    def seed_note(self, seeds: list[int]) -> str:
        """Which seeds this run used, and whether the lab's design ever saw them."""
        design = self.design_seeds()
        seen = sorted(set(seeds) & set(design))
        head = f"seeds {seed_range(seeds)}"
        if not seen:
            return (f"{head}: disjoint from seeds {seed_range(list(design))}, on which this lab's setup was "
                    f"designed, so the verdicts are on unseen seeds (default seeds start at {SEED_BASE}).")
        return (f"{head}: {len(seen)} of them ({seed_range(seen)}) are among seeds {seed_range(list(design))}, "
                f"on which this lab's setup was designed: verdicts on those seeds are not on unseen seeds.")

    def default_data(self, size: str) -> str | None:
        """The data set used when ``--data`` is not given (a lab may look at what is on disk)."""
        return self.data[0] if self.data else None

    def run(self, ctx: "Context") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def work_units(self, ctx: "Context") -> int | None:
        """How many resumable units (``ctx.resumable``) a run of this size and these seeds has, if known."""
        return None


@dataclass
class Claim:
    id: str
    claim: str
    passed: bool
    measured: Any
    expected: Any
    lecture: Any = None  # the lecture's own number, where it gives one

    def to_dict(self) -> dict:
        return {"id": self.id, "claim": self.claim, "passed": bool(self.passed),
                "measured": jsonable(self.measured), "expected": jsonable(self.expected),
                "lecture": jsonable(self.lecture)}


@dataclass
class Context:
    """What a running lab sees: its size, seeds, data set, and where to put what it measured."""

    lab: Lab
    size: str
    seeds: list[int]
    data: str | None
    device: str = "cpu"
    on_step: Callable[[str], None] | None = None
    tensorboard: Any = None  # a folder: every train_seeds run writes TensorBoard events below it
    work: Work | None = None  # where finished units of work are saved (None: nowhere; see ``resumable``)
    claims: list[Claim] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    records: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    setup_info: dict = field(default_factory=dict)
    t0: float = field(default_factory=time.perf_counter)

    @property
    def quick(self) -> bool:
        return self.size == "quick"

    def pick(self, quick: Any, standard: Any, full: Any = None) -> Any:
        """A value by size (``full`` defaults to ``standard``)."""
        return {"quick": quick, "standard": standard, "full": standard if full is None else full}[self.size]

    def step(self, text: str) -> None:
        """Progress: what the lab is doing now (shown while ``lectures`` runs)."""
        if self.on_step is not None:
            self.on_step(text)

    def setup(self, **items: Any) -> None:
        self.setup_info.update({k: jsonable(v) for k, v in items.items()})

    def claim(self, id: str, claim: str, passed: bool, measured: Any, expected: Any, lecture: Any = None) -> bool:
        if any(c.id == id for c in self.claims):
            raise ValueError(f"claim {id!r} made twice in lab {self.lab.name!r}")
        self.claims.append(Claim(id, claim, bool(passed), measured, expected, lecture))
        return bool(passed)

    def table(self, id: str, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        for row in rows:
            if len(row) != len(columns):
                raise ValueError(f"table {id!r}: row {row!r} has {len(row)} cells for {len(columns)} columns")
        self.tables.append({"id": id, "title": title, "columns": list(columns), "rows": jsonable(rows)})

    def record(self, key: str, value: Any) -> None:
        """Data behind a figure (lists, numbers, dicts; tensors and arrays become lists)."""
        self.records[key] = jsonable(value)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def resumable(self, key: str, compute: Callable[[], Any], params: Any = None,
                  check: Callable[[Any], bool] | None = None, state: tuple[Callable, Callable] | None = None) -> Any:
        """``compute()``, saved under ``key`` in the run's work folder and loaded from there by a
        later run of the same lab whose fingerprint (lab, size, data, device, ``params``) matches;
        with no work folder it just runs. ``trainlab.labs.work.Work.unit`` has the details."""
        if self.work is None:
            self.work = Work(None, self.lab.name, self.size, self.data, self.device, self.note)
        return self.work.unit(key, compute, params, check, state)


def jsonable(x: Any) -> Any:
    """Tensors, arrays and numpy scalars as plain JSON values; NaN/inf as strings ("nan", "inf")."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if x is None or isinstance(x, (bool, int, str)):
        return x
    raise TypeError(f"cannot store {type(x).__name__} in a lab result: {x!r}")


def seed_range(seeds: list[int]) -> str:
    """``[1000, 1001, 1002]`` -> ``"1000-1002"``; anything not a consecutive run -> ``"3, 5, 8"``."""
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ConfigError(f"unknown lab size {size!r}; valid sizes: {', '.join(SIZES)}")
    return size
