"""Whole searches on a tiny digits MLP: outputs, continuing a study, stacked batches against one
trial at a time, folds, per-member pruning, samplers."""

import csv
import json

import optuna
import pytest
import yaml

from trainlab.search import PRUNERS, SAMPLERS, kfold, search
from trainlab.search.trials import Evaluator, ReportMembers, ReportToTrial

from tests.search.common import LR_WD, tiny_spec

MIXED = {**LR_WD, "model.mlp.activation": {"choice": ["relu", "tanh"]}}
CONTINUOUS = {**MIXED, "model.mlp.dropout": {"uniform": [0.0, 0.5]}}  # no two trials share an architecture


def _quiet(lines):
    return lines.append


def test_search_writes_tables_and_a_best_spec_trainlab_trains(tmp_path):
    from trainlab.train import load_file, resolve

    lines = []
    r = search(tiny_spec(), CONTINUOUS, 4, sampler="random", seed=0, out=tmp_path, progress=_quiet(lines))
    assert r["complete"] == 4 and r["failed"] == 0 and r["stacked"] == 0  # dropout varies: one trial at a time
    assert r["storage"] == f"journal {tmp_path / 'journal.log'}"
    assert sum(line.startswith("[stage 1/1] trial") for line in lines) == 4
    rows = json.loads((tmp_path / "trials.json").read_text())
    assert [row["trial"] for row in rows] == [0, 1, 2, 3] and all(row["mode"] == "single" for row in rows)
    best = max(rows, key=lambda row: row["value"])
    assert r["best"]["value"] == best["value"] and r["best"]["params"] == best["params"]
    with open(tmp_path / "trials.csv") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4 and set(CONTINUOUS) <= set(table[0])
    spec = resolve(load_file(tmp_path / "best.yaml"))  # what trainlab train reads
    assert spec["train"]["lr"] == pytest.approx(best["params"]["train.lr"])
    assert spec["model"]["mlp"]["activation"] == best["params"]["model.mlp.activation"]
    assert spec["model"]["mlp"]["dropout"] == pytest.approx(best["params"]["model.mlp.dropout"])


def test_rerunning_continues_the_study_and_a_changed_search_is_refused(tmp_path):
    from trainlab.errors import ConfigError

    first = search(tiny_spec(), MIXED, 2, sampler="random", out=tmp_path, progress=_quiet([]), stack=False)
    again = search(tiny_spec(), MIXED, 2, sampler="random", out=tmp_path, progress=_quiet([]))
    assert first["complete"] == again["complete"] == 2  # already done: no new trial
    more = search(tiny_spec(), MIXED, 3, sampler="random", out=tmp_path, progress=_quiet([]))
    assert more["complete"] == 3
    with pytest.raises(ConfigError, match="started with another spec, space or options"):
        search(tiny_spec(lr=0.1), MIXED, 4, sampler="random", out=tmp_path, progress=_quiet([]))


def test_stacked_batches_give_what_one_trial_at_a_time_gives(tmp_path):
    kw = dict(sampler="random", seed=3, progress=_quiet([]))
    stacked = search(tiny_spec(), LR_WD, 6, out=tmp_path / "a", **kw)
    single = search(tiny_spec(), LR_WD, 6, out=tmp_path / "b", stack=False, **kw)
    assert stacked["stacked"] == 6 and single["stacked"] == 0
    a = json.loads((tmp_path / "a" / "trials.json").read_text())
    b = json.loads((tmp_path / "b" / "trials.json").read_text())
    assert [r["params"] for r in a] == [r["params"] for r in b]  # same sampler seed: same trials
    assert all(r["mode"] == "stacked x6" for r in a)
    n_val = len(Evaluator("accuracy").dataset(tiny_spec()).val)
    for x, y in zip(a, b):  # member k is a separate run with the same seed (float32: a sample or two)
        assert abs(x["value"] - y["value"]) <= 2 / n_val + 1e-9, (x, y)


