"""Resumable lab work (``trainlab.labs.work``): saved units load back exactly, a changed setting or
an untrustworthy file is computed again (with a note), and without a work folder nothing changes."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.labs import LABS, Lab, run_lab
from trainlab.labs import work as work_mod
from trainlab.labs.registry import register
from trainlab.labs.work import Work, number, numbers


def make(folder, notes=None, size="quick", **kw):
    return Work(folder, "some-lab", size, "xor", "cpu", (notes if notes is not None else []).append, **kw)


class Counter:
    """A unit's compute function that counts its calls."""

    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


RESULT = {"test": 0.25, "loss": [1.0, 0.5], "name": "a", "nested": {"n": 3, "ok": True, "none": None}}


def test_a_saved_unit_loads_back_exactly_and_is_not_computed_again(tmp_path):
    first = Counter(RESULT)
    assert make(tmp_path).unit("s1-a", first, params={"seed": 1}) == RESULT
    again = Counter({"test": 0.9})
    w = make(tmp_path)
    assert w.start() == 1
    assert w.unit("s1-a", again, params={"seed": 1}) == RESULT
    assert (first.calls, again.calls) == (1, 0) and w.loaded == ["s1-a"]
    assert "resumed: 1 of 1 units" in w.summary()[0]
    w.close()
    saved = json.loads((tmp_path / "s1-a.json").read_text())
    assert saved["fingerprint"]["params"] == {"seed": 1} and saved["fingerprint"]["lab"] == "some-lab"


def test_computed_results_read_as_json_does(tmp_path):
    """Tuples come back as lists either way, so a resumed run sees exactly what a fresh one saw."""
    assert make(tmp_path).unit("k", lambda: {"t": (1, 2.5)}) == {"t": [1, 2.5]}


@pytest.mark.parametrize("change", [{"params": {"seed": 2}}, {"size": "full"}, {"key": "s1-b"}])
def test_a_different_fingerprint_is_computed_again(tmp_path, change):
    make(tmp_path).unit("s1-a", Counter(RESULT), params={"seed": 1})
    notes = []
    w = make(tmp_path, notes, size=change.get("size", "quick"))
    other = Counter({"test": 0.75})
    out = w.unit(change.get("key", "s1-a"), other, params=change.get("params", {"seed": 1}))
    assert out == {"test": 0.75} and other.calls == 1 and not w.loaded
    if "key" not in change:  # the stale unit is replaced, and the report says how many were
        assert w.stale == ["s1-a"] and "other settings" in w.summary()[0]
        assert make(tmp_path, size=w.base["size"]).unit("s1-a", Counter(None), {"seed": 2} if "params" in change else {"seed": 1}) == {"test": 0.75}


def check(r):
    return number(r["test"], 0, 1) and numbers(r["loss"])


HOSTILE = {
    "not JSON": lambda p: p.write_text("{not json"),
    "cut short": lambda p: p.write_bytes(p.read_bytes()[:20]),
    "empty": lambda p: p.write_bytes(b""),
    "not UTF-8": lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
    "a list": lambda p: p.write_text("[1, 2, 3]"),
    "NaN": lambda p: p.write_text(p.read_text().replace("0.25", "NaN")),
    "Infinity": lambda p: p.write_text(p.read_text().replace("0.25", "1e999")),
    "a string number": lambda p: p.write_text(p.read_text().replace("0.25", '"0.25"')),
    "a bool number": lambda p: p.write_text(p.read_text().replace("0.25", "true")),
    "out of range": lambda p: p.write_text(p.read_text().replace("0.25", "7.0")),
    "missing key": lambda p: p.write_text(p.read_text().replace('"test"', '"tset"')),
    "deep nesting": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
    "a huge integer": lambda p: p.write_text(p.read_text().replace("0.25", "9" * 5000)),
    "extra fields": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "exec": "rm -rf /"})),
    "too big": lambda p: p.write_bytes(b" " * (work_mod.MAX_UNIT_BYTES + 1)),
    "a device": lambda p: (p.unlink(), p.symlink_to("/dev/zero")),
    "a dangling link": lambda p: (p.unlink(), p.symlink_to(p.parent / "nowhere")),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_corrupted_or_hostile_unit_is_computed_again_with_a_note(tmp_path, name, monkeypatch):
    monkeypatch.setattr(work_mod, "MAX_UNIT_BYTES", 4096)
    path = tmp_path / "s1-a.json"
    make(tmp_path).unit("s1-a", Counter(RESULT), params={"seed": 1}, check=check)
    HOSTILE[name](path)
    notes = []
    fresh = Counter({**RESULT, "test": 0.5})
    w = make(tmp_path, notes)
    w.start()
    assert w.unit("s1-a", fresh, params={"seed": 1}, check=check)["test"] == 0.5
    assert make(tmp_path).unit("s1-a", Counter(None), params={"seed": 1}, check=check)["test"] == 0.5  # replaced
    assert fresh.calls == 1 and not w.loaded
    w.close()
    assert len(notes) == 1 and notes[0].startswith("work unit s1-a in ") and notes[0].endswith("computed again."), notes


def test_a_folder_in_place_of_a_unit_is_one_line_before_any_work(tmp_path):
    (tmp_path / "s1-a.json").mkdir()
    c = Counter(RESULT)
    with pytest.raises(ConfigError, match="s1-a.json is a folder, not a file; move it away"):
        make(tmp_path).unit("s1-a", c)
    assert c.calls == 0


def test_the_default_check_refuses_non_finite_numbers(tmp_path):
    make(tmp_path).unit("k", Counter({"x": [1.0, 2.0]}))
    (tmp_path / "k.json").write_text((tmp_path / "k.json").read_text().replace("2.0", "NaN"))
    notes = []
    assert make(tmp_path, notes).unit("k", Counter({"x": [3.0]})) == {"x": [3.0]} and len(notes) == 1


