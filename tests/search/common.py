"""A tiny search setup shared by the search tests: a 64-32-10 MLP on a few hundred digits."""

from trainlab.train import resolve

SPEC = {"name": "tiny", "data": {"name": "digits", "n_train": 300, "preprocess": "standardize"},
        "model": {"mlp": {"hidden": 32, "depth": 1, "activation": "relu", "dropout": 0.0}},
        "train": {"optimizer": "adam", "lr": 0.01, "epochs": 2, "batch_size": 64}}
LR_WD = {"train.lr": {"log_uniform": [1e-4, 0.3]}, "train.weight_decay": {"log_uniform": [1e-6, 1e-2]}}


def tiny_spec(**train):
    spec = {**SPEC, "train": {**SPEC["train"], **train}}
    return resolve(spec)
