"""``Ensemble``: combine K trained members' predictions, and say what combining bought.

* ``mean``: average the members' class probabilities, then argmax — the lectures' "several
  copies of the same net with different initial values, combined at the end" (Hansen & Salamon
  1990; deep ensembles, Lakshminarayanan et al. 2017).
* ``vote``: each member votes for its argmax class; the majority wins, a tie goes to the tied
  class with the higher mean probability.
* ``weighted``: ``p = sum_k w_k p_k`` with ``w`` on the simplex (``w = softmax(theta)``), theta
  fitted by L-BFGS to minimise the validation negative log-likelihood (mse for regression): a
  convex stacking of the members (Breiman 1996, "Stacked regressions").

Inputs are member predictions ``(K, N, C)`` (``Members.probabilities``) and labels ``(N,)``;
for regression, predictions ``(K, N, *target)`` and targets, and only mean / weighted apply.
"""

from __future__ import annotations

import torch

from trainlab.errors import ConfigError

COMBINES = ("mean", "vote", "weighted")


class Ensemble:
    """``Ensemble(combine).fit(val_probs, val_y)``, then ``report(test_probs, test_y)``.

    ``fit`` learns ``weights_`` (uniform for mean and vote) and returns self.
    """

    def __init__(self, combine: str = "mean", task: str = "classification"):
        if combine not in COMBINES:
            raise ConfigError(f"combine: unknown {combine!r}; valid: {', '.join(COMBINES)}")
        if task not in ("classification", "regression"):
            raise ConfigError(f"task: expected classification or regression, got {task!r}")
        if task == "regression" and combine == "vote":
            raise ConfigError("combine: 'vote' needs classes; for regression use mean or weighted")
        self.combine, self.task = combine, task
        self.weights_: torch.Tensor | None = None

    # ---- fitting ---------------------------------------------------------------------------
    def fit(self, probs: torch.Tensor, y: torch.Tensor) -> "Ensemble":
        probs, y = self._check(probs, y)
        k = probs.shape[0]
        if self.combine != "weighted":
            self.weights_ = torch.full((k,), 1.0 / k, dtype=torch.float64)
            return self
        theta = torch.zeros(k, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=200, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-9, tolerance_change=1e-12)

        def closure():
            opt.zero_grad()
            loss = self._fit_loss(torch.einsum("k,kn...->n...", torch.softmax(theta, 0), probs), y)
            loss.backward()
            return loss

        opt.step(closure)
        self.weights_ = torch.softmax(theta.detach(), 0)
        return self

    def _fit_loss(self, mix: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "regression":
            return ((mix - y) ** 2).mean()
        return -torch.log(mix[torch.arange(len(y)), y].clamp_min(1e-12)).mean()

    # ---- predicting ------------------------------------------------------------------------
    def predict_proba(self, probs: torch.Tensor) -> torch.Tensor:
        """The combined (N, C) class probabilities (vote: the share of votes, ties broken);
        for regression, the combined predictions."""
        probs = self._check(probs)[0]
        if self.combine == "vote":
            votes = torch.nn.functional.one_hot(probs.argmax(-1), probs.shape[-1]).sum(0).double()  # (N, C)
            # the mean probability (< 1) only reorders classes with equal vote counts
            return (votes + 0.5 * probs.mean(0).clamp(0, 1)) / (probs.shape[0] + 0.5)
        w = self._weights(probs.shape[0])
        return torch.einsum("k,kn...->n...", w, probs)

    def predict(self, probs: torch.Tensor) -> torch.Tensor:
        out = self.predict_proba(probs)
        return out if self.task == "regression" else out.argmax(-1)

    def score(self, probs: torch.Tensor, y: torch.Tensor) -> float:
        """Accuracy (classification) or mse (regression) of the combined prediction."""
        probs, y = self._check(probs, y)
        return _metric(self.predict(probs), y, self.task)

    def report(self, probs: torch.Tensor, y: torch.Tensor) -> dict:
        """Each member's score, their mean ± sample std, the ensemble's, and the gain
        (ensemble - mean member accuracy; for regression, mean member mse - ensemble mse)."""
        probs, y = self._check(probs, y)
        members = member_scores(probs, y, self.task)
        t = torch.tensor(members, dtype=torch.float64)
        ens = self.score(probs, y)
        mean = float(t.mean())
        better = max if self.task == "classification" else min
        return {"combine": self.combine, "metric": "accuracy" if self.task == "classification" else "mse",
                "n_members": len(members), "members": members, "member_mean": mean,
                "member_std": float(t.std()) if len(members) > 1 else 0.0, "best_member": better(members),
                "ensemble": ens, "gain": ens - mean if self.task == "classification" else mean - ens,
                "weights": self._weights(len(members)).tolist()}

    # ---- helpers ---------------------------------------------------------------------------
    def _weights(self, k: int) -> torch.Tensor:
        if self.weights_ is None:
            if self.combine == "weighted":
                raise ConfigError("weighted ensemble: call fit(validation predictions, labels) first")
            return torch.full((k,), 1.0 / k, dtype=torch.float64)
        if len(self.weights_) != k:
            raise ConfigError(f"ensemble: fitted on {len(self.weights_)} members, got predictions of {k}")
        return self.weights_

    def _check(self, probs: torch.Tensor, y: torch.Tensor | None = None):
        if not isinstance(probs, torch.Tensor) or probs.dim() < 2 + (self.task == "classification"):
            shape = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
            raise ConfigError(f"ensemble: expected member predictions (K, N, C), got {shape}")
        if y is not None and len(y) != probs.shape[1]:
            raise ConfigError(f"ensemble: {probs.shape[1]} predictions per member but {len(y)} labels")
        probs = probs.detach().double().cpu()  # K x N x C numbers: the CPU is the right place
        return probs, (None if y is None else y.cpu() if self.task == "classification" else y.double().cpu())


def _metric(pred: torch.Tensor, y: torch.Tensor, task: str) -> float:
    if task == "classification":
        return float((pred == y).double().mean())
    return float(((pred.double() - y.double()) ** 2).mean())


def member_scores(probs: torch.Tensor, y: torch.Tensor, task: str = "classification") -> list[float]:
    """Each member's accuracy (or mse) on its own."""
    if task == "classification":
        return (probs.argmax(-1) == y).double().mean(1).tolist()
    return [_metric(p, y, task) for p in probs]


def member_curve(probs: torch.Tensor, y: torch.Tensor, combine: str = "mean", orders: int = 1,
                 seed: int = 0, task: str = "classification") -> list[float]:
    """The ensemble's score with its first 1, 2, ..., K members (mean or vote), averaged over
    ``orders`` member orderings (the first one as given, the rest random with ``seed``): the
    data behind an "accuracy vs number of members" figure."""
    if combine not in ("mean", "vote"):
        raise ConfigError(f"member_curve: combine must be mean or vote, got {combine!r}")
    k = probs.shape[0]
    g = torch.Generator().manual_seed(seed)
    perms = [torch.arange(k)] + [torch.randperm(k, generator=g) for _ in range(orders - 1)]
    ens = Ensemble(combine, task)
    curve = torch.zeros(k, dtype=torch.float64)
    for perm in perms:
        for n in range(1, k + 1):
            curve[n - 1] += ens.score(probs[perm[:n]], y)
    return (curve / len(perms)).tolist()
