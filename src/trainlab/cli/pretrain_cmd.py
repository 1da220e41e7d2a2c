"""``trainlab pretrain SPEC.yaml [--set key=value ...] [--out DIR] [--resume RUN_DIR] [--json]``"""

from __future__ import annotations

import json
import sys

from trainlab.errors import ConfigError

NAME = "pretrain"
HELP = "pre-train the dbn layers of a spec (RBMs, greedily) into a run directory; resumable"


def add_arguments(p) -> None:
    p.add_argument("spec", nargs="?", help="a run spec whose model has init: {dbn: {...}}")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec value, e.g. --set model.mlp.init.epochs=5 (repeatable)")
    p.add_argument("--out", help="the run directory (default: runs/NAME-pretrain-TIMESTAMP)")
    p.add_argument("--device", help="auto | cpu | cuda (overrides the spec)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a killed pre-training from its last epoch")
    p.add_argument("--json", action="store_true", help="print result.json instead of a summary")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    p.add_argument("--no-figures", action="store_true", help="skip RUN_DIR/figures (filters, samples, monitor)")


def run(args) -> int:
    from trainlab.pretrain.run import pretrain, resume_pretrain
    from trainlab.train import apply_overrides, load_file, resolve

    echo = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    if args.resume:
        if args.spec or args.overrides or args.out or args.device:
            raise ConfigError("--resume RUN_DIR takes its spec from the run directory; drop SPEC, --set, --out and --device")
        result = resume_pretrain(args.resume, echo=echo)
    else:
        if not args.spec:
            raise ConfigError("give a SPEC.yaml to pre-train, or --resume RUN_DIR")
        overrides = list(args.overrides) + ([f"device={args.device}"] if args.device else [])
        spec = apply_overrides(resolve(load_file(args.spec)), overrides)
        spec["name"] = f"{spec['name']}-pretrain"
        result = pretrain(spec, out=args.out, echo=echo)
    if not args.no_figures:
        from trainlab.report.pretrain_figures import draw_pretrain_run

        result["figures"] = [str(p) for p in draw_pretrain_run(result["run_dir"])]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        layers = "  ".join(f"RBM {r['layer'] + 1} ({r['n_visible']}-{r['n_hidden']}) recon {r.get('recon_error', float('nan')):.4g}"
                           for r in result["layers"])
        print(f"pretrain {result['run_dir']}: {len(result['layers'])} RBMs, {result['seconds']:.1f} s\n{layers}\n"
              f"stack: {result['stack']}  (use it: init: {{dbn: {{stack: {result['run_dir']}}}}})")
    return 0
