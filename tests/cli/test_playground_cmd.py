"""``trainlab playground``: its options, and one-line errors for bad ones."""

from tests.conftest import run_cli


def test_help_names_the_options():
    r = run_cli("playground", "--help")
    assert r.returncode == 0
    for opt in ("--port", "--host", "--open"):
        assert opt in r.stdout


def test_bad_port_and_threads_are_one_line_errors():
    r = run_cli("playground", "--port", "70000")
    assert r.returncode == 2 and r.stderr == "error: --port must be in 1..65535, got 70000\n"
    r = run_cli("playground", "--threads", "0")
    assert r.returncode == 2 and r.stderr.startswith("error: --threads: expected a positive integer")
