"""The pieces of the fuzz tests (tests/cli/test_fuzz.py, tests/slow/test_fuzz_slow.py): what
they mutate, how they call the CLI in-process, and what "no traceback" means.

A case passes when ``trainlab.cli.main.main(argv)`` returns (or exits) with status 0, 1 or 2,
writes no "Traceback", and, when it fails, writes exactly one line ``error: ...`` (interrupted
aside). Anything else — an exception escaping ``main``, a hang past ``TIMEOUT`` seconds, a
two-line error — fails the test, and hypothesis shrinks it to a minimal case.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import signal
from pathlib import Path

import torch
import yaml
from hypothesis import strategies as st

from trainlab.cli.main import main
from trainlab.train import loop

TIMEOUT = 60  # seconds one case may take (a hang is a failure)
STEP_CAP = 4  # mutated step counts run at most this many real steps (the plan is capped, not faked)
ENV = {"TRAINLAB_MAX_DATA": "1000000", "TRAINLAB_MAX_PARAMETERS": "2000000"}  # limits the user can set

# small, fast specs covering every block family and data kind (no file-backed data: no network)
BASES = [
    {"name": "xor", "seed": 0, "data": "xor",
     "model": {"mlp": {"hidden": [5, 4], "activation": "sigmoid", "init": {"uniform": {"low": -1.0, "high": 1.0}}}},
     "train": {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": 3}},
    {"name": "spiral", "seed": 1, "data": {"name": "spiral", "n_samples": 60, "noise": 0.1, "preprocess": "standardize"},
     "model": {"mlp": {"hidden": 8, "depth": 2, "activation": {"leaky_relu": {"slope": 0.1}}, "batchnorm": True,
                       "dropout": 0.1}},
     "train": {"optimizer": {"name": "momentum", "momentum": 0.9}, "lr": 0.05, "steps": 3, "batch_size": 16,
               "schedule": {"step": {"step_size": 2, "gamma": 0.5}}, "grad_clip": 1.0, "weight_decay": 0.001}},
    {"name": "layers", "seed": 2, "data": {"name": "circle", "n_samples": 40},
     "model": {"init": "he_normal", "layers": [{"dense": 8}, "relu",
                                               {"residual": [{"dense": 8}, "tanh"]},
                                               {"parallel": [[{"dense": 4}], [{"dense": 4}, "elu"]]},
                                               {"maxout": {"units": 4, "pieces": 2}}, {"dropout": 0.2},
                                               {"dense": "auto"}]},
     "train": {"optimizer": {"name": "adam", "amsgrad": False}, "lr": 0.01, "steps": 3,
               "schedule": {"one_cycle": {"max_lr": 0.05}}, "early_stopping": {"monitor": "val_loss", "patience": 2}}},
    {"name": "rnn", "seed": 3, "data": {"name": "adding", "n_samples": 40, "length": 6},
     "model": {"layers": [{"recurrent": {"cell": "gru", "hidden": 6}}, {"dense": 1}]},
     "train": {"loss": "mse", "optimizer": "rmsprop", "lr": 0.01, "steps": 3, "schedule": "cosine"}},
    {"name": "digits", "seed": 4, "data": {"name": "digits", "n_train": 100},
     "model": {"mlp": {"hidden": [16], "activation": "selu", "init": "lecun_normal"}},
     "train": {"optimizer": "adamw", "lr": 0.01, "steps": 3, "batch_size": 50, "max_norm": 3.0}},
]

NASTY = [math.nan, math.inf, -math.inf, -1, 0, 1, 3, 2**31, 2**63, 2**64, 10**400, 1e308, -1e308, 1e-320,
         0.5, -0.5, True, False, None, "", "adam", "relu", "auto", "none", "../../x", "a/b", "x" * 300,
         "a\x00b", "1e309", [], {}, [1, 2], [[[[1]]]], {"a": 1}, {"name": None}, 1000000, 2.5]
VALUES = st.one_of(st.sampled_from(NASTY), st.integers(), st.floats(), st.text(max_size=12), st.booleans(),
                   st.lists(st.integers(-3, 300), max_size=3))
KEYS = ["depth", "units", "hidden", "momentum", "amsgrad", "nesterov", "slope", "alpha", "gamma", "betas",
        "n_train", "n_samples", "length", "noise", "preprocess", "batchnorm", "dropout", "max_lr", "min_lr",
        "pct_start", "grad_clip", "max_norm", "weight_decay", "seed", "name", "data_dir", "sequence", "layers",
        "mlp", "init", "bias_init", "kernel", "channels", "pieces", "p", "eps", "bias", "lr", "steps", "epochs",
        "batch_size", "eval_batch_size", "schedule", "optimizer", "loss", "early_stopping", "log_every",
        "checkpoint_every", "patience", "monitor", "output", "input", "device", "zz"]

BOMB = ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n")
TEXT_DAMAGE = {  # what the campaign wrote into spec files, applied to a valid spec's text
    "none": lambda t: t,
    "nul": lambda t: t[: len(t) // 2] + "\x00" + t[len(t) // 2:],
    "python_tag": lambda t: t.replace("data:", "data: !!python/object/apply:os.system ['echo pwned']\nx:", 1),
    "bomb_in_model": lambda t: BOMB + t.replace("model:", "model: {bomb: *f}\nm:", 1),
    "bomb_as_value": lambda t: BOMB + "train: {lr: *f}\n" + "\n".join(ln for ln in t.splitlines() if ln.startswith(("data", "model", "name"))),
    "deep": lambda t: t + "\nzz: " + "[" * 5000 + "]" * 5000 + "\n",
    "truncated": lambda t: t[: len(t) * 2 // 3],
    "tab_indent": lambda t: t.replace("  ", "\t", 1),
    "not_a_mapping": lambda t: "- " + t.replace("\n", "\n  "),
    "recursive_alias": lambda t: t + "\nzz: &r [*r]\n",
    "huge_int": lambda t: t + "\nseed: " + "9" * 5000 + "\n",
    "date": lambda t: t + "\nname: 2024-01-01\n",
    "binary": lambda t: t + "\nname: !!binary aGVsbG8=\n",
}


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


@st.composite
def mutated_specs(draw) -> tuple[str, bytes]:
    """(a description, the spec file's bytes): a base spec with 1-3 structural mutations, then
    maybe one text-level damage."""
    spec = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from([p for p in paths(spec) if p]))
        parent = spec
        for part in where[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if op == "replace":
            parent[where[-1]] = draw(VALUES)
        elif op == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(VALUES)
    text = yaml.safe_dump(spec, allow_unicode=True, width=10**6)
    damage = draw(st.sampled_from(sorted(TEXT_DAMAGE)))
    data = TEXT_DAMAGE[damage](text).encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()):
        data = data.replace(b"name", b"n\xffme", 1)  # not UTF-8
    return damage, data


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung(f"a case ran past {TIMEOUT} s")


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """``trainlab ARGV`` in this process: (exit status, stdout, stderr). An exception escaping
    ``main`` propagates (that is a traceback a user would see)."""
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as e:  # argparse: --help (0) and usage errors (2)
                rc = e.code if isinstance(e.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return rc, out.getvalue(), err.getvalue()


def assert_clean(rc: int, err: str, argv) -> None:
    """Exit 0, 1 or 2; no traceback; a failure is one line ``error: ...``."""
    assert "Traceback" not in err, (argv, err)
    assert rc in (0, 1, 2), (argv, rc, err)
    if rc != 0:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        assert len(lines[0]) <= 4100, (argv, len(lines[0]))  # bounded: ConfigError 600, a diagnosis 4000


@contextlib.contextmanager
def capped_runs():
    """Every run plans at most STEP_CAP steps (a mutated ``steps: 2**31`` is valid and would just
    take forever), and the user-raisable limits are set low so mutated sizes hit them fast."""
    real = loop.plan_steps

    def plan(cfg, n_train):
        batch, per_epoch, total, log_every = real(cfg, n_train)
        return batch, per_epoch, min(total, STEP_CAP), log_every

    saved = {k: os.environ.get(k) for k in ENV}
    loop.plan_steps = plan
    os.environ.update(ENV)
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        loop.plan_steps = real
        torch.set_num_threads(threads)  # a mutated spec cannot change it, but keep the session's
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def snapshot(directory: Path) -> dict:
    """What a failed resume must leave unchanged: each entry's kind and bytes (links: target)."""
    shot = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(directory))
            if p.is_symlink():
                shot[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                shot[rel] = ("dir", None)
            else:
                shot[rel] = ("file", p.read_bytes())
    return shot


# ---- damaged run folders ---------------------------------------------------------------------
RUN_FILES = ["config.yaml", "metrics.jsonl", "checkpoints/last.pt", "preprocess.pt", "checkpoints"]
CONFIGS = ["", "[]", "just text", "a: 1", "data: 3\nmodel: 4\ntrain: 5",
           "!!python/object/apply:os.system ['echo pwned']", "data: !!python/name:os.system\n",
           BOMB + "data: *f\n", "x: " + "[" * 3000 + "]" * 3000, "data: xor\x00"]
BAD_STATES = [{}, [], {"model": {}}, "text", {"model": {}, "optimizer": {}, "step": -5, "epoch": 0,
              "batch_in_epoch": 0, "rng": {}, "callbacks": [], "history": [], "stop_training": False}]


FIXED = {"other_arch": "config.yaml", "config_edit": "config.yaml", "metrics_lines": "metrics.jsonl",
         "state": "checkpoints/last.pt", "evil_pickle": "checkpoints/last.pt"}


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/trainlab-fuzz-pwned",))


@st.composite
def damages(draw) -> list[tuple]:
    """1-3 damages to a run folder (see ``damage``)."""
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "garbage", "flip", "folder", "dev_zero", "dangling", "loop",
                                     "delete", "config", "other_arch", "metrics_lines", "state", "evil_pickle",
                                     "config_edit"]))
        target = draw(st.sampled_from(RUN_FILES[:4]))
        arg = {"truncate": st.floats(0, 0.99), "garbage": st.binary(max_size=64), "flip": st.integers(0, 10**6),
               "config": st.sampled_from(CONFIGS), "metrics_lines": st.lists(st.binary(max_size=40), max_size=3),
               "state": st.sampled_from(range(len(BAD_STATES))), "config_edit": VALUES}.get(kind, st.none())
        ops.append((kind, target, draw(arg)))
    return ops


