"""Diagnostics for ANY PyTorch model: hook-based probes (activations, gradients, updates),
sanity checks, the learning-rate range test, and findings in plain words."""

from trainlab.diagnose import training_rules  # noqa: F401  (registers the run-level rules)
from trainlab.diagnose.checks import gradcheck, input_independent, l2_raises_loss, loss_at_init, overfit_small
from trainlab.diagnose.findings import FIXES, RULES, SEVERITIES, Finding, find
from trainlab.diagnose.hooks import Hook, Hooks
from trainlab.diagnose.layers import Layer, discover
from trainlab.diagnose.log import ProbeLog
from trainlab.diagnose.lr_find import LRFind, lr_find
from trainlab.diagnose.probes import Probes
from trainlab.diagnose.rules import Evidence
from trainlab.diagnose.tensorboard import TensorBoard
from trainlab.diagnose.runner import CHECKS, Diagnosis, diagnose, run_checks, train_config

__all__ = ["CHECKS", "FIXES", "RULES", "SEVERITIES", "Diagnosis", "Evidence", "Finding", "Hook", "Hooks", "LRFind",
           "Layer", "ProbeLog", "Probes", "TensorBoard", "diagnose", "discover", "find", "gradcheck", "input_independent",
           "l2_raises_loss", "loss_at_init", "lr_find", "overfit_small", "run_checks", "train_config"]
