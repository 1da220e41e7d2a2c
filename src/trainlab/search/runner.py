"""``search(spec, space, trials, ...)``: the whole search, stage by stage, into a directory.

    OUT/journal.log     the studies (Optuna's JournalStorage; or a database with storage=URL)
    OUT/trials.csv      one row per trial of every stage: state, value, spread over folds, params
    OUT/trials.json     the same, with each trial's logged curve
    OUT/best.yaml       the best trial's resolved spec (last stage), ready for ``trainlab train``
    OUT/search.json     the search record: stages (study, epochs, space, warnings), best, counts

Rerunning the same search continues its studies (a study holds ``trials`` finished trials when
its stage is done); Ctrl-C stops after marking the running trial failed, keeps every finished
trial and still writes the files.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import optuna
from optuna.trial import TrialState

from trainlab.errors import ConfigError
from trainlab.safe_io import user_path, writable_dir
from trainlab.search import batches, output, workers
from trainlab.search.components import PRUNERS, SAMPLERS
from trainlab.search.space import Space
from trainlab.search.stages import narrow, stage_epochs
from trainlab.search.storage import GRACE, HEARTBEAT, load_or_create, open_storage
from trainlab.search.trials import ATTR, Evaluator

STACK_CHOICES = ("auto", True, False)


def search(spec: dict, space: Space | dict, trials: int | list[int], *, sampler: str = "tpe", pruner: str = "none",
           stages: int = 1, folds: int = 1, storage: str | None = None, study: str | None = None,
           timeout: float | None = None, out: str | Path | None = None, seed: int | None = None,
           stack="auto", batch: int = 16, epochs: list[int] | None = None,
           progress: Callable[[str], None] | None = None, heartbeat: int = HEARTBEAT, grace: int = GRACE,
           tensorboard: bool = False) -> dict:
    """Search ``space`` (dotted keys of the resolved ``spec``) and return the result JSON:
    ``{"best": {"value", "params", "trial", "stage"}, "complete", "pruned", "failed", "stacked",
    "storage", "seconds", "stages": [...], "out", "interrupted"}``. ``tensorboard``: every trial
    writes TensorBoard events while it trains, ``OUT/tensorboard/STUDY/trial-N`` (a stacked batch:
    one run per trial, as for any stack)."""
    t0 = time.perf_counter()
    space = space if isinstance(space, Space) else Space.parse(space)
    n_stages = _positive(stages, "--stages")
    targets = _targets(trials, n_stages)
    _positive(folds, "--folds")
    _positive(batch, "batch")
    if stack not in STACK_CHOICES:
        raise ConfigError(f"stack: expected auto, true or false, got {stack!r}")
    SAMPLERS.lookup(sampler), PRUNERS.lookup(pruner)
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    evaluator = Evaluator("accuracy", folds, fold_seed=int(spec["seed"]))
    dataset = evaluator.dataset(spec)
    metric = "accuracy" if dataset.task == "classification" else "loss"
    evaluator.metric, evaluator.key = metric, f"val_{metric}"
    direction = "maximize" if metric == "accuracy" else "minimize"
    check = _checker(evaluator)
    space.validate(spec, check)  # every key at its bounds and choices, before any trial
    final = spec["train"]["epochs"] if spec["train"]["steps"] is None else spec["train"]["steps"]
    unit = "epochs" if spec["train"]["steps"] is None else "steps"
    plan = list(epochs) if epochs is not None else stage_epochs(final, n_stages)
    if len(plan) != n_stages:
        raise ConfigError(f"epochs: expected {n_stages} values (one per stage), got {plan!r}")
    out = writable_dir(Path(out) if out is not None else Path("runs") / f"search-{spec['name']}", "--out")
    with user_path(out, "--out"):
        out.mkdir(parents=True, exist_ok=True)
    if tensorboard:
        from trainlab.diagnose.tensorboard import require

        require()
        evaluator.tensorboard = out / "tensorboard"
    store, where = open_storage(storage, out, heartbeat, grace)
    name = study or spec["name"]
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our progress lines say what Optuna would
    record = {"spec": spec["name"], "study": name, "storage": where, "metric": f"val_{metric}",
              "direction": direction, "sampler": sampler, "pruner": pruner, "folds": folds, "stages": []}
    if where != "memory":
        shown = out if "://" not in where else "<the --storage URL>"  # the password is the user's to type
        say(f"search {out}: {where}; watch it live: trainlab dashboard {shown}")
    interrupted, stage_space = False, space
    for i, (n, length) in enumerate(zip(targets, plan)):
        stage_spec = _with_length(spec, unit, length)
        sname = name if n_stages == 1 else f"{name}-stage{i + 1}"
        fingerprint = _fingerprint(stage_spec, space, sampler, pruner, folds, n_stages, i)
        st = load_or_create(store, sname, direction, SAMPLERS.get(sampler, space=stage_space, n_trials=n, seed=seed),
                            PRUNERS.get(pruner), {"fingerprint": fingerprint, "space": stage_space.to_data()},
                            metric=record["metric"])
        stage_space = Space.parse(st.user_attrs["space"])  # a continued study keeps the space it began with
        if sampler == "grid":
            st.sampler = SAMPLERS.get(sampler, space=stage_space, n_trials=n, seed=seed)
        entry = {"stage": i + 1, "study": sname, unit: length, "trials": n, "space": stage_space.to_data(),
                 "warnings": []}
        record["stages"].append(entry)
        say(f"stage {i + 1}/{n_stages}: study {sname}, {n} trials of {length} {unit}, "
            + ", ".join(f"{d.key} {d.describe()}" for d in stage_space.dims))
        left = None if timeout is None else timeout - (time.perf_counter() - t0)
        try:
            _run_stage(st, stage_spec, stage_space, n, evaluator, stack, batch, left, say, f"{i + 1}/{n_stages}")
        except KeyboardInterrupt:
            interrupted = True
            say("interrupted: finished trials are kept; rerun the same command to continue")
            break
        if i + 1 < n_stages:
            done = st.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            stage_space, notes = narrow(stage_space, done, direction == "maximize", ok=lambda d: _valid(d, spec, check))
            entry["warnings"] = notes
            for note in notes:
                say(f"warning: {note}")
    result = output.write(out, record, store, spec, unit, plan, interrupted)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    output.write_result(out, result)
    return result


def _run_stage(study: optuna.Study, spec: dict, space: Space, n: int, ev: Evaluator, stack, batch: int,
               timeout: float | None, say, label: str) -> None:
    """Run trials until ``study`` holds ``n`` finished trials (complete, pruned or diverged) and,
    on a database, no other worker's trial is still running or waiting to be retried."""
    t0 = time.perf_counter()
    members = stack is not False and batches.stackable(space)
    progress = _Progress(study, n, say, label)
    if not members:  # one trial at a time, through optimize(): heartbeats on a database
        def objective(trial):
            trial.set_user_attr("worker", workers.WORKER)  # whose trial: Ctrl-C fails only this worker's own
            params = space.suggest(trial)
            say(f"[stage {label}] start trial {trial.number}: {_params(params)}")
            return ev.single(trial, space.apply(spec, params))

        while workers.finished(study) < n or workers.waiting(study):
            try:
                study.optimize(objective, n_trials=None, timeout=timeout, callbacks=[workers.stop_at(n), progress],
                               catch=(), gc_after_trial=False)
            except KeyboardInterrupt:
                workers.fail_own_running(study)
                raise
            if (timeout is not None and time.perf_counter() - t0 >= timeout) or not workers.settle(study):
                break
        return
    while True:
        if workers.finished(study) >= n and not workers.waiting(study) and not workers.settle(study):
            break
        if timeout is not None and time.perf_counter() - t0 >= timeout:
            break
        workers.fail_stale(study)
        if workers.retry_pending(study):  # another worker is between failing a dead batch and queueing its retries
            time.sleep(0.5)
            continue
        # other workers' running trials are claimed: a batch takes only what is left
        left = n - workers.claimed(study)
        count = min(batch, left) if left > 0 else len(workers.waiting(study))
        if count == 0:  # the rest is running elsewhere: wait for it (a dead worker's trial is retried)
            time.sleep(1.0)
            continue
        asked = []
        for _ in range(count):  # one at a time: each asked trial is RUNNING at once, so workers
            # asking together overshoot n by at most one trial each, not by a batch each. The first
            # ask checks too: ``left`` may be stale by now (another worker took the retried trials)
            if workers.claimed(study) >= n and not workers.waiting(study):
                break
            with warnings.catch_warnings():  # Optuna warns that heartbeats belong to optimize(); Heartbeat beats
                warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
                asked.append(study.ask())
        if not asked:
            time.sleep(1.0)
            continue
        beat = workers.Heartbeat(study, asked)
        try:
            for t in asked:  # whose trials: another local worker's Ctrl-C must not fail them
                t.set_user_attr("worker", workers.WORKER)
            params = [space.suggest(t) for t in asked]
            sizes = "+".join(str(len(g)) for g in batches.group(params))
            say(f"[stage {label}] start trials {asked[0].number}..{asked[-1].number}: stacks of {sizes}")
            outcomes = batches.run_batch(ev, spec, space, asked, params)
        except BaseException:
            for t in asked:
                _tell(study, t, None, TrialState.FAIL)
            raise
        finally:
            beat.stop()
        for t, (state, value) in zip(asked, outcomes):
            if state == "fail":
                t.set_user_attr("error", value)
            progress(study, _tell(study, t, value if state == "complete" else None,
                                  {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED}.get(state, TrialState.FAIL)))


