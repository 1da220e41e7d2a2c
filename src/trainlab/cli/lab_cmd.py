"""``trainlab lab list [--json]`` and ``trainlab lab run NAME [--quick | --size S] [--seeds N|A-B|A,B,..]
[--data NAME] [--out DIR] [--device D] [--json]`` (exit 0 when every claim passes, 1 when any fails).
A run saves its finished units of work in OUT/work; the same command on the same OUT continues it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from trainlab.errors import ConfigError
from trainlab.safe_io import writable_dir

NAME = "lab"
HELP = "list the labs, or run one: a lecture claim as an experiment with a figure and a verdict"
SIZES = ("quick", "standard", "full")  # trainlab.labs.SIZES (a test keeps them equal); no torch import here


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    ls = sub.add_parser("list", help="the labs, in lecture order")
    ls.add_argument("--json", action="store_true", help="print a JSON list of {name, title, data, seeds}")
    run_ = sub.add_parser("run", help="run one lab")
    run_.add_argument("name", help="the lab (see `trainlab lab list`)")
    add_size_arguments(run_)
    add_seeds_argument(run_)
    run_.add_argument("--data", metavar="NAME", help="data set, among those the lab accepts")
    run_.add_argument("--out", metavar="DIR", help="where result.json and the figures go (default runs/lab-NAME-TIME); "
                      "finished units of work are saved in DIR/work, so the same command continues a run that was "
                      "stopped before it wrote DIR/result.json (a folder holding result.json is refused)")
    add_device_argument(run_)
    run_.add_argument("--json", action="store_true", help="print result.json instead of a summary")
    run_.add_argument("--tensorboard", action="store_true",
                      help="TensorBoard events while the lab trains: OUT/tensorboard/NN-RUN/seed-S")


def add_size_arguments(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_const", const="quick", dest="size",
                   help="the quick size: seconds per lab (what the tests run)")
    g.add_argument("--size", choices=SIZES,
                   help="quick | standard (default; the whole report in about 10 min on 2 cores) | full (the real experiments)")
    p.set_defaults(size="standard")  # one default for both options (they share ``size``)


SEEDS_HELP = ("N: the first N of the default seeds (1000, 1001, ...: disjoint from the seeds the labs were "
              "designed on); A-B: seeds A to B; A,B,C: exactly those (default: the lab's count, per size)")


def add_seeds_argument(p) -> None:
    p.add_argument("--seeds", metavar="N|A-B|A,B,..", help=SEEDS_HELP)


def add_device_argument(p) -> None:
    p.add_argument("--device", default="auto", help="auto (default: cuda when available, else cpu, as `train`) | cpu | cuda")


def parse_seeds(text: str | None):
    """``--seeds``: None -> None (the lab's default); "5" -> 5 (a count); "100-109" -> [100..109];
    "3,5,8" -> [3, 5, 8]. Anything else is a ConfigError naming the value and the valid forms."""
    if text is None:
        return None
    bad = ConfigError(f"--seeds: cannot read {text!r}; give a count N (e.g. 5), a range A-B (e.g. 100-109) "
                      "or a list A,B,C (e.g. 3,5,8) of non-negative integers")
    text = text.strip()
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",")]
        elif "-" in text.lstrip("-"):
            a, b = (int(s) for s in text.split("-"))
            if b < a:
                raise ConfigError(f"--seeds: range {text!r} ends before it starts; give A-B with A <= B")
            seeds = list(range(a, b + 1))
        else:
            n = int(text)
            if n < 1:
                raise ConfigError(f"--seeds must be a positive integer, got {n}")
            return n
    except ValueError as e:
        if isinstance(e, ConfigError):
            raise
        raise bad from None
    if any(s < 0 for s in seeds):
        raise bad
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds: {text!r} names a seed twice; give each seed once")
    return seeds


def run(args) -> int:
    if args.action == "list":
        return list_labs(args.json)
    if args.action == "run":
        return run_lab(args)
    raise ConfigError("give an action: `trainlab lab list` or `trainlab lab run NAME`")


def list_labs(as_json: bool) -> int:
    from trainlab.labs import LABS

    labs = [LABS.lookup(n) for n in LABS.names()]
    rows = [{"name": lab.name, "title": lab.title, "data": list(lab.data), "seeds": dict(lab.seeds)} for lab in labs]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        print("\n".join(f"{r['name']:<{width}}  {r['title']}" for r in rows))
    return 0


def run_lab(args) -> int:
    from trainlab.labs import LABS
    from trainlab.report.lectures import printer, run_one

    LABS.lookup(args.name)  # unknown name: one line listing the labs, before anything is created
    seeds = parse_seeds(args.seeds)  # a bad value fails before anything is created
    out = fresh_dir(args.out, f"lab-{args.name}", "result.json")
    if args.tensorboard:
        from trainlab.diagnose.tensorboard import require

        require()
    result = run_one(args.name, out, size=args.size, seeds=seeds, data=args.data, device=args.device,
                     say=None if args.json else printer(), tensorboard=args.tensorboard, resumable=True)
    print(json.dumps(result, indent=2) if args.json else summary(result, out))
    return 0 if result["verdict"] == "pass" else 1


def fresh_dir(out: str | None, stem: str, marker: str) -> Path:
    """``out``, or ``runs/STEM-TIME``; never one that already holds results (no lost data)."""
    if out is None:
        return Path("runs") / f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path = writable_dir(out, "--out")  # not a file, not under one, no dangling link, writable
    if (path / marker).exists():
        raise ConfigError(f"--out {path} already holds results ({marker}); choose another folder")
    return path


def summary(result: dict, out: Path) -> str:
    from trainlab.labs.base import seed_range

    lines = [f"{result['lab']}: {result['title']}",
             f"  size {result['size']}, data {result['data'] or '(own)'}, seeds {seed_range(result['seeds'])}, "
             f"{result['seconds']:.1f} s"]
    for c in result["claims"]:
        mark = "PASS" if c["passed"] else "FAIL"
        lines.append(f"  {mark}  {c['claim']}")
        lines.append(f"        measured {short(c['measured'])}; expected {short(c['expected'])}"
                     + (f"; the lecture: {short(c['lecture'])}" if c.get("lecture") is not None else ""))
    if result.get("error"):
        lines.append("  the lab crashed: " + result["error"].splitlines()[0])
    lines.append(f"verdict: {result['verdict']}  ({out / 'result.json'}; figures: "
                 f"{', '.join(result['figures']) or 'none'})")
    return "\n".join(lines)


def short(v, limit: int = 160) -> str:
    if isinstance(v, float):
        text = f"{v:.4g}"
    elif isinstance(v, dict):
        text = ", ".join(f"{k}={short(x, 40)}" for k, x in v.items())
    else:
        text = str(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"
