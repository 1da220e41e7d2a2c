"""Open a page in headless Chromium over the DevTools protocol and read what a person would see:
console errors, failed loads, and the result of a JavaScript expression evaluated after load.

Debian's ``chromium`` (installed by ``make setup``); ``websocket-client`` talks the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def inspect_page(url: str, expression: str, timeout: float = 60.0) -> dict:
    """``{"errors": [console/log/exception messages], "value": <expression's JSON value>}``."""
    import websocket

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            port = _port(Path(profile) / "DevToolsActivePort", timeout)
            pages = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
            ws = websocket.create_connection(next(p for p in pages if p["type"] == "page")["webSocketDebuggerUrl"],
                                             timeout=timeout)
            try:
                return _session(ws, url, expression, timeout)
            finally:
                ws.close()
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # chromium's helper processes too
            proc.wait()


def _port(path: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text().split()[0])
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def _session(ws, url: str, expression: str, timeout: float) -> dict:
    ids = iter(range(1, 10**6))
    errors: list[str] = []

    def send(method: str, **params) -> int:
        i = next(ids)
        ws.send(json.dumps({"id": i, "method": method, "params": params}))
        return i

    def wait(pred) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            _collect(msg, errors)
            if pred(msg):
                return msg
        raise TimeoutError("chromium did not answer in time")

    for method in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
        i = send(method)
        wait(lambda m, i=i: m.get("id") == i)
    send("Page.navigate", url=url)
    wait(lambda m: m.get("method") == "Page.loadEventFired")
    i = send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
    reply = wait(lambda m: m.get("id") == i)
    if "exceptionDetails" in reply.get("result", {}):
        errors.append(f"evaluate: {reply['result']['exceptionDetails']}")
    return {"errors": errors, "value": reply["result"]["result"].get("value")}


def _collect(msg: dict, errors: list[str]) -> None:
    method, p = msg.get("method"), msg.get("params", {})
    if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
        errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
    elif method == "Runtime.exceptionThrown":
        errors.append(f"exception: {p['exceptionDetails'].get('text')}")
    elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
        errors.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    elif method == "Network.loadingFailed":
        errors.append(f"load failed: {p.get('errorText')}")
