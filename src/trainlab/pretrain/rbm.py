"""A Restricted Boltzmann Machine trained by contrastive divergence, in torch (CPU or CUDA).

Follows Hinton's "A Practical Guide to Training Restricted Boltzmann Machines" (2010):
W ~ N(0, 0.01^2), hidden biases 0, visible biases log(p / (1 - p)) from the training data;
CD-k with binary hidden samples driving the chain and probabilities for the statistics and the
final reconstruction; momentum 0.5 for the first epochs then 0.9; weight cost on W only;
optional sparsity target. ``persistent=True`` keeps the negative chain between updates
(Tieleman 2008). ``compute_dtype="bfloat16"`` runs the step's three big GEMMs in bfloat16 with
float32 master weights and statistics (mixed precision: see ``precision``); the default (None)
computes in the data's dtype. scikit-learn's estimator discipline: ``__init__`` stores hyperparameters,
``fit`` returns self, learned state ends in ``_``.

    rbm = RBM(64, lr=0.05, epochs=20, random_state=0).fit(X, X_val=X_val)
    rbm.transform(X)       # P(h = 1 | v), (N, 64)
    rbm.history_[-1]       # {"epoch", "recon_error", "free_energy_gap", "pseudo_likelihood", ...}
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from trainlab.pretrain import energy
from trainlab.pretrain.checks import as_data, check_params
from trainlab.pretrain.precision import COMPUTE_DTYPES, Mixed, StepOps, full_ops

MONITOR_ROWS = 1000  # rows of train and validation data the per-epoch monitor looks at


class RBM:
    def __init__(self, n_hidden: int = 256, visible: str = "bernoulli", k: int = 1, persistent: bool = False,
                 lr: float = 0.1, momentum: float = 0.5, final_momentum: float = 0.9, momentum_epochs: int = 5,
                 weight_decay: float = 1e-4, batch_size: int = 10, epochs: int = 10,
                 sparsity_target: float | None = None, sparsity_cost: float = 0.1,
                 compute_dtype: str | None = None, device: str = "cpu", random_state: int | None = None):
        self.n_hidden, self.visible, self.k, self.persistent = n_hidden, visible, k, persistent
        self.lr, self.momentum, self.final_momentum, self.momentum_epochs = lr, momentum, final_momentum, momentum_epochs
        self.weight_decay, self.batch_size, self.epochs = weight_decay, batch_size, epochs
        self.sparsity_target, self.sparsity_cost = sparsity_target, sparsity_cost
        self.compute_dtype, self.device, self.random_state = compute_dtype, device, random_state

    def get_params(self, deep: bool = True) -> dict:
        names = ("n_hidden", "visible", "k", "persistent", "lr", "momentum", "final_momentum", "momentum_epochs",
                 "weight_decay", "batch_size", "epochs", "sparsity_target", "sparsity_cost", "compute_dtype", "device", "random_state")
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> "RBM":
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"RBM: unknown parameter {name!r}; valid: {', '.join(self.get_params())}")
            setattr(self, name, value)
        return self

    # ---- fitting -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, X_val: Any = None, log: Callable[[dict], None] | None = None,
            on_epoch: Callable[["RBM"], None] | None = None) -> "RBM":
        """Train for ``epochs`` epochs from Hinton's init (or continue a state loaded with
        ``load_state_dict``). ``X_val`` feeds the overfitting monitor; ``log(record)`` gets one
        record per epoch; ``on_epoch(self)`` runs after each (checkpoints)."""
        check_params(self.get_params(), "RBM")
        x = as_data(X, self.visible, "RBM", device=self.device)
        val = as_data(X_val, self.visible, "RBM (X_val)", device=self.device, clip=True) if X_val is not None else None
        if not getattr(self, "_resumed", False):
            self._initialize(x)
        self._resumed = False
        self._check_features(x)
        while self.epochs_done_ < self.epochs:
            t0 = time.perf_counter()
            order = torch.randperm(len(x), generator=self._perm_rng).to(x.device)
            with torch.no_grad():  # once per epoch, not per step
                for start in range(0, len(x), self.batch_size):
                    rows = order[start:start + self.batch_size]  # gathered straight into the step's buffer
                    self._update(torch.index_select(x, 0, rows, out=self._work(len(rows))[0][:len(rows)]))
            self.epochs_done_ += 1
            record = {"epoch": self.epochs_done_, **self.monitor(x, val), "seconds": round(time.perf_counter() - t0, 4)}
            self.history_.append(record)
            if log is not None:
                log(record)
            if on_epoch is not None:
                on_epoch(self)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> "RBM":
        """One CD update per mini-batch of ``X`` (one pass), initializing on the first call."""
        check_params(self.get_params(), "RBM")
        x = as_data(X, self.visible, "RBM", device=self.device)
        if not hasattr(self, "components_"):
            self._initialize(x)
        self._check_features(x)
        for start in range(0, len(x), self.batch_size):
            self._step(x[start:start + self.batch_size])
        return self

    def _initialize(self, x: torch.Tensor) -> None:
        seed = self.random_state if self.random_state is not None else int(torch.randint(2 ** 62, (1,)))
        self._rng = torch.Generator(x.device).manual_seed(int(seed))
        self._perm_rng = torch.Generator().manual_seed(int(seed) + 1)
        D, H, dt = x.shape[1], self.n_hidden, x.dtype
        self.components_ = 0.01 * torch.randn(H, D, generator=self._rng, device=x.device).to(dt)  # float32 draws: see energy.bernoulli
        self.intercept_hidden_ = torch.zeros(H, device=x.device, dtype=dt)
        if self.visible == "bernoulli":
            p = x.mean(0).clamp(1e-3, 1 - 1e-3)
            self.intercept_visible_ = torch.log(p / (1 - p))
        else:
            self.intercept_visible_ = x.mean(0)
        self._velocity = [torch.zeros_like(t) for t in self._params()]
        self._chain = None  # persistent chain: hidden samples (batch, H)
        self._buffers = None  # work buffers of _step (see _work)
        self._mixed = None  # low-precision twins of the GEMM operands (compute_dtype)
        self._q = None  # running mean hidden activation (sparsity target)
        self.epochs_done_, self.n_features_in_, self.history_ = 0, D, []

    def _params(self) -> list[torch.Tensor]:
        return [self.components_, self.intercept_hidden_, self.intercept_visible_]

    def _check_features(self, x: torch.Tensor) -> None:
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"RBM: X has {x.shape[1]} features, but the RBM was fitted with {self.n_features_in_}")

    def _work(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Buffers reused by every step of batch size ``n``: visibles [v0; vk] (2n, D), hidden
        probabilities [h0; -hk] (2n, H) and the signs [1; -1] (2n,), so one GEMM (and one GEMV)
        gives each gradient with no concatenation."""
        W = self.components_
        if self._buffers is None or len(self._buffers[2]) != 2 * n or self._buffers[0].dtype != W.dtype:
            signs = torch.ones(2 * n, dtype=W.dtype, device=W.device)
            signs[n:] = -1
            self._buffers = (W.new_empty(2 * n, W.shape[1]), W.new_empty(2 * n, W.shape[0]), signs)
        return self._buffers

    def _ops(self) -> StepOps:
        """What this step computes with: W, torch.addmm and float32 uniforms in the data's dtype,
        or with ``compute_dtype`` W's low-precision twin (cast once per step), mixed-precision
        GEMMs and 16-bit uniforms (``precision.Mixed``)."""
        if self.compute_dtype is None:
            return full_ops(self.components_)
        if getattr(self, "_mixed", None) is None or self._mixed.dtype != COMPUTE_DTYPES[self.compute_dtype]:
            self._mixed = Mixed(COMPUTE_DTYPES[self.compute_dtype])
        return self._mixed.ops(self.components_)

    def _chain_visible(self, out: torch.Tensor, ops: StepOps) -> None:
        """PCD: k Gibbs steps on from the persistent chain's hidden state; the visible sample v_k into ``out``."""
        _, c, b = self._params()
        W, g, vis, h = ops.W, self._rng, self.visible, self._chain
        for step in range(self.k):
            ops.sample_visible_(energy.visible_mean(h, W, b, vis, out=out, affine=ops.affine), vis, g)
            if step < self.k - 1:
                h = ops.bernoulli(torch.sigmoid(energy.hidden_input(out, W, c, ops.affine)), g)

    def _negative(self, h0: torch.Tensor, v: torch.Tensor, hp: torch.Tensor, ops: StepOps) -> None:
        """The negative phase from the data: k Gibbs steps (CD-k; also PCD's first batch), writing
        v_k into ``v`` and P(h | v_k) into ``hp``. CD's last reconstruction is probabilities (Hinton 2010 3.2)."""
        _, c, b = self._params()
        W, g, vis = ops.W, self._rng, self.visible
        h = ops.bernoulli(h0, g)
        for step in range(self.k):
            energy.visible_mean(h, W, b, vis, out=v, affine=ops.affine)
            if step < self.k - 1 or self.persistent:
                ops.sample_visible_(v, vis, g)
            ops.affine(c, v, W.t(), out=hp).sigmoid_()
            if step < self.k - 1 or self.persistent:
                h = ops.bernoulli(hp, g)
        if self.persistent:
            self._chain = h

    @torch.no_grad()
    def _step(self, v0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One CD-k update on a mini-batch; returns (v0, v_k) so tests can check the gradient
        (v_k is a view of a work buffer: valid until the next step)."""
        return self._update(v0)

    def _update(self, v0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``_step`` without entering no_grad (``fit`` enters it once per epoch)."""
        W, c, b = self._params()
        n = len(v0)
        vs, hs, signs = self._work(n)
        if v0.data_ptr() != vs.data_ptr():  # fit gathers the batch straight into vs[:n]
            vs[:n].copy_(v0)
        h0, vk, hk = hs[:n], vs[n:], hs[n:]
        ops = self._ops()  # W and torch.addmm, or their mixed-precision versions
        mixed = self._mixed if self.compute_dtype is not None else None
        vs_g = None  # [v0; vk] as the gradient GEMM takes it
        if self.persistent and self._chain is not None and len(self._chain) == n:
            # PCD: the chain does not depend on this batch, so P(h | v) of the data and of the
            # chain's sample come from one GEMM on [v0; vk]
            self._chain_visible(vk, ops)
            vs_g = vs if mixed is None else mixed.cast("vs", vs)
            ops.affine(c, vs_g, ops.W.t(), out=hs).sigmoid_()
            self._chain = ops.bernoulli(hk, self._rng)
        else:
            ops.affine(c, vs[:n], ops.W.t(), out=h0).sigmoid_()
            self._negative(h0, vk, hk, ops)
        lr, wd = self.lr, self.weight_decay
        m = self.momentum if self.epochs_done_ < self.momentum_epochs else self.final_momentum
        vel_w, vel_c, vel_b = self._velocity
        # dW = <h v>_data - <h v>_model = [h0; -hk]^T [v0; vk] / n: the negative of
        # d/dW [mean F(v0) - mean F(vk)]. One GEMM that also applies momentum (beta = m).
        hk.neg_()
        fixed = self.momentum == 0 and self.final_momentum == 0 and self.sparsity_target is None
        if mixed is None and fixed:
            # no momentum, ever: the velocity would only be multiplied by 0, so update the weights
            # in place (weight cost folded in: W <- (1 - lr wd) W + lr/n dW), three ops in all
            W.addmm_(hs.t(), vs, beta=1 - lr * wd, alpha=lr / n)
        elif mixed is None:
            vel_w.addmm_(hs.t(), vs, beta=m, alpha=lr / n)
        else:  # the statistics in the low dtype, added into the float32 weights or velocity
            dW = mixed.outer(hs, vs_g if vs_g is not None else mixed.cast("vs", vs))  # (H, D)
            if fixed:
                (W.mul_(1 - lr * wd) if wd else W).add_(dW, alpha=lr / n)
            else:
                vel_w.mul_(m).add_(dW, alpha=lr / n)
        if fixed:
            c.add_(hs.sum(0), alpha=lr / n)
            b.addmv_(vs.t(), signs, alpha=lr / n)
            return v0, vk
        vel_c.mul_(m).add_(hs.sum(0), alpha=lr / n)
        vel_b.addmv_(vs.t(), signs, beta=m, alpha=lr / n)  # sum(v0) - sum(vk)
        if self.sparsity_target is not None:  # Hinton 2010 section 11: push the mean activation q to the target
            q_batch = h0.mean(0)
            self._q = q_batch if self._q is None else 0.9 * self._q + 0.1 * q_batch
            push = self.sparsity_cost * (self.sparsity_target - self._q)
            vel_c.add_(push, alpha=lr)
            vel_w.addr_(push, v0.mean(0), alpha=lr)
        if wd:  # weight cost on W only (Hinton 2010 section 10)
            vel_w.add_(W, alpha=-lr * wd)
        W.add_(vel_w)
        c.add_(vel_c)
        b.add_(vel_b)
        return v0, vk

    # ---- inference ---------------------------------------------------------------------------
    def _data(self, X: Any) -> tuple[torch.Tensor, bool]:
        self._fitted()
        x = as_data(X, self.visible, "RBM", device=self.components_.device)
        self._check_features(x)
        return x, isinstance(X, np.ndarray)

    @staticmethod
    def _out(t: torch.Tensor, numpy: bool) -> Any:
        return t.cpu().numpy() if numpy else t

    def _fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise ValueError("this RBM is not fitted yet: call fit(X) first")

    def _cast(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [p.to(x.dtype) for p in self._params()]

    @torch.no_grad()
    def transform(self, X: Any) -> Any:
        """Mean-field hidden activations P(h = 1 | v). (N, H)"""
        x, np_ = self._data(X)
        W, c, _ = self._cast(x)
        return self._out(torch.sigmoid(energy.hidden_input(x, W, c)), np_)

    @torch.no_grad()
    def sample_hidden(self, X: Any) -> Any:
        """Binary hidden samples h ~ P(h | v). (N, H)"""
        x, np_ = self._data(X)
        W, c, _ = self._cast(x)
        return self._out(energy.bernoulli(torch.sigmoid(energy.hidden_input(x, W, c)), self._rng), np_)

    @torch.no_grad()
    def gibbs(self, V: Any, steps: int = 1) -> Any:
        """``steps`` full Gibbs sweeps v -> h -> v from V; returns visible samples. (N, D)"""
        v, np_ = self._data(V)
        W, c, b = self._cast(v)
        for _ in range(steps):
            h = energy.bernoulli(torch.sigmoid(energy.hidden_input(v, W, c)), self._rng)
            v = energy.sample_visible(energy.visible_mean(h, W, b, self.visible), self.visible, self._rng)
        return self._out(v, np_)

    @torch.no_grad()
    def reconstruct(self, V: Any) -> Any:
        """E[v | h = P(h | v)]: the deterministic up-down pass (Hinton's reconstruction). (N, D)"""
        v, np_ = self._data(V)
        W, c, b = self._cast(v)
        return self._out(energy.visible_mean(torch.sigmoid(energy.hidden_input(v, W, c)), W, b, self.visible), np_)

    @torch.no_grad()
    def free_energy(self, V: Any) -> Any:
        v, np_ = self._data(V)
        return self._out(energy.free_energy(v, *self._cast(v), self.visible), np_)

    @torch.no_grad()
    def score_samples(self, X: Any) -> Any:
        """Stochastic pseudo-likelihood, as scikit-learn's BernoulliRBM defines it: flip one
        random bit per row and return D * log sigmoid(F(v_flipped) - F(v)). (N,)"""
        if self.visible != "bernoulli":
            raise ValueError("score_samples: the pseudo-likelihood is defined here for bernoulli visibles only")
        v, np_ = self._data(X)
        params = self._cast(v)
        idx = torch.randint(v.shape[1], (len(v),), generator=self._rng, device=v.device)
        flipped = v.clone()
        rows = torch.arange(len(v), device=v.device)
        flipped[rows, idx] = 1 - flipped[rows, idx]
        fe, fe_ = energy.free_energy(v, *params, "bernoulli"), energy.free_energy(flipped, *params, "bernoulli")
        return self._out(-v.shape[1] * F.softplus(fe - fe_), np_)

    # ---- likelihood --------------------------------------------------------------------------
    def log_partition(self, method: str = "auto", **ais: Any) -> float:
        """log Z: exact (enumerating 2**n_hidden states) or ``ais`` (``runs``, ``betas``)."""
        self._fitted()
        if method == "exact" or (method == "auto" and self.n_hidden <= energy.EXACT_MAX_HIDDEN):
            return energy.exact_log_z(*self._params(), self.visible)
        if method not in ("auto", "ais"):
            raise ValueError(f"log_partition: unknown method {method!r}; valid: auto, exact, ais")
        return energy.ais_log_z(*self._params(), self.visible, generator=self._rng, **ais)[0]

    @torch.no_grad()
    def log_likelihood(self, X: Any, log_z: float | None = None) -> float:
        """Mean log p(v) = -F(v) - log Z over X, in float64 (log Z exact or AIS via ``log_partition``)."""
        x, _ = self._data(X)
        log_z = self.log_partition() if log_z is None else log_z
        W, c, b = (p.double() for p in self._params())
        return float(-energy.free_energy(x.double(), W, c, b, self.visible).mean()) - log_z

    # ---- monitoring --------------------------------------------------------------------------
    @torch.no_grad()
    def monitor(self, x: torch.Tensor, val: torch.Tensor | None = None) -> dict:
        """Reconstruction error (mean squared, per visible unit), the free-energy gap between
        validation and a training subset of the same size (Hinton 2010 section 6: it grows when
        the model overfits), and the pseudo-likelihood (bernoulli) of the training subset."""
        sub = x[:MONITOR_ROWS]
        out = {"recon_error": float(((self.reconstruct(sub) - sub) ** 2).mean())}
        if val is not None:
            val = val[:len(sub)]
            out["free_energy_gap"] = float(self.free_energy(val).mean() - self.free_energy(sub[:len(val)]).mean())
        if self.visible == "bernoulli":
            out["pseudo_likelihood"] = float(self.score_samples(sub).mean())
        return out

    # ---- state (checkpoints: plain tensors, loadable with weights_only=True) -----------------
    def state_dict(self) -> dict:
        self._fitted()
        copy = lambda t: None if t is None else t.detach().cpu().clone()  # noqa: E731 (a snapshot, not a view)
        return {"params": self.get_params(), "weights": [copy(p) for p in self._params()],
                "velocity": [copy(v) for v in self._velocity], "chain": copy(self._chain),
                "q": copy(self._q), "epochs_done": self.epochs_done_,
                "rng": self._rng.get_state(), "perm_rng": self._perm_rng.get_state(), "history": list(self.history_)}

    def load_state_dict(self, state: dict) -> "RBM":
        """Restore a ``state_dict``; the next ``fit`` continues from the saved epoch, not from scratch."""
        self.set_params(**state["params"])
        dev = torch.device(self.device)
        self.components_, self.intercept_hidden_, self.intercept_visible_ = (t.to(dev).clone() for t in state["weights"])
        self._velocity = [t.to(dev).clone() for t in state["velocity"]]
        self._chain = None if state["chain"] is None else state["chain"].to(dev)
        self._q = None if state["q"] is None else state["q"].to(dev)
        self._buffers, self._mixed = None, None
        self.epochs_done_, self.history_ = int(state["epochs_done"]), list(state["history"])
        self.n_features_in_ = self.components_.shape[1]
        self._rng = torch.Generator(dev)
        self._rng.set_state(state["rng"])
        self._perm_rng = torch.Generator()
        self._perm_rng.set_state(state["perm_rng"])
        self._resumed = True
        return self

    def __repr__(self) -> str:
        return f"RBM(n_hidden={self.n_hidden}, visible={self.visible!r}, k={self.k}, persistent={self.persistent})"

