"""`trainlab report` pages opened in headless Chromium: every image decodes, the console stays
clean, and the Korean quotes render with real glyphs (measured by width) on a machine with no
CJK font: the page carries its own."""

import os

import pytest

from tests.conftest import EXAMPLES, run_cli
from tests.report import browser
from trainlab.report import fonts

IMAGES = """(() => {
  const imgs = [...document.images];
  return {images: imgs.length, broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
          differs: document.querySelectorAll('table.configs tr.differs').length,
          finalRows: document.querySelectorAll('table.final tbody tr').length};
})()"""

# The first quote's Hangul syllables set in the embedded face only (no fallback family) at
# 100px must be as wide as the font file's own advance widths say (Noto Sans KR 2.004: 0.92 em
# a syllable), whatever fonts the machine has. A syllable
# missing from the subset falls back to the browser's default font (a narrower box here: a
# first version of this test caught exactly that with a syllable the page does not use).
KOREAN = """(async () => {
  await document.fonts.ready;
  const face = [...document.fonts].find(f => f.family.replace(/["']/g, '') === '%s');
  const span = document.createElement('span');
  span.style.font = "100px '%s'";
  span.style.whiteSpace = 'nowrap';
  const quote = document.querySelector('blockquote .ko');
  span.textContent = [...quote.textContent].filter(c => /[\uAC00-\uD7AF]/.test(c)).join('');
  document.body.appendChild(span);
  return {status: face ? face.status : null, width: span.getBoundingClientRect().width,
          text: span.textContent,
          quoteFont: getComputedStyle(quote).fontFamily, quoteWidth: quote.getBoundingClientRect().width,
          loaded: document.fonts.check("16px '%s'", quote.textContent)};
})()""" % (fonts.FAMILY, fonts.FAMILY, fonts.FAMILY)


def _advance(text: str, px: float) -> float:
    """The width ``text`` takes at ``px`` per em in the font the report embeds (from its file)."""
    from fontTools.ttLib import TTFont

    path = fonts.source()
    font = TTFont(str(path), fontNumber=fonts._korean_face(str(path)), lazy=True)
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    return sum(hmtx[cmap[ord(c)]][0] for c in text) / font["head"].unitsPerEm * px


def _need_chromium():
    if browser.chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: make setup installs Debian's chromium")
        pytest.skip("chromium not installed (make setup installs it)")


@pytest.mark.slow
def test_two_run_report_opens_clean_in_chromium(tmp_path):
    _need_chromium()
    dirs = []
    for name in ("sigmoid", "relu"):
        out = tmp_path / name
        assert run_cli("train", str(EXAMPLES / f"xor_deep_{name}.yaml"), "--set", "train.steps=300",
                       "--out", str(out)).returncode == 0
        dirs.append(str(out))
    page = tmp_path / "compare.html"
    r = run_cli("report", *dirs, "--out", str(page))
    assert r.returncode == 0, r.stderr
    seen = browser.inspect_page(page.as_uri(), IMAGES)
    assert seen["errors"] == []
    v = seen["value"]
    assert v["images"] == 3 and v["broken"] == []
    assert v["differs"] >= 3 and v["finalRows"] == 2


@pytest.mark.slow
def test_korean_quotes_render_with_the_embedded_glyphs(tmp_path):
    _need_chromium()
    if fonts.source() is None:
        pytest.skip("no Korean font to embed (pip install pylopdf-fonts-ko)")
    out = tmp_path / "lab"
    r = run_cli("lab", "run", "preprocessing", "--quick", "--out", str(out))
    assert r.returncode in (0, 1), r.stderr
    seen = browser.inspect_page((out / "report.html").as_uri(), KOREAN)
    assert seen["errors"] == []
    v = seen["value"]
    assert v["status"] == "loaded" and v["loaded"] is True
    assert len(v["text"]) >= 3
    assert v["width"] == pytest.approx(_advance(v["text"], 100), abs=len(v["text"]))
    assert v["quoteFont"].startswith(f'"{fonts.FAMILY}"') or v["quoteFont"].startswith(fonts.FAMILY)
