"""What a worker sharing a study does beside training: heartbeats for the trials it asked,
counting what is finished or claimed, failing its own trials after Ctrl-C, and waiting for (and
retrying) the trials of workers that died. Optuna does these inside ``optimize``; a stacked
batch is asked and told by hand, so trainlab does them here for both paths."""

from __future__ import annotations

import datetime
import os
import socket
import time
import warnings

import optuna
from optuna.trial import TrialState

from trainlab.search.trials import ATTR

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # this process, as it tags the trials it runs


class Heartbeat:
    """Heartbeats for trials asked by ask/tell (Optuna beats only inside ``optimize``), so that
    a killed stacked worker's trials are also failed and retried on a database."""

    def __init__(self, study, trials):
        self.thread = None
        store = study._storage
        if not optuna.storages._heartbeat.is_heartbeat_enabled(store):
            return
        import threading

        self.event = threading.Event()
        ids = [t._trial_id for t in trials]

        def beat():
            while not self.event.is_set():
                for i in ids:
                    store.record_heartbeat(i)
                self.event.wait(store.get_heartbeat_interval())

        self.thread = threading.Thread(target=beat, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.event.set()
            self.thread.join()


def fail_own_running(study) -> None:
    """After Ctrl-C inside ``optimize``: Optuna fails the trial whose objective was running, but a
    Ctrl-C between its ``ask`` and the objective's start leaves a trial RUNNING for ever. Fail
    this worker's own (tagged) trials, and untagged ones unless a database's heartbeats will:
    an untagged trial of another local worker exists only between its ask and its first line."""
    heartbeat = optuna.storages._heartbeat.is_heartbeat_enabled(study._storage)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker")
        if worker == WORKER or (worker is None and not heartbeat):
            try:
                study.tell(t.number, state=TrialState.FAIL)
            except (RuntimeError, ValueError):  # finished meanwhile
                pass


def waiting(study) -> list:
    return study.get_trials(deepcopy=False, states=(TrialState.WAITING,))


def settle(study) -> bool:
    """Before a worker leaves a study that has its trials: on a heartbeat storage, wait while
    other workers' trials run, failing those whose heartbeat stopped (Optuna's retry callback
    then queues their parameters again). True when a retried trial waits to be run."""
    if not optuna.storages._heartbeat.is_heartbeat_enabled(study._storage):
        return bool(waiting(study))
    interval = study._storage.get_heartbeat_interval()
    while study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if waiting(study):
            return True
        time.sleep(interval)
        fail_stale(study)
    return bool(waiting(study))


def fail_stale(study) -> None:
    """What ``optimize`` does before each trial on a heartbeat storage: fail (and so retry) the
    trials of workers that died."""
    if optuna.storages._heartbeat.is_heartbeat_enabled(study._storage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)


def stop_at(n: int):
    """Stop once ``n`` trials finished or run elsewhere (other workers finish those; a dead one's
    are retried on a heartbeat storage) and no retried trial (a dead worker's) waits for a worker."""
    def cb(study, trial):
        if claimed(study) >= n and not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            study.stop()
    return cb


def retry_pending(study, window: float = 10.0) -> bool:
    """A trial failed in the last ``window`` seconds (not by divergence) whose retry is not queued
    yet: Optuna's ``fail_stale_trials`` fails every stale trial first and queues their retries
    after, and a worker asking in between would see nothing claimed and ask fresh trials (16
    complete for 12 was seen). A failure that is never retried delays a worker by ``window`` at most."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.system_attrs.get("failed_trial") for t in trials}
    now = datetime.datetime.now()
    return any(t.state == TrialState.FAIL and t.number not in retried and t.datetime_complete is not None
               and (now - t.datetime_complete).total_seconds() < window
               and not t.user_attrs.get(ATTR, {}).get("diverged") for t in trials)


def claimed(study) -> int:
    """Finished trials and running ones (this worker's or others')."""
    return finished(study) + len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def finished(study) -> int:
    """Trials that measured something: complete, pruned, or diverged (a NaN loss is the answer for
    a rate that is too high). A trial whose worker died is not counted: its retry is."""
    trials = study.get_trials(deepcopy=False, states=FINISHED + (TrialState.FAIL,))
    return sum(t.state != TrialState.FAIL or bool(t.user_attrs.get(ATTR, {}).get("diverged")) for t in trials)