def _config(p: Path) -> dict | None:
    """config.yaml (a regular file: the caller checked) as a mapping, when an earlier damage
    left one."""
    if p.stat().st_size > 1 << 16:
        return None
    try:
        spec = yaml.safe_load(p.read_text())
    except Exception:  # noqa: BLE001 - the fuzz's own damage made it unreadable: nothing to edit
        return None
    return spec if isinstance(spec, dict) else None


def damage(run: Path, ops: list[tuple]) -> None:
    for kind, target, arg in ops:
        p = run / target
        if kind in ("folder", "dev_zero", "dangling", "loop", "delete"):
            if p.is_dir() and not p.is_symlink():
                import shutil

                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()
            p.parent.mkdir(parents=True, exist_ok=True)
            if kind == "folder":
                p.mkdir()
            elif kind == "dev_zero":
                p.symlink_to("/dev/zero")
            elif kind == "dangling":
                p.symlink_to(run / "no-such-file")
            elif kind == "loop":
                p.symlink_to(p)
            continue
        if kind == "config":  # replaces config.yaml, whatever an earlier damage made of it
            config = run / "config.yaml"
            if config.is_dir() and not config.is_symlink():
                import shutil

                shutil.rmtree(config)
            elif config.is_symlink():
                config.unlink()
            config.write_text(arg)
            continue
        p = run / FIXED.get(kind, target)  # these damages always edit one file
        if not p.is_file() or p.is_symlink():  # an earlier damage replaced it: leave that be
            continue
        raw = p.read_bytes()
        if kind == "truncate":
            p.write_bytes(raw[: int(len(raw) * arg)])
        elif kind == "garbage":
            p.write_bytes(arg)
        elif kind == "flip" and raw:
            i = arg % len(raw)
            p.write_bytes(raw[:i] + bytes([raw[i] ^ 0x5A]) + raw[i + 1:])
        elif kind == "other_arch":  # a valid spec whose model differs from the checkpoint's
            spec = _config(p)
            if spec is not None and isinstance(spec.get("model"), dict) and isinstance(spec["model"].get("mlp"), dict):
                spec["model"]["mlp"]["hidden"] = [7]
                p.write_text(yaml.safe_dump(spec))
        elif kind == "config_edit":  # a value in config.yaml set to something odd
            spec = _config(p)
            if spec is not None and isinstance(spec.get("train"), dict):
                spec["train"]["lr" if arg is None else "weight_decay"] = arg
                p.write_text(yaml.safe_dump(spec, allow_unicode=True, width=10**6))
        elif kind == "metrics_lines":
            with open(p, "ab") as fh:
                fh.write(b"\n".join(arg))
        elif kind == "state":
            torch.save(BAD_STATES[arg], p)
        elif kind == "evil_pickle":
            import pickle

            p.write_bytes(pickle.dumps(_Evil()))


