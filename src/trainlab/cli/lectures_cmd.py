"""``trainlab lectures [--quick | --size S] [--out DIR] [--only a,b] [--seeds N|A-B|A,B,..] [--device D]``: every lab, one HTML report."""

from __future__ import annotations

from trainlab.cli.lab_cmd import add_device_argument, add_seeds_argument, add_size_arguments, fresh_dir, parse_seeds

NAME = "lectures"
HELP = "run every lab and write one self-contained HTML report (the main job)"


def add_arguments(p) -> None:
    add_size_arguments(p)
    p.add_argument("--out", metavar="DIR", help="report folder (default runs/lectures-SIZE-TIME)")
    p.add_argument("--only", metavar="LABS", help="comma-separated lab names (default: every lab)")
    add_seeds_argument(p)
    add_device_argument(p)
    p.add_argument("--tensorboard", action="store_true", help="TensorBoard events while each lab trains: OUT/LAB/tensorboard")


def run(args) -> int:
    from trainlab.report.lectures import lectures, printer

    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    seeds = parse_seeds(args.seeds)
    out = fresh_dir(args.out, f"lectures-{args.size}", "results.json")
    if args.tensorboard:
        from trainlab.diagnose.tensorboard import require

        require()
    report = lectures(out, size=args.size, names=names, seeds=seeds, device=args.device, say=printer(),
                      tensorboard=args.tensorboard)
    labs = report["labs"]
    width = max(len(r["lab"]) for r in labs)
    for r in labs:
        n = sum(c["passed"] for c in r["claims"])
        print(f"{r['lab']:<{width}}  {r['verdict']:<4}  {n}/{len(r['claims'])} claims  {r['seconds']:7.1f} s")
    passed = sum(r["verdict"] == "pass" for r in labs)
    print(f"{passed}/{len(labs)} labs pass in {report['seconds']:.0f} s; report: {out / 'report.html'}")
    return 0 if passed == len(labs) else 1
