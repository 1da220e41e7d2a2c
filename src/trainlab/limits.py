"""Bounds on what one spec may ask for, checked before anything is allocated, each with the
environment variable that raises it.

A typo can ask for a million-unit layer (a 10¹²-parameter net) or 2³¹ generated samples: torch
would allocate until the machine kills the process. These limits refuse such requests up front
with the numbers; anyone who means it raises the limit:

    TRAINLAB_MAX_PARAMETERS   model parameters                 default 100,000,000 (≈1.6 GB with Adam)
    TRAINLAB_MAX_DATA         values in a generated data set   default 200,000,000 (800 MB as float32)
"""

from __future__ import annotations

import os

from trainlab.errors import ConfigError

LIMITS = {  # name -> (environment variable, default, what is counted)
    "parameters": ("TRAINLAB_MAX_PARAMETERS", 100_000_000, "model parameters"),
    "data": ("TRAINLAB_MAX_DATA", 200_000_000, "values in the generated data"),
}
BYTES_PER_PARAMETER = 16  # float32 weight + gradient + two optimizer moments (Adam)


def limit(name: str) -> int:
    """The limit in force: the environment variable when set (a positive integer), else the default."""
    env, default, _ = LIMITS[name]
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"${env}: expected a positive integer, got {raw[:40]!r}")
    return value


def check(name: str, value: int, what: str) -> None:
    """Refuse ``value`` (of the kind ``name`` counts) above its limit, naming both numbers:
    ``WHAT VALUE UNIT, over the limit of N; ...``."""
    cap = limit(name)
    if value > cap:
        env, _, unit = LIMITS[name]
        extra = f" (about {value * BYTES_PER_PARAMETER / 1e9:,.1f} GB to train)" if name == "parameters" else ""
        raise ConfigError(f"{what} {value:,} {unit}{extra}, over the limit of {cap:,}; "
                          f"if you mean it, raise the limit with {env}={value}")
