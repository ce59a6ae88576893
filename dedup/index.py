"""Match: LSH parameters for documents, and the exact index of units inside one document.

Across a corpus, document candidates come from MinHash LSH (bands of datasketch-identical
signatures, see :mod:`dedup.corpus`) and count only once verified on their signatures or exactly.
Inside one document, sentences and paragraphs are matched exactly through shared shingles; that
index holds only units that were kept, so a unit is only ever matched against a keeper, never
through a chain of removed copies.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Hashable
from itertools import chain

import numpy as np

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

    Exact repeats are found by the hash of the matching key. Near repeats are found exactly: an
    inverted index from shingle to the kept units holding it gives, for a new unit, every kept
    unit that shares a shingle and how many it shares, which is the Jaccard similarity with no
    set operations (a pair at any positive threshold shares a shingle, so nothing is missed).
    Within one document this costs less than hashing bands and misses nothing; across a corpus,
    where pairs cannot be enumerated, documents go through MinHash LSH instead.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._exact: dict[int, Hashable] = {}
        self._postings: dict[int, list[int]] = {}
        self._keys: list[Hashable] = []
        self._sizes: list[int] = []

    def find(self, exact: int, shingles: frozenset[int] | None) -> tuple[Hashable, float] | None:
        """The kept unit this one repeats, with the similarity, or None. ``shingles`` None
        matches exact repeats only. Among near repeats the most similar wins, then the earliest."""
        keeper = self._exact.get(exact)
        if keeper is not None:
            return keeper, 1.0
        if not shingles or not self._keys:
            return None
        postings = self._postings
        shared = Counter(chain.from_iterable(postings[s] for s in shingles if s in postings))
        best: tuple[int, float] | None = None
        size = len(shingles)
        for kept in sorted(shared):
            common = shared[kept]
            similarity = common / (size + self._sizes[kept] - common)
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (kept, similarity)
        return None if best is None else (self._keys[best[0]], best[1])

    def add(self, key: Hashable, exact: int, shingles: frozenset[int] | None) -> None:
        """Keep a unit: later units are matched against it (near repeats only if ``shingles``)."""
        self._exact.setdefault(exact, key)
        if not shingles:
            return
        number = len(self._keys)
        self._keys.append(key)
        self._sizes.append(len(shingles))
        for shingle in shingles:
            self._postings.setdefault(shingle, []).append(number)


def lsh_for(threshold: float, num_perm: int, bands: int | None, rows: int | None) -> tuple[int, int]:
    """The bands and rows a run uses: the user's, or :func:`recall_lsh_params` of the threshold."""
    if bands and rows:
        return bands, rows
    return recall_lsh_params(threshold, num_perm)
