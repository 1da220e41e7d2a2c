"""The playground: TensorFlow Playground's picture of a net learning, with trainlab's real
components behind it (every activation and initializer, dropout, batch norm, residual
connections, optimizers and schedules, live diagnostics, 8 seeds trained as one stack).

    trainlab playground [--port 8000] [--host 127.0.0.1] [--open]

``create_app()`` is the ASGI app (FastAPI); ``serve()`` runs it on uvicorn; ``Session`` is one
page's training, usable without a server.
"""

from __future__ import annotations

import threading
import webbrowser

from trainlab import listen
from trainlab.playground.presets import PRESETS, preset_states
from trainlab.playground.schema import DEFAULT_STATE, LIMITS, parse
from trainlab.playground.server import create_app
from trainlab.playground.session import Session


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, threads: int = 1) -> None:
    """Serve the playground until interrupted. Binds the loopback interface unless told
    otherwise; any other address prints a warning (anyone who reaches it can train on this
    machine, within the per-page limits). A taken port is a one-line error, before the URL."""
    import torch
    import uvicorn

    listen.check_port(host, port, "playground")
    torch.set_num_threads(threads)  # tiny nets: a second thread only waits
    listen.warn_if_public(host, port, "playground", "use it (each page is bounded by the limits)")
    url = listen.url(host, port)
    print(f"trainlab playground: {url}  (Ctrl+C stops)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", ws_max_size=LIMITS["max_message_bytes"] * 2)


__all__ = ["DEFAULT_STATE", "LIMITS", "PRESETS", "Session", "create_app", "parse", "preset_states", "serve"]