def _tell(study, trial, value, state):
    """``study.tell``; Optuna's GridSampler calls ``study.stop()`` once its grid is done, which
    ask/tell does not allow — the trial is stored by then (``_tell`` stores it in ``finally``)."""
    try:
        study.tell(trial, value, state=state)
    except RuntimeError as e:
        if "Study.stop" not in str(e):
            raise
    return study._storage.get_trial(trial._trial_id)


class _Progress:
    """One line per finished trial: its value, the best so far, its parameters, its mode."""

    def __init__(self, study, n: int, say, label: str):
        self.n, self.say, self.label = n, say, label

    def __call__(self, study, trial) -> None:
        done = workers.finished(study)
        value = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
        # the best complete trial without Optuna's study.best_trial, which deep-copies it (a third
        # of a stacked 64-trial batch's bookkeeping on a 64-wide MLP: bench/search.py)
        done_trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
        top = pick(done_trials, key=lambda t: t.value) if done_trials else None
        best = f"best {top.value:.4f} (#{top.number})" if top is not None else "no complete trial yet"
        params = _params(trial.params)
        attrs = trial.user_attrs.get(ATTR, {})
        mode = attrs.get("mode", "")
        extra = f" [{attrs['diverged']}]" if attrs.get("diverged") else ""
        self.say(f"[stage {self.label}] trial {trial.number} ({min(done, self.n)}/{self.n}): {value}  {best}  "
                 f"{params}  {mode}{extra}")


