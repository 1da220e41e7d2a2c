"""A plain-PyTorch model with a realistic problem, for ``trainlab diagnose``.

    trainlab diagnose examples/diagnose_model.py:deep_sigmoid --data digits
    trainlab diagnose examples/diagnose_model.py:deep_relu --data digits     # the lecture's fix

``DeepSigmoidNet`` is what many first attempts look like: eight sigmoid hidden layers with
PyTorch's default initialization. It trains, slowly or not at all — the gradient vanishes on its
way back through the sigmoids (Lecture 10's "9 hidden layers!", CS231n's vanishing gradient).
Nothing here imports trainlab: ``diagnose`` works on any ``nn.Module``.
"""

import math

import torch
from torch import nn


class DeepSigmoidNet(nn.Module):
    def __init__(self, n_inputs: int, n_classes: int, width: int = 64, depth: int = 8,
                 activation: type[nn.Module] = nn.Sigmoid):
        super().__init__()
        layers, fan_in = [], n_inputs
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), activation()]
            fan_in = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x.flatten(1)))


def deep_sigmoid(input_shape, n_classes):
    """The problem: 8 sigmoid layers, default init."""
    return DeepSigmoidNet(math.prod(input_shape), n_classes)


def deep_relu(input_shape, n_classes):
    """The lecture's remedy: ReLU with He initialization."""
    net = DeepSigmoidNet(math.prod(input_shape), n_classes, activation=nn.ReLU)
    for m in net.body:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return net
