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


def test_a_taken_port_is_a_one_line_error_before_any_url():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run_cli("playground", "--port", str(port))
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.startswith(f"error: playground: cannot listen on 127.0.0.1:{port} (") and "pick another --port" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_host_that_is_not_an_address_is_a_one_line_error():
    r = run_cli("playground", "--host", "no.such.host.invalid")
    assert r.returncode == 2 and "--host 'no.such.host.invalid' is not an address of this machine" in r.stderr
