"""Run specs: defaults filled by ``resolve``, type-checked ``--set`` overrides, YAML file errors."""

import dataclasses

import pytest

from trainlab.errors import ConfigError
from trainlab.train import TrainConfig, apply_overrides, load_file, resolve
from trainlab.train.config import type_ok
from trainlab.train.spec import TOP_KEYS

TRAIN_KEYS = [f.name for f in dataclasses.fields(TrainConfig)]


def raw(**over):
    spec = {"name": "t", "data": {"name": "spiral", "noise": 0.2},
            "model": {"mlp": {"hidden": [16], "activation": "relu"}},
            "train": {"lr": 0.1, "epochs": 5}}
    spec.update(over)
    return spec


@pytest.fixture
def spec():
    return resolve(raw())


@pytest.fixture
def layers_spec():
    return resolve(raw(model={"layers": [{"dense": {"units": 4}}, "relu", {"dense": {"units": "auto"}}]}))


# ---- resolve ------------------------------------------------------------------------------
def test_resolve_fills_data_defaults(spec):
    assert spec["data"] == {"name": "spiral", "n_samples": 500, "noise": 0.2, "seed": 0, "turns": 1.75}


def test_resolve_data_by_name_only():
    s = resolve(raw(data="circle"))
    assert s["data"] == {"name": "circle", "n_samples": 500, "noise": 0.1, "seed": 0}
    assert resolve(raw(data="xor"))["data"] == {"name": "xor"}


def test_resolve_fills_train_defaults(spec):
    expected = TrainConfig(lr=0.1, epochs=5).to_dict()
    assert spec["train"] == expected
    assert set(spec["train"]) == set(TRAIN_KEYS)
    assert spec["train"]["optimizer"] == "adam" and spec["train"]["loss"] == "auto"
    assert spec["train"]["batch_size"] is None and spec["train"]["steps"] is None


def test_resolve_top_defaults():
    s = resolve({"data": "xor", "model": {"mlp": {"hidden": [4]}}})
    assert (s["name"], s["seed"], s["device"]) == ("run", 0, "auto")
    assert s["train"] == TrainConfig().to_dict()


def test_resolve_does_not_alias_input_model():
    r = raw()
    s = resolve(r)
    s["model"]["mlp"]["hidden"].append(99)
    assert r["model"]["mlp"]["hidden"] == [16]


def test_resolve_int_lr_becomes_float():
    s = resolve(raw(train={"lr": 1, "epochs": 2}))
    assert s["train"]["lr"] == 1.0 and isinstance(s["train"]["lr"], float)


def test_resolve_is_idempotent(spec):
    assert resolve(spec) == spec


def test_unknown_top_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown key 'trian'; valid keys: name, seed, device, data, model, train"):
        resolve(raw(trian={}))


def test_unknown_train_key_lists_valid_keys():
    with pytest.raises(ConfigError) as info:
        resolve(raw(train={"lrr": 0.1}))
    msg = str(info.value)
    assert "'lrr'" in msg
    for k in TRAIN_KEYS:
        assert k in msg


@pytest.mark.parametrize("missing", ["data", "model"])
def test_missing_required_key(missing):
    r = raw()
    del r[missing]
    with pytest.raises(ConfigError, match=f"missing key '{missing}'"):
        resolve(r)


@pytest.mark.parametrize("train", [5, [1, 2], "fast"])
def test_train_section_must_be_a_mapping(train):
    with pytest.raises(ConfigError, match="train"):
        resolve(raw(train=train))


def test_resolve_unknown_dataset():
    with pytest.raises(ConfigError, match=r"unknown dataset 'spirall'.*valid datasets"):
        resolve(raw(data="spirall"))


@pytest.mark.parametrize("key,value", [("seed", "x"), ("seed", 1.5), ("seed", True), ("name", 3), ("device", 0)])
def test_resolve_checks_top_types(key, value):
    with pytest.raises(ConfigError, match=key):
        resolve(raw(**{key: value}))