def test_folds_are_stratified_and_give_a_spread(tmp_path):
    ev = Evaluator("accuracy")
    ds = ev.dataset(tiny_spec())
    parts = kfold(ds, 3, seed=0)
    n = len(ds.train) + len(ds.val)
    assert [len(p.train) + len(p.val) for p in parts] == [n] * 3 and sum(len(p.val) for p in parts) == n
    for p in parts:  # every class in proportion in each validation fold
        counts = p.val.y.bincount(minlength=10).float() / len(p.val)
        assert float(counts.min()) > 0.05
    r = search(tiny_spec(), MIXED, 2, sampler="random", folds=3, out=tmp_path, progress=_quiet([]))
    rows = json.loads((tmp_path / "trials.json").read_text())
    assert all(len(row["folds"]) == 3 and row["fold_std"] >= 0 for row in rows)
    assert rows[0]["value"] == pytest.approx(sum(rows[0]["folds"]) / 3)
    assert r["best"]["fold_std"] is not None


class _Prune:
    """A trial double whose pruner says stop from the second report on."""

    def __init__(self, prune=True):
        self.reports, self.prune = [], prune

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune and len(self.reports) >= 2


def test_the_trainer_callback_reports_each_epoch_and_stops_a_pruned_trial():
    from trainlab.train.run import build_model
    from trainlab.train.trainer import Trainer

    spec = tiny_spec(epochs=5)
    ds = Evaluator("accuracy").dataset(spec)
    trial = _Prune()
    trainer = Trainer(build_model(spec, ds), spec["train"], callbacks=[ReportToTrial(trial, "val_accuracy")])
    with pytest.raises(optuna.TrialPruned, match="pruned at step"):
        trainer.fit(ds.train, ds.val)
    assert len(trial.reports) == 2 and trial.reports[0][0] == trainer.steps_per_epoch  # one report an epoch


def test_a_pruned_member_is_frozen_and_the_others_train_on():
    from trainlab.ensemble import train_members

    spec = tiny_spec(epochs=4)
    ds = Evaluator("accuracy").dataset(spec)
    trials = [_Prune(False), _Prune(True), _Prune(False)]
    cb = ReportMembers(trials, "val_accuracy")
    members = train_members(spec, ds, [0, 1, 2], callbacks=[cb])
    assert list(cb.pruned) == [1] and members.trainer.stopped == {1: cb.pruned[1]}
    assert len(trials[0].reports) == 4 and len(trials[1].reports) == 2


@pytest.mark.parametrize("sampler", ["random", "grid", "tpe", "cmaes", "qmc"])
def test_every_sampler_runs(tmp_path, sampler):
    r = search(tiny_spec(epochs=1), LR_WD, 3, sampler=sampler, seed=0, out=tmp_path, progress=_quiet([]))
    assert r["complete"] == 3


def test_pruners_and_samplers_are_registries():
    assert SAMPLERS.names() == ["random", "grid", "tpe", "cmaes", "qmc"]
    assert PRUNERS.names() == ["none", "median", "hyperband", "successive_halving", "wilcoxon"]
    from trainlab.cli import search_cmd

    assert tuple(SAMPLERS.names()) == search_cmd.SAMPLERS and tuple(PRUNERS.names()) == search_cmd.PRUNERS


def test_a_pruned_search_counts_pruned_trials(tmp_path):
    space = {"train.lr": {"log_uniform": [1e-6, 1.0]}}
    r = search(tiny_spec(epochs=4), space, 12, sampler="random", pruner="median", seed=0, stack=False,
               out=tmp_path, progress=_quiet([]))
    assert r["complete"] + r["pruned"] == 12 and r["pruned"] >= 1
    rows = json.loads((tmp_path / "trials.json").read_text())
    assert all(len(row["curve"]) < 4 for row in rows if row["state"] == "pruned")


