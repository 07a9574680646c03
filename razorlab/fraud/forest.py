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

__all__ = ["CompiledForest", "CHUNK", "FEW_ROWS"]

CHUNK = 512  # rows per pass of the tree kernel: ~60 KB of leaf bytes, cache-resident
FEW_ROWS = 128  # below this, one running sum beats a numpy call per tree (measured)


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
        self.leaf_offset = np.arange(len(self.leaves)) * self.leaves.shape[1]
        depth = self.asks.shape[1]
        self.node_values = np.zeros((len(self.asks), depth + 1, 2**depth))  # tree, level, node
        for t, nodes in enumerate(model.nodes):
            for d, level in enumerate(nodes):
                self.node_values[t, d, : len(level)] = level
        # per feature: the (tree, level) steps that split on it, in the order they are added
        split_on = np.array([f for tree in model.splits for f, _ in tree])
        steps = [np.flatnonzero(split_on == f) + 1 for f in range(len(model.features))]
        # features x (0.0, its steps, padding with 0.0): rows of [0.0; steps] to add in order
        self.step_rows = np.zeros((len(steps), 1 + max(map(len, steps))), np.intp)
        for f, rows in enumerate(steps):
            self.step_rows[f, 1 : 1 + len(rows)] = rows
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
            leaf |= answers.take(level, axis=0)
        return leaf

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """``BoostedTrees.contributions`` (Saabas) to the bit: each feature's steps summed in
        tree and level order, starting from 0.0, as its loop adds them."""
        out = np.zeros((X.shape[0], len(self.step_rows)))
        if not len(X):
            return out
        depth = self.asks.shape[1]
        leaf = self._leaves(X).astype(np.intp)
        trees = np.arange(len(self.asks))[:, None]
        value = [self.node_values[trees, d, leaf >> (depth - d)] for d in range(depth + 1)]
        step = np.stack([value[d + 1] - value[d] for d in range(depth)], axis=1)
        step = step.reshape(-1, X.shape[0])  # (tree, level) x rows, in the loop's order
        padded = np.vstack([out[:, :1].T, step])  # row 0: the 0.0 each sum starts from
        return np.cumsum(padded[self.step_rows], axis=1)[:, -1].T  # trailing + 0.0: no-ops

    def _chunk(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of up to ``CHUNK`` rows: base, then each tree's leaf value in tree order.

        The additions go down the trees one row at a time either way; a few rows take one
        running sum along rows x trees (one call instead of one per tree), many take one
        in-place add per tree (contiguous rows, where the running sum would be slower).
        """
        leaf = self._leaves(X).astype(np.intp)
        if X.shape[0] < FEW_ROWS:
            values = np.empty((X.shape[0], len(self.asks) + 1))
            values[:, 0] = self.base
            values[:, 1:] = self.leaves.take(leaf.T + self.leaf_offset)
            return np.cumsum(values, axis=1)[:, -1]
        z = np.full(X.shape[0], self.base)
        for tree_values in self.leaves.take(leaf + self.leaf_offset[:, None]):
            z += tree_values
        return z
