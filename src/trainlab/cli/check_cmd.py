"""``trainlab check TARGET --data DATASET [--json]``: the sanity checks alone (loss at init, L2
raises the loss, overfit 20 samples, gradient check of custom modules, input-independent
baseline, non-finite guard). Exit status 1 when a check fails."""

from __future__ import annotations

import json

from trainlab.cli import process_exit
from trainlab.cli.diagnose_cmd import add_target_arguments, load, say

NAME = "check"
HELP = "sanity-check a model before training it (CS231n's babysitting checks)"


def add_arguments(p) -> None:
    add_target_arguments(p)
    p.add_argument("--steps", type=int, default=100, help="steps of the short trainings (default 100)")
    p.add_argument("--subset", type=int, default=20, help="samples the model must overfit (default 20)")
    p.add_argument("--budget", type=int, default=300, help="steps allowed to overfit them (default 300)")


def run(args) -> int:
    process_exit.allow()  # the process may end without module teardown (1 s of CPU)
    from trainlab.diagnose.runner import ALL_CHECKS, run_checks, train_config

    target, train = load(args)
    cfg = train_config(train, max(2, args.steps))
    results = run_checks(target.model, target.dataset, cfg, names=ALL_CHECKS, seed=target.seed,
                         overfit_n=args.subset, overfit_budget=args.budget, baseline_steps=args.steps,
                         device=target.device, say=say(args))
    if args.json:
        from trainlab.diagnose.log import json_safe

        print(json.dumps({"checks": json_safe(results)}, indent=2))
    else:
        for name, c in results.items():
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[c.get("passed")]
            print(f"{mark} {name:18s} {c['message']}")
    return 1 if any(c.get("passed") is False for c in results.values()) else 0