def test_coarse_to_fine_writes_each_stage_as_its_own_study(tmp_path):
    r = search(tiny_spec(epochs=3), LR_WD, 4, sampler="random", seed=0, stages=2, out=tmp_path, progress=_quiet([]))
    record = json.loads((tmp_path / "search.json").read_text())
    assert [s["study"] for s in record["stages"]] == ["tiny-stage1", "tiny-stage2"]
    assert [s["epochs"] for s in record["stages"]] == [1, 3]
    assert r["complete"] == 8 and r["best"]["stage"] == 2
    lo, hi = record["stages"][1]["space"]["train.lr"]["log_uniform"]
    assert (lo, hi) != (1e-4, 0.3)
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert best["train"]["epochs"] == 3


def test_a_batch_whose_every_member_diverges_fails_its_trials_and_the_search_goes_on(tmp_path):
    space = {"train.lr": {"log_uniform": [1e3, 1e4]}}
    r = search(tiny_spec(optimizer="sgd"), space, 3, sampler="random", seed=0, out=tmp_path, progress=_quiet([]))
    assert r["complete"] == 0 and r["failed"] == 3 and r["best"] is None  # diverged trials count as measured
    rows = json.loads((tmp_path / "trials.json").read_text())
    assert all(row["state"] == "fail" and "diverged" in row["diverged"] for row in rows)


def test_members_sharing_a_seed_are_built_once_and_equal_separate_builds():
    import torch

    from trainlab.ensemble import build_members
    from trainlab.nn import build
    from trainlab.train import seed_everything

    spec = {"mlp": {"hidden": [16, 16], "activation": "relu", "init": "he_normal", "dropout": 0.1}}
    mods, states = build_members(spec, (8,), 3, [5, 5, 7, 5])
    for m, s, seed in zip(mods, states, [5, 5, 7, 5]):
        seed_everything(seed)
        ref = build(spec, (8,), 3)
        assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), ref.state_dict().values()))
        assert torch.equal(s, torch.get_rng_state())  # each member's dropout stream starts where its own run's does
    assert all(a is not b for a, b in zip(mods[0].parameters(), mods[1].parameters()))  # copies, not shared


def test_a_batch_is_stacked_per_architecture_when_only_choices_differ(tmp_path):
    from trainlab.search.batches import group, stackable
    from trainlab.search import Space

    assert group([{"train.lr": 1, "a": "x"}, {"train.lr": 2, "a": "y"}, {"train.lr": 3, "a": "x"}]) == [[0, 2], [1]]
    assert stackable(Space.parse(MIXED)) and not stackable(Space.parse({**MIXED, "model.mlp.dropout": {"uniform": [0, 0.5]}}))
    assert not stackable(Space.parse({"model.mlp.activation": {"choice": ["relu", "tanh"]}}))
    kw = dict(sampler="random", seed=1, progress=_quiet([]))
    stacked = search(tiny_spec(), MIXED, 8, out=tmp_path / "a", **kw)
    single = search(tiny_spec(), MIXED, 8, out=tmp_path / "b", stack=False, **kw)
    a = json.loads((tmp_path / "a" / "trials.json").read_text())
    b = json.loads((tmp_path / "b" / "trials.json").read_text())
    assert [r["params"] for r in a] == [r["params"] for r in b]
    sizes = {act: sum(r["params"]["model.mlp.activation"] == act for r in a) for act in ("relu", "tanh")}
    for act, size in sizes.items():  # one stack per activation; a lone trial trains alone
        assert {r["mode"] for r in a if r["params"]["model.mlp.activation"] == act} == {
            f"stacked x{size}" if size > 1 else "single"}
    assert stacked["stacked"] == sum(v for v in sizes.values() if v > 1) > 0 and single["stacked"] == 0
    n_val = len(Evaluator("accuracy").dataset(tiny_spec()).val)
    assert all(abs(x["value"] - y["value"]) <= 2 / n_val + 1e-9 for x, y in zip(a, b))
