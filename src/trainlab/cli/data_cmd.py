"""``trainlab data list | info NAME | fetch NAME``: the data sets, where they come from, whether
they are here and verified, and what preprocessing does to them."""

from __future__ import annotations

import json
from pathlib import Path


from trainlab.errors import ConfigError

NAME = "data"
HELP = "list data sets, show one (sizes, shapes, source, checksums), or fetch one for offline use"


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    ls = sub.add_parser("list", help="every data set, its kind and whether it is here")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.add_argument("--data-dir", help="the data folder (default: $TRAINLAB_DATA or ~/.cache/trainlab)")
    info = sub.add_parser("info", help="sizes, shapes, classes, source, cache path, checksum state")
    info.add_argument("name", metavar="NAME")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--data-dir", help="the data folder (default: $TRAINLAB_DATA or ~/.cache/trainlab)")
    info.add_argument("--set", dest="params", action="append", default=[], metavar="KEY=VALUE",
                      help="a data set parameter, e.g. --set n_train=1000 (repeatable)")
    info.add_argument("--preprocess", metavar="P", help="e.g. standardize, zca, '{pca: {k: 50, whiten: true}}'")
    info.add_argument("--figure", metavar="PNG", help="draw the training split before/after --preprocess")
    fetch = sub.add_parser("fetch", help="download (verified) or find a data set, for offline use")
    fetch.add_argument("name", metavar="NAME")
    fetch.add_argument("--data-dir", help="the data folder (default: $TRAINLAB_DATA or ~/.cache/trainlab)")
    fetch.add_argument("--json", action="store_true", help="print JSON")


def run(args) -> int:
    action = getattr(args, "action", None)
    if action is None:
        raise ConfigError("data: give an action: list, info NAME or fetch NAME")
    return {"list": run_list, "info": run_info, "fetch": run_fetch}[action](args)


