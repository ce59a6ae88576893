"""Match: LSH parameters for documents, and the exact index of units inside one document.

Across a corpus, document candidates come from MinHash LSH (bands of datasketch-identical
signatures, see :mod:`dedup.corpus`) and count only once verified on their signatures or exactly.
Inside one document, sentences and paragraphs are matched exactly through shared shingles; that
index holds only units that were kept, so a unit is only ever matched against a keeper, never
through a chain of removed copies.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from itertools import chain

import numpy as np

from dedup.fingerprint import sorted_unique

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


#: Beyond this many sharing pairs (a shingle shared by thousands of units), pairs are found
#: incrementally instead of all at once.
_PAIR_LIMIT = 1 << 21
#: Levels with at most this many shingles in all are matched through the inverted index directly.
_SMALL_LEVEL = 256
_LOW32 = np.uint64(0xFFFFFFFF)


def _entries(shingle_sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(shingle, set)`` of every distinct shingle of every set, sorted by shingle, then set."""
    owners = np.repeat(np.arange(len(shingle_sets), dtype=np.uint64), [len(s) for s in shingle_sets])
    flat = np.concatenate(shingle_sets).astype(np.uint64) if shingle_sets else owners
    entries = sorted_unique((flat << np.uint64(32)) | owners)
    return entries >> np.uint64(32), (entries & _LOW32).astype(np.int64)


def shared_pairs(shingle_sets: Sequence[np.ndarray], limit: int | None = None,
                 entries: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, ...] | None:
    """Every pair of sets sharing at least one shingle, with how many they share, in numpy:
    ``(first, second, shared)`` with ``first < second``, or None when there would be more than
    ``limit`` (set, set, shingle) triples (default :data:`_PAIR_LIMIT`).

    >>> [a.tolist() for a in shared_pairs([np.array([1, 2, 3]), np.array([3, 4]), np.array([2, 3, 9])])]
    [[0, 0, 1], [1, 2, 2], [1, 2, 1]]
    """
    empty = np.empty(0, np.int64)
    shingles, owners = _entries(shingle_sets) if entries is None else entries
    repeated = np.zeros(len(shingles), dtype=bool)
    same = shingles[1:] == shingles[:-1]
    repeated[1:] |= same
    repeated[:-1] |= same
    shingles, owners = shingles[repeated], owners[repeated]
    firsts, seconds, total = [], [], 0
    for gap in range(1, len(shingles)):
        same = shingles[gap:] == shingles[:-gap]
        if not same.any():
            break
        total += int(same.sum())
        if total > (_PAIR_LIMIT if limit is None else limit):
            return None
        firsts.append(owners[:-gap][same])
        seconds.append(owners[gap:][same])
    if not firsts:
        return empty, empty, empty
    count = len(shingle_sets)
    pairs, shared = np.unique(np.concatenate(firsts) * count + np.concatenate(seconds), return_counts=True)
    return pairs // count, pairs % count, shared


