"""``TensorBoard``: a Trainer callback that writes TensorBoard event files WHILE a run trains.

    trainer = Trainer(model, cfg, callbacks=[TensorBoard("runs/x/tensorboard")])
    # or in a spec: train: {tensorboard: true}; or trainlab train/ensemble/lab run/lectures/diagnose --tensorboard
    # then: tensorboard --logdir runs/x/tensorboard

It IS the diagnostics ``Probes`` (a subclass), so it samples at the probes' cadence with their
hooks and their one-transfer-per-sampled-step cost, and adds the writing:

* scalars at every logged step: ``loss/train``, ``loss/val``, ``accuracy/val`` (every ``val_*``
  metric), ``lr``;
* at the probes' histogram steps: the probes' per-layer numbers as scalars (activation mean /
  std / dead / saturated, gradient norm and its ratio to the output layer's, update/weight
  ratio) and the histograms ``activations/LAYER`` (the probes' own counts),
  ``weights/LAYER.PARAM`` and ``gradients/LAYER.PARAM`` (every parameter, counted on the device
  all together by ``stats.histograms``, in the probes' own transfer of that step). The per-layer
  scalars wait for the histogram steps because writing ~100 values at every sampled step costs
  more than sampling them (bench/tensorboard.py);
* the graph, once, traced from the first batch with each block named after its spec path
  (``trainlab.nn.scopes``: ``Layer1`` ... ``LayerN``, ``Output`` for an mlp; ``layers[i]``).

Layer names in tags are the spec's where the model comes from a spec (``Layer3/Sigmoid``), else
the module names. Stacked runs (``StackedTrainer``: K members as one computation) write one
TensorBoard run per member, ``LOGDIR/seed-S``, so the seeds overlay: each member's scalars and
its weight and gradient histograms (the probes' activation hooks would mix members, so a stack
has no activation histograms); ``per_member=True`` does the same for members trained one after
another (``SequentialTrainer``: one ``fit`` per member). A resumed run truncates the events past
its checkpoint (``purge_step``), so the curves match an unbroken run. Each run gets a step's
values as ONE event, written by ``trainlab.diagnose.events.Events`` (no writer thread).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from trainlab.diagnose.events import Events
from trainlab.diagnose.probes import Probes
from trainlab.diagnose.stats import histograms
from trainlab.errors import ConfigError
from trainlab.train.callbacks import SPEC_CALLBACKS

HIST_PER_SAMPLE = 10  # default: histograms at every 10th sampled step


def available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """A one-line error (before any training) when the tensorboard package is missing."""
    if not available():
        raise ConfigError("tensorboard: event files need the tensorboard package: pip install 'trainlab[tensorboard]'")


class TensorBoard(Probes):
    """Probes that also write event files to ``logdir`` (see the module docstring).

    ``every`` / ``hist_every``: the probes' cadence; None: every logged step of the trainer
    (``train.log_every``, at most ~100 points a run) and histograms every 10th of those.
    ``seeds``: the members' seeds, for their folder names ``seed-S`` (default: the trainer's);
    ``labels``: the folder names themselves (e.g. ``lr-0.1-seed-0`` for a grid of rates).
    """

    def __init__(self, logdir: str | Path, every: int | None = None, hist_every: int | None = None,
                 bins: int = 40, graph: bool = True, per_member: bool = False, seeds: list[int] | None = None,
                 labels: list[str] | None = None):
        require()
        self._auto = every is None
        every = every or 1
        super().__init__(every, hist_every or every * HIST_PER_SAMPLE, bins)
        self._auto_hist = hist_every is None
        self.logdir, self.graph, self.per_member = Path(logdir), graph, per_member
        self.seeds = list(seeds) if seeds is not None else None
        self.labels = list(labels) if labels is not None else None
        self.writers: list[Events] = []  # one TensorBoard run, or one per member of a stack
        self.fits = 0  # fits seen (per_member: member index of the next one)
        self._graph_done = False
        self._stacked = False

    # ---- events --------------------------------------------------------------------------
    def on_fit_start(self, trainer):
        self._stacked = hasattr(trainer, "k") and hasattr(trainer.model, "member")
        if self._auto:
            self.every = trainer.log_every
            per = HIST_PER_SAMPLE if self._auto_hist else max(1, round(self.hist_every / self.every))
            self.hist_every = self.every * per  # a multiple of every: histogram steps are sampled steps
        purge = trainer.step or None  # a resumed run: drop events past the checkpoint
        if self._stacked:
            labels = self.labels or member_labels(self.seeds or list(trainer.seeds))
            self.writers = [Events(self.logdir / name, purge_step=purge) for name in labels]
            self._names = _display_names(trainer.model.member(0))
        else:
            where = self.logdir
            if self.per_member:
                labels = self.labels or (member_labels(self.seeds) if self.seeds else None)
                where = where / (labels[self.fits] if labels else f"member-{self.fits}")
                self._graph_done = False
            self.writers = [Events(where, purge_step=purge)]
            super().on_fit_start(trainer)
            self._names = _display_names(trainer.model)
        self.fits += 1

    def on_batch_start(self, trainer):
        if not self._stacked:
            super().on_batch_start(trainer)

    def on_after_backward(self, trainer):
        if not self._stacked:
            super().on_after_backward(trainer)

    def on_step_end(self, trainer):
        if not self._stacked:
            super().on_step_end(trainer)  # a histogram step: self.end() gathers its record
        elif trainer.step == 1 or trainer.step % self.hist_every == 0:
            self._member_histograms(trainer)
        if trainer.metrics is not None:
            self._metric_scalars(trainer.metrics)
        for w in self.writers:
            w.write(trainer.step)  # the step's values, one event per run
        if self.graph and not self._graph_done and getattr(trainer, "batch", None) is not None:
            self._graph_done = True
            self._add_graph(trainer)

    def on_fit_end(self, trainer):
        if not self._stacked:
            super().on_fit_end(trainer)
        self.close()

    def on_exception(self, trainer, exc):
        if not self._stacked:
            super().on_exception(trainer, exc)
        self.close()

    def close(self) -> None:
        for w in self.writers:
            w.close()
        self.writers = []

    # ---- writing -------------------------------------------------------------------------
    def _extra(self) -> list[torch.Tensor]:
        """At a histogram step: every parameter's and gradient's histogram, counted on the
        device (``stats.histograms``), to travel in the probes' one transfer."""
        self._items = []
        if not self._hist:
            return []
        for l in self.layers:
            name = self._names.get(l.name, l.name)
            for pname, p in l.params:
                self._items.append((f"weights/{name}.{pname}", p.detach()))
                if p.grad is not None:
                    self._items.append((f"gradients/{name}.{pname}", p.grad))
        return [histograms([t for _, t in self._items], self.bins)] if self._items else []

    def end(self, step: int, loss: torch.Tensor | None = None) -> dict:
        record = super().end(step, loss)
        if not self._hist:  # the per-layer numbers go out with the histograms (see the docstring)
            return record
        w = self.writers[0]
        write_record(w, record, self._names, with_loss=False)
        _write_histograms(w, self._items, self.extra)
        return record

    def _metric_scalars(self, m: dict) -> None:
        per = m.get("per_model")
        for k, w in enumerate(self.writers):
            values = {key: v[k] for key, v in per.items()} if self._stacked else m
            for key, v in values.items():
                tag = scalar_tag(key)
                if tag is not None and isinstance(v, (int, float)) and math.isfinite(v):
                    w.scalar(tag, v)

    def _member_histograms(self, t) -> None:
        """Each member's weights and gradients (views into the stack), into its own run; all
        members' histograms counted together and moved to the host in one transfer."""
        leaves, per = list(t.model._leaves()), []
        for k in range(len(self.writers)):
            items = []
            for leaf_name, leaf in leaves:
                name = self._names.get(leaf_name, leaf_name)
                grads, own = leaf.member_grads(k), dict(leaf.named_parameters(recurse=False))
                for pname, v in leaf.member_state(k).items():
                    if pname not in own:  # buffers (batch-norm statistics) are not weights
                        continue
                    items.append((f"weights/{name}.{pname}", v))
                    if pname in grads:
                        items.append((f"gradients/{name}.{pname}", grads[pname]))
            per.append(items)
        every = [t for items in per for _, t in items]
        with torch.no_grad():
            flat = histograms(every, self.bins).cpu().numpy().astype(np.float64).reshape(-1) if every else None
        i = 0
        for w, items in zip(self.writers, per):
            n = len(items) * (self.bins + 4)
            _write_histograms(w, items, flat[i:i + n])
            i += n

    def _add_graph(self, t) -> None:
        """Trace the model (each block named after its spec path) on two rows of the batch; the
        RNG state is put back, so drawing the graph never changes what the run trains."""
        from trainlab.nn.scopes import scoped

        x = t.batch[0][:2]
        model = t.model.member(0) if self._stacked else t.model
        cpu = torch.get_rng_state()
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        try:
            self.writers[0].add_graph(scoped(model), x)
        except Exception as e:  # a model torch.jit cannot trace: say so in TensorBoard's text tab
            self.writers[0].text("graph", f"the graph could not be traced: {type(e).__name__}: {e}")
        finally:
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state_all(cuda)


