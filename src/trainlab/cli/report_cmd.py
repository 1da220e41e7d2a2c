"""``trainlab report RUN_DIR [RUN_DIR ...] [--out FILE]``: one self-contained HTML page.

Train, ensemble and diagnose folders: their curves overlaid, resolved configs side by side with
the differences highlighted, final metrics, each run's figures. One lab or lectures folder: its
report re-rendered from its ``result.json`` / ``results.json`` (no training). Default output:
``RUN_DIR/report.html`` for one folder, ``runs/report-TIME/report.html`` for several.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from trainlab.errors import ConfigError

NAME = "report"
HELP = "one self-contained HTML page for finished runs: curves overlaid, configs compared, metrics, figures"


def add_arguments(p) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_DIR",
                   help="run folders written by trainlab train / ensemble --out / diagnose / lab run / lectures")
    p.add_argument("--out", metavar="FILE", help="the HTML file (default RUN_DIR/report.html, or runs/report-TIME/report.html)")


def run(args) -> int:
    from trainlab.atomic import atomic_write
    from trainlab.report.compare import compare, render_labs
    from trainlab.report.runs import load

    runs = [load(d) for d in args.runs]  # every folder checked before anything is written
    out = Path(args.out) if args.out else None
    if out is not None and (out.is_dir() or out.suffix.lower() not in (".html", ".htm")):
        raise ConfigError(f"--out {out}: give an .html file name (e.g. --out comparison.html)")
    lab_like = [r for r in runs if r["kind"] in ("lab", "lectures")]
    if lab_like and len(runs) > 1:
        raise ConfigError(f"{lab_like[0]['dir']}: a lab or lectures folder is rendered alone "
                          f"(trainlab report {lab_like[0]['dir']}); compare training runs with each other")
    if lab_like:
        out = out or runs[0]["dir"] / "report.html"
        page = render_labs(runs[0])
    else:
        if out is None:
            out = (runs[0]["dir"] if len(runs) == 1 else
                   Path("runs") / f"report-{datetime.now().strftime('%Y%m%d-%H%M%S')}") / "report.html"
        page = compare(runs, out.parent)
    atomic_write(out, lambda fh: fh.write(page.encode("utf-8")))
    kinds = ", ".join(f"{r['name']} ({r['kind']})" for r in runs)
    print(f"report: {out} ({kinds})")
    return 0
