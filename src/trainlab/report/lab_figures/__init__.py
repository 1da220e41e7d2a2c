"""Figures for labs, drawn from the data a lab recorded (``result["records"]``), never by
re-running it. One module per lab, each registering its drawing function:

    @register("xor-deep")
    def draw(result: dict, out: Path) -> list[tuple[str, str]]:
        fig, axes = figure(2)
        ...
        return [(save(fig, out / "xor-deep.png").name, "caption in one sentence")]

``draw_lab(result, out)`` lists the PNG names (relative to ``out``) in ``result["figures"]`` and
their captions in ``result["captions"]``.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

from trainlab.registry import Registry

FIGURES = Registry("lab figure")
Drawer = Callable[[dict, Path], list]


def register(lab: str):
    return lambda fn: FIGURES.register(lab, fn)


def draw_lab(result: dict, out: str | Path) -> dict:
    """Draw the lab's figures into ``out`` (PNG) and list them in ``result["figures"]``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures, captions = [], {}
    if result["lab"] in FIGURES and not result.get("error"):
        for name, caption in FIGURES.lookup(result["lab"])(result, out):
            figures.append(str(name))
            captions[str(name)] = caption
    result["figures"], result["captions"] = figures, captions
    return result


def _import_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_import_all()
