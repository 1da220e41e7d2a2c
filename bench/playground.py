"""The playground's live stream, driven over its WebSocket as the page drives it: a 6x8 tanh
net on the spiral set (batch 10, SGD 0.03, the Playground's init), playing.

Measures training steps per second behind the stream and frames per second delivered (each
with the 100 x 100 output heatmap, neuron maps, weights and diagnostics) over ``--seconds``,
then the time from a control change to the first frame drawn after it (median of ``--changes``
changes, half keeping the weights (learning rate), half rebuilding the net (activation)).
Targets: >= 300 steps/s, >= 20 frames/s, <= 150 ms from a change to its first frame.

Starts its own server (``python -m trainlab playground``, one torch thread) unless ``--port``
names a running one. Prints JSON {"steps_per_s", "frames_per_s", "change_to_frame_ms", ...}, plus
the CPU time of one step and one frame measured in process (``cpu_ms_per_step``,
``cpu_ms_per_frame``), which a shared machine inflates far less than wall-clock rates.
Usage: python bench/playground.py [--port P] [--seconds S] [--changes N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websocket  # websocket-client (the dev extra)

NET = {"dataset": "spiral", "noise": 0, "batch_size": 10, "optimizer": "sgd", "lr": 0.03, "features": ["x1", "x2"],
       "layers": [{"units": 8, "activation": "tanh", "init": "tf_uniform"}] * 6}


def start_server() -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "trainlab", "playground", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the playground server did not start")


def until(ws, kind: str) -> dict:
    """Read events until one of ``kind``; acknowledge every frame, as the page does once drawn."""
    while True:
        msg = json.loads(ws.recv())
        if msg["type"] == "frame":
            ws.send('{"type": "ack"}')
        if msg["type"] == kind:
            return msg
        if msg["type"] == "error":
            raise SystemExit(f"server error: {msg['message']}")


def measure(port: int, seconds: float, changes: int) -> dict:
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=30)
    until(ws, "frame")
    ws.send(json.dumps({"type": "set", "state": NET}))
    until(ws, "frame")
    ws.send(json.dumps({"type": "play"}))
    first = until(ws, "frame")
    frames, t0, step0, last = 0, time.perf_counter(), first["step"], first
    while time.perf_counter() - t0 < seconds:
        msg = until(ws, "frame")
        if msg.get("output"):
            assert msg["output"]["size"] == 100
            frames, last = frames + 1, msg
    elapsed = time.perf_counter() - t0
    result = {"steps_per_s": round((last["step"] - step0) / elapsed, 1), "frames_per_s": round(frames / elapsed, 1)}
    lags = {"optimizer": [], "reset": []}
    for i in range(changes):
        kind = "optimizer" if i % 2 == 0 else "reset"
        change = {"lr": [0.01, 0.03][(i // 2) % 2]} if kind == "optimizer" else \
            {"layers": [{**NET["layers"][0], "activation": ["relu", "tanh"][(i // 2) % 2]}] * 6}
        sent = time.perf_counter()
        ws.send(json.dumps({"type": "set", "state": change}))
        until(ws, "state")
        until(ws, "frame")  # the first frame drawn with the change
        lags[kind].append((time.perf_counter() - sent) * 1000)
        if kind == "reset":
            ws.send(json.dumps({"type": "play"}))
        for _ in range(3):
            until(ws, "frame")
    ws.send(json.dumps({"type": "pause"}))
    ws.close()
    every = lags["optimizer"] + lags["reset"]
    result.update(change_to_frame_ms=round(statistics.median(every), 1),
                  change_to_frame_ms_keep_weights=round(statistics.median(lags["optimizer"]), 1),
                  change_to_frame_ms_rebuild=round(statistics.median(lags["reset"]), 1),
                  seconds=seconds, changes=changes, final_train_loss=last["train_loss"], steps=last["step"])
    return result


def cpu_costs(repeats: int = 300) -> dict:
    """CPU time (this thread's, so time spent waiting for a busy core is left out) of one
    training step and of one frame of the same net, in process: what the stream costs where
    the machine is shared and its wall-clock rates say more about the neighbours."""
    import torch

    from trainlab.playground import Session
    from trainlab.playground.frames import frame

    torch.set_num_threads(1)
    s = Session()
    s.apply(NET)
    s.step(50)
    t = time.thread_time()
    s.step(repeats)
    step = (time.thread_time() - t) / repeats
    t = time.thread_time()
    for _ in range(20):
        frame(s)
    return {"cpu_ms_per_step": round(step * 1e3, 3), "cpu_ms_per_frame": round((time.thread_time() - t) / 20 * 1e3, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, help="a running playground's port (default: start one)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--changes", type=int, default=20)
    args = ap.parse_args()
    proc = None
    port = args.port
    if port is None:
        proc, port = start_server()
    try:
        print(json.dumps({**measure(port, args.seconds, args.changes), **cpu_costs()}))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
