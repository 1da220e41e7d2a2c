import pytest

from trainlab.errors import ConfigError
from trainlab.registry import Registry, split_spec


def make():
    r = Registry("widget")
    r.register("small", lambda size=1: ("small", size))
    r.register("large", lambda size=10, color="red": ("large", size, color))
    return r


def test_get_accepts_name_dict_onekey_and_callable():
    r = make()
    assert r.get("small") == ("small", 1)
    assert r.get({"name": "large", "size": 3}) == ("large", 3, "red")
    assert r.get({"large": {"color": "blue"}}) == ("large", 10, "blue")
    fn = lambda: "mine"  # noqa: E731
    assert r.get(fn) is fn


def test_unknown_name_lists_valid_names_and_suggests():
    with pytest.raises(ConfigError, match=r"unknown widget 'smal' \(did you mean 'small'\?\); valid widgets: small, large"):
        make().get("smal")


def test_unknown_argument_lists_valid_arguments():
    with pytest.raises(ConfigError, match=r"widget 'large': unknown argument 'colour'; valid arguments: size, color"):
        make().get({"name": "large", "colour": "blue"})


def test_bad_spec_shapes():
    with pytest.raises(ConfigError, match="bad widget spec"):
        split_spec(3, "widget")
    with pytest.raises(ConfigError, match="expected a mapping of arguments"):
        split_spec({"large": 3}, "widget")


def test_double_registration_is_a_bug():
    r = make()
    with pytest.raises(KeyError):
        r.register("small", object())
