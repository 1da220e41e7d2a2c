"""Where a study lives: Optuna's JournalStorage on one file in the search directory (the
embedded default; several local worker processes may share it), or a database URL shared by
many machines (``postgresql://user:pass@host:5432/db``) through ``RDBStorage``.

For a database: heartbeats mark a killed worker's trial failed and Optuna's retry callback
puts its parameters back in the queue for another worker (``heartbeat_interval`` / ``grace``);
idle connections are checked before use (``pool_pre_ping``, Optuna #5600); the study is created
once with retries because workers starting together race on the schema (Optuna #1092). A
database that cannot be reached is one line naming host and port, never the password.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna

from trainlab.errors import ConfigError

JOURNAL_FILE = "journal.log"
MEMORY = "memory"
HEARTBEAT = 20  # seconds between a running trial's heartbeats (Optuna #4234: much shorter fails live trials)
GRACE = 60  # seconds without a heartbeat before a trial counts as dead
MAX_RETRY = 3  # a trial's parameters are retried at most this often after its worker died


def open_storage(storage: str | None, directory: Path, heartbeat: int = HEARTBEAT,
                 grace: int = GRACE) -> tuple[optuna.storages.BaseStorage, str]:
    """``(storage, description)``: a journal file (default ``DIRECTORY/journal.log``, or a path
    given as ``storage``), ``"memory"`` (Optuna's InMemoryStorage: nothing survives the process;
    for labs and benchmarks), or an ``RDBStorage`` for a URL (``postgresql://``, ``sqlite:///``)."""
    if storage == MEMORY:
        return optuna.storages.InMemoryStorage(), MEMORY
    if storage is None or "://" not in storage:
        path = Path(storage) if storage else directory / JOURNAL_FILE
        if path.is_dir():
            raise ConfigError(f"--storage {path}: is a folder; give a journal file path or a database URL")
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend), f"journal {path}"
    return _rdb(storage, heartbeat, grace)


def _rdb(url: str, heartbeat: int, grace: int) -> tuple[optuna.storages.RDBStorage, str]:
    try:
        import sqlalchemy
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover - the postgres extra
        raise ConfigError("--storage URL needs sqlalchemy and psycopg: pip install 'trainlab[postgres]'") from None
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"--storage: not a database URL: {_hide(url)}; e.g. postgresql://user@host:5432/db") from None
    shown = parsed.render_as_string(hide_password=True)
    kwargs: dict = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2") or "+" not in parsed.drivername:
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what trainlab[postgres] installs
        kwargs["connect_args"] = {"connect_timeout": 10}
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}" if parsed.host or parsed.port else shown
    try:
        with warnings.catch_warnings():  # heartbeats and their retry callback are "experimental" since Optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = _rdb_storage(parsed, kwargs, heartbeat, grace)
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as e:
        reason = str(getattr(e, "orig", e)).strip().splitlines()[0] if str(getattr(e, "orig", e)).strip() else type(e).__name__
        if parsed.password:
            reason = reason.replace(str(parsed.password), "***")
        raise ConfigError(f"--storage: cannot reach the database at {where} ({shown}): {reason}") from None
    except ModuleNotFoundError as e:
        raise ConfigError(f"--storage {shown}: missing database driver ({e.name}); pip install 'trainlab[postgres]'") from None
    return storage, f"rdb {shown}"


def _rdb_storage(parsed, kwargs: dict, heartbeat: int, grace: int) -> optuna.storages.RDBStorage:
    return optuna.storages.RDBStorage(
        parsed.render_as_string(hide_password=False), engine_kwargs=kwargs, heartbeat_interval=heartbeat,
        grace_period=grace,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY))


def _hide(url: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host`` for messages."""
    head, sep, tail = url.partition("://")
    if "@" in tail and ":" in tail.split("@", 1)[0]:
        user = tail.split("@", 1)[0].split(":", 1)[0]
        return f"{head}{sep}{user}:***@{tail.split('@', 1)[1]}"
    return url


def load_or_create(storage, name: str, direction: str, sampler, pruner, attrs: dict,
                   metric: str | None = None) -> optuna.Study:
    """The study ``name`` (created if new, with ``attrs`` as its user attributes and ``metric``
    as its objective's name, which optuna-dashboard shows). Workers that start together may race
    on creating it; a loser retries and loads the winner's study."""
    last = None
    for _ in range(5):
        try:
            study = optuna.create_study(storage=storage, study_name=name, direction=direction, sampler=sampler,
                                        pruner=pruner, load_if_exists=True)
            break
        except Exception as e:  # DuplicatedStudyError / IntegrityError when another worker won the race
            last = e
            import time

            time.sleep(0.5)
    else:
        raise last  # type: ignore[misc]
    if study.direction.name.lower() != direction:
        raise ConfigError(f"study {name!r} exists with direction {study.direction.name.lower()}, "
                          f"this search {direction}s; use another --study")
    old = study.user_attrs.get("fingerprint")
    if old is None:
        for k, v in attrs.items():
            study.set_user_attr(k, v)
        if metric is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names([metric])
    elif old != attrs["fingerprint"]:
        raise ConfigError(f"study {name!r} in this storage was started with another spec, space or options; "
                          f"rerun the same command to continue it, or choose another --study / --out")
    return study
