"""Errors that mean "the user asked for something wrong", as opposed to bugs.

The CLI turns these into one line `error: ...` and exit status 2; everything else is a bug
and keeps its traceback.
"""


class ConfigError(ValueError):
    """A bad name, value, key or file in what the user asked for."""


class ShapeError(ConfigError):
    """A block received an input shape it cannot take."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss: the run stops with a diagnosis."""
