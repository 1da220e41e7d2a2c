"""Watch a search's study live in optuna-dashboard, the optional viewer DESIGN.md names.

``trainlab dashboard TARGET``: TARGET is a search directory (its ``journal.log``), a journal
file, or the database URL a shared study lives in (``postgresql://...``). The dashboard reads
the storage the workers write, so a running search shows its trials as they finish.

It is served read-only unless asked (``writable``): optuna-dashboard's page can create and
delete studies, tell trials and edit notes, and a viewer watching a live search should not be a
click away from deleting it. Reads are GET and HEAD; anything else is refused with 403.

A missing target, a folder with no study, a file that is not an Optuna journal, a busy port and
a missing package are one-line errors, never a traceback.
"""

from __future__ import annotations

import json
import threading
import webbrowser
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from trainlab import listen
from trainlab.errors import ConfigError, one_line
from trainlab.search.output import RECORD_FILE
from trainlab.search.storage import JOURNAL_FILE, open_storage

READS = ("GET", "HEAD")
INSTALL = "optuna-dashboard is not installed: pip install 'trainlab[dashboard]'"


def open_target(target: str):
    """``(storage, description)`` for a search directory, a journal file or a database URL;
    the storage is read once here, so a file that is not a journal fails now, in one line."""
    path = Path(target)
    if "://" not in target:
        if path.is_dir():
            path = _journal_in(path)
        elif not path.is_file():
            raise ConfigError(f"dashboard: {target}: no such search directory or journal file "
                              f"(give a search's --out folder, its {JOURNAL_FILE}, or a postgresql:// URL)")
    try:  # the journal is replayed as the storage opens
        store, what = open_storage(target, Path(".")) if "://" in target else open_storage(str(path), path.parent)
        studies = store.get_all_studies()
    except ConfigError as e:  # the storage's own words, said by this command
        raise ConfigError(f"dashboard: {str(e).removeprefix('--storage: ')}") from None
    except Exception as e:  # a hostile or corrupt file: optuna raises whatever its parser met
        raise ConfigError(f"dashboard: {target}: not a readable Optuna study storage "
                          f"({type(e).__name__}: {one_line(e, 120)})") from None
    if not studies:
        raise ConfigError(f"dashboard: {target}: holds no study yet (start the search first)")
    return store, what


def _journal_in(folder: Path) -> Path:
    journal = folder / JOURNAL_FILE
    if journal.is_file():
        return journal
    record = folder / RECORD_FILE
    if record.is_file():  # a search whose study lives in a database: the record names it (password hidden)
        try:
            where = json.loads(record.read_text(encoding="utf-8")).get("storage")
        except (OSError, ValueError, AttributeError):
            where = None
        if isinstance(where, str) and "://" in where:
            raise ConfigError(f"dashboard: {folder}: its study lives in {where}; give that URL (with its password)")
        if where == "memory":
            raise ConfigError(f"dashboard: {folder}: that search kept its study in memory; nothing is left to show")
    raise ConfigError(f"dashboard: {folder}: no {JOURNAL_FILE} here (not a search directory?)")


def read_only(app):
    """The WSGI app, refusing every method but GET and HEAD with 403 and a one-line reason."""
    def guarded(environ, start_response):
        if environ.get("REQUEST_METHOD", "GET").upper() in READS:
            return app(environ, start_response)
        body = b"trainlab dashboard is read-only (start it with --writable to allow changes)\n"
        start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]
    return guarded


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # the page polls; a request in flight never holds up Ctrl+C


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name; one line a request is noise
        pass


def serve(target: str, host: str = "127.0.0.1", port: int = 8080, open_browser: bool = False,
          writable: bool = False) -> None:
    """Serve optuna-dashboard on TARGET's storage until interrupted."""
    try:
        import optuna_dashboard
    except ImportError:
        raise ConfigError(f"dashboard: {INSTALL}") from None
    listen.check_port(host, port, "dashboard", allow_any=True)
    store, what = open_target(target)
    app = optuna_dashboard.wsgi(store)
    try:
        server = make_server(host, port, app if writable else read_only(app), server_class=_Server,
                             handler_class=_Quiet)
    except OSError as e:  # taken since check_port looked
        raise listen.cannot_listen("dashboard", host, port, e) from None
    listen.warn_if_public(host, port, "dashboard", "read the study" if not writable else "change the study")
    url = listen.url(host, server.server_port, "/dashboard")
    print(f"trainlab dashboard: {url}  ({what}; {'writable' if writable else 'read-only'}; Ctrl+C stops)",
          flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
