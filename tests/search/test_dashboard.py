"""``trainlab dashboard``: optuna-dashboard on a real search's journal, in a real server process;
read-only unless asked; one-line errors for every target it cannot show; and the page itself in
a real browser (slow)."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_server, free_port, run_cli
from tests.search.common import LR_WD, tiny_spec
from trainlab.cli.main import main
from trainlab.search import search

pytest.importorskip("optuna_dashboard", reason="optuna-dashboard is not installed (the dashboard extra)")
SCREENSHOTS = ROOT / "runs" / "dashboard-screenshots"  # the test run's pictures, for a person to look at


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    """A finished 6-trial search with its study in the embedded journal."""
    out = tmp_path_factory.mktemp("search") / "s"
    search(tiny_spec(epochs=1), LR_WD, 6, sampler="random", seed=0, out=out, progress=lambda line: None)
    return out


@pytest.fixture(scope="module")
def dashboard(searched):
    """The URL of ``trainlab dashboard SEARCH_DIR`` in a subprocess; stopped afterwards."""
    with cli_server("dashboard", str(searched), ready="/api/meta") as url:
        yield url


def _get(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url, timeout=10).read())


def test_the_dashboard_serves_the_searchs_study_and_its_trials_live(dashboard, searched):
    studies = _get(dashboard + "/api/studies")["study_summaries"]
    assert [s["study_name"] for s in studies] == ["tiny"]
    detail = _get(f"{dashboard}/api/studies/{studies[0]['study_id']}?after=0")
    assert len(detail["trials"]) == 6
    assert detail["objective_names"] == ["val_accuracy"]  # the search names its objective
    assert {p["name"] for p in detail["trials"][0]["params"]} == set(LR_WD)
    # live: trials the search adds while the dashboard runs show up (continuing the study to 9)
    search(tiny_spec(epochs=1), LR_WD, 9, sampler="random", seed=0, out=searched, progress=lambda line: None)
    deadline, seen = time.monotonic() + 20, 6
    while seen != 9 and time.monotonic() < deadline:  # the dashboard caches a study's trials for 2 s
        time.sleep(0.5)
        seen = len(_get(f"{dashboard}/api/studies/{studies[0]['study_id']}?after=0")["trials"])
    assert seen == 9
    page = urllib.request.urlopen(dashboard + "/dashboard", timeout=10).read().decode()
    assert "<script" in page and "http://" not in page.replace("http://www.w3.org", "")  # served locally, no CDN


def test_it_is_read_only_unless_asked(dashboard, searched):
    for method in ("DELETE", "POST", "PUT"):
        req = urllib.request.Request(dashboard + "/api/studies/0", method=method, data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 403 and b"read-only" in e.value.read()
    assert [s["study_name"] for s in _get(dashboard + "/api/studies")["study_summaries"]] == ["tiny"]


@pytest.fixture
def error(capsys):
    """``error(*ARGS)``: the one-line error ``trainlab dashboard ARGS`` exits 2 with, run in this
    process (``process=True``: in a real one, where a traceback would show)."""
    def run(*args: str, process: bool = False) -> str:
        if process:
            proc = run_cli("dashboard", *args, timeout=60)
            code, err = proc.returncode, proc.stderr
        else:
            code, err = main(["dashboard", *args]), capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        return err.strip()
    return run


def test_targets_it_cannot_show_are_one_line_errors(tmp_path, searched, error):
    assert "no such search directory or journal file" in error(str(tmp_path / "nope"))
    assert "no journal.log here" in error(str(tmp_path))
    bad = tmp_path / "garbage.log"
    bad.write_bytes(os.urandom(2000))
    assert "not a readable Optuna study storage" in error(str(bad), process=True)  # a real process: no traceback
    bad.write_text("not json\n{\"op_code\": 0}\n")
    assert "not a readable Optuna study storage" in error(str(bad))
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert "holds no study yet" in error(str(empty))
    elsewhere = tmp_path / "pg"
    elsewhere.mkdir()
    (elsewhere / "search.json").write_text(json.dumps({"storage": "postgresql+psycopg://u:***@db:5432/x"}))
    msg = error(str(elsewhere))
    assert "postgresql+psycopg://u:***@db:5432/x" in msg and "give that URL" in msg
    assert "--port must be in 0..65535" in error(str(searched), "--port", "70000")


def test_a_busy_port_is_a_one_lineerror(searched, error):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        msg = error(str(searched), "--port", str(s.getsockname()[1]), process=True)
    assert "cannot listen on 127.0.0.1" in msg and "pick another --port" in msg


def test_an_unreachable_database_names_host_and_port_not_the_password(error):
    msg = error(f"postgresql://me:s3cret@127.0.0.1:{free_port()}/db")
    assert "127.0.0.1" in msg and "s3cret" not in msg


@pytest.mark.slow
def test_the_page_shows_the_study_in_a_real_browser(dashboard, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(dashboard + "/dashboard", wait_until="networkidle")
    page.get_by_text("tiny").first.wait_for(timeout=20000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "studies.png"), full_page=True)
    page.get_by_text("tiny").first.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "study.png"), full_page=True)
    assert not errors, errors
    page.close()


@pytest.mark.slow
def test_a_study_shared_in_postgresql_is_served_from_its_url(tmp_path, postgres_url, error):
    out = tmp_path / "s"
    search(tiny_spec(epochs=1), LR_WD, 3, sampler="random", seed=0, storage=postgres_url, study="shared-view",
           out=out, progress=lambda line: None)
    assert "give that URL" in error(str(out))  # the directory names where its study lives
    with cli_server("dashboard", postgres_url, ready="/api/meta") as url:
        studies = _get(url + "/api/studies")["study_summaries"]
        study = next(s for s in studies if s["study_name"] == "shared-view")
        assert len(_get(f"{url}/api/studies/{study['study_id']}?after=0")["trials"]) == 3