# ---- command lines ------------------------------------------------------------------------------
def odd_paths(tmp: Path) -> dict[str, str]:
    """Paths of every kind the campaign tried, made under ``tmp``."""
    (tmp / "a-file").write_text("x")
    (tmp / "a-folder").mkdir(exist_ok=True)
    (tmp / "not-utf8.yaml").write_bytes(b"data: \xff\xfe\n")
    (tmp / "nul.yaml").write_bytes(b"data: xor\x00\n")
    (tmp / "empty.yaml").write_text("")
    for name, target in (("dangling", tmp / "nowhere"), ("loop", tmp / "loop"), ("zero", Path("/dev/zero"))):
        if not (tmp / name).is_symlink():
            (tmp / name).symlink_to(target)
    return {"file": str(tmp / "a-file"), "folder": str(tmp / "a-folder"), "under_file": str(tmp / "a-file" / "x"),
            "dangling": str(tmp / "dangling"), "loop": str(tmp / "loop"), "dev_zero": str(tmp / "zero"),
            "long": str(tmp / ("n" * 300)), "missing": str(tmp / "missing" / "deeper"), "dev_null": "/dev/null",
            "proc": "/proc/trainlab-x", "not_utf8": str(tmp / "not-utf8.yaml"), "nul": str(tmp / "nul.yaml"),
            "empty": str(tmp / "empty.yaml"), "fresh": str(tmp / "fresh-out"), "dot": ".", "blank": ""}


