"""The CLI's fast exit (``trainlab.cli.process_exit``): no module teardown for diagnose, check and
lr-find, but everything teardown would have done for the user still happens."""

import json
import textwrap

from tests.conftest import run_cli
from trainlab.cli import process_exit


def test_fast_exit_keeps_output_atexit_handlers_and_unclosed_files(tmp_path):
    log, marker = tmp_path / "log.txt", tmp_path / "atexit.txt"
    model = tmp_path / "leaky.py"
    model.write_text(textwrap.dedent(f"""
        import atexit
        from torch import nn

        LOG = open({str(log)!r}, "w")  # never closed: only a flush at exit saves what it holds
        LOG.write("written by the model module")
        atexit.register(lambda: open({str(marker)!r}, "w").write("atexit ran"))


        def net():
            return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    """))
    proc = run_cli("check", f"{model}:net", "--data", "digits", "--steps", "5", "--budget", "5", "--json")
    assert proc.returncode in (0, 1), proc.stderr
    assert set(json.loads(proc.stdout)["checks"]) >= {"loss_at_init", "nonfinite"}  # stdout flushed whole
    assert log.read_text() == "written by the model module"
    assert marker.read_text() == "atexit ran"
    bad = run_cli("check", f"{model}:nope", "--data", "digits")  # an error: one line, status 2, also fast
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "callables there: net" in bad.stderr


def test_finish_returns_the_code_unless_a_command_allowed_it(monkeypatch):
    monkeypatch.setattr(process_exit, "_allowed", False)  # in-process tests of diagnose set it
    assert process_exit.finish(3) == 3
