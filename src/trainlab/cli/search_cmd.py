"""``trainlab search SPEC --space SPACE.yaml --trials N [--set key=value ...] [--sampler S]
[--pruner P] [--stages N] [--folds K] [--storage URL] [--study NAME] [--timeout S] [--out DIR] [--json]``

Progress lines go to stderr; ``--json`` prints ``{"best": {"value", "params", "trial"}, "complete",
"pruned", "failed", "stacked", "storage", "seconds"}`` (and more) on stdout. Ctrl-C keeps the
finished trials, still writes the files, and exits 130; the same command continues the study.
"""

from __future__ import annotations

import json

NAME = "search"
HELP = "hyperparameter search on Optuna: random/grid/TPE, coarse-to-fine, k-fold, stacked trials, shared studies"

# the library's registries (trainlab.search.SAMPLERS / PRUNERS; a test keeps them equal), spelled
# out so that building the parser does not import optuna and torch
SAMPLERS = ("random", "grid", "tpe", "cmaes", "qmc")
PRUNERS = ("none", "median", "hyperband", "successive_halving", "wilcoxon")


def add_arguments(p) -> None:
    p.add_argument("spec", help="the run spec (YAML): data, model, train, seed, device")
    p.add_argument("--space", required=True, metavar="SPACE.yaml",
                   help="dotted keys -> {log_uniform|uniform|int|log_int: [low, high]} or {choice: [...]}")
    p.add_argument("--trials", type=int, required=True, metavar="N", help="finished trials per stage (a study's target)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec value before searching (type-checked; repeatable)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="Optuna sampler (default tpe)")
    p.add_argument("--pruner", choices=PRUNERS, default="none", help="Optuna pruner, fed each epoch's validation metric")
    p.add_argument("--stages", type=int, default=1, metavar="N",
                   help="coarse to fine: N studies, each longer (1 epoch ... the spec's), ranges narrowed between them")
    p.add_argument("--folds", type=int, default=1, metavar="K",
                   help="stratified K-fold over train+val; 1 (default): the validation split, as CS231n prefers")
    p.add_argument("--storage", metavar="URL",
                   help="postgresql://user@host:port/db to share the study among machines, or a journal file path "
                        "(default OUT/journal.log)")
    p.add_argument("--study", metavar="NAME", help="study name (default: the spec's name)")
    p.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds")
    p.add_argument("--out", metavar="DIR", help="search directory (default runs/search-NAME; the same DIR continues)")
    p.add_argument("--seed", type=int, help="sampler seed (default: fresh; workers sharing a study must differ)")
    p.add_argument("--no-stack", action="store_true", help="train one trial at a time even when a batch could stack")
    p.add_argument("--heartbeat", type=int, default=20, metavar="S",
                   help="database storage: seconds between a trial's heartbeats (dead after 3x; default 20)")
    p.add_argument("--no-report", action="store_true", help="skip the figures and search.html")
    p.add_argument("--tensorboard", action="store_true",
                   help="TensorBoard events while each trial trains: OUT/tensorboard/STUDY/trial-N")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from trainlab.errors import ConfigError
    from trainlab.search import Space, search
    from trainlab.train import apply_overrides, load_file, resolve

    if args.heartbeat < 1:
        raise ConfigError(f"--heartbeat must be a positive number of seconds, got {args.heartbeat}")
    if args.timeout is not None and args.timeout <= 0:
        raise ConfigError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    spec = apply_overrides(resolve(load_file(args.spec)), args.overrides)
    space = Space.load(args.space)
    result = search(spec, space, args.trials, sampler=args.sampler, pruner=args.pruner, stages=args.stages,
                    folds=args.folds, storage=args.storage, study=args.study, timeout=args.timeout, out=args.out,
                    seed=args.seed, stack=False if args.no_stack else "auto", heartbeat=args.heartbeat,
                    grace=3 * args.heartbeat, tensorboard=args.tensorboard)
    if not args.no_report and args.storage != "memory":  # an in-memory study is gone once the search returns
        from trainlab.report.search_page import write

        result["page"] = str(write(result["out"], storage=args.storage))
    print(json.dumps(result, indent=2) if args.json else summary(result))
    return 130 if result["interrupted"] else 0


def summary(result: dict) -> str:
    best = result["best"]
    lines = [f"search {result['out']}: {result['complete']} complete, {result['pruned']} pruned, "
             f"{result['failed']} failed, {result['stacked']} trained stacked, {result['seconds']:.1f} s "
             f"({result['storage']})"]
    if best:
        params = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items())
        lines.append(f"best {result['metric']} {best['value']:.4f} (stage {best['stage']}, trial {best['trial']}): {params}")
        lines.append(f"best spec: {result['out']}/best.yaml  (trainlab train {result['out']}/best.yaml)")
    else:
        lines.append("no complete trial")
    for stage in result["stages"]:
        for w in stage.get("warnings", []):
            lines.append(f"warning (stage {stage['stage']}): {w}")
    if result.get("page"):
        lines.append(f"report: {result['page']}")
    return "\n".join(lines)
