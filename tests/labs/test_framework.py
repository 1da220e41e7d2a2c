"""The lab framework: registry, result schema, verdict rules, seeds and data resolution."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.labs import LABS, ORDER, SIZES, Lab, Quote, jsonable, run_lab
from trainlab.labs.registry import register

SCHEMA = {"lab", "title", "quick", "data", "seeds", "claims", "verdict", "figures", "seconds"}


class Fake(Lab):
    name = "fake-lab"
    title = "a lab for testing the framework"
    lecture = (Quote("test", "한국어", "Korean"),)
    data = ("xor", "spiral")
    seeds = {"quick": 2, "standard": 4, "full": 8}
    outcome: list = [True]
    crash: Exception | None = None

    def run(self, ctx):
        ctx.setup(size=ctx.size, data=ctx.data)
        if self.crash is not None:
            raise self.crash
        for i, ok in enumerate(self.outcome):
            ctx.claim(f"c{i}", f"claim {i}", ok, {"value": float(i)}, "> 0", lecture=0.5)
        ctx.record("curve", torch.arange(3.0))
        ctx.table("t", "a table", ["seed", "value"], [[s, float(s)] for s in ctx.seeds])


@pytest.fixture
def fake():
    register(Fake)
    yield Fake
    del LABS._items[Fake.name]
    Fake.outcome, Fake.crash = [True], None


def test_result_follows_the_schema(fake):
    r = run_lab("fake-lab", size="quick")
    assert SCHEMA <= set(r)
    assert r["quick"] is True and r["size"] == "quick" and r["seeds"] == [1000, 1001] and r["data"] == "xor"
    assert r["claims"][0] == {"id": "c0", "claim": "claim 0", "passed": True, "measured": {"value": 0.0},
                              "expected": "> 0", "lecture": 0.5}
    assert r["records"]["curve"] == [0.0, 1.0, 2.0]
    assert r["lecture"] == [{"source": "test", "text": "한국어", "english": "Korean"}]
    json.dumps(r)  # plain JSON all the way down


@pytest.mark.parametrize("outcome, verdict", [([True, True], "pass"), ([True, False], "fail"), ([], "fail")])
def test_verdict_passes_only_when_every_claim_passes(fake, outcome, verdict):
    Fake.outcome = outcome
    assert run_lab("fake-lab", size="quick")["verdict"] == verdict


def test_seeds_and_data_resolution(fake):
    assert run_lab("fake-lab", size="full")["seeds"] == list(range(1000, 1008))
    assert run_lab("fake-lab", size="quick", seeds=3)["seeds"] == [1000, 1001, 1002]  # a count: default seeds
    assert run_lab("fake-lab", size="quick", seeds=[5, 7])["seeds"] == [5, 7]
    assert run_lab("fake-lab", size="quick", seeds=range(100, 103))["seeds"] == [100, 101, 102]
    with pytest.raises(ConfigError, match="each seed once"):
        run_lab("fake-lab", seeds=[4, 4])
    with pytest.raises(ConfigError, match="non-negative integers, got \\[-1\\]"):
        run_lab("fake-lab", seeds=[-1])
    assert run_lab("fake-lab", size="quick", data="spiral")["data"] == "spiral"
    with pytest.raises(ConfigError, match="cannot run on data set 'mnist'; valid data sets: xor, spiral"):
        run_lab("fake-lab", data="mnist")
    with pytest.raises(ConfigError, match="--seeds must be a positive integer, got 0"):
        run_lab("fake-lab", seeds=0)
    with pytest.raises(ConfigError, match="unknown lab size 'huge'; valid sizes: quick, standard, full"):
        run_lab("fake-lab", size="huge")


def test_default_seeds_are_disjoint_from_the_design_seeds_and_the_run_says_so(fake):
    for name in LABS.names():
        lab = LABS.lookup(name)()
        design = set(lab.design_seeds())
        if type(lab).design_seeds is Lab.design_seeds:  # the default: 0 .. largest count - 1
            assert max(lab.seeds.values()) == len(design)
        else:  # a lab that names its own design seeds (dbn, hparam)
            assert design and min(design) >= 0, name
        for size in SIZES:
            seeds = lab.default_seeds(size)
            assert len(seeds) == lab.seeds[size] and not design & set(seeds), (name, size)
    notes = run_lab("fake-lab", size="quick")["notes"]
    assert notes[0].startswith("seeds 1000, 1001: disjoint from seeds 0-7, on which this lab's setup was designed")
    notes = run_lab("fake-lab", size="quick", seeds=[6, 7, 8, 9])["notes"]
    assert notes[0].startswith("seeds 6-9: 2 of them (6, 7) are among seeds 0-7") and "not on unseen seeds" in notes[0]


def test_unknown_lab_lists_the_labs(fake):
    with pytest.raises(ConfigError, match=r"unknown lab 'fake-lob' \(did you mean 'fake-lab'\?\); valid labs: .*fake-lab"):
        run_lab("fake-lob")


def test_a_crashing_lab_fails_loudly_or_is_reported(fake):
    Fake.crash = RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        run_lab("fake-lab", size="quick")
    r = run_lab("fake-lab", size="quick", catch=True)
    assert r["verdict"] == "fail" and r["error"].startswith("RuntimeError: boom")
    Fake.crash = ConfigError("bad value")  # user mistakes are never swallowed
    with pytest.raises(ConfigError):
        run_lab("fake-lab", size="quick", catch=True)


def test_context_rejects_duplicate_claims_and_ragged_tables(fake):
    from trainlab.labs.base import Context

    ctx = Context(Fake(), "quick", [0], None)
    ctx.claim("a", "x", True, 1, 1)
    with pytest.raises(ValueError, match="claim 'a' made twice"):
        ctx.claim("a", "x", True, 1, 1)
    with pytest.raises(ValueError, match="has 1 cells for 2 columns"):
        ctx.table("t", "T", ["a", "b"], [[1]])
    assert ctx.pick(1, 2, 3) == 1 and Context(Fake(), "full", [0], None).pick(1, 2) == 2


def test_jsonable():
    assert jsonable({"a": np.float32(0.5), "b": torch.tensor([1, 2]), "c": (np.int64(3), np.bool_(True))}) == \
        {"a": 0.5, "b": [1, 2], "c": [3, True]}
    assert jsonable([math.nan, -math.inf]) == ["nan", "-inf"]
    with pytest.raises(TypeError, match="cannot store object"):
        jsonable(object())


def test_every_lab_of_the_issue_is_registered_in_lecture_order():
    assert LABS.names() == list(ORDER)
    for name in LABS.names():
        lab = LABS.lookup(name)
        assert lab.title and lab.lecture, name
        assert set(lab.seeds) == set(SIZES), name
        assert all(isinstance(q, Quote) and q.text and q.english for q in lab.lecture), name


def test_cli_sizes_match_the_library():
    from trainlab.cli import lab_cmd

    assert lab_cmd.SIZES == SIZES


NOTES = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"  # the lecture notes, beside the checkout


def _squash(text: str) -> str:
    """Whitespace runs as one space; markdown emphasis (``**bold**``) dropped."""
    return re.sub(r"\s+", " ", text.replace("**", ""))


@pytest.mark.parametrize("name", list(ORDER))
def test_quotes_are_the_lectures_own_words(name):
    """Every quote (its parts, where it elides with ' ... ') appears word for word in the notes."""
    if not NOTES.is_dir():
        pytest.skip(f"lecture notes not found at {NOTES}")
    notes = _squash(" ".join(p.read_text() for p in NOTES.glob("*.txt")))
    for quote in LABS.lookup(name).lecture:
        for part in quote.text.split(" ... "):
            assert _squash(part) in notes, (name, part)
