"""``trainlab lr-find TARGET --data DATASET [--start LR] [--end LR] [--steps N] [--out DIR] [--json]``:
the learning-rate range test (Smith 2017): a suggestion, the regimes, and a plot."""

from __future__ import annotations

import json

from trainlab.cli import process_exit
from trainlab.cli.diagnose_cmd import add_target_arguments, load, out_dir

NAME = "lr-find"
HELP = "learning-rate range test: sweep the rate exponentially, suggest one, plot the curve"


def add_arguments(p) -> None:
    add_target_arguments(p)
    p.add_argument("--start", type=float, default=1e-7, help="first learning rate (default 1e-7)")
    p.add_argument("--end", type=float, default=10.0, help="last learning rate (default 10)")
    p.add_argument("--steps", type=int, default=100, help="sweep steps (default 100)")


def run(args) -> int:
    process_exit.allow()  # the process may end without module teardown (1 s of CPU)
    from trainlab.atomic import write_json
    from trainlab.diagnose import lr_find
    from trainlab.diagnose.log import json_safe
    from trainlab.report import diagnose_figures as figs
    from trainlab.train import losses

    from trainlab.train.trainer import resolve_device

    target, train = load(args)
    ds = target.dataset
    device = resolve_device(target.device)
    r = lr_find(target.model.to(device), ds.train, loss=losses.resolve(train.get("loss", "auto"), ds.task), task=ds.task,
                optimizer=train.get("optimizer", "adam"), start_lr=args.start, end_lr=args.end,
                steps=args.steps, batch_size=train.get("batch_size", 64), seed=target.seed,
                device=device)
    out = out_dir(args, "lr-find", target.name)
    result = json_safe(r.to_dict())
    result["figure"] = str(figs.lr_finder(result, out / "lr_find.png", lr=train.get("lr")))
    write_json(out / "lr_find.json", result)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    sug = f"suggested lr {r.suggestion:.2g}" if r.suggestion else "no suggestion: the loss never fell"
    print(f"lr-find {args.target} on {ds.name} ({r.optimizer}, {len(r.lrs)} steps, stopped: {r.stopped}): {sug}")
    if r.steepest:
        print(f"  steepest descent at lr {r.steepest:.2g}; loss minimum at lr {r.min_loss_lr:.2g}")
    for name, (lo, hi) in r.regimes.items():
        label = {"too_low": "too low (loss flat)", "good": "good (loss falls)", "flat": "flat (no rate helps)",
                 "too_high": "too high (loss rises, explodes or NaN)"}[name]
        print(f"  {lo:9.2g} .. {hi:<9.2g} {label}")
    print(f"plot: {result['figure']}")
    return 0
