"""Data preprocessing (CS231n, "Training Neural Networks I": data preprocessing), fitted on the
training split only and then applied unchanged to val and test, so no statistic of the held-out
data leaks into training.

Every transform works on flattened features x (N, D) (images (N, C, H, W) have D = C*H*W) and is
an estimator (scikit-learn style): ``__init__`` stores hyperparameters, ``fit(x_train)`` returns
self, learned state ends in ``_``, ``transform(x)``, ``state_dict()`` / ``load_state_dict()``
(tensors and plain values only: saved as RUN_DIR/preprocess.pt, loaded with weights_only=True).

=============  =====================================================================
none           x
center         x - mu                                  (zero mean per feature)
standardize    (x - mu) / sigma                        (zero mean, unit variance; sigma=0 -> 1)
scale01        (x - min) / (max - min)                 ([0, 1] per feature; a constant feature -> 0)
scale11        2 (x - min) / (max - min) - 1           ([-1, 1] per feature)
pca(k, whiten) (x - mu) U_k [/ sqrt(S_k + eps)]        (decorrelate onto the top-k eigenvectors
                                                        of the covariance; whiten: unit variance)
zca(eps)       (x - mu) U diag(1/sqrt(S + eps)) U^T    (whiten, then rotate back: covariance ~ I
                                                        while staying in pixel space; Bell &
                                                        Sejnowski 1997, Krizhevsky 2009 app. C)
=============  =====================================================================

with mu, sigma, min, max per feature and Cov = (x - mu)^T (x - mu) / N = U diag(S) U^T.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainlab.errors import ConfigError
from trainlab.registry import Registry

PREPROCESSORS = Registry("preprocessing")
CHUNK = 8192  # rows per chunk when accumulating covariance (bounds float64 memory)


class Preprocessor:
    """Base: the identity. Subclasses set ``name`` and implement ``_fit`` / ``_transform`` on
    flat float tensors (N, D)."""

    name = "none"

    def params(self) -> dict:
        return {}

    def fit(self, x: torch.Tensor) -> "Preprocessor":
        if len(x) < 2:
            raise ConfigError(f"preprocess {self.name}: needs at least 2 training rows, got {len(x)}")
        self.in_shape_ = tuple(x.shape[1:])
        self._fit(x.reshape(len(x), -1))
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        if not hasattr(self, "in_shape_"):
            raise RuntimeError(f"preprocess {self.name}: call fit(x_train) before transform")
        if tuple(x.shape[1:]) != self.in_shape_:
            raise ConfigError(f"preprocess {self.name}: fitted on inputs {self.in_shape_}, got {tuple(x.shape[1:])}")
        out = self._transform(x.reshape(len(x), -1))
        return out.reshape(len(x), *self.output_shape())

    def fit_transform(self, x: torch.Tensor) -> torch.Tensor:
        return self.fit(x).transform(x)

    def output_shape(self) -> tuple[int, ...]:
        return self.in_shape_

    def _fit(self, flat: torch.Tensor) -> None:
        pass

    def _transform(self, flat: torch.Tensor) -> torch.Tensor:
        return flat

    # ---- persistence: plain values and tensors only (torch.load(weights_only=True)) -------------
    def state_dict(self) -> dict:
        state = {k: v for k, v in vars(self).items() if k.endswith("_") and isinstance(v, torch.Tensor)}
        return {"name": self.name, "params": self.params(), "in_shape": list(self.in_shape_), "state": state}

    def load_state_dict(self, sd: dict) -> "Preprocessor":
        self.in_shape_ = tuple(sd["in_shape"])
        for k, v in sd["state"].items():
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


@PREPROCESSORS.register("none")
class Identity(Preprocessor):
    """x, unchanged."""


class _Affine(Preprocessor):
    """Per feature ``(x - shift_) * scale_``."""

    def _transform(self, flat):
        return (flat - self.shift_.to(flat.dtype)) * self.scale_.to(flat.dtype)


@PREPROCESSORS.register("center")
class Center(_Affine):
    """Zero mean per feature: x - mu (mu from the training split)."""

    name = "center"

    def _fit(self, flat):
        self.shift_ = flat.double().mean(0)
        self.scale_ = torch.ones_like(self.shift_)


@PREPROCESSORS.register("standardize")
class Standardize(_Affine):
    """(x - mu) / sigma per feature; a constant feature (sigma = 0) keeps scale 1."""

    name = "standardize"

    def _fit(self, flat):
        mean, cov_diag = _mean_var(flat)
        std = cov_diag.sqrt()
        self.shift_ = mean
        self.scale_ = 1.0 / torch.where(std > 1e-12, std, torch.ones_like(std))


@PREPROCESSORS.register("scale01")
class Scale01(_Affine):
    """(x - min) / (max - min) per feature: the training split spans [0, 1]."""

    name = "scale01"
    low, high = 0.0, 1.0

    def _fit(self, flat):
        lo, hi = flat.double().amin(0), flat.double().amax(0)
        span = torch.where(hi - lo > 0, hi - lo, torch.ones_like(hi))
        self.scale_ = (self.high - self.low) / span
        self.shift_ = lo - self.low / self.scale_  # so that (lo - shift) * scale = low


@PREPROCESSORS.register("scale11")
class Scale11(Scale01):
    """2 (x - min) / (max - min) - 1 per feature: the training split spans [-1, 1]."""

    name = "scale11"
    low, high = -1.0, 1.0


def _check_eps(name: str, eps: Any) -> float:
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not eps > 0:
        raise ConfigError(f"preprocess {name}: eps must be a positive number, got {eps!r}")
    return float(eps)


@PREPROCESSORS.register("pca")
class PCA(Preprocessor):
    """Project onto the top-``k`` eigenvectors of the training covariance (``k=None``: all D,
    a pure rotation that decorrelates); ``whiten`` divides each by sqrt(eigenvalue + eps) so
    every output has unit variance. Outputs are flat (k,). CS231n: ``Xrot = X.dot(U)``,
    ``Xwhite = Xrot / np.sqrt(S + 1e-5)``."""

    name = "pca"

    def __init__(self, k: int | None = None, whiten: bool = False, eps: float = 1e-5):
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
            raise ConfigError(f"preprocess pca: k must be a positive integer or null (all), got {k!r}")
        if not isinstance(whiten, bool):
            raise ConfigError(f"preprocess pca: whiten must be true or false, got {whiten!r}")
        self.k, self.whiten, self.eps = k, whiten, _check_eps("pca", eps)

    def params(self) -> dict:
        return {"k": self.k, "whiten": self.whiten, "eps": self.eps}

    def _fit(self, flat):
        d = flat.shape[1]
        if self.k is not None and self.k > d:
            raise ConfigError(f"preprocess pca: k must be at most the {d} input features, got {self.k}")
        mean, cov = _mean_cov(flat)
        evals, evecs = eigh_descending(cov)
        k = self.k or d
        self.mean_, self.components_, self.variance_ = mean, evecs[:, :k], evals[:k]  # (D,), (D, k), (k,)
        scale = (evals[:k] + self.eps).rsqrt() if self.whiten else torch.ones(k, dtype=evals.dtype)
        self.projection_ = self.components_ * scale  # (D, k)

    def _transform(self, flat):
        return (flat - self.mean_.to(flat.dtype)) @ self.projection_.to(flat.dtype)

    def output_shape(self):
        return (self.projection_.shape[1],)


@PREPROCESSORS.register("zca")
class ZCA(Preprocessor):
    """Whiten and rotate back: W = U diag(1/sqrt(S + eps)) U^T, x -> (x - mu) W. ``eps``
    bounds the gain of low-variance (noise) directions at 1/sqrt(eps)."""

    name = "zca"

    def __init__(self, eps: float = 1e-2):
        self.eps = _check_eps("zca", eps)

    def params(self) -> dict:
        return {"eps": self.eps}

    def _fit(self, flat):
        mean, cov = _mean_cov(flat)
        evals, evecs = eigh_descending(cov)
        self.mean_ = mean
        self.whitening_ = (evecs * (evals + self.eps).rsqrt()) @ evecs.T  # (D, D), symmetric

    def _transform(self, flat):
        return (flat - self.mean_.to(flat.dtype)) @ self.whitening_.to(flat.dtype)


# the input features of TensorFlow Playground, for 2-D points (x1, x2)
FEATURES = {
    "x1": lambda a, b: a, "x2": lambda a, b: b, "x1_sq": lambda a, b: a * a, "x2_sq": lambda a, b: b * b,
    "x1_x2": lambda a, b: a * b, "sin_x1": lambda a, b: torch.sin(a), "sin_x2": lambda a, b: torch.sin(b),
}


@PREPROCESSORS.register("features")
class Features(Preprocessor):
    """Playground features of 2-D points: ``use`` picks (in order) from x1, x2, x1_sq, x2_sq,
    x1_x2, sin_x1, sin_x2; outputs (len(use),). Nothing is fitted."""

    name = "features"

    def __init__(self, use: list | tuple = ("x1", "x2")):
        if not isinstance(use, (list, tuple)) or not use or any(not isinstance(f, str) for f in use):
            raise ConfigError(f"preprocess features: use must be a non-empty list of names from "
                              f"{', '.join(FEATURES)}, got {use!r}")
        bad = [f for f in use if f not in FEATURES]
        if bad or len(set(use)) != len(use):
            what = f"unknown feature {bad[0]!r}" if bad else f"repeated feature in {list(use)!r}"
            raise ConfigError(f"preprocess features: {what}; valid features: {', '.join(FEATURES)}")
        self.use = list(use)

    def params(self) -> dict:
        return {"use": list(self.use)}

    def _fit(self, flat):
        if flat.shape[1] != 2:
            raise ConfigError(f"preprocess features: needs 2-D points (x1, x2), got {flat.shape[1]} features")

    def _transform(self, flat):
        a, b = flat[:, 0], flat[:, 1]
        return torch.stack([FEATURES[f](a, b) for f in self.use], dim=1)

    def output_shape(self):
        return (len(self.use),)


# ---- statistics (float64, in row chunks so D x D covariances of big sets fit in memory) -------
def _mean_var(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = flat.double().mean(0)
    var = sum(((c.double() - mean) ** 2).sum(0) for c in flat.split(CHUNK)) / len(flat)
    return mean, var


def _mean_cov(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """mu (D,) and the population covariance (x - mu)^T (x - mu) / N (D, D)."""
    mean = flat.double().mean(0)
    cov = torch.zeros(flat.shape[1], flat.shape[1], dtype=torch.float64)
    for c in flat.split(CHUNK):
        c = c.double() - mean
        cov += c.T @ c
    return mean, cov / len(flat)


def eigh_descending(cov: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (clamped >= 0) and eigenvectors, largest first; each eigenvector's sign is
    fixed so its largest-magnitude entry is positive (a deterministic basis)."""
    evals, evecs = torch.linalg.eigh(cov)
    evals, evecs = evals.flip(0).clamp_min(0), evecs.flip(1)
    rows = evecs.abs().argmax(0)
    signs = torch.sign(evecs[rows, torch.arange(evecs.shape[1])])
    return evals, evecs * torch.where(signs == 0, torch.ones_like(signs), signs)


# ---- building, saving, loading -----------------------------------------------------------------
def get(spec: Any) -> Preprocessor:
    """``"standardize"``, ``{"pca": {"k": 50, "whiten": true}}``, ``{"name": "zca", "eps": 0.1}``."""
    if spec is None:
        spec = "none"
    return PREPROCESSORS.get(spec)


def from_state(sd: dict) -> Preprocessor:
    return PREPROCESSORS.get({"name": sd["name"], **sd["params"]}).load_state_dict(sd)


def save(p: Preprocessor, path: str | Path) -> Path:
    import io

    from trainlab.atomic import atomic_write

    buf = io.BytesIO()
    torch.save(p.state_dict(), buf)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))
    return Path(path)


def load(path: str | Path) -> Preprocessor:
    """A saved preprocessing (``weights_only=True``; a bad file is one ConfigError line)."""
    from trainlab.safe_io import load_tensors

    return from_state(load_tensors(path, "preprocessing"))


def is_none(spec: Any) -> bool:
    return spec is None or spec == "none" or (isinstance(spec, dict) and PREPROCESSORS.split(spec)[0] == "none")
