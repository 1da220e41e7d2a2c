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


def test_a_name_provided_by_a_later_layer_is_imported_on_first_use(tmp_path, monkeypatch):
    (tmp_path / "plugin_for_registry_test.py").write_text(
        "from tests_registry_target import R\nR.register('late', lambda: 'built late')\n")
    (tmp_path / "tests_registry_target.py").write_text(
        "from trainlab.registry import Registry\nR = Registry('thing', provided_by={'late': 'plugin_for_registry_test'})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from tests_registry_target import R
    assert "late" in R and R.names() == ["late"]
    assert "plugin_for_registry_test" not in __import__("sys").modules
    assert R.get("late") == "built late"
    with pytest.raises(ConfigError, match="valid things: late"):
        R.lookup("early")


def test_the_dbn_initializer_needs_no_import_of_pretrain():
    import subprocess
    import sys
    code = ("from trainlab.nn import init\nimport sys\nassert 'trainlab.pretrain' not in sys.modules\n"
            "assert 'dbn' in init.names()\ninit.get({'dbn': {'epochs': 1}})\nassert 'trainlab.pretrain' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
