"""``trainlab ensemble SPEC --members K [--combine mean|vote|weighted] [--json]``

Trains K members of a run spec (seeds ``seed .. seed+K-1``) as one stacked computation when the
architecture allows (else one after another, and says why), combines them (weights fitted on
the validation split for ``weighted``) and reports each member's test score, their mean ± std
and the ensemble's.
"""

from __future__ import annotations

import json

from trainlab.errors import ConfigError

NAME = "ensemble"
HELP = "train K members of a spec at once and combine them: each member's accuracy, their mean ± std, the ensemble's"
LECTURE_GAIN = "+2-5%"  # the lecture's claim for ensembles of independently initialised nets


# the library's choices (trainlab.ensemble.COMBINES / DATA_ORDERS; a test keeps them equal),
# spelled out so that building the parser does not import torch
COMBINES = ("mean", "vote", "weighted")
DATA_ORDERS = ("per_model", "shared")


def add_arguments(p) -> None:
    p.add_argument("spec", help="the run spec (YAML): data, model, train, seed, device")
    p.add_argument("--members", "-k", type=int, default=5, metavar="K", help="number of members (default 5)")
    p.add_argument("--combine", choices=COMBINES, default="mean",
                   help="mean (average probabilities), vote (majority) or weighted (fitted on validation)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec value, e.g. --set train.lr=0.1 (type-checked; repeatable)")
    p.add_argument("--device", help="auto | cpu | cuda (overrides the spec)")
    p.add_argument("--data-order", choices=DATA_ORDERS, default="per_model",
                   help="per_model: each member its own data order, as separate runs (default); shared: one order")
    p.add_argument("--sequential", action="store_true", help="train members one after another (no stacking)")
    p.add_argument("--out", metavar="DIR", help="also write config.yaml, result.json and members.pt here")
    p.add_argument("--tensorboard", action="store_true",
                   help="write TensorBoard event files while training, one run per member: OUT/tensorboard/seed-S")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def run(args) -> int:
    from trainlab import data
    from trainlab.ensemble import Ensemble, train_members
    from trainlab.train import apply_overrides, load_file, resolve

    if args.members < 1:
        raise ConfigError(f"--members must be a positive integer, got {args.members}")
    overrides = list(args.overrides) + ([f"device={args.device}"] if args.device else [])
    spec = apply_overrides(resolve(load_file(args.spec)), overrides)
    directory = _out_dir(spec, args.out)  # a bad --out is refused before training, not after
    dataset = data.load(spec["data"])
    ensemble = Ensemble(args.combine, dataset.task)  # checks combine vs task before training
    _check_size(spec, dataset, args.members)
    callbacks = []
    if args.tensorboard or spec["train"]["tensorboard"]:
        from trainlab.diagnose.tensorboard import TensorBoard
        from trainlab.train.run import new_run_dir

        directory = directory or new_run_dir(spec, None)  # the events need a run directory: runs/NAME-TIME
        seeds = [spec["seed"] + i for i in range(args.members)]  # train_members' own default
        callbacks.append(TensorBoard(directory / "tensorboard", per_member=True, seeds=seeds))
    members = train_members(spec, dataset, k=args.members, progress=False if args.no_progress else None,
                            stacked=False if args.sequential else "auto", data_order=args.data_order,
                            callbacks=callbacks)
    live = [k for k in range(members.k) if k not in members.trainer.diverged]  # NaN members would poison the mix
    val_p, test_p = (members.probabilities(s.x)[live] for s in (dataset.val, dataset.test))
    ensemble.fit(val_p, dataset.val.y)
    result = {"name": spec["name"], "members": len(live), "seeds": [members.seeds[k] for k in live],
              "mode": members.mode, "note": members.note, "combine": args.combine,
              "test": ensemble.report(test_p, dataset.test.y), "val": ensemble.report(val_p, dataset.val.y),
              "lecture_gain": LECTURE_GAIN, "seconds": members.seconds, "steps": members.trainer.step,
              "device": str(members.trainer.device),
              "diverged": [members.seeds[k] for k in sorted(members.trainer.diverged)],  # their seeds
              "stopped": sorted(members.trainer.stopped), "data": dataset.summary()}
    if directory is not None:
        _write(directory, spec, members, result)
    print(json.dumps(result, indent=2) if args.json else summary(result))
    return 0


def _check_size(spec: dict, dataset, members: int) -> None:
    """K members stack K copies of the parameters: refuse past the parameter limit before any."""
    from trainlab import limits
    from trainlab.nn import count_parameters
    from trainlab.train.run import build_model

    per_member = count_parameters(build_model(spec, dataset))  # also checks its output against the data
    limits.check("parameters", per_member * members, f"--members {members:,}: the ensemble would have")


def _out_dir(spec: dict, out: str | None):
    from trainlab.train.run import new_run_dir

    return new_run_dir(spec, out) if out else None


def _write(directory, spec: dict, members, result: dict) -> None:
    import torch

    from trainlab.atomic import atomic_write, write_json, write_yaml

    write_yaml(directory / "config.yaml", spec)
    _write_metrics(directory / "metrics.jsonl", members)
    states = [{n: t.detach().cpu() for n, t in m.state_dict().items()} for m in members.models()]
    atomic_write(directory / "members.pt", lambda fh: torch.save({"seeds": members.seeds, "members": states}, fh))
    write_json(directory / "result.json", {**result, "run_dir": str(directory)})


def _write_metrics(path, members) -> None:
    """Each logged step's member-mean metrics and every member's (``per_model``), as JSON lines:
    the curves ``trainlab report`` draws."""
    from trainlab.atomic import atomic_write

    hist = [members.trainer.member_history(k) for k in range(members.k)]
    rows = []
    for i, h in enumerate(hist[0]):
        at = [m[i] for m in hist if i < len(m)]
        keys = [key for key in h if key not in ("step", "epoch", "seconds")]
        per = {key: [m.get(key) for m in at] for key in keys}
        mean = {key: sum(v) / len(v) for key, v in per.items() if all(isinstance(x, (int, float)) for x in v)}
        rows.append({"step": h["step"], "epoch": h["epoch"], **mean, "per_model": per})
    atomic_write(path, lambda fh: fh.write("".join(json.dumps(r) + "\n" for r in rows).encode()))


def summary(result: dict) -> str:
    test = result["test"]
    metric = f"test_{test['metric']}"
    lines = [f"ensemble of {result['members']} members of {result['name']} ({result['note']}), "
             f"{result['seconds']:.1f} s",
             f"{'member':>6}  {'seed':>5}  {metric}"]
    lines += [f"{k:>6}  {seed:>5}  {v:.4f}" for k, (seed, v) in enumerate(zip(result["seeds"], test["members"]))]
    lines.append(f"members  {test['member_mean']:.4f} ± {test['member_std']:.4f} (best {test['best_member']:.4f})")
    gain = (f"gain {test['gain']:+.4f} (the lecture: {result['lecture_gain']})" if test["metric"] == "accuracy"
            else f"mse reduction {test['gain']:+.4g}")
    lines.append(f"ensemble {test['ensemble']:.4f} ({result['combine']})  {gain}")
    if result["diverged"]:
        lines.append(f"left out, diverged (seeds): {result['diverged']}")
    return "\n".join(lines)
