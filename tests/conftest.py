import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def run_cli(*args: str, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    """Run ``python -m trainlab ARGS`` as a real process (the user's view: exit code, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "trainlab", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)
