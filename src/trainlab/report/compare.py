"""``trainlab report``: one self-contained HTML page for one run or several.

    page = compare([load(a), load(b)], out_dir)   # runs from trainlab.report.runs.load

The page: the runs (kind, folder, steps, time); their curves overlaid (loss and accuracy
against the step: Lecture 10's "sigmoid vs ReLU cost" from two runs); the resolved configs side
by side, the keys that differ highlighted and listed first; the final metrics; then each run's
own figures. Figures are embedded (data URIs), so the page is one file with no scripts.

Lab and lectures folders are rendered by the lectures renderer (``trainlab.report.html``)
instead: ``render_labs`` re-draws a lectures report from its ``results.json`` or one lab's page
from its ``result.json``, with no training.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from trainlab.errors import ConfigError
from trainlab.report import fonts, html
from trainlab.report.html import CSS, _e, _figure, _value
from trainlab.report.lectures import lab_page
from trainlab.report.run_figures import COLORS, curves
from trainlab.report.runs import flatten

EXTRA_CSS = """
tr.differs td{background:#fff6d6} tr.differs td:first-child{font-weight:600}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:.2rem;margin-right:.35rem;vertical-align:-.1rem}
section.run{border-top:2px solid #e2e2ea;margin-top:2rem;padding-top:.4rem} code{font-size:.88rem}
"""


def compare(runs: list[dict], out: str | Path) -> str:
    """The HTML page for ``runs`` (train / ensemble / diagnose); the overlay figure goes to
    ``out/curves-overlay.png`` and is embedded."""
    out = Path(out)
    labs = [r["dir"] for r in runs if r["kind"] in ("lab", "lectures")]
    if labs:
        raise ConfigError(f"{labs[0]}: a lab or lectures folder cannot be compared with training runs; "
                          f"give it alone (trainlab report {labs[0]})")
    overlay = curves(runs, out / "curves-overlay.png",
                     title=" vs ".join(r["name"] for r in runs) if len(runs) > 1 else runs[0]["name"])
    title = "trainlab report: " + ", ".join(r["name"] for r in runs)
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{_e(title)}</title><style>{CSS}{EXTRA_CSS}</style></head><body>",
             f"<header id='top'><h1>{_e(title)}</h1><p class='sub'>{len(runs)} run(s) · "
             f"{datetime.now().strftime('%Y-%m-%d %H:%M')}</p></header>",
             _runs_table(runs), "<section id='curves'><h2>Curves</h2>",
             _figure(overlay, "loss and accuracy against the step, every run overlaid (train solid, validation dashed)"),
             "</section>", _config_table(runs), _final_table(runs)]
    parts += [_run_section(i, r) for i, r in enumerate(runs)]
    parts.append("</body></html>")
    return fonts.embed("\n".join(parts))


def _swatch(i: int) -> str:
    return f"<span class='swatch' style='background:{COLORS[i % len(COLORS)]}'></span>"


def _runs_table(runs: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{_swatch(i)}<a href='#run-{i}'>{_e(r['name'])}</a></td><td>{_e(r['kind'])}</td>"
        f"<td><code>{_e(r['dir'])}</code></td><td>{_value(r.get('info', {}).get('steps'))}</td>"
        f"<td>{_value(r.get('info', {}).get('seconds'))}</td></tr>" for i, r in enumerate(runs))
    return ("<section id='runs'><h2>Runs</h2><table><thead><tr><th>run</th><th>kind</th><th>folder</th>"
            f"<th>steps</th><th>seconds</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _config_table(runs: list[dict]) -> str:
    """Every resolved config key, one column per run; keys whose values differ first, highlighted."""
    flat = [flatten(r["config"]) for r in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    missing = object()
    differs = [k for k in keys if len({repr(f.get(k, missing)) for f in flat}) > 1]
    same = [k for k in keys if k not in differs]
    head = "".join(f"<th>{_swatch(i)}{_e(r['name'])}</th>" for i, r in enumerate(runs))

    def row(k: str, cls: str) -> str:
        cells = "".join(f"<td>{_value(f[k]) if k in f else '(absent)'}</td>" for f in flat)
        return f"<tr class='{cls}'><td><code>{_e(k)}</code></td>{cells}</tr>"

    body = "".join(row(k, "differs") for k in differs) + "".join(row(k, "same") for k in same)
    summary = (f"{len(differs)} of {len(keys)} settings differ (highlighted, listed first)" if len(runs) > 1
               else f"{len(keys)} settings")
    return (f"<section id='configs'><h2>Resolved configs</h2><p class='sub'>{summary}</p>"
            f"<table class='configs'><thead><tr><th>key</th>{head}</tr></thead><tbody>{body}</tbody></table></section>")


def _final_table(runs: list[dict]) -> str:
    keys = list(dict.fromkeys(k for r in runs for k in r["final"]))
    head = "".join(f"<th>{_e(k)}</th>" for k in keys)
    rows = "".join(f"<tr><td>{_swatch(i)}{_e(r['name'])}</td>"
                   + "".join(html._cell(r["final"].get(k)) for k in keys) + "</tr>" for i, r in enumerate(runs))
    return (f"<section id='final'><h2>Final metrics</h2><table class='final'><thead><tr><th>run</th>{head}</tr>"
            f"</thead><tbody>{rows}</tbody></table></section>")


def _run_section(i: int, r: dict) -> str:
    figs = "".join(_figure(p, f"{r['name']}: {p.stem}") for p in r["figures"] if p.name != "curves-overlay.png")
    info = "".join(f"<dt>{_e(k)}</dt><dd>{_value(v)}</dd>" for k, v in (r.get("info") or {}).items())
    return (f"<section class='run' id='run-{i}'><h2>{_swatch(i)}{_e(r['name'])} <span class='sub'>({_e(r['kind'])})"
            f"</span></h2><dl class='setup'>{info}</dl>{figs or '<p class=sub>no figures in this run</p>'}"
            "<p class='sub'><a href='#top'>top</a></p></section>")


def render_labs(run: dict) -> str:
    """A lectures report (``results.json``) or one lab's page (``result.json``), re-rendered."""
    if run["kind"] == "lectures":
        return html.render(run["report"], run["dir"])
    return html.render(lab_page(run["result"]), run["dir"])
