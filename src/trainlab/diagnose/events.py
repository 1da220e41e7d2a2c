"""``Events``: one TensorBoard run (an event file) written cheaply enough to run inside a
training loop.

A step's scalars and histograms are gathered into ONE ``Event`` (``add_scalar`` builds and
queues an event per value, ~50-150 us each); the values are added in place, the histograms'
bucket edges computed for all of them at once; the events are serialized and written in
bursts (every ``FLUSH_SECONDS`` and at close) by this thread, with a numpy CRC-32C
(``trainlab.diagnose.crc32c``): TensorBoard's writer checksums every byte in a Python loop on a
thread of its own, which cost more than the probes on a small net. The file is TensorBoard's
own format (TFRecord of ``Event`` protos), read back by its ``EventAccumulator``.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import socket
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from trainlab.diagnose.crc32c import masked_crc32c

_FILES = itertools.count()  # a process-wide number, so two runs started in one second never share a file


def _pb():
    from tensorboard.compat.proto import event_pb2

    return event_pb2


class Events:
    """One TensorBoard run in ``logdir``. ``purge_step``: a resumed run; TensorBoard drops the
    events an earlier file has at or past that step (a ``SessionLog.START`` there)."""

    FLUSH_SECONDS = 1.0  # gathered events reach the file at most this often (and at close)

    def __init__(self, logdir: str | Path, purge_step: int | None = None):
        event_pb2 = _pb()
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.path = self.logdir / (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}"
                                   f".{os.getpid()}.{next(_FILES)}")
        self._file = open(self.path, "wb")
        self._pending: list = []  # events not yet on the disk
        self._event = event_pb2.Event()  # the one being gathered
        self._pending.append(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        if purge_step is not None:
            start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
            self._pending.append(event_pb2.Event(wall_time=time.time(), step=purge_step, session_log=start))
        self.flush()

    # ---- gathering -----------------------------------------------------------------------
    def scalar(self, tag: str, value: float) -> None:
        self._event.summary.value.add(tag=tag, simple_value=float(value))

    def histogram(self, tag: str, lo: float, hi: float, n: float, s1: float, s2: float, counts) -> None:
        """Counts in equal bins over [lo, hi] (skipped when the range is non-finite)."""
        self.histograms([tag], np.array([[lo, hi, n, s1, s2, *counts]], dtype=np.float64))

    def histograms(self, tags: list[str], table: np.ndarray) -> None:
        """One histogram per row of ``table``: min, max, count, sum, sum of squares, then the
        counts in equal bins over [min, max]; rows with a non-finite range are skipped."""
        if not tags:
            return
        lo, hi = table[:, 0], table[:, 1]
        bins = table.shape[1] - 5
        span = np.where(hi > lo, hi - lo, 1e-12)
        with np.errstate(invalid="ignore", over="ignore"):
            edges = (lo[:, None] + span[:, None] * (np.arange(1, bins + 1) / bins)).tolist()
        head, counts = table[:, :5].tolist(), table[:, 5:].tolist()
        values = self._event.summary.value
        for tag, (mn, mx, n, s1, s2), e, c in zip(tags, head, edges, counts):
            if not (math.isfinite(mn) and math.isfinite(mx)):
                continue
            h = values.add(tag=tag).histo
            h.min, h.max, h.num, h.sum, h.sum_squares = mn, mx, n, s1, s2
            h.bucket_limit.extend(e)
            h.bucket.extend(c)

    def text(self, tag: str, text: str, step: int = 0) -> None:
        """A line in TensorBoard's text tab."""
        from torch.utils.tensorboard.summary import text as text_summary

        event_pb2 = _pb()
        self._pending.append(event_pb2.Event(wall_time=time.time(), step=step, summary=text_summary(tag, text)))

    # ---- writing -------------------------------------------------------------------------
    def write(self, step: int) -> None:
        """Everything gathered since the last write, as one event at ``step``."""
        if len(self._event.summary.value):
            event_pb2 = _pb()
            self._event.wall_time, self._event.step = time.time(), step
            self._pending.append(self._event)
            self._event = event_pb2.Event()
        if time.monotonic() - self._last >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """The pending events to the file (TFRecord: length, its masked CRC, data, its CRC)."""
        records = []
        for event in self._pending:
            data = event.SerializeToString()
            header = struct.pack("<Q", len(data))
            records += [header, struct.pack("<I", masked_crc32c(header)), data, struct.pack("<I", masked_crc32c(data))]
        self._pending = []
        if records:
            self._file.write(b"".join(records))
            self._file.flush()  # a running tensorboard sees the run as it trains
        self._last = time.monotonic()

    def add_graph(self, model: torch.nn.Module, x: torch.Tensor) -> None:
        """The traced graph with the spec's scopes at the top: torch names nodes
        ``SpecGraph/Scope[Layer1]/Linear[0]/...``; TensorBoard then shows one ``SpecGraph`` box
        to open. Dropping the root and the ``Scope[...]`` wrapping shows Layer1 ... Output
        connected at the top, as the lecture's ``tf.name_scope`` graph."""
        event_pb2 = _pb()
        graph_def = traced_graph(model, x)
        root = type(model).__name__ + "/"

        def rename(name: str) -> str:
            name = name[len(root):] if name.startswith(root) else name
            return re.sub(r"(?:^|(?<=/))Scope\[([^\]]+)\]", r"\1", name)

        for node in graph_def.node:
            node.name = rename(node.name)
            node.input[:] = [rename(i) for i in node.input]
        self._pending.append(event_pb2.Event(wall_time=time.time(), graph_def=graph_def.SerializeToString()))
        self.flush()

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()


def traced_graph(model: torch.nn.Module, x: torch.Tensor):
    """torch's TensorBoard ``GraphDef`` of ``model`` on ``x`` (in eval mode, as torch's
    ``add_graph``), without ``torch.jit.trace``'s check: a second trace and a comparison that
    were half the time of drawing the graph."""
    from tensorboard.compat.proto.graph_pb2 import GraphDef
    from tensorboard.compat.proto.versions_pb2 import VersionDef
    from torch.utils.tensorboard._pytorch_graph import parse

    training = model.training
    model.train(False)
    try:
        with warnings.catch_warnings():  # torch.jit.trace (what the graph uses) warns it is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            trace = torch.jit.trace(model, x, check_trace=False)
    finally:
        model.train(training)
    graph = trace.graph
    torch._C._jit_pass_inline(graph)
    return GraphDef(node=parse(graph, trace, x), versions=VersionDef(producer=22))
