"""A restricted unpickler for the data files that are pickles (CIFAR-10's python batches, the
``mnist.pkl.gz`` of the MNIST registry route).

``pickle.load`` on an untrusted file runs arbitrary code: a ``__reduce__`` names any callable
(``os.system``) and its arguments. Here ``find_class`` admits only what those files hold: numpy's
array reconstructor, ``ndarray`` and ``dtype`` (the Python docs' "Restricting Globals" recipe).
Anything else raises UnsafePickleError before it is called. Object arrays are refused too, since
their elements would be arbitrary objects.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

from trainlab.errors import ConfigError

_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]  # numpy's _reconstruct, wherever numpy keeps it

ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # written by numpy 1.x / Python 2
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # written by numpy 2.x
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class UnsafePickleError(ConfigError):
    """The file asks to load something a data file never holds."""


class _Restricted(pickle.Unpickler):
    def __init__(self, fh, name: str, encoding: str):
        super().__init__(fh, encoding=encoding)
        self.name = name

    def find_class(self, module: str, name: str):
        obj = ALLOWED.get((module, name))
        if obj is None:
            allowed = ", ".join(f"{m}.{n}" for m, n in ALLOWED)
            raise UnsafePickleError(f"{self.name}: refused to unpickle {module}.{name}: a data file holds "
                                    f"only {allowed}; this file may be crafted to run code")
        return obj


def loads(data: bytes, name: str = "pickle", encoding: str = "bytes"):
    """Unpickle ``data`` admitting only numpy arrays and plain containers.

    ``encoding``: how Python-2 ``str`` objects decode (``bytes`` keeps CIFAR's dict keys as
    ``b"data"``; ``latin1`` is what numpy arrays pickled by Python 2 need)."""
    try:
        obj = _Restricted(io.BytesIO(data), name, encoding).load()
    except UnsafePickleError:
        raise
    except Exception as e:  # truncated / not a pickle / wrong structure
        raise ConfigError(f"{name}: not a readable data pickle ({type(e).__name__}: {e})") from None
    _refuse_object_arrays(obj, name)
    return obj


def _refuse_object_arrays(obj, name: str) -> None:
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        raise UnsafePickleError(f"{name}: refused an object array (its elements could be anything)")
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    for item in items:
        if isinstance(item, (np.ndarray, dict, list, tuple)):
            _refuse_object_arrays(item, name)
