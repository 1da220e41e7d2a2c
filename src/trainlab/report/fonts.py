"""Korean text that renders everywhere: the glyphs a report needs, embedded in the report.

The lecture quotes are Korean; on a machine without a CJK font (a fresh Debian, a CI runner, a
headless screenshot) a browser draws them as empty boxes. ``font_face(text)`` returns a CSS
``@font-face`` rule carrying a subset of Noto Sans KR (SIL Open Font License 1.1) with just the
Hangul / CJK characters of ``text`` (a few KB to ~100 KB as WOFF), under the family name
``FAMILY``, limited by ``unicode-range`` to those characters, so Latin text keeps the page's font.

Where the font comes from, in order:
1. the ``pylopdf-fonts-ko`` wheel from PyPI (a trainlab dependency: ``NotoSansKR-Regular.otf``);
2. Debian's ``fonts-noto-cjk`` (``NotoSansCJK-Regular.ttc``) or ``fonts-nanum``, when installed.
With neither, ``font_face`` returns no rule and ``missing_note`` says how to get one: the
report still works, the quotes fall back to whatever fonts the reader's machine has.
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

FAMILY = "trainlab-ko"  # the embedded subset's family name (not "Noto": a subset is a modified font)
SYSTEM_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


def needs_font(ch: str) -> bool:
    """Hangul (syllables, jamo, compatibility jamo), CJK ideographs, CJK punctuation, full-width forms."""
    o = ord(ch)
    return (0x1100 <= o <= 0x11FF or 0x3000 <= o <= 0x303F or 0x3130 <= o <= 0x318F or 0x3400 <= o <= 0x9FFF
            or 0xA960 <= o <= 0xA97F or 0xAC00 <= o <= 0xD7AF or 0xD7B0 <= o <= 0xD7FF or 0xFF00 <= o <= 0xFFEF)


def source() -> Path | None:
    """The font file to subset, or None when none is installed."""
    try:
        import pylopdf_fonts_ko

        path = Path(pylopdf_fonts_ko.sans_path())
        if path.exists():
            return path
    except ImportError:
        pass
    return next((Path(p) for p in SYSTEM_FONTS if Path(p).exists()), None)


def font_face(text: str) -> str:
    """The ``@font-face`` rule embedding the glyphs ``text`` needs ('' when it needs none, or
    no font is installed)."""
    chars = "".join(sorted({c for c in text if needs_font(c)}))
    if not chars:
        return ""
    path = source()
    if path is None:
        return ""
    return _face(str(path), chars)


@functools.lru_cache(maxsize=8)
def _face(path: str, chars: str) -> str:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; woff2 would need brotli
    options.layout_features = ["*"]
    options.name_IDs = []  # drop the names: the subset is not "Noto Sans KR" any more
    options.notdef_outline = True
    font = TTFont(path, fontNumber=_korean_face(path), lazy=True)
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    ranges = ",".join(f"U+{ord(c):X}" for c in chars)
    return (f"@font-face{{font-family:'{FAMILY}';src:url(data:font/woff;base64,{data}) format('woff');"
            f"unicode-range:{ranges};font-display:block}}")


def _korean_face(path: str) -> int:
    """The Korean face of a font collection (.ttc: Noto Sans CJK holds JP, KR, SC, TC, HK); 0 otherwise."""
    if not path.endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    names = [f["name"].getDebugName(1) or "" for f in TTCollection(path, lazy=True).fonts]
    return next((i for i, n in enumerate(names) if n.endswith(" KR")), 0)


def missing_note(text: str) -> str:
    """A sentence for the report when ``text`` needs a CJK font and none could be embedded."""
    if not any(needs_font(c) for c in text) or source() is not None:
        return ""
    return ("The Korean quotes use the reader's own fonts: no Korean font was found to embed "
            "(pip install pylopdf-fonts-ko, or apt-get install fonts-noto-cjk, then re-render with "
            "trainlab report DIR).")


def embed(page: str) -> str:
    """An HTML page with the glyphs its Korean text needs embedded (a ``<style>`` before
    ``</head>``), or, where no font is installed, a visible note at the top of ``<body>``."""
    face = font_face(page)
    if face:
        return page.replace("</head>", f"<style>{face}</style></head>", 1)
    note = missing_note(page)
    if note:
        return page.replace("<body>", f"<body><p class='sub' id='font-note'>{note}</p>", 1)
    return page
