"""`python -m trainlab` is the same program as `trainlab`."""

from trainlab.cli.process_exit import entry

entry()