class UnitIndex:
    """Kept units of one level (sentences or paragraphs) of one document.

    Exact repeats are found by the hash of the matching key. Near repeats are found exactly, from
    the number of shingles two units share (which gives their Jaccard similarity with no set
    operations; a pair at any positive threshold shares a shingle, so nothing is missed): for the
    whole level at once in numpy (:func:`shared_pairs`), or, when a shingle is shared by so many
    units that the pairs would not fit, through an inverted index of the units kept, filtered by
    the positions of their rarest shingles (linear when many units share common shingles).
    Within one document this costs less than hashing bands; across a corpus, where pairs cannot
    be enumerated, documents go through MinHash LSH instead.

    Units are numbered by their position in ``shingle_sets``; a set given as None takes part in
    exact matching only.
    """

    def __init__(self, threshold: float, shingle_sets: Sequence[np.ndarray | None]) -> None:
        self.threshold = threshold
        self._exact: dict[int, int] = {}
        self._kept: set[int] = set()
        self._near: dict[int, list[tuple[int, float]]] | None = None
        self._unique: dict[int, set[int]] = {}
        self._postings: dict[int, list[int]] = {}  # shingle -> kept units
        self._ordered: dict[int, list[int]] | None = None  # each unit's shingles, rarest first
        self._positioned: dict[tuple[int, int], list[int]] = {}  # (shingle, position) -> kept units
        near = [k for k, s in enumerate(shingle_sets) if s is not None and len(s)]
        sets: list[np.ndarray] = [shingle_sets[k] for k in near]  # type: ignore[misc]
        self._near_units = frozenset(near)
        self._sizes = [0] * len(shingle_sets)
        small = sum(len(s) for s in sets) <= _SMALL_LEVEL
        found = None if small else shared_pairs(sets, entries=(entries := _entries(sets)))
        if found is None:
            # A few sentences (numpy's per-call cost exceeds the work): count shared shingles
            # through an inverted index of the units kept. Pairs too many to list: the same,
            # filtered by the positions of the rarest shingles (see _filtered_candidates), or
            # the work would grow as the square of the units sharing a common shingle.
            for k, shingles in zip(near, sets):
                self._unique[k] = set(shingles.tolist())
                self._sizes[k] = len(self._unique[k])
            if not small:
                frequency = Counter(chain.from_iterable(self._unique.values()))
                self._ordered = {k: sorted(members, key=lambda shingle: (frequency[shingle], shingle))
                                 for k, members in self._unique.items()}
            return
        numbers = np.array(near, dtype=np.int64)
        sizes = np.zeros(len(shingle_sets), dtype=np.int64)
        sizes[numbers] = np.bincount(entries[1], minlength=len(near))
        self._sizes = sizes.tolist()
        self._near = {}
        first, second, shared = found
        first, second = numbers[first], numbers[second]
        similarity = shared / (sizes[first] + sizes[second] - shared)
        keep = similarity >= threshold
        for a, b, sim in zip(first[keep].tolist(), second[keep].tolist(), similarity[keep].tolist()):
            self._near.setdefault(b, []).append((a, sim))

    def find(self, unit: int, exact: int) -> tuple[int, float] | None:
        """The kept unit this one repeats, with the similarity, or None. Among near repeats the
        most similar wins, then the earliest."""
        keeper = self._exact.get(exact)
        if keeper is not None:
            return keeper, 1.0
        if unit not in self._near_units:
            return None
        if self._near is not None:
            candidates = sorted((a, sim) for a, sim in self._near.get(unit, ()) if a in self._kept)
        elif self._ordered is not None:
            candidates = self._filtered_candidates(unit)
        else:
            postings = self._postings
            shared = Counter(chain.from_iterable(postings[s] for s in self._unique[unit] if s in postings))
            size = self._sizes[unit]
            candidates = [(a, shared[a] / (size + self._sizes[a] - shared[a])) for a in sorted(shared)]
        best: tuple[int, float] | None = None
        for kept, similarity in candidates:
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (kept, similarity)
        return best

    def add(self, unit: int, exact: int) -> None:
        """Keep a unit: later units are matched against it."""
        self._exact.setdefault(exact, unit)
        if unit not in self._near_units:
            return
        self._kept.add(unit)
        if self._ordered is not None:
            size = self._sizes[unit]
            for position, shingle in enumerate(self._ordered[unit][: size - _at_least(self.threshold * size) + 1]):
                self._positioned.setdefault((shingle, position), []).append(unit)
        elif self._near is None:
            for shingle in self._unique[unit]:
                self._postings.setdefault(shingle, []).append(unit)

    def _filtered_candidates(self, unit: int) -> list[tuple[int, float]]:
        """Kept units that can be near repeats of ``unit``, by id, with their similarity.

        Prefix filter (as in PPJoin): with every unit's shingles ordered rarest first, two units of
        ``n`` and ``m`` shingles with Jaccard >= t share at least ``a = ceil(t (n + m) / (1 + t))``
        shingles, and ``m`` lies in ``[t n, n / t]``. The first shingle they share stands at a
        position ``i <= n - a`` in one and ``j <= m - a`` in the other, since every shingle
        before it is not shared. So a kept unit is indexed by its shingles and their positions up
        to ``m - ceil(t m)``, and a unit looks up only the (shingle, position) pairs that some
        size ``m`` allows. Shingles common to many units are last in every order, so they are
        looked up (and pile up postings) only for units they could make a repeat.
        """
        assert self._ordered is not None
        positioned, members, n, t = self._positioned, self._unique[unit], self._sizes[unit], self.threshold
        # As m grows, n - a(m) never grows and m - a(m) never shrinks (a grows by 0 or 1): at
        # position i the sizes allowed are those up to the largest m with n - a(m) >= i, and the
        # furthest position j allowed is that m's m - a(m).
        m, least = int(n / t + 1e-9), _at_least(t * n)
        found: set[int] = set()
        for i, shingle in enumerate(self._ordered[unit]):
            while m >= least and n - _at_least(t * (n + m) / (1 + t)) < i:
                m -= 1
            if m < least:
                break
            for j in range(m - _at_least(t * (n + m) / (1 + t)) + 1):
                found.update(positioned.get((shingle, j), ()))
        candidates = []
        for kept in sorted(found):
            shared = len(members & self._unique[kept])
            candidates.append((kept, shared / (n + self._sizes[kept] - shared)))
        return candidates


def _at_least(bound: float) -> int:
    """The least integer at or above ``bound``, allowing for rounding in its computation."""
    return math.ceil(bound - 1e-9)


def lsh_for(threshold: float, num_perm: int, bands: int | None, rows: int | None) -> tuple[int, int]:
    """The bands and rows a run uses: the user's, or :func:`recall_lsh_params` of the threshold."""
    if bands and rows:
        return bands, rows
    return recall_lsh_params(threshold, num_perm)
