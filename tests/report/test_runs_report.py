"""`trainlab report`: runs compared on one page; lab pages re-rendered; mistakes are one line."""

import json

import pytest

from tests.conftest import EXAMPLES
from trainlab.cli.main import main
from trainlab.report import fonts
from trainlab.report.runs import flatten, load


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    dirs = []
    for name in ("sigmoid", "relu"):
        out = root / name
        assert main(["train", str(EXAMPLES / f"xor_deep_{name}.yaml"), "--set", "train.steps=400",
                     "--out", str(out), "--no-progress"]) == 0
        dirs.append(out)
    return dirs


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab") / "preprocessing"
    assert main(["lab", "run", "preprocessing", "--quick", "--out", str(out), "--json"]) in (0, 1)
    return out


def test_train_writes_curves_and_report_compares_two_runs(two_runs, tmp_path):
    for d in two_runs:
        assert (d / "figures" / "curves.png").stat().st_size > 0
    page_path = tmp_path / "cmp.html"
    assert main(["report", *map(str, two_runs), "--out", str(page_path)]) == 0
    page = page_path.read_text()
    # the differing settings are highlighted rows, listed before the shared ones
    assert "<tr class='differs'><td><code>model.mlp.activation</code></td><td>sigmoid</td><td>relu</td></tr>" in page
    assert page.index("model.mlp.activation") < page.index("<code>train.lr</code>")
    assert "<tr class='same'><td><code>train.lr</code></td><td>0.1</td><td>0.1</td></tr>" in page
    assert page.count("<img ") == 1 + 2  # the overlay, and each run's curves
    assert "<script" not in page and "http://" not in page and "https://" not in page  # self-contained
    finals = [json.loads((d / "result.json").read_text())["final"] for d in two_runs]
    assert finals[0]["train_loss"] == pytest.approx(0.6931, abs=0.01) and finals[1]["train_accuracy"] == 1.0


def test_one_run_report_defaults_to_its_folder(two_runs, capsys):
    assert main(["report", str(two_runs[1])]) == 0
    assert (two_runs[1] / "report.html").exists() and str(two_runs[1] / "report.html") in capsys.readouterr().out


@pytest.mark.slow
def test_lab_run_writes_its_page_and_report_rerenders_it(lab_dir):
    page = lab_dir / "report.html"
    first = page.read_text()
    assert "section class='lab' id='lab-preprocessing'" in first and "데이터 전처리" in first
    page.unlink()
    assert main(["report", str(lab_dir)]) == 0  # no training: from result.json
    again = page.read_text()
    assert again.count("<img ") == first.count("<img ") >= 1
    assert f"font-family:'{fonts.FAMILY}'" in again  # the Korean glyphs travel with the page


def test_mistaken_and_damaged_folders_are_one_line_errors(two_runs, tmp_path, capsys):
    bad_json = tmp_path / "bad"
    bad_json.mkdir()
    (bad_json / "result.json").write_text("{not json")
    no_config = tmp_path / "noconfig"
    no_config.mkdir()
    (no_config / "result.json").write_text(json.dumps({"final": {}}))
    cases = [(tmp_path / "missing", "no such run directory"), (tmp_path, "not a run directory"),
             (bad_json, "damaged, not readable JSON"), (no_config, "config.yaml is missing"),
             (EXAMPLES / "xor_deep_relu.yaml", "not a folder")]
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "result.json").write_text(json.dumps({"lab": "xor-deep", "claims": []}))
    cases += [(f"{two_runs[0]} {lab}", "rendered alone"), (f"{two_runs[0]} --out {tmp_path}", ".html file")]
    for args, words in cases:
        assert main(["report", *str(args).split()]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob("**/report.html"))  # nothing written


def test_korean_subset_holds_every_glyph_the_text_needs():
    from io import BytesIO
    import base64
    import re

    from fontTools.ttLib import TTFont

    if fonts.source() is None:
        pytest.skip("no Korean font installed (pip install pylopdf-fonts-ko)")
    text = "2~3단 정도의 그래프는 네트워크를 잘 학습한다. Latin stays."
    face = fonts.font_face(text)
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)\)", face).group(1))
    cmap = TTFont(BytesIO(data)).getBestCmap()
    wanted = {ord(c) for c in text if fonts.needs_font(c)}
    assert wanted and wanted <= set(cmap)
    assert ord("L") not in cmap  # Latin keeps the page's own font
    assert len(data) < 60_000


def test_without_a_korean_font_the_page_says_so(monkeypatch):
    monkeypatch.setattr(fonts, "source", lambda: None)
    page = fonts.embed("<html><head></head><body><p>학습</p></body></html>")
    assert "@font-face" not in page and "id='font-note'" in page and "fonts-noto-cjk" in page
    assert fonts.embed("<html><head></head><body>plain</body></html>") == "<html><head></head><body>plain</body></html>"


def test_flatten_dotted_keys():
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "e": []}) == {"a.b": 1, "a.c.d": None, "e": []}
    with pytest.raises(Exception):
        load("/nonexistent/run")


@pytest.mark.slow
def test_lectures_report_rerenders_from_results_json(lab_dir, tmp_path, capsys):
    import shutil

    from trainlab.report.lectures import write_report

    out = tmp_path / "lectures"
    shutil.copytree(lab_dir, out / "preprocessing")
    result = json.loads((lab_dir / "result.json").read_text())
    result["figures"] = [f"preprocessing/{p}" for p in result["figures"]]
    result["captions"] = {f"preprocessing/{p}": c for p, c in result["captions"].items()}
    write_report([result], out, "quick", result["seconds"])
    first = (out / "report.html").read_text()
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    again = (out / "report.html").read_text()
    assert again.count("<img ") == first.count("<img ") == len(result["figures"])
    assert "id='verdicts'" in again and "(lectures)" in capsys.readouterr().out
