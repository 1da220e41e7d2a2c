"""IDX reader and writer: round trips for every IDX type, gzip or not; broken files are one-line
ConfigErrors."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trainlab.data.idx import DTYPES, parse_idx, read_idx, to_idx_bytes, write_idx
from trainlab.errors import ConfigError

DTYPE_LIST = [np.dtype(d.str.lstrip("<>|=")) if d.itemsize == 1 else d.newbyteorder("=") for d in DTYPES.values()]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(DTYPE_LIST).flatmap(
    lambda dt: arrays(dt, st.lists(st.integers(0, 5), min_size=1, max_size=4).map(tuple))),
    st.booleans())
def test_round_trip_every_type_and_shape(arr, gz):
    raw = to_idx_bytes(arr, compress=gz)
    back = parse_idx(gzip.decompress(raw) if gz else raw)
    assert back.shape == arr.shape and back.dtype == arr.dtype
    np.testing.assert_array_equal(back, arr)


def test_mnist_layout_on_disk(tmp_path):
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = write_idx(tmp_path / "train-images-idx3-ubyte", x)
    raw = path.read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03"  # uint8, 3 dimensions
    assert raw[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    assert len(raw) == 16 + x.size
    gz = write_idx(tmp_path / "train-images-idx3-ubyte.gz", x)  # .gz: compressed by default
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    for p in (path, gz):
        np.testing.assert_array_equal(read_idx(p), x)


def test_big_endian_types_are_read_as_numbers(tmp_path):
    x = np.array([[1, -2], [300000, 7]], dtype=np.int32)
    raw = (tmp_path / "a").write_bytes(to_idx_bytes(x)) and (tmp_path / "a").read_bytes()
    assert raw[2] == 0x0C and raw[8:12] == (2).to_bytes(4, "big")
    assert raw[12:16] == (1).to_bytes(4, "big", signed=True)  # data is big-endian on disk
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), x)


@pytest.mark.parametrize("raw, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "bad magic"),
    (b"\x00\x00\x08\x02\x00\x00", "header cut short"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05", "size mismatch"),
])
def test_broken_files_are_config_errors(tmp_path, raw, message):
    p = tmp_path / "bad-idx"
    p.write_bytes(raw)
    with pytest.raises(ConfigError, match=message) as e:
        read_idx(p)
    assert "\n" not in str(e.value) and str(p) in str(e.value)


def test_corrupt_gzip_is_a_config_error(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(to_idx_bytes(np.zeros(10, np.uint8)))[:-6])
    with pytest.raises(ConfigError, match="not a valid gzip file"):
        read_idx(p)


def test_writer_rejects_types_idx_has_not():
    with pytest.raises(ValueError, match="no IDX type"):
        to_idx_bytes(np.zeros(3, dtype=np.int64))
