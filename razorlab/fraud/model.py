"""Logistic regression in numpy: the baseline every fraud model must beat.

Scenario: a fraud model turns a feature vector into log-odds of fraud. Logistic
regression is the baseline: fast, explainable (each feature's contribution is
``weight x standardised value``), and on the Fraud Detection Handbook's simulated data
it reaches AUPRC ~0.62 against ~0.69 for boosted trees, while ROC-AUC is ~0.87 for all,
which is why we compare models on AUPRC.

Design note: features are standardised (mean 0, sd 1, fitted on training data only),
classes are weighted so the 0.3% of frauds count as much as the 99.7% of legitimate
payments, and an L2 penalty keeps weights finite when a feature separates perfectly.
It is fitted by Newton's method (iteratively reweighted least squares): ~10 steps on
20 features. Scoring adds contributions one feature at a time in a fixed order, on the
batch path and the one-payment path alike, so both give the same float to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["LogisticRegression", "sigmoid"]


def sigmoid(z: np.ndarray | float) -> np.ndarray | float:
    """Log-odds to probability."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


class LogisticRegression:
    """L2-regularised, class-weighted logistic regression on standardised features."""

    kind = "logistic_regression"

    def __init__(
        self,
        features: Sequence[str],
        *,
        l2: float = 1.0,
        balanced: bool = True,
        max_iter: int = 50,
        tol: float = 1e-8,
    ):
        self.features = tuple(features)
        self.l2, self.balanced, self.max_iter, self.tol = l2, balanced, max_iter, tol
        self.mean: list[float] = []
        self.scale: list[float] = []
        self.weights: list[float] = []
        self.bias = 0.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticRegression:
        X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
        mean, scale = X.mean(0), X.std(0)
        scale[scale == 0] = 1.0
        A = np.column_stack([np.ones(len(X)), (X - mean) / scale])
        pos = y.sum()
        sw = np.ones(len(y))
        if self.balanced and 0 < pos < len(y):
            sw = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * (len(y) - pos)))
        penalty = np.full(A.shape[1], self.l2)
        penalty[0] = 0.0  # the intercept is not shrunk
        beta = np.zeros(A.shape[1])
        for _ in range(self.max_iter):
            p = 1.0 / (1.0 + np.exp(-(A @ beta)))
            grad = A.T @ (sw * (p - y)) + penalty * beta
            hess = (A * (sw * p * (1 - p))[:, None]).T @ A + np.diag(penalty)
            step = np.linalg.solve(hess, grad)
            beta -= step
            if np.abs(step).max() < self.tol:
                break
        self.mean, self.scale = mean.tolist(), scale.tolist()
        self.bias, self.weights = float(beta[0]), beta[1:].tolist()
        return self

    # ----- scoring: the same additions in the same order on both paths ------------------
    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-feature log-odds contributions (payments x features)."""
        cols = np.ascontiguousarray(np.asarray(X, np.float64).T)
        out = np.empty_like(cols)
        for j, (m, s, w) in enumerate(zip(self.mean, self.scale, self.weights, strict=True)):
            np.subtract(cols[j], m, out=out[j])
            out[j] /= s
            out[j] *= w
        return out.T

    def logit(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of fraud for every row of ``X``."""
        contrib = self.contributions(X)
        z = np.full(len(contrib), self.bias)
        for j in range(contrib.shape[1]):
            z = z + contrib[:, j]
        return z

    def contributions_one(self, x: Sequence[float]) -> list[float]:
        return [
            ((v - m) / s) * w
            for v, m, s, w in zip(x, self.mean, self.scale, self.weights, strict=True)
        ]

    def logit_one(self, x: Sequence[float]) -> float:
        """Log-odds for one payment, in plain Python (no numpy call overhead)."""
        z = self.bias
        for c in self.contributions_one(x):
            z += c
        return z

    # ----- persistence ------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "features": list(self.features),
            "params": {"l2": self.l2, "balanced": self.balanced},
            "mean": self.mean,
            "scale": self.scale,
            "weights": self.weights,
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LogisticRegression:
        model = cls(data["features"], **data["params"])
        model.mean, model.scale = list(data["mean"]), list(data["scale"])
        model.weights, model.bias = list(data["weights"]), float(data["bias"])
        return model
