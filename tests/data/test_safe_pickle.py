"""The restricted unpickler: numpy arrays in plain containers load; a pickle whose __reduce__
would run code is refused before anything runs, by the CIFAR loader too."""

import os
import pickle

import numpy as np
import pytest

from trainlab import data
from trainlab.data import safe_pickle
from trainlab.data.cifar_batches import read_batch
from trainlab.errors import ConfigError

from tests.data import fakes


class Exploit:
    """Unpickling this runs ``os.system(...)``: a crafted 'data' file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class ExploitEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def test_plain_numpy_data_loads_all_protocols():
    obj = {b"data": np.arange(12, dtype=np.uint8).reshape(3, 4), b"labels": [1, 2, 3], b"name": b"x"}
    for proto in (3, 4):
        back = safe_pickle.loads(pickle.dumps(obj, protocol=proto))
        np.testing.assert_array_equal(back[b"data"], obj[b"data"])
        assert back[b"labels"] == [1, 2, 3]


@pytest.mark.parametrize("proto", [2, 4, 5])
def test_crafted_reduce_is_refused_and_never_runs(tmp_path, proto):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": Exploit(marker)}, protocol=proto)
    assert b"system" in payload  # the payload really names os.system
    # protocol 2 from Python 3 names _codecs.encode (for the bytes key) before os.system
    refused = r"_codecs\.encode" if proto == 2 else r"(posix|os|nt)\.system"
    with pytest.raises(safe_pickle.UnsafePickleError, match="refused to unpickle " + refused) as e:
        safe_pickle.loads(payload, "evil.pkl")
    assert not marker.exists()
    assert "\n" not in str(e.value) and "evil.pkl" in str(e.value)
    pickle.loads(payload)  # the control: plain pickle does run it
    assert marker.exists()


def test_builtins_are_refused_too():
    with pytest.raises(safe_pickle.UnsafePickleError, match="builtins.eval"):
        safe_pickle.loads(pickle.dumps(ExploitEval(), protocol=4))


def test_object_arrays_are_refused():
    with pytest.raises(safe_pickle.UnsafePickleError, match="object array"):
        safe_pickle.loads(pickle.dumps(np.array([1, "a"], dtype=object), protocol=4))


def test_garbage_is_a_config_error():
    with pytest.raises(ConfigError, match="not a readable data pickle"):
        safe_pickle.loads(b"this is not a pickle")


def test_cifar_loader_refuses_a_crafted_batch(tmp_path, offline):
    marker = tmp_path / "pwned"
    folder = fakes.write_cifar_folder(offline, 10)
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": Exploit(marker), b"labels": []}, protocol=2))
    with pytest.raises(safe_pickle.UnsafePickleError, match="data_batch_3: refused to unpickle"):
        data.load({"name": "cifar10", "n_val": 5})
    assert not marker.exists()


def test_cifar_batch_with_wrong_content_is_refused(tmp_path):
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=4))
    with pytest.raises(ConfigError, match=r"expected uint8 data \(N, 3072\)"):
        read_batch(p)
    p.write_bytes(pickle.dumps([1, 2], protocol=4))
    with pytest.raises(ConfigError, match="not a CIFAR-10 batch"):
        read_batch(p)
