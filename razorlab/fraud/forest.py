"""All trees of a boosted model in a handful of numpy calls, equal to ``BoostedTrees`` to the bit.

Scenario: scoring a micro-batch of live payments (``razorlab.fraud.online``).
``BoostedTrees.logit`` asks each tree its questions one level at a time, ``depth + 1`` numpy
calls per tree (~600 for 120 trees of depth 4): nothing for a day of payments, but a fixed
cost of ~1 ms per micro-batch, more on a loaded machine, and 11 ms for ``contributions``.

Design note: each distinct (feature, threshold) question is asked once for the whole batch,
every tree's leaf index is built level by level for all trees at once (one byte per tree and
row), and the trees' values are added in tree order — the same comparisons and the same
additions in the same order as ``BoostedTrees``, so the results are equal to the bit (a test
checks it) and the online path decides exactly as the batch path does. Rows go in chunks of
:data:`CHUNK` so the temporaries stay in cache.
"""

from __future__ import annotations

import numpy as np

from razorlab.fraud.boosting import BoostedTrees

__all__ = ["CompiledForest", "CHUNK"]

CHUNK = 512  # rows per pass of the tree kernel: ~60 KB of leaf bytes, cache-resident


class CompiledForest:
    """A ``BoostedTrees`` model's ``logit`` in a handful of numpy calls, equal to the bit.

    ``BoostedTrees.logit`` makes ``depth + 1`` calls per tree (~600 for 120 trees of depth
    4): free for a day of payments, but a fixed cost of ~1 ms per micro-batch (several
    ms on a loaded machine). Here each distinct (feature, threshold) question is asked
    once for the whole batch, the leaf index of every tree is built level by level for
    all trees at once (one byte per tree and row), and the trees' values are added in
    tree order: the same comparisons and the same additions in the same order.
    """

    def __init__(self, model: BoostedTrees):
        questions = sorted({q for tree in model.splits for q in tree})
        where = {q: j for j, q in enumerate(questions)}
        self.feature = np.array([f for f, _ in questions], np.intp)
        self.threshold = np.array([t for _, t in questions], np.float64)[:, None]
        self.asks = np.array([[where[q] for q in tree] for tree in model.splits], np.intp)
        self.leaves = np.array([nodes[-1] for nodes in model.nodes], np.float64)  # trees x leaves
        depth = self.asks.shape[1]
        self.node_values = np.zeros((len(self.asks), depth + 1, 2**depth))  # tree, level, node
        for t, nodes in enumerate(model.nodes):
            for d, level in enumerate(nodes):
                self.node_values[t, d, : len(level)] = level
        # per feature: the (tree, level) steps that split on it, in the order they are added
        split_on = np.array([f for tree in model.splits for f, _ in tree])
        self.steps = [np.flatnonzero(split_on == f) for f in range(len(model.features))]
        self.base = model.base

    def logit(self, X: np.ndarray) -> np.ndarray:
        """Log-odds per row; rows go in chunks small enough for the temporaries to stay in cache."""
        return np.concatenate([self._chunk(X[i : i + CHUNK]) for i in range(0, len(X), CHUNK)])

    def _leaves(self, X: np.ndarray) -> np.ndarray:
        """Leaf index of every tree (rows) for every payment (columns)."""
        answers = np.ascontiguousarray(X.T)[self.feature] > self.threshold  # questions x rows
        leaf = np.zeros((len(self.asks), X.shape[0]), np.uint8)  # trees x rows
        for level in self.asks.T:
            leaf <<= 1
            leaf |= answers[level]
        return leaf

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """``BoostedTrees.contributions`` (Saabas) to the bit: each feature's steps summed in
        tree and level order, starting from 0.0, as its loop adds them."""
        out = np.zeros((X.shape[0], len(self.steps)))
        if not len(X):
            return out
        depth = self.asks.shape[1]
        leaf = self._leaves(X).astype(np.intp)
        trees = np.arange(len(self.asks))[:, None]
        value = [self.node_values[trees, d, leaf >> (depth - d)] for d in range(depth + 1)]
        step = np.stack([value[d + 1] - value[d] for d in range(depth)], axis=1)
        step = step.reshape(-1, X.shape[0])  # (tree, level) x rows, in the loop's order
        for f, rows in enumerate(self.steps):
            if len(rows):
                out[:, f] = np.cumsum(np.vstack([out[:, f], step[rows]]), axis=0)[-1]
        return out

    def _chunk(self, X: np.ndarray) -> np.ndarray:
        leaf = self._leaves(X)
        values = np.take_along_axis(self.leaves, leaf.astype(np.intp), axis=1)
        z = np.full(X.shape[0], self.base)
        for tree_values in values:  # tree by tree, the additions of ``BoostedTrees.logit``
            z += tree_values
        return z