# ---- torch state ------------------------------------------------------------------------------------
STATE = (lambda t: {"w": t}, lambda s: s["w"])


def test_torch_state_round_trips_with_weights_only(tmp_path):
    t = torch.randn(3, 4)
    res, obj = make(tmp_path).unit("s1-stack", lambda: ({"seconds": 1.5}, t), state=STATE)
    assert obj is t and res == {"seconds": 1.5}
    res2, obj2 = make(tmp_path).unit("s1-stack", Counter(None), state=STATE)
    assert res2 == res and torch.equal(obj2, t)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "delete", "a pickle that runs code", "restore fails"])
def test_a_bad_state_file_is_computed_again(tmp_path, damage, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = torch.randn(3, 4)
    make(tmp_path).unit("s1-stack", lambda: ({"seconds": 1.5}, t), state=STATE)
    pt = tmp_path / "s1-stack.pt"
    raw = pt.read_bytes()
    from_state = STATE[1]
    if damage == "flip a byte":
        pt.write_bytes(raw[:-30] + bytes([raw[-30] ^ 0xFF]) + raw[-29:])
    elif damage == "truncate":
        pt.write_bytes(raw[: len(raw) // 2])
    elif damage == "delete":
        pt.unlink()
    elif damage == "a pickle that runs code":  # even with a matching hash, weights_only refuses it
        evil = pickle.dumps(Evil())
        pt.write_bytes(evil)
        record = json.loads((tmp_path / "s1-stack.json").read_text())
        record["state_sha256"] = work_mod._sha256(evil)
        (tmp_path / "s1-stack.json").write_text(json.dumps(record))
    else:
        from_state = lambda s: s["missing"]  # noqa: E731
    notes = []
    t2 = torch.zeros(2)
    res, obj = make(tmp_path, notes).unit("s1-stack", lambda: ({"seconds": 2.5}, t2), state=(STATE[0], from_state))
    assert obj is t2 and res == {"seconds": 2.5} and len(notes) == 1 and "state file" in notes[0]
    assert not (tmp_path / "pwned").exists()


# ---- no work folder: exactly as before ----------------------------------------------------------
def test_without_a_work_folder_compute_just_runs(tmp_path):
    value = {"t": (1, 2)}
    c = Counter(value)
    w = make(None)
    assert w.unit("k", c) is value and w.unit("k", c) is value and c.calls == 2  # no copy, no file
    assert w.start() == 0 and w.summary() == []
    with pytest.raises(ValueError, match="work unit key"):
        make(tmp_path).unit("../escape", c)


def test_start_removes_half_written_temp_files(tmp_path):
    (tmp_path / ".s1-a.json.x1y2.tmp").write_text("half")
    make(tmp_path).unit("s1-a", Counter(RESULT))
    w = make(tmp_path)
    assert w.start() == 1 and not list(tmp_path.glob(".*.tmp"))
    w.close()


# ---- through run_lab ------------------------------------------------------------------------------
class Resumable(Lab):
    name = "resumable-lab"
    title = "a lab with units of work"
    seeds = {"quick": 2, "standard": 2, "full": 2}
    calls: list = []

    def work_units(self, ctx):
        return len(ctx.seeds)

    def run(self, ctx):
        values = []
        for seed in ctx.seeds:
            def unit(seed=seed):
                Resumable.calls.append(seed)
                return {"value": float(torch.rand(1, generator=torch.Generator().manual_seed(seed)))}
            values.append(ctx.resumable(f"s{seed}", unit, params={"seed": seed})["value"])
        ctx.claim("c", "values in [0, 1)", all(0 <= v < 1 for v in values), values, "[0, 1)")


@pytest.fixture
def resumable():
    register(Resumable)
    Resumable.calls = []
    yield Resumable
    del LABS._items[Resumable.name]


def test_run_lab_resumes_from_its_work_folder(tmp_path, resumable):
    plain = run_lab("resumable-lab", size="quick")
    assert not list(tmp_path.iterdir()) and len(Resumable.calls) == 2
    first = run_lab("resumable-lab", size="quick", work=tmp_path / "work")
    steps = []
    again = run_lab("resumable-lab", size="quick", work=tmp_path / "work", on_step=steps.append)
    assert len(Resumable.calls) == 4  # the third run computed nothing
    assert steps == [f"resuming: 2 of 2 units done in {tmp_path / 'work'}"]
    assert plain["claims"] == first["claims"] == again["claims"]
    assert any(n.startswith("resumed: 2 of 2 units") for n in again["notes"])
    assert not any(n.startswith("resumed") for n in plain["notes"] + first["notes"])
    other = run_lab("resumable-lab", size="quick", seeds=[1000, 7], work=tmp_path / "work")
    assert Resumable.calls[4:] == [7] and other["claims"][0]["measured"][0] == plain["claims"][0]["measured"][0]


def test_one_run_at_a_time_holds_the_folder(tmp_path):
    first = make(tmp_path / "work")
    assert first.start() == 0 and (tmp_path / "work").is_dir()
    with pytest.raises(ConfigError, match=r"work is in use by another run of this lab .*choose another --out"):
        make(tmp_path / "work").start()
    first.close()
    second = make(tmp_path / "work")
    assert second.start() == 0  # free again once the first run let go (a killed process lets go too)
    second.close()


def test_a_unit_whose_result_is_none_is_saved_too(tmp_path):
    make(tmp_path).unit("k", Counter(None), check=lambda r: r is None)
    again = Counter(1.0)
    assert make(tmp_path).unit("k", again, check=lambda r: r is None) is None and again.calls == 0