SPEC_CALLBACKS.register("tensorboard", lambda directory, spec: TensorBoard(Path(directory) / "tensorboard"))


def scalar_tag(key: str) -> str | None:
    """A trainer metric's tag: ``loss`` -> ``loss/train``, ``val_accuracy`` -> ``accuracy/val``,
    ``lr`` -> ``lr``; bookkeeping (step, epoch, seconds, per_model) -> None."""
    if key == "loss":
        return "loss/train"
    if key == "lr":
        return "lr"
    for split in ("val", "train", "test"):
        if key.startswith(split + "_"):
            return f"{key[len(split) + 1:]}/{split}"
    return None


def member_labels(seeds: list[int]) -> list[str]:
    """Folder names for members: ``seed-S``, or ``mKK-seed-S`` where seeds repeat (a grid)."""
    if len(set(seeds)) == len(seeds):
        return [f"seed-{s}" for s in seeds]
    return [f"m{k:02d}-seed-{s}" for k, s in enumerate(seeds)]


def run_label(i: int, spec: dict) -> str:
    """A folder name for the ``i``-th training of a lab: ``03-mlp-10x10-relu-he_normal``."""
    if spec.get("name"):
        desc = str(spec["name"])
    elif "mlp" in spec.get("model", {}):
        m = spec["model"]["mlp"]
        hidden = m.get("hidden", [])
        width = (f"{len(hidden)}x{hidden[0]}" if hidden and len(set(hidden)) == 1 else "-".join(map(str, hidden))
                 ) if isinstance(hidden, list) else f"{m.get('depth') or 1}x{hidden}"
        init = m.get("init")
        init = next(iter(init)) if isinstance(init, dict) else init
        desc = "-".join(str(p) for p in ("mlp", width, m.get("activation", "relu"), init) if p)
    else:
        desc = "layers"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in desc)
    return f"{i:02d}-{safe}"


