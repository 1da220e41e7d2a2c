"""Figures of RBM pre-training: first-layer filters as image tiles (the classic RBM picture),
samples from a Gibbs chain, and the per-epoch monitors (reconstruction error, free-energy gap).
Drawn from plain arrays and records, so a pretrain run and the ``dbn`` lab share them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from trainlab.report.plotting import figure, save


def image_shape(n: int) -> tuple[int, int]:
    """28x28 for MNIST, 8x8 for digits: the square a flat input came from (else one row)."""
    side = math.isqrt(n)
    return (side, side) if side * side == n else (1, n)


def _grid(ax, tiles: np.ndarray, per_tile_scale: bool) -> None:
    """Tiles (n, D) as a near-square mosaic of images, each scaled to its own range when asked."""
    n, d = tiles.shape
    h, w = image_shape(d)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), np.nan)
    for i, t in enumerate(tiles):
        img = t.reshape(h, w)
        if per_tile_scale:
            lo, hi = img.min(), img.max()
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        r, c = divmod(i, cols)
        mosaic[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = img
    ax.imshow(mosaic, cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_filters(weights, path: Path, title: str) -> Path:
    """Each hidden unit's incoming weights as an image (scaled per tile)."""
    w = np.asarray(weights, dtype=float)
    fig, axes = figure(1, width=5.5, height=5.5)
    _grid(axes[0][0], w, per_tile_scale=True)
    axes[0][0].set_title(title, fontsize=9)
    return save(fig, path)


def draw_samples(chain, path: Path, title: str) -> Path:
    """Gibbs chain samples: ``chain`` is (steps, chains, D); one row per step."""
    c = np.asarray(chain, dtype=float)
    steps, n, d = c.shape
    fig, axes = figure(1, width=min(9.0, 1.0 + 0.8 * n), height=min(9.0, 0.6 + 0.8 * steps))
    h, w = image_shape(d)
    mosaic = np.ones((steps * (h + 1) + 1, n * (w + 1) + 1))
    for s in range(steps):
        for j in range(n):
            mosaic[1 + s * (h + 1): 1 + s * (h + 1) + h, 1 + j * (w + 1): 1 + j * (w + 1) + w] = c[s, j].reshape(h, w)
    ax = axes[0][0]
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    return save(fig, path)


def draw_monitor(records: list[dict], path: Path, title: str = "") -> Path:
    """Reconstruction error and free-energy gap (validation minus training) per epoch, per layer."""
    fig, axes = figure(2, width=4.4, height=3.3)
    recon, gap = axes[0][0], axes[0][1]
    layers = sorted({r.get("layer", 0) for r in records})
    for layer in layers:
        rows = [r for r in records if r.get("layer", 0) == layer]
        epochs = [r["epoch"] for r in rows]
        recon.plot(epochs, [r["recon_error"] for r in rows], "o-", ms=3, label=f"RBM {layer + 1}")
        if all("free_energy_gap" in r for r in rows):
            gap.plot(epochs, [r["free_energy_gap"] for r in rows], "o-", ms=3, label=f"RBM {layer + 1}")
    recon.set_xlabel("epoch")
    recon.set_ylabel("reconstruction error (mean squared)")
    recon.set_title(title or "Reconstruction error per epoch", fontsize=9)
    recon.legend(fontsize=7)
    gap.axhline(0, color="gray", lw=0.8)
    gap.set_xlabel("epoch")
    gap.set_ylabel("mean F(validation) - mean F(training)")
    gap.set_title("Free-energy gap (grows when overfitting)", fontsize=9)
    gap.legend(fontsize=7)
    return save(fig, path)


def draw_pretrain_run(directory: str | Path, n_filters: int = 100, chains: int = 10, steps: int = 8) -> list[Path]:
    """The three figures of a ``trainlab pretrain`` run into RUN_DIR/figures/."""
    from trainlab import data as datasets
    from trainlab.pretrain.run import load_network_stack

    directory = Path(directory)
    dbn, spec = load_network_stack(directory)
    rbm = dbn.rbms_[0]
    out = directory / "figures"
    records = [json.loads(ln) for ln in (directory / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    paths = [draw_filters(rbm.components_[:n_filters].numpy(), out / "filters.png",
                          f"First-layer filters ({rbm.n_hidden} hidden units, first {min(n_filters, rbm.n_hidden)})"),
             draw_monitor(records, out / "monitor.png")]
    if rbm.visible == "bernoulli":
        ds = datasets.load(spec["data"])
        v = ds.val.x.reshape(len(ds.val.x), -1)[:chains].clamp(0, 1).to(rbm.components_.dtype)
        chain = [v.numpy()]
        for _ in range(steps - 1):
            v = rbm.gibbs(v, steps=100)
            chain.append(rbm.reconstruct(v).numpy())
        paths.append(draw_samples(np.stack(chain), out / "samples.png",
                                  "Gibbs chain from validation images (rows: every 100 sweeps; means shown)"))
    return paths
