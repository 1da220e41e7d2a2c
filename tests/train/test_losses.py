"""Losses against torch references (in float64), accuracy counting, ``auto`` and output sizes."""

import pytest
import torch
import torch.nn.functional as F

from trainlab.errors import ConfigError
from trainlab.train import LOSSES, losses


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_registry_names():
    assert sorted(LOSSES) == ["binary_cross_entropy", "cross_entropy", "mse"]


def test_cross_entropy_matches_log_softmax_nll():
    logits = torch.randn(50, 4, generator=gen(), dtype=torch.float64)
    y = torch.randint(0, 4, (50,), generator=gen(1))
    loss = losses.get("cross_entropy")
    ref = -(logits.log_softmax(-1)[torch.arange(50), y]).mean()  # -mean log p(y|x)
    assert torch.allclose(loss.fn(logits, y), ref)
    assert torch.equal(loss.prepare(y, 4), y)  # integer labels pass through


def test_binary_cross_entropy_on_logits_matches_sigmoid_formula():
    loss = losses.get("binary_cross_entropy")
    logits = torch.randn(40, 1, generator=gen(), dtype=torch.float64) * 3
    labels = torch.randint(0, 2, (40,), generator=gen(1))
    y = loss.prepare(labels, 1)
    assert y.shape == (40, 1) and y.dtype == torch.get_default_dtype()
    p = torch.sigmoid(logits)
    ref = -(y * p.log() + (1 - y) * (1 - p).log()).mean()  # the lecture's cost
    assert torch.allclose(loss.fn(logits, y.double()), ref)
    assert torch.allclose(loss.fn(logits, y.double()), F.binary_cross_entropy(p, y.double()))


def test_binary_cross_entropy_is_stable_for_large_logits():
    loss = losses.get("binary_cross_entropy")
    logits = torch.tensor([[200.0], [-200.0]])
    y = torch.tensor([[0.0], [1.0]])
    value = loss.fn(logits, y)
    assert torch.isfinite(value) and abs(value.item() - 200.0) < 1e-3


def test_mse_matches_mean_squared_error():
    loss = losses.get("mse")
    out = torch.randn(30, 1, generator=gen(), dtype=torch.float64)
    y = torch.randn(30, 1, generator=gen(1), dtype=torch.float64)
    assert torch.allclose(loss.fn(out, y), ((out - y) ** 2).mean())


def test_mse_prepares_one_hot_for_several_outputs_and_a_column_for_one():
    loss = losses.get("mse")
    labels = torch.tensor([0, 2, 1])
    assert torch.equal(loss.prepare(labels, 3), torch.eye(3)[[0, 2, 1]])
    assert torch.equal(loss.prepare(torch.tensor([0, 1, 1]), 1), torch.tensor([[0.0], [1.0], [1.0]]))
    floats = torch.randn(5, 1)
    assert torch.equal(loss.prepare(floats, 1), floats)  # regression targets unchanged


def test_cross_entropy_accuracy_counts_argmax_hits():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.1, 0.2]])
    y = torch.tensor([0, 1, 1, 0])
    assert int(losses.get("cross_entropy").correct(logits, y)) == 2


def test_binary_accuracy_thresholds_logits_at_zero():
    loss = losses.get("binary_cross_entropy")
    logits = torch.tensor([[1.5], [-0.3], [0.2], [-4.0]])
    y = loss.prepare(torch.tensor([1, 0, 0, 1]), 1)
    assert int(loss.correct(logits, y)) == 2


def test_mse_accuracy_argmax_or_threshold_half():
    loss = losses.get("mse")
    out = torch.tensor([[0.9, 0.1], [0.2, 0.7], [0.6, 0.4]])
    y = loss.prepare(torch.tensor([0, 1, 1]), 2)
    assert int(loss.correct(out, y)) == 2
    out1 = torch.tensor([[0.8], [0.4], [0.6]])
    y1 = loss.prepare(torch.tensor([1, 0, 0]), 1)
    assert int(loss.correct(out1, y1)) == 2


def test_perfect_and_zero_accuracy():
    y = torch.tensor([0, 1, 2, 1])
    perfect = F.one_hot(y, 3).float() * 10
    assert int(losses.get("cross_entropy").correct(perfect, y)) == 4
    wrong = F.one_hot((y + 1) % 3, 3).float()
    assert int(losses.get("cross_entropy").correct(wrong, y)) == 0


@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy", "mse"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_resolve_explicit_names_pass_through(name, task):
    assert losses.resolve(name, task) == name


def test_resolve_auto_by_task():
    assert losses.resolve("auto", "classification") == "cross_entropy"
    assert losses.resolve("auto", "regression") == "mse"


def test_resolve_unknown_lists_valid_losses():
    with pytest.raises(ConfigError, match=r"unknown loss 'mae'.*valid losss?: cross_entropy, binary_cross_entropy, mse"):
        losses.resolve("mae", "regression")
    with pytest.raises(ConfigError, match=r"did you mean 'cross_entropy'"):
        losses.get("cross_entropy_")


def test_n_outputs():
    assert losses.get("cross_entropy").n_outputs(2) == 2
    assert losses.get("cross_entropy").n_outputs(10) == 10
    assert losses.get("binary_cross_entropy").n_outputs(2) == 1
    assert losses.get("mse").n_outputs(3) == 3
    assert losses.get("mse").n_outputs(None) == 1  # regression: one output
