"""K models of one architecture as one module: ``StackedModel``.

``StackedModel.from_spec(spec, input_shape, n_outputs, seeds)`` builds member k exactly as a
separate run with seed ``seeds[k]`` builds its model (``seed_everything``, then ``nn.build``;
LSUV on the first training rows when the spec asks for it), then stacks the K members' tensors
along a leading model dimension. ``member(k)`` gives member k back as an ordinary module.

What stacks: Linear (dense, maxout's linear, residual projections), Conv2d, max/avg pooling,
BatchNorm1d/2d, LayerNorm, PReLU, Dropout/AlphaDropout, Flatten, every element-wise activation,
Maxout, and the Sequential / Residual / Parallel containers around them. Anything else
(recurrent layers, a user's own module) raises ``NotStackable`` naming the module; callers fall
back to training the members one after another (``trainlab.ensemble.train_members``).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Callable

import torch
from torch import nn

from trainlab.ensemble import layers as S
from trainlab.errors import ConfigError
from trainlab.nn import Maxout, Parallel, Residual
from trainlab.nn.spec import build
from trainlab.train.trainer import seed_everything


class NotStackable(ConfigError):
    """The architecture has a module with no stacked form (or the members differ)."""


# Parameter-free modules that act element-wise (or on the last dim only): applied to (K, B, ...)
# as they are.
ELEMENTWISE = (nn.Identity, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU,
               nn.SiLU, nn.Mish, nn.Softplus, nn.Hardtanh, Maxout)

_STACKERS: dict[type, Callable] = {}
STACKABLE = ("stackable: dense, maxout, conv2d, max/avg pooling, batchnorm, layernorm, dropout, flatten, "
             "residual, parallel and the element-wise activations")


def _stacker(*types):
    def register(fn):
        for t in types:
            _STACKERS[t] = fn
        return fn
    return register


@_stacker(nn.Linear)
def _linear(mods, ctx):
    return S.StackedLinear(mods)


@_stacker(nn.Conv2d)
def _conv(mods, ctx):
    if mods[0].padding_mode != "zeros":
        raise NotStackable(f"{ctx.path}: Conv2d with padding_mode={mods[0].padding_mode!r} has no stacked form")
    return S.StackedConv2d(mods)


@_stacker(nn.BatchNorm1d, nn.BatchNorm2d)
def _batchnorm(mods, ctx):
    return S.StackedBatchNorm(mods)


@_stacker(nn.LayerNorm)
def _layernorm(mods, ctx):
    return S.StackedLayerNorm(mods)


@_stacker(nn.PReLU)
def _prelu(mods, ctx):
    return S.StackedPReLU(mods)


@_stacker(nn.Dropout, nn.AlphaDropout)
def _dropout(mods, ctx):
    return S.StackedDropout(mods[0].p, isinstance(mods[0], nn.AlphaDropout), ctx.rng)


@_stacker(nn.Flatten)
def _flatten(mods, ctx):
    return S.StackedFlatten(mods[0].start_dim, mods[0].end_dim)


@_stacker(nn.MaxPool2d, nn.AvgPool2d)
def _pool(mods, ctx):
    return S.StackedPool(copy.deepcopy(mods[0]), len(mods))


@_stacker(*ELEMENTWISE)
def _elementwise(mods, ctx):
    return copy.deepcopy(mods[0])


@_stacker(nn.Sequential)
def _sequential(mods, ctx):
    children = OrderedDict((name, _convert([getattr(m, name) for m in mods], ctx.at(f"[{name}]")))
                           for name, _ in mods[0].named_children())
    names = list(children)
    for prev, name in zip(names, names[1:]):
        if type(children[name]) is nn.ReLU and isinstance(children[prev], S.StackedLinear):
            children[name] = S.FreshReLU()
    return nn.Sequential(children)


@_stacker(Residual)
def _residual(mods, ctx):
    part = {p: _convert([getattr(m, p) for m in mods], ctx.at(f".{p}")) for p in ("body", "skip", "post")}
    return Residual(part["body"], part["skip"], part["post"])


@_stacker(Parallel)
def _parallel(mods, ctx):
    branches = [_convert([m.branches[j] for m in mods], ctx.at(f".branches[{j}]"))
                for j in range(len(mods[0].branches))]
    dim = mods[0].dim if mods[0].dim < 0 else mods[0].dim + 1  # past the model dimension
    return Parallel(branches, mods[0].merge, dim)


class _Ctx:
    def __init__(self, path: str, rng):
        self.path, self.rng = path, rng

    def at(self, suffix: str) -> "_Ctx":
        return _Ctx(self.path + suffix, self.rng)


def _convert(mods: list[nn.Module], ctx: _Ctx) -> nn.Module:
    fn = _STACKERS.get(type(mods[0]))
    if fn is None:
        raise NotStackable(f"{ctx.path} ({type(mods[0]).__name__}) has no stacked form; {STACKABLE}")
    return fn(mods, ctx)


def _signature(module: nn.Module) -> tuple:
    return repr(module), tuple((n, tuple(t.shape), t.dtype) for n, t in module.state_dict().items())


def _body(module: nn.Module) -> tuple[nn.Module, str]:
    """The part that gets stacked: a Network's layers (so names match), else the module."""
    return (module.layers, "layers") if hasattr(module, "layers") and hasattr(module, "config") else (module, "")


