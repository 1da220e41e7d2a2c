"""A real PostgreSQL server for the shared-study tests: ``initdb`` in a temporary directory,
``pg_ctl start`` on a free local port with trust authentication, stopped afterwards. As root
(CI containers) the server runs as the ``postgres`` user, since PostgreSQL refuses root.
Skipped, with a message, only where the PostgreSQL binaries are not installed."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.conftest import free_port


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)



@pytest.fixture(scope="session")
def postgres_url():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not found; `make postgres` installs Debian's "
                    "postgresql as root): the shared-study tests need a real server")
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    root = tempfile.mkdtemp(prefix="trainlab-pg-")
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user to run the server as")
        os.chmod(root, 0o755)
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log, port = os.path.join(root, "data"), os.path.join(root, "server.log"), free_port()
    subprocess.run(prefix + [initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=120)
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    subprocess.run(prefix + [pg_ctl, "-D", data, "-o", opts, "-l", log, "-w", "-t", "60", "start"],
                   check=True, capture_output=True, timeout=90)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