def _checker(ev: Evaluator):
    """Builds a corner spec's model and optimizer (cheap for the nets a search tries). A model is
    built again only when (data, model, seed, loss) changes: corners of training keys (lr, decay)
    reuse the last one."""
    from trainlab.train import optim
    from trainlab.train.config import TrainConfig
    from trainlab.train.run import build_model

    last: dict[str, object] = {}  # the last model built, under its key

    def check(corner: dict) -> None:
        ds = ev.dataset(corner)
        key = json.dumps([corner[k] for k in ("data", "model", "seed")] + [corner["train"]["loss"]],
                         sort_keys=True, default=str)
        if key not in last:
            last.clear()
            last[key] = build_model(corner, ds)
        model = last[key]
        cfg = TrainConfig.from_dict(corner["train"])
        optim.build(cfg.optimizer, model, cfg.lr if cfg.lr is not None else 1e-3, cfg.weight_decay)
    return check


def _valid(dim, spec: dict, check) -> bool:
    try:
        Space([dim]).validate(spec, check)
        return True
    except ConfigError:
        return False


def _with_length(spec: dict, unit: str, length: int) -> dict:
    from trainlab.train.spec import apply_overrides

    return apply_overrides(spec, [f"train.{unit}={int(length)}"])


def _targets(trials, stages: int) -> list[int]:
    values = list(trials) if isinstance(trials, (list, tuple)) else [trials] * stages
    if len(values) != stages or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ConfigError(f"--trials: expected a number >= 0 (or one per stage), got {trials!r}")
    return values


def _positive(v, name: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ConfigError(f"{name} must be a positive integer, got {v!r}")
    return v


def _fingerprint(spec: dict, space: Space, sampler: str, pruner: str, folds: int, stages: int, stage: int) -> str:
    key = json.dumps({"spec": {k: spec[k] for k in ("data", "model", "train", "seed")}, "space": space.to_data(),
                      "sampler": sampler, "pruner": pruner, "folds": folds, "stages": stages, "stage": stage},
                     sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _params(params: dict) -> str:
    return " ".join(f"{k.split('.')[-1]}={_short(v)}" for k, v in params.items())


def _short(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)