@pytest.mark.parametrize("train,key", [({"lr": "abc"}, "lr"), ({"epochs": 1.5}, "epochs"), ({"epochs": 0}, "epochs"),
                                       ({"batch_size": -1}, "batch_size"), ({"grad_clip": 0}, "grad_clip"),
                                       ({"epochs": None, "steps": None}, "epochs or steps")])
def test_resolve_checks_train_values(train, key):
    with pytest.raises(ConfigError, match=key):
        resolve(raw(train=train))


# ---- overrides ----------------------------------------------------------------------------
def test_override_train_values(spec):
    s = apply_overrides(spec, ["train.lr=0.5", "train.epochs=3", "train.optimizer=sgd", "train.batch_size=null"])
    assert s["train"]["lr"] == 0.5 and s["train"]["epochs"] == 3
    assert s["train"]["optimizer"] == "sgd" and s["train"]["batch_size"] is None
    assert spec["train"]["lr"] == 0.1  # the input is not modified


def test_override_train_dict_value(spec):
    s = apply_overrides(spec, ["train.schedule={name: step, step_size: 10}"])
    assert s["train"]["schedule"] == {"name": "step", "step_size": 10}


def test_override_data_noise(spec):
    s = apply_overrides(spec, ["data.noise=0.3"])
    assert s["data"]["noise"] == 0.3
    assert apply_overrides(spec, ["data.noise=0"])["data"]["noise"] == 0  # an int where a float was


def test_override_model_hidden(spec):
    s = apply_overrides(spec, ["model.mlp.hidden=[8,8]"])
    assert s["model"]["mlp"]["hidden"] == [8, 8]


def test_override_model_mlp_field_not_yet_in_spec(spec):
    s = apply_overrides(spec, ["model.mlp.dropout=0.2"])  # a valid mlp key with its default
    assert s["model"]["mlp"]["dropout"] == 0.2


def test_override_model_layer_units(layers_spec):
    s = apply_overrides(layers_spec, ["model.layers.0.dense.units=5"])
    assert s["model"]["layers"][0] == {"dense": {"units": 5}}
    assert layers_spec["model"]["layers"][0] == {"dense": {"units": 4}}


def test_override_seed_and_dataset(spec):
    s = apply_overrides(spec, ["seed=3", "data.name=circle"])
    assert s["seed"] == 3
    assert s["data"] == {"name": "circle", "n_samples": 500, "noise": 0.1, "seed": 0}  # circle's own defaults


def test_override_later_wins(spec):
    assert apply_overrides(spec, ["train.lr=0.5", "train.lr=0.25"])["train"]["lr"] == 0.25


def test_override_value_with_equals_sign(spec):
    s = apply_overrides(spec, ["name=a=b"])
    assert s["name"] == "a=b"


