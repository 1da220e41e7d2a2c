"""The size limits: refused with the numbers before anything is allocated; raised by the user."""

import pytest

from trainlab import limits
from trainlab.errors import ConfigError
from trainlab.nn import build


def test_a_million_unit_layer_is_refused_with_the_numbers():
    spec = {"mlp": {"hidden": [1_000_000, 1_000_000]}}
    with pytest.raises(ConfigError) as e:
        build(spec, (2,), 2)  # 10^12 parameters: torch would allocate 4 TB
    text = str(e.value)
    assert "model.mlp[2] (dense): the model would have 1,000,004,000,000 model parameters" in text
    assert "about 16,000.1 GB to train" in text and "TRAINLAB_MAX_PARAMETERS=1000004000000" in text


@pytest.mark.parametrize("layers", [
    [{"conv2d": {"channels": 100_000, "kernel": 50}}],
    [{"recurrent": {"hidden": 100_000}}],
    [{"maxout": {"units": 100_000, "pieces": 1000}}],
])
def test_every_block_kind_counts_its_parameters_first(layers):
    shape = (3, 8, 8) if "conv2d" in layers[0] else (5, 4) if "recurrent" in layers[0] else (4,)
    with pytest.raises(ConfigError, match="over the limit of 100,000,000"):
        build({"layers": layers}, shape, 2)


def test_the_parameter_limit_can_be_raised_and_lowered(monkeypatch):
    spec = {"mlp": {"hidden": [100]}}
    assert sum(p.numel() for p in build(spec, (2,), 2).parameters()) == 502
    monkeypatch.setenv("TRAINLAB_MAX_PARAMETERS", "400")
    with pytest.raises(ConfigError, match="502 model parameters .* over the limit of 400"):
        build(spec, (2,), 2)
    monkeypatch.setenv("TRAINLAB_MAX_PARAMETERS", "502")
    build(spec, (2,), 2)
    monkeypatch.setenv("TRAINLAB_MAX_PARAMETERS", "lots")
    with pytest.raises(ConfigError, match=r"\$TRAINLAB_MAX_PARAMETERS: expected a positive integer, got 'lots'"):
        limits.limit("parameters")
