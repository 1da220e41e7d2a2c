"""The numpy CRC-32C against the standard check value and TensorBoard's own (byte-loop) one."""

import os

import pytest

from trainlab.diagnose.crc32c import LANE, SHORT, crc32c, masked_crc32c

pytest.importorskip("tensorboard")
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tensorboard_masked  # noqa: E402


def test_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"123456789" * 200) == crc32c(bytes(b"123456789" * 200))  # long path, deterministic


@pytest.mark.parametrize("n", [0, 1, 3, 4, SHORT, SHORT + 1, SHORT + 3, 2 * SHORT + LANE - 1, 50_000, 131_073])
def test_masked_matches_tensorboard(n):
    data = os.urandom(n)
    assert masked_crc32c(data) == tensorboard_masked(data)


def test_long_zero_and_ones_runs():
    for data in (bytes(5000), b"\xff" * 5000, bytes(4000) + b"\x01"):
        assert masked_crc32c(data) == tensorboard_masked(data)
