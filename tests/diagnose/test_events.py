"""``Events``, read back with TensorBoard's own readers: one event per step carrying every
scalar and histogram, the CRCs TensorBoard checks, a resumed run's purge, text."""

import numpy as np
import pytest
import torch

from tests.diagnose.common import raw_events
from tests.diagnose.common import tensorboard_events as accumulator
from trainlab.diagnose.events import Events

pytest.importorskip("tensorboard")


def test_one_event_per_step_carries_every_scalar_and_histogram(tmp_path):
    w = Events(tmp_path)
    rng = np.random.default_rng(0)
    for step in (1, 2, 3):
        for i in range(60):
            w.scalar(f"s/{i}", step + i / 100)
        counts = rng.integers(0, 50, size=(70, 40)).astype(float)
        lo = rng.normal(size=70)
        table = np.column_stack([lo, lo + 2, counts.sum(1), lo, lo * lo, counts])  # min, max, n, sum, sumsq
        table[5, 0] = np.nan  # a non-finite range is skipped
        w.histograms([f"h/{i}" for i in range(70)], table)
        w.write(step)
    w.close()
    events = [e for e in raw_events(tmp_path) if e.HasField("summary")]
    assert [e.step for e in events] == [1, 2, 3]
    assert [len(e.summary.value) for e in events] == [60 + 69] * 3
    ea = accumulator(tmp_path)
    assert set(ea.Tags()["scalars"]) == {f"s/{i}" for i in range(60)}
    assert set(ea.Tags()["histograms"]) == {f"h/{i}" for i in range(70)} - {"h/5"}
    assert [e.value for e in ea.Scalars("s/7")] == pytest.approx([1.07, 2.07, 3.07])
    h = ea.Histograms("h/9")[-1].histogram_value
    assert list(h.bucket) == table[9, 5:].tolist() and h.num == table[9, 2]
    assert h.bucket_limit[-1] == pytest.approx(h.max) and h.min == table[9, 0]
    assert np.diff(h.bucket_limit) == pytest.approx(np.full(39, 2 / 40))


def test_large_events_pass_the_crc_check(tmp_path):
    """A ~400 KB event takes the numpy CRC path; TensorBoard's reader verifies it."""
    w = Events(tmp_path)
    table = np.tile(np.r_[0.0, 1.0, 40.0, 20.0, 13.0, np.ones(40)], (600, 1))
    w.histograms([f"h/{i}" for i in range(600)], table)
    w.write(7)
    w.close()
    (event,) = [e for e in raw_events(tmp_path) if e.HasField("summary")]
    assert event.ByteSize() > 300_000 and len(event.summary.value) == 600


def test_purge_step_drops_what_a_resumed_run_redoes(tmp_path):
    first = Events(tmp_path)
    for step in range(1, 6):
        first.scalar("loss", 1.0)
        first.write(step)
    first.close()
    resumed = Events(tmp_path, purge_step=3)  # resumed from the checkpoint at step 2
    for step in (3, 4):
        resumed.scalar("loss", 2.0)
        resumed.write(step)
    resumed.close()
    got = [(e.step, e.value) for e in accumulator(tmp_path).Scalars("loss")]
    assert got == [(1, 1.0), (2, 1.0), (3, 2.0), (4, 2.0)]


def test_text_and_graph(tmp_path):
    w = Events(tmp_path)
    w.text("graph", "the graph could not be traced")
    w.add_graph(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()), torch.randn(2, 3))
    w.close()
    ea = accumulator(tmp_path)
    assert ea.Tags()["graph"] and any(n.op == "aten::linear" for n in ea.Graph().node)
    (text,) = ea.Tensors("graph/text_summary")
    assert text.tensor_proto.string_val == [b"the graph could not be traced"]
