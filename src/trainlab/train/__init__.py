"""Training: one Trainer loop, its callbacks, optimizers, schedules, losses, runs."""

from trainlab.train.callbacks import EVENTS, Callback, EarlyStopping, MetricsLogger, ProgressBar
from trainlab.train.checkpoint import Checkpointer
from trainlab.train.config import TrainConfig
from trainlab.train.losses import LOSSES
from trainlab.train.optim import OPTIMIZERS
from trainlab.train.run import Run, resume, train
from trainlab.train.schedules import SCHEDULES
from trainlab.train.spec import apply_overrides, load_file, resolve
from trainlab.train.trainer import Trainer, seed_everything

__all__ = ["EVENTS", "LOSSES", "OPTIMIZERS", "SCHEDULES", "Callback", "Checkpointer", "EarlyStopping",
           "MetricsLogger", "ProgressBar", "Run", "TrainConfig", "Trainer", "apply_overrides", "load_file",
           "resolve", "resume", "seed_everything", "train"]
