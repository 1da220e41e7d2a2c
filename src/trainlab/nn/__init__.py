"""Networks as data: blocks, activations and initializers, each from one registry."""

from trainlab.nn import activations, init
from trainlab.nn.activations import ACTIVATIONS, Maxout
from trainlab.nn.blocks import BLOCKS
from trainlab.nn.compose import build_layers  # registers residual and parallel
from trainlab.nn.init import INITIALIZERS
from trainlab.nn.layers import Parallel, Recurrent, Residual
from trainlab.nn.spec import Network, build, count_parameters, mlp_layers

__all__ = ["ACTIVATIONS", "BLOCKS", "INITIALIZERS", "Maxout", "Network", "Parallel", "Recurrent",
           "Residual", "activations", "build", "build_layers", "count_parameters", "init", "mlp_layers"]
