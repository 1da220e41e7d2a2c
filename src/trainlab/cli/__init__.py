"""Command-line interface: ``trainlab COMMAND ...``."""
