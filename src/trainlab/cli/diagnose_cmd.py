"""``trainlab diagnose TARGET --data DATASET [--steps N] [--out DIR] [--json] [--strict] [--tensorboard]``

TARGET is a spec YAML (a run spec, or a model spec) or ``package.module:callable`` /
``path/to/file.py:callable`` returning the user's own ``nn.Module``. Trains briefly under the
probes, runs the sanity checks and the LR range test, prints the findings, and writes
``diagnosis.json`` plus figures (and TensorBoard events with ``--tensorboard``) to ``--out``.
Exit status: 1 when training turned NaN/inf, or with ``--strict`` when any finding is an error.
"""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import datetime
from pathlib import Path

from trainlab.cli import process_exit
from trainlab.errors import ConfigError

NAME = "diagnose"
HELP = "watch any PyTorch model train, check it, and say what is wrong in plain words"


def add_target_arguments(p) -> None:
    """TARGET, --data and the training settings shared by diagnose, check and lr-find."""
    p.add_argument("target", metavar="TARGET",
                   help="a spec YAML, or package.module:callable / path/to/file.py:callable returning an nn.Module")
    p.add_argument("--data", metavar="DATASET", help="the data set (default: the run spec's); see trainlab list datasets")
    p.add_argument("--optimizer", help="optimizer name (default: the spec's, else adam)")
    p.add_argument("--lr", type=float, help="learning rate (default: the spec's, else 0.001)")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default: the spec's, else 64)")
    p.add_argument("--seed", type=int, help="seed for init and data order (default: the spec's, else 0)")
    p.add_argument("--out", help="output folder (default: runs/COMMAND-NAME-TIMESTAMP)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--device", help="auto | cpu | cuda (default: the run spec's device, else auto, as train)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="where data files are found and cached (default $TRAINLAB_DATA or ~/.cache/trainlab)")
    p.add_argument("--output", metavar="KEY",
                   help="for a model returning a tuple or dict: which output holds the logits (an index, "
                        "e.g. 0, or a key, e.g. logits)")
    p.add_argument("--input", metavar="KEY", dest="input_key",
                   help="for a model whose forward takes a dict: the key it reads the inputs from "
                        "(trainlab feeds {KEY: x})")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")


def add_arguments(p) -> None:
    add_target_arguments(p)
    p.add_argument("--steps", type=int, default=300, help="training steps to watch (default 300)")
    p.add_argument("--every", type=int, default=10, help="probe every N steps (default 10)")
    p.add_argument("--hist-every", type=int, default=100, help="activation histograms every N steps (default 100)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any finding is an error")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard event files to OUT/tensorboard while the run trains")
    p.add_argument("--no-checks", action="store_true", help="skip the sanity checks")
    p.add_argument("--no-lr-find", action="store_true", help="skip the learning-rate range test")
    # the default is diagnose's EVAL_SAMPLES, read when the command runs: importing it here would
    # import torch for every command's --help (a test checks the number below matches it)
    p.add_argument("--eval-samples", type=int, default=None,
                   help="rows of each split evaluations use, a fixed seeded sample (default 2000; 0: whole splits)")
    p.add_argument("--shared-scale", action="store_true",
                   help="draw every activation histogram on one x-range (a collapse shows as a spike)")


def load(args):
    """The Target and its training settings, with the command-line overrides applied."""
    from trainlab.diagnose.target import load_target

    target = load_target(args.target, args.data, args.seed, device=args.device, data_dir=args.data_dir,
                         output=args.output, input_key=args.input_key)
    train = dict(target.train)
    for key in ("optimizer", "lr", "batch_size"):
        value = getattr(args, key)
        if value is not None:
            train[key] = value
    return target, train


def say(args):
    """Progress lines on stderr (stdout stays the result, JSON with --json)."""
    if args.no_progress:
        return None
    return lambda text: print(f"{args.command}: {text}", file=sys.stderr, flush=True)


def out_dir(args, command: str, name: str) -> Path:
    if args.out:
        return Path(args.out)
    return Path("runs") / f"{command}-{name}-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"


def run(args) -> int:
    process_exit.allow()  # the process may end without module teardown (1 s of CPU)
    from trainlab.atomic import write_json
    from trainlab.diagnose import diagnose
    from trainlab.report import diagnose_figures as figs

    if args.tensorboard and not figs.tensorboard_available():
        raise ConfigError("--tensorboard needs the tensorboard package: pip install 'trainlab[tensorboard]'")
    if args.eval_samples is None:
        from trainlab.diagnose.phases import EVAL_SAMPLES

        args.eval_samples = EVAL_SAMPLES
    if args.eval_samples < 0:
        raise ConfigError(f"--eval-samples: expected a number >= 0 (0: whole splits), got {args.eval_samples}")
    target, train = load(args)
    out = out_dir(args, "diagnose", target.name)
    d = diagnose(target.model, target.dataset, train, steps=args.steps, every=args.every,
                 hist_every=args.hist_every, checks=not args.no_checks, lr_find=not args.no_lr_find,
                 seed=target.seed, device=target.device, eval_samples=args.eval_samples or None, say=say(args),
                 tensorboard=out / "tensorboard" if args.tensorboard else None)
    full = {"target": args.target, **d.to_dict(probes=True)}
    files = figs.draw_all(full, out, shared_scale=args.shared_scale)
    if args.tensorboard:  # the run's events were written while it trained; add the LR sweep
        files["tensorboard"] = str(figs.write_tensorboard(full, out / "tensorboard", records=False))
    full["figures"] = {k: str(v) for k, v in files.items()}
    write_json(out / "diagnosis.json", full)
    if args.json:
        print(json.dumps({k: v for k, v in full.items() if k != "probes"}, indent=2))
    else:
        print(render(full, out))
    diverged = any(f.kind == "nonfinite" for f in d.findings)
    return 1 if diverged or (args.strict and d.errors) else 0


def render(d: dict, out: Path) -> str:
    """The findings and checks as plain text for a terminal."""
    t = d["training"]
    acc = f", train accuracy {t['train_accuracy']:.1%}, val {t['val_accuracy']:.1%}" if t.get("val_accuracy") is not None else ""
    if t.get("val_samples"):
        sampled = t.get("train_sampled") or t.get("val_sampled")
        acc += (f" (evaluated on {t['train_samples']:,} train / {t['val_samples']:,} val rows"
                + (", a fixed seeded sample)" if sampled else ": the whole splits)"))
    lines = [f"diagnose {d['target']} on {d['data']['name']}: {t['steps']} steps, {t['optimizer']} lr {t['lr']:g}, "
             f"batch {t['batch_size'] or 'full'}{acc}, {d.get('device', 'cpu')} ({d['seconds']:.1f} s)", ""]
    if d["checks"]:
        lines.append("checks")
        for name, c in d["checks"].items():
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[c.get("passed")]
            lines.append(f"  {mark} {name:18s} {c['message']}")
    lf = d.get("lr_find")
    if lf:
        if lf.get("suggestion"):
            where = f"the sweep's {lf['regime'].replace('_', '-')} range" if lf.get("regime") else "outside the sweep"
            lines.append(f"  lr-find: suggests lr {lf['suggestion']:.2g} (lr {t['lr']:g} falls in {where})")
        else:
            lines.append("  lr-find: the loss fell at no rate of the sweep: the learning rate is not what holds it back")
    findings = d["findings"]
    lines += ["", f"findings: {len(findings)}" + ("" if findings else " (healthy)")]
    for f in findings:
        lines.append(f"  {f['severity'].upper():7s} {f['kind']}")
        lines += textwrap.wrap(f["message"], 96, initial_indent="          ", subsequent_indent="          ")
        lines += textwrap.wrap("fix: " + f["fix"], 96, initial_indent="          ", subsequent_indent="               ")
    lines += ["", f"written to {out}/: diagnosis.json, " + ", ".join(Path(p).name for k, p in d.get("figures", {}).items())]
    return "\n".join(lines)
