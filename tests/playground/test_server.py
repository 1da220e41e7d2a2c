"""The app in-process (Starlette's test client): the page, the WebSocket conversation, and the
warning for a non-loopback address."""

import pytest
from fastapi.testclient import TestClient

from trainlab.playground import create_app, serve


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def test_page_and_assets_are_served_locally(client):
    html = client.get("/").text
    assert "<canvas id=\"output\"" in html and "http" not in html.replace("http-equiv", "")  # no CDN
    for asset in ("app.js", "draw.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_conversation(client):
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and "xor_deep_sigmoid" in hello["presets"]
        assert [ws.receive_json()["type"] for _ in range(3)] == ["state", "data", "frame"]
        ws.send_json({"type": "step", "n": 25})
        assert ws.receive_json()["step"] == 25
        ws.send_json({"type": "set", "state": {"lr": 11}})
        err = ws.receive_json()
        assert err["type"] == "error" and "state.lr" in err["message"]
        ws.send_json({"type": "set", "state": {"dataset": "gauss"}})
        assert [ws.receive_json()["type"] for _ in range(3)] == ["state", "data", "frame"]
        ws.send_json({"type": "export"})
        assert ws.receive_json()["spec"]["data"]["name"] == "gauss"
        ws.send_json({"type": "seeds", "steps": 20})
        assert ws.receive_json()["type"] == "seeds_started"
        seeds = ws.receive_json()
        assert seeds["type"] == "seeds" and seeds["mode"] == "stacked" and len(seeds["train_loss"]) == 8


def _ready(ws):
    assert ws.receive_json()["type"] == "hello"
    assert [ws.receive_json()["type"] for _ in range(3)] == ["state", "data", "frame"]


def test_unacknowledged_frames_are_not_piled_up(client):
    """A page that does not keep up gets at most 2 frames ahead; training goes on meanwhile."""
    import time

    with client.websocket_connect("/ws") as ws:
        _ready(ws)
        ws.send_json({"type": "ack"})  # the page has drawn the frames so far (the start frame)
        ws.send_json({"type": "play"})
        answer = ws.receive_json()  # the answer to play: one frame in flight
        assert answer["type"] == "frame" and answer["playing"] is True
        drawn = ws.receive_json()  # the stream's first frame: two in flight, unacknowledged
        assert drawn["type"] == "frame" and drawn["output"]["size"] == 100
        time.sleep(1.0)
        ws.send_json({"type": "pause"})
        paused = ws.receive_json()  # no frame in between, though training went on
        assert paused["type"] == "frame" and paused["playing"] is False and paused["step"] > drawn["step"]


def test_two_pages_have_their_own_models(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        _ready(a), _ready(b)
        a.send_json({"type": "set", "state": {"seed": 1}})
        assert a.receive_json()["state"]["seed"] == 1
        a.receive_json(), a.receive_json()
        a.send_json({"type": "step", "n": 30})
        b.send_json({"type": "step", "n": 10})
        fa, fb = a.receive_json(), b.receive_json()
        assert (fa["step"], fb["step"]) == (30, 10) and fa["train_loss"] != fb["train_loss"]


def test_other_sites_may_not_connect(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
            ws.receive_json()
    assert e.value.code == 1008
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "hello"


def test_warning_when_not_loopback(monkeypatch, capsys):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    serve("0.0.0.0", 8123)
    serve("127.0.0.1", 8124)
    err = capsys.readouterr().err
    assert err.count("warning: the playground listens on 0.0.0.0") == 1
    assert [c["host"] for c in calls] == ["0.0.0.0", "127.0.0.1"]