@pytest.mark.parametrize("text,key", [
    ("train.lr=abc", "train.lr"),
    ("train.epochs=1.5", "train.epochs"),
    ("train.epochs=abc", "train.epochs"),
    ("seed=x", "seed"),
    ("seed=1.5", "seed"),
    ("seed=true", "seed"),
    ("model.mlp.hidden=abc", "model.mlp.hidden"),
    ("data.noise=abc", "data.noise"),
    ("data.n_samples=1.5", "data.n_samples"),
    ("name=3", "name"),
])
def test_override_wrong_type_names_key(spec, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        apply_overrides(spec, [text])


@pytest.mark.parametrize("text,key", [
    ("train.lrr=1", "train.lrr"),
    ("model.foo=1", "foo"),
    ("data.nois=1", "nois"),
    ("trian.lr=1", "trian"),
    ("model.mlp.hiden=[4]", "hiden"),
    ("train.lr.x=1", "train.lr.x"),
])
def test_override_unknown_key_names_it(spec, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        apply_overrides(spec, [text])


def test_override_unknown_train_key_lists_valid(spec):
    with pytest.raises(ConfigError) as info:
        apply_overrides(spec, ["train.lrr=1"])
    assert all(k in str(info.value) for k in TRAIN_KEYS)


def test_override_unknown_data_key_lists_valid(spec):
    with pytest.raises(ConfigError, match=r"valid keys here: name, n_samples, noise, seed, turns"):
        apply_overrides(spec, ["data.nois=1"])


def test_override_layer_index_out_of_range(layers_spec):
    with pytest.raises(ConfigError, match=r"model\.layers\.7"):
        apply_overrides(layers_spec, ["model.layers.7.dense.units=5"])


def test_override_missing_equals(spec):
    with pytest.raises(ConfigError, match=r"train\.lr.*expected key=value"):
        apply_overrides(spec, ["train.lr"])


@pytest.mark.parametrize("text", ["train=1", "data=circle", "model=x"])
def test_override_whole_section_refused(spec, text):
    with pytest.raises(ConfigError, match=text.split("=")[0]):
        apply_overrides(spec, [text])


@pytest.mark.parametrize("text", ["train.epochs=0", "train.epochs=-2", "train.steps=0", "train.max_norm=0"])
def test_override_out_of_range_train_value(spec, text):
    with pytest.raises(ConfigError, match=text.split("=")[0].replace(".", r"\.")):
        apply_overrides(spec, [text])


def test_override_unknown_dataset(spec):
    with pytest.raises(ConfigError, match=r"unknown dataset 'circl'.*did you mean 'circle'"):
        apply_overrides(spec, ["data.name=circl"])


def test_failed_override_leaves_spec_unchanged(spec):
    before = resolve(raw())
    with pytest.raises(ConfigError):
        apply_overrides(spec, ["train.lr=0.5", "train.lrr=1"])
    assert spec == before


def test_type_ok():
    from typing import Optional, Union
    assert type_ok(1, float) and type_ok(1.5, float) and not type_ok(True, float)
    assert type_ok(None, Optional[int]) and not type_ok(1.5, Optional[int])
    assert type_ok({"name": "adam"}, Union[str, dict]) and not type_ok(3, Union[str, dict])


def test_top_keys():
    assert list(TOP_KEYS) == ["name", "seed", "device", "data", "model", "train"]


# ---- YAML files ---------------------------------------------------------------------------
def test_load_file_sets_name_from_stem(tmp_path):
    p = tmp_path / "my_run.yaml"
    p.write_text("data: xor\nmodel: {mlp: {hidden: [4]}}\ntrain: {steps: 3}\n")
    r = load_file(p)
    assert r["name"] == "my_run" and r["data"] == "xor"
    assert resolve(r)["train"]["steps"] == 3
    p.write_text("name: kept\ndata: xor\nmodel: {mlp: {hidden: [4]}}\n")
    assert load_file(p)["name"] == "kept"


def test_load_file_missing(tmp_path):
    with pytest.raises(ConfigError, match=r"not found.*nope\.yaml"):
        load_file(tmp_path / "nope.yaml")


def test_load_file_folder(tmp_path):
    with pytest.raises(ConfigError, match="folder"):
        load_file(tmp_path)


def test_load_file_invalid_yaml_names_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("data: xor\nmodel: {mlp: {hidden: [4]}\ntrain: {steps: 3}\n")  # unclosed brace on line 2
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML \(line \d+\)") as info:
        load_file(p)
    p.write_text("data: xor\n  model: : x\n")
    with pytest.raises(ConfigError, match=r"\(line 2\)"):
        load_file(p)
    assert "not valid YAML" in str(info.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "", "42\n"])
def test_load_file_not_a_mapping(tmp_path, text):
    p = tmp_path / "list.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_file(p)


@pytest.mark.parametrize("name", ["recurrent_lstm", "residual_mlp", "spiral_mlp", "split_merge", "xor_2_5_4_1",
                                  "xor_deep_relu", "xor_deep_sigmoid"])
def test_examples_resolve(name):
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "examples" / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"{path} not present")
    s = resolve(load_file(path))
    TrainConfig.from_dict(s["train"])
    assert s["data"]["name"] in ("xor", "circle", "xor_2d", "gauss", "spiral", "adding", "remember_first")
