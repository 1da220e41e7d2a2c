"""The real report of every lab (quick size) opened in headless Chromium: every section renders,
every image decodes, and the console stays clean."""

import os

import pytest

from trainlab.labs import LABS
from trainlab.report.lectures import write_report

from tests.report import browser

CHECK = """(() => {
  const imgs = [...document.images];
  return {
    labs: [...document.querySelectorAll('section.lab')].map(s => s.id),
    verdictRows: document.querySelectorAll('#verdicts tbody tr').length,
    images: imgs.length,
    broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
    imagesPerLab: Object.fromEntries([...document.querySelectorAll('section.lab')].map(
        s => [s.id, s.querySelectorAll('img').length])),
    claimTables: document.querySelectorAll('section.lab table.claims').length,
  };
})()"""


@pytest.mark.slow
def test_report_renders_in_chromium(lab_result, tmp_path):
    if browser.chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: make setup installs Debian's chromium")
        pytest.skip("chromium not installed (make setup installs it)")
    results = []
    for name in LABS.names():
        r = dict(lab_result(name))
        r["figures"] = [f"{name}/{p}" for p in r["figures"]]
        r["captions"] = {f"{name}/{p}": c for p, c in r["captions"].items()}
        results.append(r)
    write_report(results, lab_result.out, "quick", sum(r["seconds"] for r in results))
    seen = browser.inspect_page((lab_result.out / "report.html").as_uri(), CHECK)
    assert seen["errors"] == []
    value = seen["value"]
    assert value["labs"] == [f"lab-{n}" for n in LABS.names()]
    assert value["verdictRows"] == len(LABS.names()) == value["claimTables"]
    assert value["broken"] == []
    for r in results:
        assert value["imagesPerLab"][f"lab-{r['lab']}"] == len(r["figures"]) >= 1, r["lab"]
