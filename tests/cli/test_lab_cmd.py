"""``trainlab lab list|run`` and ``trainlab lectures``: the user's view (exit codes, files, one-line errors)."""

import json

import pytest

from tests.conftest import run_cli
from trainlab.cli.lab_cmd import parse_seeds
from trainlab.cli.main import make_parser
from trainlab.errors import ConfigError
from trainlab.labs import ORDER


def test_lab_list():
    r = run_cli("lab", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["name"] for row in rows] == list(ORDER)
    assert all(row["title"] and set(row["seeds"]) == {"quick", "standard", "full"} for row in rows)
    plain = run_cli("lab", "list")
    assert plain.returncode == 0 and plain.stdout.splitlines()[0].startswith("xor-deep ")


@pytest.mark.parametrize("args, message", [
    (("lab", "run", "xor-dep", "--out", "OUT"), "error: unknown lab 'xor-dep' (did you mean 'xor-deep'?); valid labs: xor-deep,"),
    (("lab", "run", "xor-deep", "--size", "huge", "--out", "OUT"), "error: argument --size: invalid choice: 'huge'"),
    (("lab", "run", "xor-deep", "--quick", "--data", "mnist", "--out", "OUT"), "error: lab 'xor-deep' "),
    (("lab", "run", "xor-deep", "--seeds", "0", "--out", "OUT"), "error: --seeds must be a positive integer, got 0"),
    (("lab", "run", "xor-deep", "--seeds", "9-3", "--out", "OUT"), "error: --seeds: range '9-3' ends before it starts"),
    (("lectures", "--seeds", "1,x", "--out", "OUT"), "error: --seeds: cannot read '1,x'; give a count N"),
    (("lab",), "error: give an action"),
    (("lectures", "--only", "init,nope", "--out", "OUT"), "error: unknown lab 'nope'"),
    # a device that does not exist fails before the lab starts (no progress lines, no files)
    (("lab", "run", "init", "--quick", "--device", "tpu", "--out", "OUT"),
     "error: device: unknown device 'tpu'; valid devices: auto, cpu, cuda"),
    (("lectures", "--quick", "--only", "init", "--device", "tpu", "--out", "OUT"),
     "error: device: unknown device 'tpu'; valid devices: auto, cpu, cuda"),
])
def test_mistakes_are_one_line_and_exit_2(args, message, tmp_path):
    r = run_cli(*[str(tmp_path / "o") if a == "OUT" else a for a in args])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith(message), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()  # nothing written for a mistake


@pytest.mark.parametrize("text, seeds", [(None, None), ("5", 5), (" 12 ", 12), ("100-103", [100, 101, 102, 103]),
                                         ("7-7", [7]), ("3,5,8", [3, 5, 8]), ("0", "positive integer, got 0"),
                                         ("-2", "positive integer, got -2"), ("3,3", "names a seed twice"),
                                         ("a-b", "cannot read 'a-b'"), ("1.5", "cannot read"), ("", "cannot read")])
def test_parse_seeds_reads_a_count_a_range_or_a_list(text, seeds):
    if isinstance(seeds, str):
        with pytest.raises(ConfigError, match=seeds):
            parse_seeds(text)
    else:
        assert parse_seeds(text) == seeds


def test_lab_run_and_lectures_default_to_the_device_rule_of_train():
    parser = make_parser()
    assert parser.parse_args(["lab", "run", "init"]).device == "auto"
    assert parser.parse_args(["lectures"]).device == "auto"
    assert parser.parse_args(["lectures", "--seeds", "3,5"]).seeds == "3,5"


@pytest.mark.slow
def test_chosen_seeds_reach_the_lab(tmp_path):
    r = run_cli("lab", "run", "preprocessing", "--quick", "--seeds", "3,5", "--out", str(tmp_path / "a"), "--json")
    result = json.loads(r.stdout)
    assert result["seeds"] == [3, 5] and result["environment"]["device"] in ("cpu", "cuda")
    assert result["setup"]["seeds"] == [3, 5]  # what the lab itself trained on
    assert result["notes"][0].startswith("seeds 3, 5: 2 of them (3, 5) are among seeds 0-")
    r = run_cli("lectures", "--quick", "--only", "preprocessing", "--seeds", "100-101", "--out", str(tmp_path / "b"))
    lab = json.loads((tmp_path / "b" / "results.json").read_text())["labs"][0]
    assert lab["seeds"] == [100, 101] and lab["setup"]["seeds"] == [100, 101]


def test_out_holding_results_is_refused(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    r = run_cli("lectures", "--quick", "--only", "init", "--out", str(tmp_path))
    assert r.returncode == 2 and "already holds results" in r.stderr
    assert (tmp_path / "results.json").read_text() == "{}"


@pytest.mark.slow
def test_lab_run_quick_writes_result_and_figures(tmp_path):
    out = tmp_path / "xor"
    r = run_cli("lab", "run", "xor-deep", "--quick", "--out", str(out), "--json")
    result = json.loads(r.stdout)
    assert r.returncode == (0 if result["verdict"] == "pass" else 1)
    assert result["verdict"] == "pass", result["claims"]
    assert json.loads((out / "result.json").read_text())["claims"] == result["claims"]
    assert result["figures"] and all((out / f).exists() for f in result["figures"])


@pytest.mark.slow
def test_lectures_quick_subset_writes_the_report(tmp_path):
    out = tmp_path / "report"
    r = run_cli("lectures", "--quick", "--only", "xor-deep,init", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "[1/2] xor-deep: starting" in r.stderr and "[2/2] init: pass" in r.stderr  # progress
    report = json.loads((out / "results.json").read_text())
    assert [lab["lab"] for lab in report["labs"]] == ["xor-deep", "init"]
    assert report["verdicts"] == {"xor-deep": "pass", "init": "pass"}
    page = (out / "report.html").read_text()
    assert page.count("<section class='lab'") == 2 and "data:image/png;base64," in page
    assert all((out / f).exists() for lab in report["labs"] for f in lab["figures"])
    assert "2/2 labs pass" in r.stdout
