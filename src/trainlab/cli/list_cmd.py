"""``trainlab list KIND [--json]``: the names each registry knows."""

from __future__ import annotations

import json

NAME = "list"
HELP = "list the names of activations, initializers, blocks, optimizers, schedules, losses or datasets"


def registries() -> dict:
    from trainlab import data
    from trainlab.nn import ACTIVATIONS, BLOCKS, INITIALIZERS
    from trainlab.train import LOSSES, OPTIMIZERS, SCHEDULES
    import trainlab.pretrain  # noqa: F401 (registers the dbn initializer)

    return {"activations": ACTIVATIONS, "initializers": INITIALIZERS, "blocks": BLOCKS,
            "optimizers": OPTIMIZERS, "schedules": SCHEDULES, "losses": LOSSES,
            "datasets": data.DATASETS}


KINDS = ("activations", "initializers", "blocks", "optimizers", "schedules", "losses", "datasets")


def add_arguments(p) -> None:
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=" | ".join(KINDS))
    p.add_argument("--json", action="store_true", help="print a JSON list of names")


def run(args) -> int:
    names = registries()[args.kind].names()
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0
