"""Search spaces as data: parsing, validation against a resolved spec (the --set machinery),
grids."""

import math

import optuna
import pytest

from trainlab.errors import ConfigError
from trainlab.search import Space
from trainlab.search.space import grid_points

from tests.search.common import tiny_spec

FULL = {"train.lr": {"log_uniform": [1e-6, 1]}, "train.weight_decay": {"log_uniform": [1e-6, 0.1]},
        "model.mlp.dropout": {"uniform": [0, 0.7]}, "model.mlp.activation": {"choice": ["relu", "tanh", "elu"]},
        "model.mlp.depth": {"int": [1, 6]}, "train.optimizer": {"choice": ["sgd", "momentum", "adam"]}}


def test_the_issues_space_parses_validates_and_round_trips():
    space = Space.parse(FULL)
    space.validate(tiny_spec())
    assert Space.parse(space.to_data()).to_data() == space.to_data()
    d = space.by_key["train.lr"]
    assert d.log and d.distribution() == optuna.distributions.FloatDistribution(1e-6, 1.0, log=True)
    assert space.by_key["model.mlp.depth"].distribution() == optuna.distributions.IntDistribution(1, 6)


def test_suggest_and_apply_give_a_checked_spec():
    space = Space.parse(FULL)
    trial = optuna.trial.FixedTrial({"train.lr": 1e-6, "train.weight_decay": 0.05, "model.mlp.dropout": 0.3,
                                     "model.mlp.activation": "tanh", "model.mlp.depth": 3, "train.optimizer": "sgd"})
    params = space.suggest(trial)
    spec = space.apply(tiny_spec(), params)
    assert spec["train"]["lr"] == 1e-6 and isinstance(spec["train"]["lr"], float)  # not the string '1e-06'
    assert spec["model"]["mlp"]["activation"] == "tanh" and spec["model"]["mlp"]["depth"] == 3
    assert spec["train"]["optimizer"] == "sgd"


@pytest.mark.parametrize("space, message", [
    ({"train.lr": {"log_uniform": [1, 1e-3]}}, "train.lr: inverted range [1, 0.001]"),
    ({"train.lr": {"uniform": [0.1, 0.1]}}, "train.lr: empty range"),
    ({"train.lr": {"log_uniform": [0, 1]}}, "a log range needs bounds > 0"),
    ({"train.lr": {"normal": [0, 1]}}, "unknown distribution 'normal'; valid distributions: uniform, log_uniform"),
    ({"train.lr": {"choice": []}}, "choice needs a non-empty list"),
    ({"model.mlp.depth": {"int": [1, 2.5]}}, "int needs integer bounds"),
    ({"train.lr": [1e-3, 1]}, "expected one distribution"),
    ({}, "expected a mapping of dotted keys"),
])
def test_bad_spaces_are_one_line_errors(space, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Space.parse(space)


@pytest.mark.parametrize("space, message", [
    ({"train.lrate": {"log_uniform": [1e-4, 1]}}, "space: train.lrate=0.0001: train.lrate: unknown key; valid train keys"),
    ({"train.epochs": {"uniform": [1.5, 3.0]}}, "train.epochs: expected int"),
    ({"model.mlp.activation": {"choice": ["relu", 3]}}, "model.mlp.activation=3"),
    ({"train.optimizer": {"choice": ["adam", "adamm"]}}, "unknown optimizer 'adamm'"),
    ({"model.mlp.activation": {"choice": ["relu", "relux"]}}, "unknown activation 'relux'"),
    ({"model.mlp.widht": {"int": [8, 64]}}, "unknown key 'widht'"),
])
def test_keys_and_values_are_checked_against_the_spec_before_any_trial(space, message):
    from trainlab.search.runner import _checker
    from trainlab.search.trials import Evaluator

    with pytest.raises(ConfigError, match=message):
        Space.parse(space).validate(tiny_spec(), _checker(Evaluator("accuracy")))


def test_grid_points_follow_the_budget_and_the_scale():
    space = Space.parse({"train.lr": {"log_uniform": [1e-4, 1]}, "model.mlp.dropout": {"uniform": [0, 0.5]}})
    grid = space.grid(9)
    assert [round(math.log10(v), 6) for v in grid["train.lr"]] == [-4, -2, 0]
    assert grid["model.mlp.dropout"] == [0.0, 0.25, 0.5]
    assert len(space.grid(16)["train.lr"]) == 4
    with_choice = Space.parse({"train.lr": {"log_uniform": [1e-4, 1]}, "train.optimizer": {"choice": ["sgd", "adam"]}})
    assert len(with_choice.grid(8)["train.lr"]) == 4  # 8 trials / 2 choices
    assert grid_points(Space.parse({"model.mlp.depth": {"int": [1, 6]}}).dims[0], 3) == [1, 4, 6]
