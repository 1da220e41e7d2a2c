"""``trainlab train SPEC.yaml [--set key=value ...] [--out DIR] [--device D] [--resume RUN_DIR]``"""

from __future__ import annotations

import json

from trainlab.cli import data_cmd
from trainlab.errors import ConfigError

NAME = "train"
HELP = "train a network described by a YAML spec into a run directory"


def add_arguments(p) -> None:
    p.add_argument("spec", nargs="?", help="the run spec (YAML): data, model, train, seed, device")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec value, e.g. --set train.lr=0.1 (type-checked; repeatable)")
    p.add_argument("--out", help="the run directory (default: runs/NAME-TIMESTAMP)")
    p.add_argument("--device", help="auto | cpu | cuda (overrides the spec)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run from its last checkpoint")
    p.add_argument("--json", action="store_true", help="print result.json instead of a summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    p.add_argument("--tensorboard", action="store_true",
                   help="write TensorBoard event files to RUN_DIR/tensorboard while training (sets train.tensorboard)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="where data files are found and cached (sets data.data_dir; default $TRAINLAB_DATA or ~/.cache/trainlab)")


def run(args) -> int:
    import trainlab.diagnose  # noqa: F401  (registers the TensorBoard callback train.tensorboard switches on)
    from trainlab.report.run_figures import draw_run
    from trainlab.train import apply_overrides, load_file, resolve, resume, train

    progress = False if args.no_progress else None
    if args.resume:
        if args.spec or args.overrides or args.out or args.device or args.data_dir or args.tensorboard:
            raise ConfigError("--resume RUN_DIR takes its spec from the run directory; "
                              "drop SPEC, --set, --out, --device, --data-dir and --tensorboard")
        run_ = resume(args.resume, progress=progress)
    else:
        if not args.spec:
            raise ConfigError("give a SPEC.yaml to train, or --resume RUN_DIR")
        overrides = list(args.overrides) + ([f"device={args.device}"] if args.device else [])
        overrides += [f"data.data_dir={args.data_dir}"] if args.data_dir else []
        overrides += ["train.tensorboard=true"] if args.tensorboard else []
        spec = apply_overrides(resolve(load_file(args.spec)), overrides)
        if spec["train"]["tensorboard"]:
            trainlab.diagnose.tensorboard.require()
        run_ = train(spec, out=args.out, progress=progress)
        data_cmd.run_preprocess_figure(run_.directory, run_.spec["data"])  # RUN_DIR/figures/preprocess.png
    result = run_.result
    draw_run(run_.directory)  # RUN_DIR/figures/curves.png
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(summary(result))
    return 0


def summary(result: dict) -> str:
    final = "  ".join(f"{k} {v:.4g}" for k, v in result["final"].items())
    stopped = f"\nstopped: {result['stopped']}" if result.get("stopped") else ""
    return (f"run {result['run_dir']}: {result['steps']} steps, {result['epochs']:g} epochs, "
            f"{result['seconds']:.1f} s, {result['parameters']} parameters\n{final}{stopped}")
