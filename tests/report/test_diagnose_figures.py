"""Figures and TensorBoard events drawn from a diagnosis (as plain data)."""

import json

import pytest

from tests.diagnose.common import digits, mlp
from trainlab.diagnose import diagnose
from trainlab.report import diagnose_figures as figs

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def diagnosis():
    d = diagnose(mlp(depth=3), digits(), {}, steps=20, every=5, hist_every=10, checks=False)
    return json.loads(json.dumps(d.to_dict(probes=True)))  # exactly what diagnosis.json holds


def test_draw_all_writes_every_figure(diagnosis, tmp_path):
    files = figs.draw_all(diagnosis, tmp_path)
    assert set(files) == {"activations", "gradients", "updates", "lr_find"}
    for path in files.values():
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5000


def test_histogram_panels_prefer_activation_outputs(diagnosis):
    keys = figs._hist_keys(diagnosis["probes"])
    assert keys == ["layers.1", "layers.3", "layers.5"]  # the three ReLUs


def test_lr_finder_plot_without_a_suggestion(tmp_path):
    flat = {"lrs": [1e-3, 1e-2, 1e-1], "losses": [1.0, 1.0, 1.0], "smoothed": [1.0, 1.0, 1.0],
            "regimes": {"flat": [1e-3, 1e-1]}, "suggestion": None, "stopped": "end", "optimizer": "sgd"}
    assert figs.lr_finder(flat, tmp_path / "lr.png", lr=0.01).read_bytes()[:8] == PNG


def test_tensorboard_events_hold_scalars_and_histograms(diagnosis, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = figs.write_tensorboard(diagnosis, tmp_path / "tb")
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert "gradients/layers.0/grad_norm" in tags["scalars"] and "updates/layers.6/update_ratio" in tags["scalars"]
    assert "activations/layers.1/dead" in tags["scalars"] and "lr_find/smoothed_loss" in tags["scalars"]
    steps = [e.step for e in acc.Scalars("gradients/layers.0/grad_norm")]
    assert steps == [1, 5, 10, 15, 20]
    hist = acc.Histograms("activations/layers.0")
    assert [h.step for h in hist] == [1, 10, 20]
    h = hist[0].histogram_value
    rec = diagnosis["probes"]["records"][0]
    assert h.min == pytest.approx(rec["acts"]["layers.0"]["min"]) and h.num == 64 * 64


def _capture(monkeypatch):
    """Keep the figure ``save`` would close, drawn, for inspection."""
    kept = []

    def keep(fig, path, dpi=110, tight=True):
        if tight:
            fig.tight_layout()
        fig.canvas.draw()
        kept.append(fig)
        return path

    monkeypatch.setattr(figs, "save", keep)
    return kept


def test_one_layer_figure_keeps_its_title_and_labels_each_panel_std(monkeypatch):
    import torch

    d = diagnose(torch.nn.Sequential(torch.nn.Linear(64, 10)), digits(), {}, steps=10, every=5, hist_every=5,
                 checks=False, lr_find=False)
    kept = _capture(monkeypatch)
    figs.activation_histograms(json.loads(json.dumps(d.to_dict(probes=True))), "unused.png")
    fig = kept[0]
    box, title = fig.bbox, fig.texts[0].get_window_extent()
    assert title.x0 >= box.x0 and title.x1 <= box.x1, (title, box)  # not cut off
    for ax in fig.axes:
        assert any(t.get_text().startswith("std ") for t in ax.texts)


def test_shared_scale_puts_every_panel_on_one_range(diagnosis, monkeypatch):
    kept = _capture(monkeypatch)
    figs.activation_histograms(diagnosis, "unused.png", shared_scale=True)
    figs.activation_histograms(diagnosis, "unused.png")
    shared, own = ({ax.get_xlim() for ax in f.axes} for f in kept)
    assert len(shared) == 1 and len(own) > 1
    assert "one x-range" in kept[0].texts[0].get_text()


def test_fixed_layout_keeps_text_apart_and_inside(diagnosis, monkeypatch):
    """The diagnose figures are laid out once, without tight_layout: nothing may overlap or spill."""
    kept = _capture(monkeypatch)
    figs.activation_histograms(diagnosis, "unused.png")
    figs.gradient_norms(diagnosis, "unused.png")
    figs.lr_finder(diagnosis["lr_find"], "unused.png", lr=1e-3)
    hist, *single = kept
    top, bottom = hist.axes[:3], hist.axes[3:]
    for above, below in zip(top, bottom):
        labels = [t.get_window_extent() for t in above.get_xticklabels() if t.get_text()]
        assert labels and below.title.get_window_extent().y1 <= min(b.y0 for b in labels)
    assert hist.texts[0].get_window_extent().y0 >= max(a.title.get_window_extent().y1 for a in top)
    for fig in kept:
        box = fig.bbox
        for ax in fig.axes:
            extent = ax.get_tightbbox(fig.canvas.get_renderer())
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1 + 1 and box.y0 <= extent.y0, (extent, box)
    for fig in single:
        ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
        assert not any("$" in t for t in ticks)  # plain numbers, no mathtext to parse
