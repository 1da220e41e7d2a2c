"""``--threads``, $TRAINLAB_THREADS and the default that follows the free cores."""

import pytest
import torch

from trainlab import threads
from trainlab.cli.main import main
from trainlab.errors import ConfigError


@pytest.mark.parametrize("cores, busy, expected", [(2, 0.0, 2), (2, 0.5, 1), (2, 1.0, 1), (2, 9.0, 1),
                                                   (8, 2.0, 6), (8, 0.2, 8), (1, 0.0, 1)])
def test_auto_uses_the_free_cores(cores, busy, expected, monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: cores)
    assert threads.auto_threads(cores, busy) == expected


def test_busy_cores_sees_a_cpu_bound_process():
    import subprocess
    import sys
    import time

    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        assert threads.busy_cores(0.3) >= 0.7  # one core's worth, plus whatever else runs
    finally:
        hog.kill()
        hog.wait()


def test_precedence_and_bad_values(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.choose("2") == (2, "--threads")
    assert threads.choose(None) == (3, threads.ENV)
    monkeypatch.setenv(threads.ENV, "auto")
    monkeypatch.setattr(threads, "busy_cores", lambda window=0.2: 0.0)
    n, why = threads.choose(None)
    assert n == min(threads.cores(), threads.TORCH_DEFAULT) and why.startswith("auto")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose(None) == (1, "OMP_NUM_THREADS")
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ConfigError, match="expected a positive integer or 'auto'"):
            threads.choose(bad)
    monkeypatch.setenv(threads.ENV, "x")
    with pytest.raises(ConfigError, match="TRAINLAB_THREADS"):
        threads.choose(None)


def test_every_command_takes_threads(capsys):
    before = torch.get_num_threads()
    try:
        assert main(["list", "activations", "--threads", "1"]) == 0 and torch.get_num_threads() == 1
        assert main(["--threads", "2", "list", "losses"]) == 0 and torch.get_num_threads() == 2
        capsys.readouterr()
        assert main(["list", "losses", "--threads", "0"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --threads") and len(err.splitlines()) == 1
    finally:
        torch.set_num_threads(before)
