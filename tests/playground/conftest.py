"""A real playground server (``python -m trainlab playground`` in a subprocess, this checkout's
sources); the real browser is ``tests/conftest.py``'s ``browser`` fixture."""

from pathlib import Path

import pytest

from tests.conftest import cli_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "runs" / "playground-screenshots"  # the test run's pictures, for a person to look at


@pytest.fixture(scope="module")
def server():
    """The URL (ending in /) of a playground server started for this module; stopped afterwards."""
    with cli_server("playground", ready="/health") as url:
        yield url + "/"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
