"""The playground's web server: a FastAPI app on uvicorn serving one static page and one
WebSocket per page (``/ws``), over which the page sends its controls and receives frames.

Per connection: one ``Session`` (its own model); messages are read by one task into a bounded
queue and handled one at a time between training chunks. A chunk (training steps, then the
frame) runs in a worker thread so the event loop keeps reading; a message that arrives ends the
chunk after its current step, so a change reaches the page in about one frame's time. Training
runs at most ``steps_per_s`` steps a second and frames at most ``frames_per_s``; the 8-seed run
goes to a worker thread too, one at a time per page.
Every message is checked by ``schema.parse``; a bad one gets an ``error`` event and the page
keeps its session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.websockets import WebSocketDisconnect

from trainlab.errors import ConfigError
from trainlab.playground import points as page_points
from trainlab.playground import schema, specs
from trainlab.playground.frames import frame
from trainlab.playground.presets import preset_states
from trainlab.playground.seeds import run_seeds
from trainlab.playground.session import Session, step_budget

STATIC = Path(__file__).parent / "static"
QUEUE_MAX = 256  # messages waiting per page; a page that floods waits (TCP back-pressure)
IN_FLIGHT = 2  # frames sent but not yet acknowledged by the page: beyond this, training goes on
# without drawing, so a slow page sees fresh frames instead of a growing backlog of stale ones
log = logging.getLogger("trainlab.playground")
_CLOSED = object()


def create_app() -> FastAPI:
    app = FastAPI(title="trainlab playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/")
    async def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/health")
    async def health():
        return {"ok": True}

    @app.websocket("/ws")
    async def websocket(ws: WebSocket):
        if not same_origin(ws.headers.get("origin"), ws.headers.get("host")):
            await ws.close(code=1008)  # another web site's script in the user's browser: refused
            return
        await ws.accept()
        await Connection(ws).run()

    return app


def same_origin(origin: str | None, host: str | None) -> bool:
    """A browser sends the page's origin with a WebSocket handshake; only our own page may
    connect (a script on another site could otherwise drive this server). Clients that send no
    origin (scripts, the benchmark) are not browsers acting for a web site."""
    if origin is None:
        return True
    return origin.split("://", 1)[-1].rstrip("/") == (host or "")


def _is_ack(text: str) -> bool:
    if len(text) > 40:
        return False
    try:
        return json.loads(text) == {"type": "ack"}
    except ValueError:
        return False


class Connection:
    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_MAX)
        self.session = Session()
        self.seeds_task: asyncio.Task | None = None
        self.fps = schema.LIMITS["frames_per_s"]
        self.interrupt = threading.Event()  # set when a message waits: the training chunk ends early
        self.in_flight = 0  # frames the page has not acknowledged yet

    async def send(self, msg: dict) -> None:
        if msg["type"] == "frame":
            self.in_flight += 1
        await self.ws.send_json(msg)

    async def _read(self) -> None:
        try:
            while True:
                msg = await self.ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                text = msg.get("text")
                if text is not None and _is_ack(text):  # handled here: an ack must not cut a chunk short
                    self.in_flight = max(0, self.in_flight - 1)
                    continue
                await self.queue.put(text if text is not None else msg.get("bytes", b""))
                self.interrupt.set()  # after the put: a chunk that cleared the flag then sees the queue
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await self.queue.put(_CLOSED)

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            await self.send({"type": "hello", "choices": schema.choices(), "limits": schema.LIMITS,
                             "presets": preset_states(), "state": self.session.state,
                             "defaults": schema.default_state()})
            await self._send_all()
            await self._loop()
        except (WebSocketDisconnect, RuntimeError):
            pass  # the page went away
        finally:
            reader.cancel()
            if self.seeds_task is not None:
                self.seeds_task.cancel()

    async def _loop(self) -> None:
        s = self.session
        max_steps = max(1, schema.LIMITS["steps_per_s"] // self.fps)
        while True:
            if s.playing:
                try:
                    item = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    item = None
            else:
                item = await self.queue.get()
            if item is _CLOSED:
                return
            if item is not None:
                await self._handle(item)
                continue
            started = time.perf_counter()
            msg = await asyncio.to_thread(self._chunk, max_steps, self.in_flight < IN_FLIGHT)
            if msg is not None:
                await self.send(msg)
            # pace: at most fps frames (and so at most steps_per_s steps) a second
            await asyncio.sleep(max(0.0, 1.0 / self.fps - (time.perf_counter() - started)))

    def _chunk(self, max_steps: int, draw: bool) -> dict | None:
        """Train until the frame is due (or a message arrives), then draw the frame (unless
        the page is behind)."""
        self.interrupt.clear()
        if self.queue.empty():
            self.session.step(max_steps, budget_s=step_budget(self.fps), stop=self.interrupt.is_set)
        return frame(self.session) if draw else None

    async def _handle(self, text) -> None:
        try:
            msg = schema.parse(text)
            await getattr(self, "_on_" + msg["type"])(msg)
        except ConfigError as e:
            await self.send({"type": "error", "message": str(e)})
        except (WebSocketDisconnect, asyncio.CancelledError):
            raise
        except Exception as e:  # a bug must not take the page's session down with it
            log.exception("playground: message failed")
            await self.send({"type": "error", "message": f"internal error: {type(e).__name__}: {e}"[:300]})

    async def _send_all(self) -> None:
        await self.send({"type": "state", "state": self.session.state})
        await self.send({**self.session.points.to_page(), "dataset": self.session.state["dataset"]})
        await self.send(frame(self.session))

    # ---- message handlers ---------------------------------------------------------------------
    async def _on_set(self, msg) -> None:
        # rebuilding takes the pages' RNG lock: wait for it in a thread, not in the event loop
        kind = await asyncio.to_thread(self.session.apply, msg["state"])
        if kind == "reset":
            await self._send_all()
        else:
            await self.send({"type": "state", "state": self.session.state})
            await self.send(frame(self.session))

    async def _on_play(self, msg) -> None:
        self.session.playing = not self.session.diverged
        await self.send(frame(self.session, with_pictures=False))

    async def _on_pause(self, msg) -> None:
        self.session.playing = False
        await self.send(frame(self.session))

    async def _on_step(self, msg) -> None:
        self.session.playing = False
        await asyncio.to_thread(self.session.step, msg["n"])
        await self.send(frame(self.session))

    async def _on_reset(self, msg) -> None:
        await asyncio.to_thread(self.session.reset)
        self.session.playing = False
        await self._send_all()

    async def _on_export(self, msg) -> None:
        s = self.session
        await self.send(specs.export(s.state, s.points.task, max(s.step_count, 100)))

    async def _on_csv(self, msg) -> None:
        rows = page_points.parse_csv(msg["text"])
        changes = {"dataset": "custom", "points": rows}
        if len({r[2] for r in rows}) > 2 and self.session.state["loss"] == "binary_cross_entropy":
            changes["loss"] = "auto"  # more than two classes: softmax (the file decides, not the old menu)
        await asyncio.to_thread(self.session.apply, changes)
        await self._send_all()

    async def _on_ack(self, msg) -> None:  # only reached by an ack the reader did not recognise
        self.in_flight = max(0, self.in_flight - 1)

    async def _on_ping(self, msg) -> None:
        await self.send({"type": "pong", "step": self.session.step_count})

    async def _on_seeds(self, msg) -> None:
        if self.seeds_task is not None and not self.seeds_task.done():
            raise ConfigError("seeds: a seed run is already going on this page; wait for its result")
        self.seeds_task = asyncio.create_task(self._seeds(msg["steps"]))

    async def _seeds(self, steps: int) -> None:
        try:
            await self.send({"type": "seeds_started", "steps": steps})
            result = await asyncio.to_thread(run_seeds, self.session, steps)
            await self.send(result)
        except ConfigError as e:
            await self.send({"type": "error", "message": f"seeds: {e}"})
        except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
            pass