def run_list(args) -> int:
    from trainlab import data
    from trainlab.data import catalog

    rows = [{"name": n, "kind": catalog.kind(n), "here": catalog.is_here(n, args.data_dir),
             "description": catalog.describe(n)} for n in data.names()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        here = "" if r["kind"] != "download" else ("  [here]" if r["here"] else "  [not fetched]")
        print(f"{r['name']:<{width}}  {r['kind']:<9}  {r['description']}{here}")
    return 0


def _value(text: str, where: str):
    """A command-line value read as YAML (safely; text that is not YAML stays a string)."""
    from trainlab.safe_io import check_plain, load_yaml

    value = load_yaml(text, where, strict=False) if text.strip() else ""
    check_plain(value, where)
    return value


def _params(texts: list[str]) -> dict:
    out = {}
    for text in texts:
        if "=" not in text:
            raise ConfigError(f"--set {text!r}: expected key=value, e.g. n_train=1000")
        key, value = text.split("=", 1)
        out[key.strip()] = _value(value, f"--set {key.strip()}")
    return out


def run_info(args) -> int:
    from trainlab import data
    from trainlab.data import catalog

    data.DATASETS.lookup(args.name)
    pre = _value(args.preprocess, "--preprocess") if args.preprocess else "none"
    if args.figure and data.preprocess.is_none(pre):
        raise ConfigError("--figure draws what --preprocess does: give --preprocess P (e.g. standardize)")
    out = {"name": args.name, "kind": catalog.kind(args.name), "description": catalog.describe(args.name),
           "fetched": catalog.is_here(args.name, args.data_dir)}
    if out["fetched"]:
        spec = {"name": args.name, **_params(args.params), "data_dir": args.data_dir}
        raw = data.load(spec)
        fitted = None if data.preprocess.is_none(pre) else data.preprocess.get(pre).fit(raw.train.x)
        if args.figure:
            out["figure"] = str(draw(raw, fitted, pre, args.figure))
        ds = data.apply_preprocess(raw, pre, fitted)
        out.update(_facts(ds))
        if fitted is not None:
            out["preprocess"] = {"spec": pre, **train_statistics(ds.train.x)}
    out.update({k: v for k, v in catalog.status(args.name, args.data_dir).items() if k != "fetched"})
    print(json.dumps(out, indent=2, default=str) if args.json else _text(out))
    return 0


def _facts(ds) -> dict:
    shape = ds.input_shape
    layout = {1: "flat", 2: "sequence (T, F)", 3: "image (C, H, W)"}.get(len(shape), "tensor")
    return {"n_train": len(ds.train), "n_val": len(ds.val), "n_test": len(ds.test), "input_shape": list(shape),
            "layout": layout, "n_classes": ds.n_classes, "classes": ds.classes, "source": ds.source,
            "dtype": str(ds.train.x.dtype).replace("torch.", ""),
            "range": [round(float(ds.train.x.min()), 4), round(float(ds.train.x.max()), 4)]}


def train_statistics(x) -> dict:
    """Per-feature mean and variance of the (transformed) training split, summarised."""
    flat = x.reshape(len(x), -1).double()
    mean, var = flat.mean(0), flat.var(0, unbiased=False)
    return {"max_abs_feature_mean": float(mean.abs().max()), "feature_variance_mean": float(var.mean()),
            "feature_variance_min": float(var.min()), "feature_variance_max": float(var.max())}


def draw(raw, fitted, pre, path: str | Path) -> Path:
    """The before/after point clouds of the training split (report draws, data computes)."""
    from trainlab.data.projection import projection_pair
    from trainlab.report.data_figures import preprocess_figure

    pair = projection_pair(raw.train.x, fitted)
    labels = raw.train.y[pair["index"]].numpy() if raw.n_classes is not None else None
    name = pre if isinstance(pre, str) else json.dumps(pre).replace('"', "")
    return preprocess_figure(path, pair, labels, name=name, dataset=raw.name)


def run_preprocess_figure(run_dir: str | Path, data_spec: dict) -> Path | None:
    """RUN_DIR/figures/preprocess.png for a run whose spec preprocesses (called by ``train``)."""
    from trainlab import data

    saved = Path(run_dir) / "preprocess.pt"
    if data.preprocess.is_none(data_spec.get("preprocess")) or not saved.exists():
        return None
    raw = data.load({**data_spec, "preprocess": "none"})
    return draw(raw, data.preprocess.load(saved), data_spec["preprocess"], Path(run_dir) / "figures" / "preprocess.png")


def _text(out: dict) -> str:
    lines = [f"{out['name']} ({out['kind']}): {out['description']}"]
    if not out["fetched"]:
        lines.append(f"  not fetched: run `trainlab data fetch {out['name']}` (cache {out['cache']})")
        return "\n".join(lines)
    lines += [f"  sizes        train {out['n_train']}  val {out['n_val']}  test {out['n_test']}",
              f"  input shape  {tuple(out['input_shape'])}  {out['layout']}, {out['dtype']} in "
              f"[{out['range'][0]:g}, {out['range'][1]:g}]",
              f"  classes      {out['n_classes'] if out['n_classes'] is not None else 'none (regression)'}"
              + (f": {', '.join(out['classes'])}" if out.get("classes") else ""),
              f"  source       {out['source']}"]
    if out.get("cache"):
        lines.append(f"  cache        {out['cache']}")
    for path, state in out.get("files", {}).items():
        lines.append(f"  file         {path}  [{state}]")
    if "preprocess" in out:
        p = out["preprocess"]
        lines.append(f"  preprocess   {p['spec']}: train max |feature mean| {p['max_abs_feature_mean']:.2g}, "
                     f"feature variance mean {p['feature_variance_mean']:.3g} "
                     f"(min {p['feature_variance_min']:.3g}, max {p['feature_variance_max']:.3g})")
    if "figure" in out:
        lines.append(f"  figure       {out['figure']}")
    return "\n".join(lines)


def run_fetch(args) -> int:
    from trainlab import data
    from trainlab.data import catalog

    data.DATASETS.lookup(args.name)
    source = catalog.fetch(args.name, args.data_dir)
    ds = data.load({"name": args.name, "data_dir": args.data_dir})
    out = {"name": args.name, **_facts(ds), "fetched_from": source,
           **{k: v for k, v in catalog.status(args.name, args.data_dir).items() if k != "fetched"}}
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    files = ", ".join(f"{Path(p).name} [{s}]" for p, s in out["files"].items()) or "-"
    print(f"{args.name}: train {out['n_train']}  val {out['n_val']}  test {out['n_test']}  "
          f"input {tuple(out['input_shape'])}  classes {out['n_classes']}\n"
          f"  source {source}\n  cache  {out['cache']}\n  files  {files}")
    return 0
