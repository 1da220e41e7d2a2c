"""The TensorBoard callback, read back with TensorBoard's own reader (EventAccumulator) from
real runs: scalars, histograms and the graph with the spec's layer names."""

import json

import pytest
import torch

from tests.conftest import EXAMPLES, run_cli

from tests.diagnose.common import raw_events
from tests.diagnose.common import tensorboard_events as events

pytest.importorskip("tensorboard")


@pytest.fixture(scope="module")
def sigmoid_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tb") / "run"
    r = run_cli("train", str(EXAMPLES / "xor_deep_sigmoid.yaml"), "--set", "train.steps=300",
                "--tensorboard", "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


def test_train_tensorboard_scalars_match_the_logged_metrics(sigmoid_run):
    ea = events(sigmoid_run / "tensorboard")
    rows = [json.loads(line) for line in (sigmoid_run / "metrics.jsonl").read_text().splitlines()]
    for tag, key in (("loss/train", "loss"), ("loss/val", "val_loss"), ("accuracy/val", "val_accuracy"), ("lr", "lr")):
        got = ea.Scalars(tag)
        assert [e.step for e in got] == [r["step"] for r in rows], tag
        assert [e.value for e in got] == pytest.approx([r[key] for r in rows], rel=1e-6), tag
    # the lecture's stuck sigmoid net: its cost stays at ln 2 in TensorBoard too
    assert ea.Scalars("loss/train")[-1].value == pytest.approx(0.6931, abs=0.01)
    assert "activations/Layer10/Sigmoid/saturated" in ea.Tags()["scalars"]
    assert "gradients/Layer1/Linear/grad_rel" in ea.Tags()["scalars"]


def test_train_tensorboard_histograms_of_activations_weights_and_gradients(sigmoid_run):
    ea = events(sigmoid_run / "tensorboard")
    tags = set(ea.Tags()["histograms"])
    for i in range(1, 11):
        assert {f"activations/Layer{i}/Sigmoid", f"weights/Layer{i}/Linear.weight",
                f"gradients/Layer{i}/Linear.weight"} <= tags
    hist = ea.Histograms("weights/Layer1/Linear.weight")
    assert [h.step for h in hist] == [1, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300][: len(hist)] and len(hist) >= 2
    first = hist[0].histogram_value
    assert first.num == 20 and -1.0 <= first.min < first.max <= 1.0  # 2x10 weights, uniform(-1, 1)
    assert sum(first.bucket) == 20
    # at the start, through ten sigmoids, the first layer's gradient is far below the last one's
    g1 = ea.Histograms("gradients/Layer1/Linear.weight")[0].histogram_value
    g10 = ea.Histograms("gradients/Layer10/Linear.weight")[0].histogram_value
    assert g1.sum_squares < 1e-4 * g10.sum_squares


def test_train_tensorboard_graph_names_each_layer_after_the_spec(sigmoid_run):
    graph = events(sigmoid_run / "tensorboard").Graph()
    names = [n.name for n in graph.node]
    scopes = {n.split("/")[0] for n in names if "/" in n} - {"input", "output"}
    assert scopes == {f"Layer{i}" for i in range(1, 11)} | {"Output"}  # the lecture's Layer1 ... picture
    assert any(n.startswith("Layer1/Linear[0]/weight") for n in names)
    assert any(n.startswith("Layer7/Sigmoid[1]") for n in names)
    # the layers are connected in order: Layer2's matmul reads Layer1's sigmoid output
    layer2 = [n for n in graph.node if n.name.startswith("Layer2/Linear[0]") and n.op == "aten::linear"]
    assert layer2 and any(i.startswith("Layer1/Sigmoid[1]") for i in layer2[0].input)
    assert (sigmoid_run / "figures" / "curves.png").stat().st_size > 0


@pytest.mark.slow
def test_tensorboard_never_changes_what_a_run_trains(tmp_path):
    """Dropout draws from the global RNG: tracing the graph or probing must not move it."""
    spec = str(EXAMPLES / "spiral_mlp.yaml")
    common = ["--set", "train.epochs=3", "--set", "model.mlp.dropout=0.3", "--set", "train.early_stopping=null"]
    a = run_cli("train", spec, *common, "--out", str(tmp_path / "a"), "--json")
    b = run_cli("train", spec, *common, "--out", str(tmp_path / "b"), "--json", "--tensorboard")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert json.loads(a.stdout)["final"] == json.loads(b.stdout)["final"]
    assert list((tmp_path / "b" / "tensorboard").glob("events.out.tfevents.*"))


@pytest.mark.slow
def test_stacked_ensemble_writes_one_run_per_member(tmp_path):
    out = tmp_path / "ens"
    r = run_cli("ensemble", str(EXAMPLES / "xor_deep_relu.yaml"), "--members", "3", "--set", "train.steps=200",
                "--tensorboard", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mode"] == "stacked"
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    for k in range(3):
        ea = events(out / "tensorboard" / f"seed-{k}")
        loss = [e.value for e in ea.Scalars("loss/train")]
        assert loss == pytest.approx([row["per_model"]["loss"][k] for row in rows], rel=1e-6)
        assert "weights/Layer1/Linear.weight" in ea.Tags()["histograms"]
    assert events(out / "tensorboard" / "seed-0").Tags()["graph"]


def test_spec_switch_on_the_library_api(tmp_path):
    import trainlab.diagnose  # noqa: F401  (registers the callback)
    from trainlab.train import load_file, resolve, train

    spec = resolve(load_file(EXAMPLES / "xor_2_5_4_1.yaml"))
    spec["train"].update(steps=50, tensorboard=True)
    run = train(spec, out=tmp_path / "r", progress=False)
    ea = events(run.directory / "tensorboard")
    assert len(ea.Scalars("loss/train")) == len(run.trainer.history)
    assert torch.isfinite(torch.tensor([e.value for e in ea.Scalars("loss/train")])).all()


def test_lab_tensorboard_one_folder_per_training_one_run_per_member(tmp_path):
    from trainlab.labs import run_lab

    result = run_lab("preprocessing", size="quick", seeds=[0], tensorboard=tmp_path / "tb")
    trainings = sorted(p.name for p in (tmp_path / "tb").iterdir())
    assert len(trainings) >= 2 and trainings[0].startswith("00-")
    members = sorted(p.name for p in (tmp_path / "tb" / trainings[0]).iterdir())
    assert len(members) == 8 and all(m.startswith("lr-") and m.endswith("-seed-0") for m in members)  # 8 rates
    ea = events(tmp_path / "tb" / trainings[0] / members[0])
    assert ea.Scalars("loss/train") and result["claims"]


def test_callback_writes_one_event_per_step_with_every_tag(tmp_path):
    """A histogram step's per-layer scalars, loss/lr scalars and the activation, weight and
    gradient histograms travel as ONE event; every logged step is one event."""
    from trainlab import data
    from trainlab.diagnose import TensorBoard
    from trainlab.nn import build
    from trainlab.train import Trainer

    ds = data.load("xor")
    torch.manual_seed(0)
    net = build({"mlp": {"hidden": [5, 4], "activation": "sigmoid"}}, ds.input_shape, 1)
    tb = TensorBoard(tmp_path, every=5, hist_every=10, graph=False)
    cfg = {"loss": "binary_cross_entropy", "optimizer": "sgd", "lr": 0.1, "steps": 20, "log_every": 5}
    Trainer(net, cfg, device="cpu", seed=0, callbacks=[tb]).fit(ds.train, ds.val)
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 1
    events = [e for e in raw_events(tmp_path) if e.HasField("summary")]
    steps = [e.step for e in events]
    assert len(steps) == len(set(steps)) and {1, 10, 20} <= set(steps)
    at10 = {v.tag: v for v in next(e for e in events if e.step == 10).summary.value}
    assert {"loss/train", "lr", "activations/Layer1/Sigmoid/saturated", "gradients/Layer2/Linear/grad_rel"} <= set(at10)
    hist = {tag for tag, v in at10.items() if v.HasField("histo")}
    for layer in ("Layer1", "Layer2", "Output"):
        assert {f"weights/{layer}/Linear.weight", f"weights/{layer}/Linear.bias",
                f"gradients/{layer}/Linear.weight"} <= hist
    assert {"activations/Layer1/Sigmoid", "activations/Layer2/Sigmoid"} <= hist
    # the last step is a histogram step: its weight histogram is the trained weights' (4x5)
    last = next(e for e in events if e.step == 20)
    w = next(v.histo for v in last.summary.value if v.tag == "weights/Layer2/Linear.weight")
    (final,) = [p.detach() for p in net.parameters() if p.shape == (4, 5)]
    assert (w.num, sum(w.bucket)) == (20, 20)
    assert (w.min, w.max) == pytest.approx((final.min().item(), final.max().item()))
    assert w.sum_squares == pytest.approx((final ** 2).sum().item(), rel=1e-5)