@st.composite
def command_lines(draw, spec: str, odd: dict[str, str]) -> list[str]:
    """A trainlab command line: a command and options drawn from what users type, odd paths and
    odd values included."""
    path = st.sampled_from(sorted(odd.values()) + [spec])
    text = st.one_of(st.text(max_size=20), st.sampled_from(["train.lr=nan", "train.lr=-1", "seed=1e400",
                                                            "train.optimizer={name: adam, amsgrad: 3}", "=",
                                                            "model.mlp.depth=adam", "name=../../x", "data.n_samples=2147483648",
                                                            "train.steps=99999999999999999999999", "data.data_dir=/dev/null"]))
    cmd = draw(st.sampled_from(["train", "train", "train", "resume", "ensemble", "list", "data", "lab", "check",
                                "diagnose", "lr-find", "bogus"]))
    if cmd == "resume":
        argv = ["train", "--resume", draw(path)]
    elif cmd == "train":
        argv = ["train", draw(path), "--no-progress"]
        for _ in range(draw(st.integers(0, 3))):
            opt = draw(st.sampled_from(["--out", "--set", "--device", "--data-dir", "--json", "--resume"]))
            argv += [opt] if opt == "--json" else [opt, draw(text if opt in ("--set", "--device") else path)]
    elif cmd == "ensemble":
        argv = ["ensemble", draw(path), "--members", str(draw(st.integers(-2, 2))), "--no-progress",
                "--out", draw(path)]
    elif cmd == "list":
        argv = ["list", draw(st.one_of(st.text(max_size=10), st.sampled_from(["activations", "datasets"])))]
    elif cmd == "data":
        argv = ["data", draw(st.sampled_from(["info", "list"])), draw(st.sampled_from(["xor", "spiral", "nope", ""])),
                "--data-dir", draw(path)]
        argv += ["--preprocess", draw(text)] if draw(st.booleans()) else []
    elif cmd == "lab":  # never a real lab's name: that would run the lab
        from trainlab.labs import LABS

        name = draw(st.text(max_size=8).filter(lambda s: s.strip() and s not in LABS))
        argv = ["lab", draw(st.sampled_from(["list", "run"])), name, "--out", draw(path)]
    elif cmd in ("diagnose", "lr-find", "check"):  # odd paths only: their own tests run real targets
        argv = [cmd, draw(st.sampled_from(sorted(odd.values()))), "--data",
                draw(st.sampled_from(["xor", "nope", "{name: spiral, n_samples: -1}"]))]
    else:
        argv = [cmd, draw(text)]
    return argv
