"""``trainlab dashboard TARGET [--port 8080] [--host 127.0.0.1] [--open] [--writable]``"""

from __future__ import annotations

NAME = "dashboard"
HELP = "watch a search's study live in optuna-dashboard (read-only unless --writable; Ctrl+C stops)"


def add_arguments(p) -> None:
    p.add_argument("target", metavar="TARGET",
                   help="a search directory (its journal.log), a journal file, or a postgresql:// URL")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; others print a warning)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    p.add_argument("--writable", action="store_true",
                   help="let the page change the study (notes, deleting studies, telling trials)")


def run(args) -> int:
    from trainlab.search.dashboard import serve

    serve(args.target, args.host, args.port, open_browser=args.open, writable=args.writable)
    return 0
