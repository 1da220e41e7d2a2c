"""Where a local server (the playground, the dashboard) listens: a port that is taken is a
one-line error before anything claims to be serving, and any address but the loopback one
prints a warning (whoever reaches it reaches the server)."""

from __future__ import annotations

import socket
import sys

from trainlab.errors import ConfigError, one_line

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_port(host: str, port: int, what: str, allow_any: bool = False) -> None:
    """``port`` in range (0 means any free port where ``allow_any``) and free on ``host`` now."""
    low = 0 if allow_any else 1
    if not low <= port < 65536:
        raise ConfigError(f"--port must be in {low}..65535{' (0: any free port)' if allow_any else ''}, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise ConfigError(f"{what}: --host {host!r} is not an address of this machine ({one_line(e, 80)})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: a closed port's TIME_WAIT is free
        try:
            s.bind(address)
        except OSError as e:
            raise cannot_listen(what, host, port, e) from None


def cannot_listen(what: str, host: str, port: int, error: OSError) -> ConfigError:
    """The one-line error for an address a server cannot bind (taken, or not this machine's)."""
    return ConfigError(f"{what}: cannot listen on {host}:{port} ({one_line(error.strerror or error, 80)}); "
                       f"pick another --port")


def warn_if_public(host: str, port: int, what: str, reach: str) -> None:
    """A warning on stderr when ``host`` is not the loopback interface."""
    if host not in LOOPBACK:
        sys.stderr.write(f"warning: the {what} listens on {host}, not the loopback interface: anyone who can "
                         f"reach this machine on port {port} can {reach}\n")


def url(host: str, port: int, path: str = "/") -> str:
    """The address a browser on this machine opens."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}{path}"
