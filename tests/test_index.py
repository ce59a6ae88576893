"""The unit index inside one document: exact near-repeat matching, fast and fallback paths."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import index as index_module
from dedup.index import UnitIndex, shared_pairs

# Shingles from a small alphabet, so that repeats and ties between candidates are common.
sets_strategy = st.lists(
    st.one_of(st.none(), st.lists(st.integers(0, 8), min_size=1, max_size=5)), min_size=0, max_size=25
)


def _greedy_by_hand(sets: list[list[int] | None], threshold: float) -> list[tuple[int, int, float] | None]:
    """What the index must answer: each unit against every earlier kept unit, by set algebra."""
    kept: list[int] = []
    answers: list[tuple[int, int, float] | None] = []
    for unit, shingles in enumerate(sets):
        best = None
        if shingles is not None:
            mine = set(shingles)
            for other in kept:
                theirs = set(sets[other])  # type: ignore[arg-type]
                similarity = len(mine & theirs) / len(mine | theirs)
                if similarity >= threshold and (best is None or similarity > best[2]):
                    best = (unit, other, similarity)
        answers.append(best)
        if best is None and shingles is not None:
            kept.append(unit)
    return answers


def _run(sets: list[list[int] | None], threshold: float) -> list[tuple[int, int, float] | None]:
    arrays = [None if s is None else np.array(s, dtype=np.uint32) for s in sets]
    index = UnitIndex(threshold, arrays)
    answers: list[tuple[int, int, float] | None] = []
    for unit in range(len(sets)):
        exact = -1 - unit  # distinct: only near matching is under test here
        found = None if sets[unit] is None else index.find(unit, exact)
        answers.append(None if found is None else (unit, found[0], found[1]))
        if found is None and sets[unit] is not None:
            index.add(unit, exact)
    return answers


PATHS = {  # (_SMALL_LEVEL, _PAIR_LIMIT) that force each way of finding pairs
    "small level, inverted index": (10**9, 10**9),
    "numpy pairs": (0, 10**9),
    "numpy gives up, inverted index": (0, 0),
}


@settings(max_examples=150, deadline=None)
@given(sets_strategy, st.sampled_from([0.3, 0.5, 0.8]))
def test_unit_index_equals_set_algebra_on_every_path(sets, threshold):
    expected = _greedy_by_hand(sets, threshold)
    saved = index_module._SMALL_LEVEL, index_module._PAIR_LIMIT
    try:
        for small, limit in PATHS.values():
            index_module._SMALL_LEVEL, index_module._PAIR_LIMIT = small, limit
            assert _run(sets, threshold) == expected
    finally:
        index_module._SMALL_LEVEL, index_module._PAIR_LIMIT = saved


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), max_size=10), max_size=15))
def test_shared_pairs_counts_every_shared_shingle(sets):
    found = shared_pairs([np.array(s, dtype=np.uint32) for s in sets])
    assert found is not None
    got = {(a, b): c for a, b, c in zip(*(x.tolist() for x in found))}
    want = {(a, b): len(set(sets[a]) & set(sets[b]))
            for b in range(len(sets)) for a in range(b) if set(sets[a]) & set(sets[b])}
    assert got == want


def test_shared_pairs_gives_up_beyond_its_limit():
    same = [np.array([7], dtype=np.uint32)] * 100  # 4,950 pairs through one shingle
    assert shared_pairs(same, limit=1000) is None
    assert len(shared_pairs(same, limit=10_000)[0]) == 4950  # type: ignore[index]


def test_ties_go_to_the_earliest_keeper(monkeypatch):
    sets = [[1, 2], [3, 4], [1, 2, 3, 4]]  # the third is at 0.5 of both kept units
    assert _greedy_by_hand(sets, 0.5)[2] == (2, 0, 0.5)
    for small, limit in PATHS.values():
        monkeypatch.setattr(index_module, "_SMALL_LEVEL", small)
        monkeypatch.setattr(index_module, "_PAIR_LIMIT", limit)
        assert _run(sets, 0.5)[2] == (2, 0, 0.5)
