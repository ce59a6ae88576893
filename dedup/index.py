"""Match: find candidate near-duplicate pairs with MinHash LSH (datasketch) and verify them.

An LSH candidate only counts once it is verified: the exact Jaccard similarity of the two shingle
sets (units inside a document) or the signature agreement (documents in a corpus) must reach the
threshold. The index holds only units that were kept, so a unit is only ever matched against a
keeper, never through a chain of removed copies.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import Any

import numpy as np

from dedup.fingerprint import Signature

__all__ = [
    "lsh_params", "recall_lsh_params", "candidate_probability", "UnitIndex", "jaccard", "lsh_for",
]


def candidate_probability(similarity: float | np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Probability that LSH with ``bands`` × ``rows`` makes a pair of this Jaccard a candidate.

    >>> round(float(candidate_probability(0.8, 9, 13)), 3)
    0.399
    """
    s = np.asarray(similarity, dtype=float)
    return 1.0 - (1.0 - s**rows) ** bands


@functools.lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
               false_negative_weight: float = 0.5) -> tuple[int, int]:
    """Bands and rows (``bands * rows <= num_perm``) minimising the weighted probability mass of
    false positives (below ``threshold``) and false negatives (above it), as datasketch does.

    >>> lsh_params(0.8, 128)
    (9, 13)
    """
    grid_low = np.linspace(0.0, threshold, 257)
    grid_high = np.linspace(threshold, 1.0, 257)
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = np.trapezoid(candidate_probability(grid_low, bands, rows), grid_low)
            fn = np.trapezoid(1.0 - candidate_probability(grid_high, bands, rows), grid_high)
            error = false_positive_weight * fp + false_negative_weight * fn
            if best is None or error < best[0] - 1e-12:
                best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


@functools.lru_cache(maxsize=64)
def recall_lsh_params(threshold: float, num_perm: int, recall: float = 0.985) -> tuple[int, int]:
    """Bands and rows for candidate search that must not miss: the most rows per band (fewest
    candidates) such that a pair exactly at ``threshold`` is a candidate with probability at
    least ``recall``. Every candidate is verified afterwards, so extra candidates cost time,
    never precision.

    >>> recall_lsh_params(0.8, 128)
    (18, 7)
    """
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if float(candidate_probability(threshold, bands, rows)) >= recall:
            return bands, rows
    return num_perm, 1


def jaccard(a: set[int] | frozenset[int], b: set[int] | frozenset[int]) -> float:
    """Exact Jaccard similarity of two sets (1.0 for two empty sets).

    >>> jaccard({1, 2, 3}, {2, 3, 4})
    0.5
    """
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class UnitIndex:
    """Kept units of one level (sentences or paragraphs) of one document.

    Exact repeats are found by the hash of the matching key. Near repeats are verified with the
    exact Jaccard of the shingle sets; while the index holds at most ``exhaustive`` units every
    kept unit is a candidate (cheaper than hashing bands for a few dozen sentences, and it misses
    nothing); beyond that, candidates come from a datasketch ``MinHashLSH``.
    """

    def __init__(self, threshold: float, num_perm: int, seed: int,
                 params: tuple[int, int] | None = None, exhaustive: int = 64) -> None:
        self.threshold = threshold
        self.seed = seed
        self.num_perm = num_perm
        self.params = params if params is not None else recall_lsh_params(threshold, num_perm)
        self.exhaustive = exhaustive
        self._lsh: Any = None
        self._exact: dict[int, Hashable] = {}
        self._shingles: dict[Hashable, frozenset[int]] = {}
        self._signatures: dict[Hashable, np.ndarray] = {}

    def find(self, exact: int, signature: np.ndarray | None,
             shingles: frozenset[int]) -> tuple[Hashable, float] | None:
        """The kept unit this one repeats, with the similarity, or None."""
        keeper = self._exact.get(exact)
        if keeper is not None:
            return keeper, 1.0
        if signature is None:
            return None
        if self._lsh is None:
            candidates = list(self._shingles)
        else:
            candidates = sorted(self._lsh.query(Signature(signature, self.seed)), key=repr)
        best: tuple[Hashable, float] | None = None
        size = len(shingles)
        for key in candidates:
            kept = self._shingles[key]
            # Jaccard can reach the threshold only if the smaller set is large enough.
            if min(size, len(kept)) < self.threshold * max(size, len(kept)):
                continue
            similarity = jaccard(shingles, kept)
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (key, similarity)
        return best

    def add(self, key: Hashable, exact: int, signature: np.ndarray | None,
            shingles: frozenset[int]) -> None:
        """Keep a unit: later units are matched against it."""
        self._exact.setdefault(exact, key)
        if signature is None:
            return
        self._shingles[key] = shingles
        if self._lsh is not None:
            self._lsh.insert(key, Signature(signature, self.seed), check_duplication=False)
            return
        self._signatures[key] = signature
        if len(self._shingles) > self.exhaustive:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(num_perm=self.num_perm, params=self.params)
            for kept, kept_signature in self._signatures.items():
                self._lsh.insert(kept, Signature(kept_signature, self.seed), check_duplication=False)
            self._signatures = {}


def lsh_for(threshold: float, num_perm: int, bands: int | None, rows: int | None) -> tuple[int, int]:
    """The bands and rows a run uses: the user's, or :func:`recall_lsh_params` of the threshold."""
    if bands and rows:
        return bands, rows
    return recall_lsh_params(threshold, num_perm)
