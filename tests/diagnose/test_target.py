"""TARGET: a run spec, a model spec, or package.module:callable / file.py:callable."""

import sys
import textwrap

import pytest
import yaml
from torch import nn

from tests.conftest import EXAMPLES
from trainlab.diagnose.target import load_target
from trainlab.errors import ConfigError


def test_run_spec_uses_its_data_and_training_settings():
    t = load_target(str(EXAMPLES / "xor_deep_sigmoid.yaml"))
    assert t.dataset.name == "xor" and t.train["optimizer"] == "sgd" and t.train["lr"] == 0.1
    assert t.train["loss"] == "binary_cross_entropy" and t.name == "xor-deep-sigmoid"
    assert isinstance(t.model, nn.Module)


def test_model_spec_needs_data(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"mlp": {"hidden": 8, "depth": 2}}))
    with pytest.raises(ConfigError, match="--data"):
        load_target(str(path))
    t = load_target(str(path), "digits")
    assert t.dataset.name == "digits" and t.train == {}


def test_example_file_callable():
    t = load_target(str(EXAMPLES / "diagnose_model.py") + ":deep_sigmoid", "digits")
    assert type(t.model).__name__ == "DeepSigmoidNet" and t.model.head.out_features == 10


def test_package_module_callable(tmp_path, monkeypatch):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(textwrap.dedent("""
        from torch import nn
        def small():
            return nn.Sequential(nn.Linear(64, 10))
        def wrong_width():
            return nn.Sequential(nn.Linear(3, 10))
        def one_output(input_shape):
            return nn.Linear(input_shape[0], 1)
        NOT_A_MODEL = 3
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert isinstance(load_target("mypkg.models:small", "digits").model, nn.Sequential)
    with pytest.raises(ConfigError, match=r"fails on a batch of shape \(2, 64\) from digits: .*"):
        load_target("mypkg.models:wrong_width", "digits")
    with pytest.raises(ConfigError, match="has no callable 'nope'; callables there: small, wrong_width, one_output"):
        load_target("mypkg.models:nope", "digits")
    with pytest.raises(ConfigError, match="1 outputs but digits has 10 classes"):
        load_target("mypkg.models:one_output", "digits")
    binary = load_target("mypkg.models:one_output", "circle")  # 2 classes, one logit: BCE
    assert binary.train == {"loss": "binary_cross_entropy"}
    with pytest.raises(ConfigError, match="cannot import 'nopkg.x'"):
        load_target("nopkg.x:f", "digits")


@pytest.mark.parametrize("target,match", [("nothing", "expected a spec .yaml file"),
                                          ("missing.yaml", "spec file not found"),
                                          ("no/such/file.py:f", "no such file")])
def test_bad_targets_are_one_line_errors(target, match):
    with pytest.raises(ConfigError, match=match):
        load_target(target, "digits")
