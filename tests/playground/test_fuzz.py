"""1,000 malformed or hostile WebSocket messages against a real server: every one gets an
``error`` event, nothing else happens, and the server still answers afterwards."""

import json
import pickle
import random
import string
import urllib.request

import pytest

pytestmark = pytest.mark.slow
N = 1000

# per state field: values that must be refused (wrong type, out of range, unknown choice)
BAD_FIELDS = {
    "dataset": ["../../etc/passwd", "", 1, None, ["xor"], "XOR", "__import__('os')"],
    "noise": [51, -1, 2.5, "5", True, None, 10**30],
    "train_ratio": [0, 9, 91, 100, "50", 50.5],
    "n_samples": [19, 1001, 10**9, -5, "500"],
    "batch_size": [0, 1001, -1, 3.3, "10"],
    "seed": [-1, 2**31, 1.5, "0", [0]],
    "features": [[], ["x3"], ["x1", "x1"], "x1", [1, 2], ["x1"] * 8, None],
    "layers": [[{}] * 13, [{"units": 0}], [{"units": 17}], [{"units": "8"}], [{"activation": "relux"}],
               [{"init": "pickle"}], [{"dropout": 0.95}], [{"batchnorm": "yes"}], [{"residual": 1}],
               [{"units": 4, "evil": True}], "10x8", [[8]], {"0": {}}],
    "output_init": ["he_normal", "", 0, None],
    "loss": ["bce", "hinge", 0],
    "optimizer": ["lbfgs", "SGD", None],
    "lr": [0, 1e-6, 11, -0.1, "0.1", 1e308, False],
    "schedule": ["linear", 1, None],
    "regularization": ["l3", "L1", True],
    "reg_rate": [-1e-9, 10.5, "0", [0.1]],
    "points": [[[1, 2]], [[1, 2, "a"]], [[1e9, 0, 0]], [[0, 0, 7]], [[0, 0, -1]], [[0, 0, 0.5]],
               [[0, 0, 0]] * 1001, "1,2,0", [None]],
}
CROSS_FIELD = [  # each value alone is fine; together they are not
    {"dataset": "reg_plane", "loss": "cross_entropy"},
    {"dataset": "reg_gauss", "loss": "binary_cross_entropy"},
    {"dataset": "custom", "points": []},
    {"dataset": "custom", "points": [[0, 0, 0]]},
    {"dataset": "custom", "points": [[0, 0, 0], [1, 1, 1], [2, 2, 2]], "loss": "binary_cross_entropy"},
]
GARBAGE = ["", "{", "nul", "[1, 2", "{'type': 'play'}", "NaN", "Infinity", '{"type": NaN}', "1", "[]", '"play"',
           "null", "true", "{}", '{"type": 1}', '{"type": null}', '{"type": "explode"}', '{"type": "__class__"}',
           '{"type": "set"}', '{"type": "set", "state": 5}', '{"type": "play", "x": 1}',
           '{"type": "ping", "__proto__": {}}', '{"type": "step", "n": 0}', '{"type": "step", "n": 1001}',
           '{"type": "step", "n": "10"}', '{"type": "step", "n": 1.5}', '{"type": "step", "n": true}',
           '{"type": "seeds", "steps": 5}', '{"type": "seeds", "steps": 6000}', '{"type": "csv"}',
           '{"type": "csv", "text": 5}', "[" * 50_000 + "]" * 50_000, '{"type": "' + "a" * 300_000 + '"}']
CSV_BAD = ["1,2", "1,2,0,4\n", "x,y,z\n1,2,=cmd|' /c calc'!A0\n", "1,2,0\n3,4,1.5\n", "1,2,9\n3,4,0\n",
           "1,2,0\n", "a,b,c\nd,e,f\n", "1,2,0\n" * 1100, "1e999,0,0\n1,2,1\n", "nan,0,0\n1,2,1\n"]


def hostile(rng: random.Random):
    """Yield N messages, each refused by construction: text, or bytes for binary frames."""
    fixed = [json.dumps({"type": "set", "state": {k: v}}) for k, vs in BAD_FIELDS.items() for v in vs]
    fixed += [json.dumps({"type": "set", "state": c}) for c in CROSS_FIELD]
    fixed += GARBAGE + [json.dumps({"type": "csv", "text": t}) for t in CSV_BAD]
    fixed += [pickle.dumps(urllib.request.urlopen), b"\x80\x04K\x01.", b"\x00" * 10]
    yield from fixed
    for _ in range(N - len(fixed)):
        kind = rng.randrange(5)
        if kind == 0:  # an unknown field somewhere
            name = "".join(rng.choices(string.ascii_letters + "_$", k=rng.randint(1, 12)))
            msg = rng.choice([{"type": "set", "state": {name: 1}}, {"type": "play", name: None},
                              {"type": "set", "state": {"layers": [{name: 1}]}}])
            yield json.dumps(msg)
        elif kind == 1:  # a number out of range
            field, lo, hi = rng.choice([("noise", 0, 50), ("train_ratio", 10, 90), ("batch_size", 1, 1000),
                                        ("n_samples", 20, 1000), ("seed", 0, 2**31 - 1)])
            v = rng.choice([lo - rng.randint(1, 10**6), hi + rng.randint(1, 10**6)])
            yield json.dumps({"type": "set", "state": {field: v}})
        elif kind == 2:
            v = rng.choice([rng.uniform(10.0001, 1e6), -rng.uniform(0, 1e6), rng.uniform(0, 9.9e-6)])
            yield json.dumps({"type": "set", "state": {rng.choice(["lr"]): v}})
        elif kind == 3:  # random text that is not a JSON object with a known type
            text = "".join(rng.choices(string.printable, k=rng.randint(0, 200)))
            yield text if not text.strip().startswith("{") else "x" + text
        else:  # a wrong type for a field
            field = rng.choice(list(BAD_FIELDS))
            yield json.dumps({"type": "set", "state": {field: rng.choice([{"a": 1}, [[[]]], "🙂" * 5])}})


def test_thousand_hostile_messages(server):
    import websocket

    url = server.replace("http://", "ws://") + "ws"
    ws = websocket.create_connection(url, timeout=30)
    first = json.loads(ws.recv())
    assert first["type"] == "hello"
    while json.loads(ws.recv())["type"] != "frame":  # state, data, frame
        pass
    sent = 0
    for msg in hostile(random.Random(17)):
        if isinstance(msg, bytes):
            ws.send_binary(msg)
        else:
            ws.send(msg)
        reply = json.loads(ws.recv())
        assert reply["type"] == "error", (msg[:200], reply)
        assert "internal error" not in reply["message"], (msg[:200], reply)
        sent += 1
    assert sent == N
    # still answering, with its state intact, on this connection and a new one
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv()) == {"type": "pong", "step": 0}
    ws.send(json.dumps({"type": "set", "state": {"dataset": "spiral"}}))
    assert json.loads(ws.recv())["state"]["dataset"] == "spiral"
    ws.close()
    other = websocket.create_connection(url, timeout=30)
    assert json.loads(other.recv())["type"] == "hello"
    other.close()
    assert json.loads(urllib.request.urlopen(server + "health", timeout=5).read()) == {"ok": True}