def _display_names(model) -> dict:
    from trainlab.nn.scopes import display_names

    return display_names(model)


def _write_histograms(w: Events, items: list, flat: np.ndarray) -> None:
    """[(tag, tensor)] with their ``stats.histograms`` rows (flat, float64) into ``w``."""
    if not items:
        return
    rows = flat.reshape(len(items), -1)
    n = np.array([t.numel() for _, t in items], dtype=np.float64)
    w.histograms([tag for tag, _ in items], np.column_stack([rows[:, :2], n, rows[:, 2:]]))


def write_record(w: Events, r: dict, names: dict | None = None, with_loss: bool = True) -> None:
    """One probe record (``ProbeLog`` format) as scalars and activation histograms, gathered in
    ``w`` (the caller writes them: ``w.write(step)``)."""
    names = names or {}
    if with_loss and r.get("loss") is not None:
        w.scalar("loss", r["loss"])
    for key, a in r["acts"].items():
        name = names.get(key.split("#")[0], key) + ("#" + key.split("#")[1] if "#" in key else "")
        for f in ("mean", "std", "dead", "saturated"):
            if a.get(f) is not None and math.isfinite(a[f]):
                w.scalar(f"activations/{name}/{f}", a[f])
    for key, p in r["params"].items():
        name = names.get(key, key)
        for f, tag in (("grad_norm", "gradients"), ("grad_rel", "gradients"), ("update_ratio", "updates"),
                       ("weight_std", "weights")):
            if p.get(f) is not None and math.isfinite(p[f]):
                w.scalar(f"{tag}/{name}/{f}", p[f])
    tags, rows = [], []
    for key, counts in (r.get("hist") or {}).items():
        a = r["acts"].get(key, {})
        lo, hi, mean, std = (math.nan if a.get(f) is None else float(a[f]) for f in ("min", "max", "mean", "std"))
        n = float(sum(counts))
        tags.append(f"activations/{names.get(key.split('#')[0], key)}")
        rows.append([lo, hi, n, mean * n, (std ** 2 + mean ** 2) * n, *counts])
    if rows:
        w.histograms(tags, np.array(rows, dtype=np.float64))
