"""Each lab runs once per test session in its quick size; every test that needs its result
(verdict tests, figure tests, the HTML report test) shares that one run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def lab_result(tmp_path_factory):
    """``lab_result("xor-deep")`` -> the lab's quick result, with its figures drawn under
    ``lab_result.out / name``."""
    from trainlab.labs import run_lab
    from trainlab.report.lab_figures import draw_lab

    cache: dict[str, dict] = {}
    out = tmp_path_factory.mktemp("lab-figures")

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = draw_lab(run_lab(name, size="quick"), out / name)
        return cache[name]

    get.out = out
    return get


def outcomes(result: dict) -> dict:
    """``{claim id: passed}`` of a lab result: what each lab test compares with the outcome it
    expects at quick size on the default seeds (1000, 1001, ...)."""
    assert result["error"] is None, result["error"]
    return {c["id"]: c["passed"] for c in result["claims"]}
