"""The fuzz properties of tests/cli/test_fuzz.py over 1,000 cases: 500 mutated specs, 250 command
lines, 250 damaged run folders (about 3 minutes on 2 cores)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli import fuzz
from tests.cli.test_fuzz import (QUICK, check_command_line, check_run_folder, check_spec, draw_command_line,  # noqa: F401
                                 good_run, workdir)

SLOW = {"specs": 500, "command_lines": 250, "run_folders": 250}  # 1,000 cases in all


@pytest.mark.slow
@given(case=fuzz.mutated_specs())
@settings(QUICK, max_examples=SLOW["specs"])
def test_500_mutated_specs(workdir, case):
    check_spec(workdir, case)


@pytest.mark.slow
@given(data=st.data())
@settings(QUICK, max_examples=SLOW["command_lines"])
def test_250_command_lines(workdir, data):
    check_command_line(workdir, draw_command_line(workdir, data))


@pytest.mark.slow
@given(ops=fuzz.damages())
@settings(QUICK, max_examples=SLOW["run_folders"])
def test_250_damaged_run_folders(workdir, good_run, ops):
    check_run_folder(workdir, good_run, ops)