def _root(prefix: str) -> str:
    return "model.layers" if prefix else "model"


def stackable(module: nn.Module) -> str | None:
    """None when ``module`` can be stacked, else the reason it cannot (one line)."""
    body, prefix = _body(module)
    try:
        _convert([body], _Ctx(_root(prefix), None))
    except NotStackable as e:
        return str(e)
    return None


class StackedModel(nn.Module):
    """K members of one architecture, parameters stacked along dim 0, run as one computation.

    ``forward(x)``: x is (B, *input_shape), the same batch for every member, or
    (K, B, *input_shape), one batch per member; returns (K, B, *output_shape).

    ``modules``: the K members (identical architectures; copied, not shared). ``seeds``: their
    seeds (default 0..K-1). ``rng_states``: each member's global RNG state after its build (where
    its dropout stream starts; ``build_members`` returns them; default: the current state for
    all). ``rng``: ``shared`` (one dropout draw covers all members) or ``per_model`` (member k
    draws from its own stream: exactly a separate run's masks, at K small draws per layer).
    ``input_shape``: needed only for modules that do not carry one (a ``Network`` does).
    """

    def __init__(self, modules: list[nn.Module], seeds: list[int] | None = None,
                 rng_states: list[torch.Tensor] | None = None, rng: str = "shared",
                 input_shape: tuple | None = None):
        super().__init__()
        if rng not in ("shared", "per_model"):
            raise ConfigError(f"rng: expected 'shared' or 'per_model', got {rng!r}")
        if not modules:
            raise ConfigError("StackedModel: give at least one member")
        sig = _signature(modules[0])
        for i, m in enumerate(modules[1:], start=1):
            if _signature(m) != sig:
                raise NotStackable(f"member {i} differs in architecture from member 0; only identical "
                                   f"architectures stack")
        self.k = len(modules)
        self.seeds = list(seeds) if seeds is not None else list(range(self.k))
        states = rng_states if rng_states is not None else [torch.get_rng_state()] * self.k
        self.rng = S.MemberRNG(states, self.seeds, per_model=rng == "per_model")
        body, self._prefix = _body(modules[0])
        stacked = _convert([_body(m)[0] for m in modules], _Ctx(_root(self._prefix), self.rng))
        if self._prefix:
            self.layers = stacked
        else:
            self.body = stacked
        # the member template: not a submodule, so its tensors are not the stack's parameters
        object.__setattr__(self, "_template", copy.deepcopy(modules[0]))
        self.input_shape = tuple(input_shape if input_shape is not None else getattr(modules[0], "input_shape", ()))
        self.output_shape = tuple(getattr(modules[0], "output_shape", ()))
        missing = set(self._template.state_dict()) ^ set(self.member_state(0))
        if missing:  # a stacker that forgot a tensor would silently lose it: fail loudly
            raise NotStackable(f"stacked model does not map member tensors {sorted(missing)[:3]}")

    # ---- construction from a spec ---------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: dict, input_shape: tuple, n_outputs: int | None, seeds: list[int],
                  init_scale: list[float] | None = None, data_init_x: torch.Tensor | None = None,
                  rng: str = "shared") -> "StackedModel":
        """Build K members as K separate runs would (see ``build_members``) and stack them."""
        mods, states = build_members(spec, input_shape, n_outputs, seeds, init_scale, data_init_x)
        return cls(mods, seeds, states, rng)

    # ---- the computation ------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rank = len(self.input_shape) if self.input_shape else x.dim() - 1
        if x.dim() == rank + 1:  # one batch for all: a stride-0 view, no copy
            x = x.expand(self.k, *x.shape)
        elif x.dim() != rank + 2 or x.shape[0] != self.k:
            raise ConfigError(f"stacked model: expected input (B, *{self.input_shape}) or "
                              f"({self.k}, B, *{self.input_shape}), got {tuple(x.shape)}")
        net = self.layers if self._prefix else self.body
        return net(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Every member's outputs (K, N, *output_shape) in evaluation mode, in chunks."""
        was = self.training
        self.eval()
        try:
            outs = [self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        finally:
            self.train(was)
        return torch.cat(outs, dim=1)

    # ---- members in and out ---------------------------------------------------------------
    def _leaves(self):
        """(member-side name, leaf) for every stacked leaf: a Network's names start 'layers.'
        in both; a bare module's stacked body is registered as 'body', which members lack."""
        for name, mod in self.named_modules():
            if isinstance(mod, S.StackedLayer):
                yield (name if self._prefix else name[len("body."):] if name.startswith("body.") else ""), mod

    def member_state(self, k: int) -> dict:
        """Member k's ``state_dict`` (views into the stack)."""
        out = {}
        for name, leaf in self._leaves():
            out.update({f"{name}.{n}".lstrip("."): t for n, t in leaf.member_state(k).items()})
        return out

    def member_grads(self, k: int) -> dict:
        """Member k's parameter gradients, named as in its module."""
        out = {}
        for name, leaf in self._leaves():
            out.update({f"{name}.{n}".lstrip("."): g for n, g in leaf.member_grads(k).items()})
        return out

    def member(self, k: int) -> nn.Module:
        """Member k as an ordinary module (a copy), e.g. a ``Network`` with ``config()``."""
        if not 0 <= k < self.k:
            raise ConfigError(f"member {k!r} out of range; this stack has members 0..{self.k - 1}")
        some = next(self.parameters(), None)
        m = copy.deepcopy(self._template)
        m = m.to(some.device) if some is not None else m
        m.load_state_dict({n: t.clone() for n, t in self.member_state(k).items()})
        m.train(self.training)
        return m

    def members(self) -> list[nn.Module]:
        return [self.member(k) for k in range(self.k)]

    def load_member(self, k: int, module: nn.Module) -> None:
        """Write an ordinary module's weights (same architecture) into member slot k."""
        state = module.state_dict()
        for name, leaf in self._leaves():
            pre = f"{name}." if name else ""
            leaf.load_member(k, {n[len(pre):]: t for n, t in state.items()
                                 if n.startswith(pre) and "." not in n[len(pre):]})

    # ---- what the trainer needs -----------------------------------------------------------
    def decay_parameters(self) -> list[nn.Parameter]:
        """The parameters weight decay applies to: those whose member shape has >= 2 dims
        (weights; not biases or norm scales), as the optimizer registry decides for one model."""
        return [p for _, leaf in self._leaves() for n, p in leaf.named_parameters(recurse=False)
                if leaf.member_state(0)[n].dim() >= 2]

    def transpose_few(self, on: bool = True) -> None:
        """Layers with at most 10 outputs compute their products transposed (``_FewOutputs``:
        4x faster for a 10-class head on a CPU), equal up to float rounding, not bit for bit, so
        opt-in (a search's stacked trials): the labs' published numbers come from the plain form."""
        for _, leaf in self._leaves():
            if isinstance(leaf, S.StackedLinear):
                leaf.transposed = on

    def constrained(self) -> list[nn.Module]:
        """Layers the max-norm constraint applies to (Linear and Conv2d, as in the Trainer)."""
        return [leaf for _, leaf in self._leaves() if hasattr(leaf, "max_norm_")]

    def config(self) -> dict | None:
        return self._template.config() if hasattr(self._template, "config") else None

    def rng_state_dict(self) -> dict:
        return self.rng.state_dict()

    def load_rng_state_dict(self, state: dict) -> None:
        self.rng.load_state_dict(state)


def build_members(spec: dict, input_shape: tuple, n_outputs: int | None, seeds: list[int],
                  init_scale: list[float] | None = None, data_init_x: torch.Tensor | None = None,
                  share: bool = False) -> tuple[list[nn.Module], list[torch.Tensor]]:
    """Member k = what a separate run with seed ``seeds[k]`` builds: ``seed_everything``, then
    ``nn.build`` (init draws from the global RNG); weights (>= 2-D) times ``init_scale[k]``;
    the data-dependent inits on ``data_init_x`` when the spec asks for them, as the Trainer runs
    them on the training inputs (LSUV uses their first 512 rows; DBN pre-training all of them).
    Returns the members and each one's global RNG state afterwards (where its dropout stream
    starts). ``share``: members with the same seed may be one module object (stacking copies
    their tensors anyway; a search's 64 trials share one seed)."""
    seeds = [int(s) for s in seeds]
    scales = _check_list(init_scale, len(seeds), "init_scale") if init_scale is not None else None
    mods, states = [], []
    built: dict[int, tuple[nn.Module, torch.Tensor]] = {}  # seed -> (member as built, RNG state after)
    for i, seed in enumerate(seeds):
        if seed in built and data_init_x is None:  # a search's trials often share one seed: build it once
            m, state = built[seed][0] if share and scales is None else copy.deepcopy(built[seed][0]), built[seed][1]
        else:
            seed_everything(seed)
            m = build(spec, input_shape, n_outputs)
            state = torch.get_rng_state()
            if data_init_x is None:
                built[seed] = (m if share and scales is None else copy.deepcopy(m), state)
        if scales is not None:
            with torch.no_grad():
                for p in m.parameters():
                    if p.dim() >= 2:
                        p.mul_(scales[i])
        if data_init_x is not None and hasattr(m, "data_init"):
            m.data_init(data_init_x)
        mods.append(m)
        states.append(torch.get_rng_state() if data_init_x is not None else state)
    if seeds and data_init_x is None:  # the global RNG ends where building the last member left it
        seed_everything(seeds[-1])
        torch.set_rng_state(states[-1])
    return mods, states


def _check_list(values, k: int, what: str) -> list[float]:
    if not isinstance(values, (list, tuple)) or len(values) != k:
        raise ConfigError(f"{what}: expected a list of {k} numbers (one per member), got {values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or v != v or v == float("inf"):
            raise ConfigError(f"{what}: every value must be a positive number, got {v!r}")
    return [float(v) for v in values]
