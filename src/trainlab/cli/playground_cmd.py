"""``trainlab playground [--port 8000] [--host 127.0.0.1] [--open]``: live training in the browser."""

from __future__ import annotations

NAME = "playground"
HELP = "a local web page where a net trains live: data, layers, activations, inits, diagnostics (Ctrl+C stops)"


def add_arguments(p) -> None:
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; others print a warning)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")


def run(args) -> int:
    import os

    import torch

    from trainlab import listen
    from trainlab.playground import serve
    from trainlab.threads import ENV

    listen.check_port(args.host, args.port, "playground")  # before the app loads; serve() checks again for API users

    # `trainlab --threads N playground` or $TRAINLAB_THREADS decide (main configured torch);
    # otherwise one thread: the playground's tiny nets gain nothing from a second one
    chosen = "threads" in vars(args) or os.environ.get(ENV)
    serve(args.host, args.port, open_browser=args.open, threads=torch.get_num_threads() if chosen else 1)
    return 0
