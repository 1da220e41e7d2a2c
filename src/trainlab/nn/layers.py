"""Modules the spec blocks need beyond torch.nn: fast-forward, split & merge, recurrent."""

from __future__ import annotations

import torch
from torch import nn


class Residual(nn.Module):
    """``y = post(body(x) + skip(x))``: a "fast forward" connection (He et al. 2016).

    ``skip`` is the identity when ``body`` keeps the shape, else a linear (or 1x1 conv)
    projection to the body's output shape.
    """

    def __init__(self, body: nn.Module, skip: nn.Module | None = None, post: nn.Module | None = None):
        super().__init__()
        self.body = body
        self.skip = skip if skip is not None else nn.Identity()
        self.post = post if post is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.post(self.body(x) + self.skip(x))


MERGES = ("concat", "sum", "mean", "max")


class Parallel(nn.Module):
    """Split & merge: every branch sees the same input; outputs are merged.

    ``concat`` joins along ``dim`` (features, or channels for images); ``sum``/``mean``/``max``
    combine element-wise and need equal shapes.
    """

    def __init__(self, branches: list[nn.Module], merge: str = "concat", dim: int = -1):
        super().__init__()
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
        self.branches = nn.ModuleList(branches)
        self.merge = merge
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [b(x) for b in self.branches]
        if self.merge == "concat":
            return torch.cat(outs, dim=self.dim)
        stacked = torch.stack(outs)  # (branches, B, ...)
        if self.merge == "sum":
            return stacked.sum(0)
        if self.merge == "mean":
            return stacked.mean(0)
        return stacked.amax(0)

    def extra_repr(self) -> str:
        return f"merge={self.merge!r}"


class Recurrent(nn.Module):
    """An RNN / LSTM / GRU over (B, T, F) inputs returning the last step (B, H) or all (B, T, H)."""

    CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, cell: str, input_size: int, hidden: int, layers: int = 1,
                 returns: str = "last", bidirectional: bool = False, dropout: float = 0.0,
                 nonlinearity: str = "tanh"):
        super().__init__()
        kw = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = self.CELLS[cell](input_size, hidden, num_layers=layers, batch_first=True,
                                    bidirectional=bidirectional, dropout=dropout, **kw)
        self.returns = returns

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, H * directions)
        if self.returns == "all":
            return out
        if not self.rnn.bidirectional:
            return out[:, -1]
        h = self.rnn.hidden_size  # the backward direction ends at t = 0
        return torch.cat([out[:, -1, :h], out[:, 0, h:]], dim=-1)

    def extra_repr(self) -> str:
        return f"returns={self.returns!r}"
