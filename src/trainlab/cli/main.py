"""The ``trainlab`` command. Thin: parse, call the library, print.

User mistakes (ConfigError) print one line ``error: ...`` and exit 2 with no traceback, and so
does a file-system error on a path the user gave (an OSError: read-only, missing, a loop...);
a diverged run exits 1 with its diagnosis.
"""

from __future__ import annotations

import argparse
import sys

from trainlab import __version__, threads
from trainlab.cli import (check_cmd, dashboard_cmd, data_cmd, diagnose_cmd, ensemble_cmd, lab_cmd, lectures_cmd,
                          list_cmd, lr_find_cmd, playground_cmd, pretrain_cmd, report_cmd, search_cmd, train_cmd)
from trainlab.errors import ConfigError, DivergenceError, one_line
from trainlab.safe_io import describe_os_error

# each module: NAME, HELP, add_arguments(parser), run(args) -> int
COMMANDS = (lectures_cmd, lab_cmd, train_cmd, pretrain_cmd, search_cmd, dashboard_cmd, report_cmd, playground_cmd,
            list_cmd, data_cmd, ensemble_cmd, diagnose_cmd, check_cmd, lr_find_cmd)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"error: {one_line(message)} (see {self.prog} --help)\n")
        raise SystemExit(2)


def add_threads_argument(p) -> None:
    """``--threads N``, before or after the command (default: $TRAINLAB_THREADS, else the free cores)."""
    p.add_argument("--threads", default=argparse.SUPPRESS, metavar="N",
                   help="CPU threads for torch: a number or auto (default: $TRAINLAB_THREADS, else the cores "
                        "that are free now)")


def make_parser() -> Parser:
    parser = Parser(prog="trainlab", description="Make deep neural networks train, and see why they do or don't.")
    parser.add_argument("--version", action="version", version=f"trainlab {__version__}")
    add_threads_argument(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.NAME, help=cmd.HELP, description=cmd.HELP)
        add_threads_argument(p)
        cmd.add_arguments(p)
        p.set_defaults(run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        threads.configure(getattr(args, "threads", None))
        return int(args.run(args) or 0)
    except ConfigError as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    except DivergenceError as e:
        sys.stderr.write(f"error: {one_line(e, 4000)}\n")  # one line; a diagnosis is never cut short
        return 1
    except OSError as e:  # a path the user gave that cannot be read or written
        sys.stderr.write(f"error: {one_line(describe_os_error(e))}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
