"""The lectures report: one self-contained page, every section, figures embedded."""

import re

from trainlab.report import html
from trainlab.report.plotting import figure, save


def result(name, verdict="pass", figures=(), error=None):
    return {"lab": name, "title": f"{name} <claim>", "size": "quick", "quick": True, "data": "xor",
            "seeds": [0, 1], "verdict": verdict, "seconds": 1.5, "figures": list(figures),
            "captions": {f: "a caption" for f in figures}, "error": error,
            "lecture": [{"source": "Lecture 10", "text": "레이어가 많아질수록 학습을 못 하게 됨",
                         "english": "the more layers, the less it learns"}],
            "setup": {"net": "10 x 10 sigmoid", "steps": 10001},
            "claims": [{"id": "a", "claim": "stuck at ln 2", "passed": verdict == "pass",
                        "measured": {"loss": 0.69314, "solved": [0.0, 0.1]}, "expected": "|loss - 0.6931| < 0.01",
                        "lecture": 0.6931}],
            "tables": [{"id": "t", "title": "per seed", "columns": ["seed", "loss"], "rows": [[0, 0.6931], [1, float("nan")]]}],
            "records": {}, "notes": ["a note & more"]}


def test_render_has_every_section_and_embeds_figures(tmp_path):
    fig, ax = figure()
    ax[0, 0].plot([0, 1], [1, 0])
    save(fig, tmp_path / "a" / "loss.png")
    report = {"title": "T", "size": "quick", "seconds": 3.0, "created": "now",
              "labs": [result("a", figures=["a/loss.png"]), result("b", "fail", error="RuntimeError: boom")]}
    page = html.render(report, tmp_path)
    assert page.startswith("<!DOCTYPE html>") and page.count("<section class='lab'") == 2
    assert "id='verdicts'" in page and "1 of 2 labs pass" in page
    assert re.search(r"src='data:image/png;base64,[A-Za-z0-9+/=]{100,}'", page)
    assert "a &lt;claim&gt;" in page and "<claim>" not in page  # escaped
    assert "레이어가 많아질수록" in page and "a note &amp; more" in page
    assert "The lab crashed" in page and "RuntimeError: boom" in page
    assert "src='a/" not in page and "http" not in page.split("</style>")[1]  # nothing external


def test_missing_figure_is_shown_not_hidden(tmp_path):
    page = html.render({"labs": [result("a", figures=["a/gone.png"])]}, tmp_path)
    assert "figure missing: gone.png" in page
