"""safe_io: every way a user's path, file or YAML can be wrong is one ConfigError line naming the
path, and nothing is read without a bound or executed."""

import gzip
import os
import pickle
import time

import pytest
import torch

from trainlab import safe_io
from trainlab.errors import ConfigError

BOMB = ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n")


def one_line_error(fn, *args, match: str):
    with pytest.raises(ConfigError) as e:
        fn(*args)
    text = str(e.value)
    assert match in text and len(text.splitlines()) == 1, text
    return text


@pytest.mark.parametrize("where", ["model: {x: *h}", "train: {lr: *h}", "data: *h", "name: *h", "zz: [*h, *h]"])
def test_alias_bombs_are_refused_without_expanding(where):
    t0 = time.perf_counter()
    one_line_error(safe_io.load_yaml, BOMB + where, "spec s.yaml", match="expands (through YAML aliases) to more than 100,000 values")
    assert time.perf_counter() - t0 < 5  # 10^8 values were never built


def test_aliases_that_stay_small_are_fine():
    assert safe_io.load_yaml("a: &x [1, 2]\nb: *x\n", "s") == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("text, match", [
    ("[" * 10_000 + "]" * 10_000, "nested more than 50 levels deep"),
    ("a: " + "{b: " * 3000 + "1" + "}" * 3000, "nested more than 50 levels deep"),
    ("data: xor\nname: a\x00b\n", "a NUL byte on line 2"),
    ("a: &r [*r]", "recursive document"),
    ("a: " + "9" * 5000, "a value YAML cannot read"),
    ("a: 2001-13-45", "a value YAML cannot read"),
    ("{[1]: 2}", "not valid YAML (line 1)"),
    ("a: [", "not valid YAML"),
])
def test_yaml_that_would_crash_or_hang_is_one_line(text, match):
    one_line_error(safe_io.load_yaml, text, "spec s.yaml", match=match)


def test_python_tags_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system", "!!python/name:os.system"):
        text = f"data: {tag} ['touch {marker}']\n"
        one_line_error(safe_io.load_yaml, text, "spec s.yaml", match="not valid YAML")
    assert not marker.exists()


def test_files_that_are_not_regular_files_are_refused_by_name(tmp_path):
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "big").write_bytes(b"x" * 2000)
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    one_line_error(safe_io.read_text, tmp_path / "zero", "config", match="not a regular file")
    one_line_error(safe_io.read_text, tmp_path, "config", match="is a folder, not a file")
    one_line_error(safe_io.read_text, tmp_path / "loop", "spec", match="a symbolic link loop")
    one_line_error(safe_io.read_text, tmp_path / "dangling", "spec", match="a symbolic link to")
    one_line_error(safe_io.read_text, tmp_path / "big", "spec", 1000, match="2,000 bytes, over the 1,000-byte limit")
    one_line_error(safe_io.read_text, tmp_path / "latin1.yaml", "spec", match="not UTF-8 text (line 1, byte 9")
    one_line_error(safe_io.read_text, tmp_path / "missing", "spec", match="no such file or folder")


def test_writable_dir_refuses_every_bad_destination_before_creating_anything(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    cases = [(tmp_path / "file", "is a file, not a folder"),
             (tmp_path / "file" / "sub", "lies under"),
             (tmp_path / "loop", "a symbolic link loop"),
             (tmp_path / "dangling", "a symbolic link to"),
             (tmp_path / "dangling" / "sub", "a symbolic link to"),
             (tmp_path / ("n" * 300), "a name in the path is too long (300 bytes; at most 255)")]
    for path, match in cases:
        one_line_error(safe_io.writable_dir, path, "--out", match=match)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # a read-only folder (root ignores chmod)
    one_line_error(safe_io.writable_dir, tmp_path / "new", "--out", match="is not writable")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "file", "loop"]


def test_os_errors_inside_user_path_name_the_path(tmp_path):
    with pytest.raises(ConfigError, match=f"--out {tmp_path}: the file system is read-only"):
        with safe_io.user_path(tmp_path, "--out"):
            raise OSError(30, "Read-only file system", str(tmp_path / "x"))


def test_check_plain_names_the_key_path():
    one_line_error(safe_io.check_plain, {"train": {"lr": float("nan")}}, "spec", match="spec.train.lr: nan is not a finite number")
    one_line_error(safe_io.check_plain, {"seed": 10**400}, "spec", match="spec.seed: 1000")
    one_line_error(safe_io.check_plain, {"a": [1, {2: 3}]}, "spec", match="spec.a[1]: a key must be a name")
    one_line_error(safe_io.check_plain, {"a": b"x"}, "spec", match="(bytes) is not a setting trainlab reads")
    safe_io.check_plain({"a": [1, 2.5, None, True, "x", {"b": -(2**63) + 1}]}, "spec")


def test_read_jsonl_skips_what_it_cannot_read(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_bytes(b'{"step": 1}\n\xff\xfe garbage\n[1, 2]\n{"step": 2}\n{"step": 3, "lo')
    rows, bad = safe_io.read_jsonl(p, "metrics")
    assert rows == [{"step": 1}, {"step": 2}] and bad == 3


def test_load_tensors_refuses_crafted_and_damaged_files(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps(Evil()))
    one_line_error(safe_io.load_tensors, tmp_path / "evil.pt", "checkpoint", match="refused: not a plain tensor file")
    assert not marker.exists()
    torch.save({"w": torch.ones(3)}, tmp_path / "ok.pt")
    raw = (tmp_path / "ok.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    one_line_error(safe_io.load_tensors, tmp_path / "cut.pt", "checkpoint", match="checkpoint")
    assert torch.equal(safe_io.load_tensors(tmp_path / "ok.pt", "checkpoint")["w"], torch.ones(3))


def test_gunzip_refuses_bombs_and_damage():
    good = gzip.compress(b"x" * 10_000)
    assert safe_io.gunzip(good, "f") == b"x" * 10_000
    assert safe_io.gunzip(good + gzip.compress(b"y"), "f") == b"x" * 10_000 + b"y"  # multi-member
    one_line_error(safe_io.gunzip, good, "f", 1000, match="decompresses to more than 1,000 bytes")
    one_line_error(safe_io.gunzip, good[:-4], "f", match="cut short")
    one_line_error(safe_io.gunzip, b"PK\x03\x04", "f", match="not a valid gzip file")
