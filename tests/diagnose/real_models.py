"""Models written the way people write them elsewhere (plain PyTorch, no trainlab), sized for
the 8x8 digits: the cases where ``diagnose`` once raised false alarms, missed a problem, or
crashed."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    """LeNet's shape (conv-pool-conv-pool-fc-fc-fc, functional ReLUs) for (1, 8, 8) inputs."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 3, padding=1), nn.Conv2d(6, 16, 3, padding=1)
        self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 2 * 2, 64), nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))


class Square(torch.autograd.Function):
    """x * x with a correct hand-written backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class ReLUFn(torch.autograd.Function):
    """ReLU with a correct hand-written backward (its kink at 0 is where finite differences lie)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0).to(g.dtype)


class LSTMRows(nn.Module):
    """An LSTM reading the 8 rows of a digit, h0/c0 created in forward (the usual way), with a
    custom autograd Function on its output. ``cast``: the input is cast with ``x.float()`` as
    many models do, so a float64 gradient check cannot run it."""

    def __init__(self, hidden=32, cast=False):
        super().__init__()
        self.lstm, self.head, self.cast = nn.LSTM(8, hidden, batch_first=True), nn.Linear(hidden, 10), cast

    def forward(self, x):
        x = x.reshape(len(x), 8, 8)
        x = x.float() if self.cast else x
        h0 = torch.zeros(1, len(x), self.lstm.hidden_size)
        out, _ = self.lstm(x, (h0, torch.zeros_like(h0)))
        return self.head(Square.apply(out[:, -1]))


def tanh_small(depth=5, width=64, scale=0.01):
    """CS231n's "W = 0.01 * np.random.randn": a tanh MLP with PyTorch's default init x 0.01."""
    torch.manual_seed(0)
    layers, n = [], 64
    for _ in range(depth):
        lin = nn.Linear(n, width)
        with torch.no_grad():
            lin.weight.mul_(scale)
            lin.bias.zero_()
        layers += [lin, nn.Tanh()]
        n = width
    return nn.Sequential(*layers, nn.Linear(width, 10))


class ZeroedReLUNet(nn.Module):
    """A ReLU net whose middle layer is zeroed: every unit after it sits exactly on the kink."""

    def __init__(self, custom_relu=False):
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.mid, self.out = nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(32, 10)
        nn.init.zeros_(self.mid.weight)
        nn.init.zeros_(self.mid.bias)
        self.act = CustomReLU() if custom_relu else nn.ReLU()

    def forward(self, x):
        return self.out(self.act(self.mid(F.relu(self.fc1(x)))))


class CustomReLU(nn.Module):
    def forward(self, x):
        return ReLUFn.apply(x)


class Block(nn.Module):
    """A residual block as torchvision writes it: F.relu after the sum, a projected shortcut."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(n_in, n_out), nn.Linear(n_out, n_out)
        self.shortcut = nn.Linear(n_in, n_out)

    def forward(self, x):
        out = self.fc2(F.relu(self.fc1(x)))
        out += self.shortcut(x)
        return F.relu(out)


class ResidualNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1, self.block2, self.head = Block(64, 32), Block(32, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.block2(self.block1(x)))


class TupleNet(nn.Module):
    """Returns (logits, features), as many models do."""

    def __init__(self, as_dict=False):
        super().__init__()
        self.fc, self.out, self.as_dict = nn.Linear(64, 32), nn.Linear(32, 10), as_dict

    def forward(self, x):
        h = F.relu(self.fc(x))
        return {"logits": self.out(h), "features": h} if self.as_dict else (self.out(h), h)


def tuple_net():
    return TupleNet()


def dict_net():
    return TupleNet(as_dict=True)


class DictInputNet(nn.Module):
    """Takes a batch dict, as Hugging Face-style models do, and returns a dict of outputs."""

    def __init__(self):
        super().__init__()
        self.fc, self.out = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, batch: dict):
        h = F.relu(self.fc(batch["pixels"]))
        return {"logits": self.out(h), "hidden": h}


def dict_input_net():
    return DictInputNet()


def lenet_scale(model: nn.Module) -> float:
    """std * sqrt(fan_in) of the first conv (PyTorch's default init: 1/sqrt(3))."""
    w = model.conv1.weight
    return float(w.std() * math.sqrt(w[0].numel()))
