"""Every message from the page is checked before anything acts on it."""

import json

import pytest

from trainlab.errors import ConfigError
from trainlab.playground import schema
from trainlab.playground.presets import PRESETS, preset_states


def parse(msg):
    return schema.parse(json.dumps(msg))


def test_valid_messages():
    assert parse({"type": "play"}) == {"type": "play"}
    assert parse({"type": "step"}) == {"type": "step", "n": 1}
    assert parse({"type": "seeds", "steps": 200}) == {"type": "seeds", "steps": 200}
    state = parse({"type": "set", "state": {"features": ["x2", "sin_x1", "x1"], "lr": 1,
                                            "layers": [{"units": 3, "activation": "maxout"}]}})["state"]
    assert state["features"] == ["x1", "x2", "sin_x1"]  # the network's input order
    assert state["layers"] == [{**schema.LAYER_DEFAULT, "units": 3, "activation": "maxout"}]
    assert state["lr"] == 1.0


@pytest.mark.parametrize("msg, match", [
    ({"type": "fly"}, r"message.type: unknown value 'fly'; valid: set, play"),
    ({"type": "play", "x": 1}, r"message 'play': unknown field 'x'"),
    ({"type": "set", "state": {"depth": 3}}, r"state: unknown field 'depth'; valid fields: dataset, noise"),
    ({"type": "set", "state": {"noise": 51}}, r"state.noise: expected an integer in \[0, 50\], got 51"),
    ({"type": "set", "state": {"noise": True}}, r"state.noise: expected an integer in \[0, 50\], got True"),
    ({"type": "set", "state": {"lr": "0.1"}}, r"state.lr: expected a number in \[1e-05, 10\], got '0.1'"),
    ({"type": "set", "state": {"layers": [{}] * 13}}, r"at most 12 layers, got 13 layers"),
    ({"type": "set", "state": {"layers": [{"units": 17}]}}, r"state.layers\[0\].units: expected an integer in \[1, 16\]"),
    ({"type": "set", "state": {"layers": [{"activation": "relux"}]}}, r"unknown value 'relux'; valid: identity"),
    ({"type": "set", "state": {"points": [[0, 0, 9]]}}, r"state.points\[0\]\[2\] \(class\)"),
    ({"type": "step", "n": 1001}, r"message 'step'.n: expected an integer in \[1, 1000\]"),
])
def test_bad_messages_name_the_field_and_the_choices(msg, match):
    with pytest.raises(ConfigError, match=match):
        parse(msg)


@pytest.mark.parametrize("text", ["", "{", "NaN", '{"lr": Infinity}', "[1]", "[" * 10_000 + "]" * 10_000,
                                  b"\x80\x04.", "x" * (schema.LIMITS["max_message_bytes"] + 1)])
def test_not_json_objects(text):
    with pytest.raises(ConfigError, match="message"):
        schema.parse(text)


def test_cross_field_rules():
    st = schema.default_state()
    with pytest.raises(ConfigError, match="regression set"):
        schema.merge(st, {"dataset": "reg_plane", "loss": "cross_entropy"})
    with pytest.raises(ConfigError, match="needs two classes"):
        schema.merge(st, {"dataset": "custom", "points": [[0, 0, 0], [1, 1, 1], [2, 2, 2]],
                          "loss": "binary_cross_entropy"})


def test_presets_are_valid_states():
    states = preset_states()
    assert list(states) == list(PRESETS)
    for name, p in states.items():
        assert schema.check_changes(p["state"]) == p["state"], name
    deep = states["xor_deep_sigmoid"]["state"]
    assert [l["units"] for l in deep["layers"]] == [10] * 10 and deep["layers"][0]["activation"] == "sigmoid"
