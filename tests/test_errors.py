"""Error messages stay one bounded line, whatever value they show."""

import time

from trainlab.errors import MAX_MESSAGE, ConfigError, one_line, short


def test_short_never_renders_a_huge_value():
    bomb = [1] * 10
    for _ in range(7):
        bomb = [bomb] * 10  # 10^8 leaves, shared (what an expanded YAML alias bomb is)
    t0 = time.perf_counter()
    text = short(bomb)
    assert time.perf_counter() - t0 < 1 and len(text) <= 80
    assert len(short("x" * 10**6)) <= 80 and len(short(10**5000)) <= 80 and "digits" in short(10**5000)


def test_one_line_escapes_every_line_break():
    text = one_line("a\nb\rc\x0bd\x0ce\x1cf\x85g\u2028h\x00i\tj")
    assert len(text.splitlines()) == 1 and "\\n" in text and "\\x00" in text and "\t" in text


def test_config_error_is_one_bounded_line():
    e = ConfigError("bad value " + repr(list(range(10**5))) + "\nsecond line; valid: a, b")
    text = str(e)
    assert len(text.splitlines()) == 1 and len(text) <= MAX_MESSAGE + 40
    assert text.startswith("bad value [0, 1, 2") and text.endswith("valid: a, b")  # head and tail kept
