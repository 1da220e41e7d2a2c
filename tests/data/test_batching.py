"""The in-memory batcher: every row once per epoch, seeded order, short or dropped last batch."""

import pytest
import torch

from trainlab.data.batching import Batcher, permutation, take


def test_each_epoch_visits_every_row_once_in_a_new_seeded_order():
    x = torch.arange(10).float().unsqueeze(1)
    y = torch.arange(10)
    b = Batcher(x, y, batch_size=3, generator=torch.Generator().manual_seed(0))
    assert len(b) == 4
    epochs = [[yb for _, yb in b] for _ in range(2)]
    for batches in epochs:
        assert [len(t) for t in batches] == [3, 3, 3, 1]
        assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert torch.cat(epochs[0]).tolist() != torch.cat(epochs[1]).tolist()
    for xb, yb in b:
        assert torch.equal(xb.squeeze(1).long(), yb)  # rows stay paired
    again = Batcher(x, y, batch_size=3, generator=torch.Generator().manual_seed(0))
    assert [t.tolist() for _, t in again] == [t.tolist() for t in epochs[0]]


def test_order_is_torch_randperm_with_the_generator():
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    perm = torch.randperm(7, generator=g2)
    assert torch.equal(permutation(7, g1), perm)
    x = torch.arange(7) * 10
    assert take(x, x, perm, 1, 3)[0].tolist() == (perm[3:6] * 10).tolist()


def test_drop_last_and_no_shuffle():
    x, y = torch.arange(10).float(), torch.arange(10)
    assert [len(t) for _, t in Batcher(x, y, 4, drop_last=True)] == [4, 4]
    assert [t.tolist() for _, t in Batcher(x, y, 4, shuffle=False)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_argument_checks():
    with pytest.raises(ValueError, match="x has 3 rows but y has 2"):
        Batcher(torch.zeros(3), torch.zeros(2), 1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        Batcher(torch.zeros(3), torch.zeros(3), 0)
