"""The plan between the passes: verified clusters of near-duplicate documents with a keeper
each, and the set of cross-document boilerplate units.

Candidate pairs from LSH are verified by signature agreement (exactly, when an exact measure is
given, near the threshold); clusters are formed with a chain guard (every member must be similar
to its keeper, not merely linked through a chain); unit hashes found in at least K kept
documents become boilerplate. Deterministic: the same fingerprints give the same plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.arrays import jaccard, stable_argsort, unique_pairs
from dedup.corpus.lsh import CandidatePairs, local_candidates, spilled_candidates
from dedup.corpus.store import Fingerprints, IdTable, SignatureFile
from dedup.fingerprint import sorted_unique
from dedup.policy import Boilerplate

__all__ = [
    "DocumentPlan",
    "Decisions",
    "plan_corpus",
    "verify_containment",
    "containment",
    "boilerplate_set",
    "ExactJaccard",
    "VERIFY_MARGIN",
]


@dataclass
class DocumentPlan:
    """What pass 2 does with each document, decided between the passes."""

    duplicate_of: np.ndarray  # (n,) int64, -1 when kept
    similarity: np.ndarray  # (n,) float64
    cluster: np.ndarray  # (n,) int64, -1 when the document is alone
    boilerplate: dict[int, tuple[int, int]] = field(default_factory=dict)
    clusters: int = 0
    boilerplate_threshold: int = 0
    #: Share of each removed document's words its keeper has (NaN where not removed).
    containment: np.ndarray | None = None
    #: Near duplicates kept because they hold text their keeper lacks: document -> (keeper,
    #: similarity, containment).
    kept_near: dict[int, tuple[int, float, float]] = field(default_factory=dict)
    #: Candidate pairs verified just below the threshold (within VERIFY_MARGIN), each ``i < j``,
    #: and their similarities: what a lower threshold would add (``dedup threshold --at``).
    near_misses: tuple[np.ndarray, np.ndarray] | None = None
    #: Documents matched in saved indexes (``dedup clean --against``): document ->
    #: :class:`dedup.saved_index.AgainstMatch`.
    against: dict[int, Any] = field(default_factory=dict)

    def boilerplate_for(self, index: int) -> Boilerplate:
        """The boilerplate view of document ``index`` (knows whether it holds the first copy)."""
        return Boilerplate(self.boilerplate, index)


def _find(parent: np.ndarray, x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


ExactJaccard = Callable[[np.ndarray], np.ndarray]
"""Exact Jaccard similarity of document pairs (an ``(k, 2)`` array of indices) → ``(k,)`` floats."""

#: Estimates this close to the threshold are checked exactly when an exact measure is available
#: (four standard deviations of a 128-permutation estimate near 0.8).
VERIFY_MARGIN = 0.12
#: Components up to this size get every pair's similarity for the chain guard; larger ones use
#: signature estimates.
PAIRWISE_LIMIT = 64


class _KnownPairs:
    """Similarities of resolved pairs ``(i, j)``, keyed by ``i * n + j``: batches in sorted arrays
    (16 bytes a pair, not a Python tuple and float each), single pairs in a small dict."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.keys = np.empty(0, dtype=np.int64)
        self.sims = np.empty(0, dtype=np.float64)
        self.single: dict[int, float] = {}

    def add(self, pairs: np.ndarray, sims: np.ndarray) -> None:
        keys = pairs[:, 0] * self.n + pairs[:, 1]
        if len(keys) == 1:
            self.single[int(keys[0])] = float(sims[0])
            return
        keys, sims = np.concatenate([self.keys, keys]), np.concatenate([self.sims, sims])
        order = np.argsort(keys, kind="stable")
        keys, sims = keys[order], sims[order]
        last = np.ones(len(keys), dtype=bool)  # of equal keys the latest wins, as in a dict
        last[:-1] = keys[1:] != keys[:-1]
        self.keys, self.sims = keys[last], sims[last]

    def missing(self, pairs: np.ndarray) -> np.ndarray:
        """Which of ``pairs`` have no similarity yet."""
        missing: np.ndarray = np.isnan(self.lookup(pairs))
        return missing

    def get(self, i: int, j: int) -> float | None:
        key = i * self.n + j
        if key in self.single:
            return self.single[key]
        at = int(np.searchsorted(self.keys, key))
        return float(self.sims[at]) if at < len(self.keys) and self.keys[at] == key else None

    def lookup(self, pairs: np.ndarray) -> np.ndarray:
        """:meth:`get` of each of ``pairs`` at once, NaN where there is no similarity yet."""
        keys = pairs[:, 0] * self.n + pairs[:, 1]
        sims = np.full(len(keys), np.nan)
        if len(self.keys) and len(keys):
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            found = self.keys[at] == keys
            sims[found] = self.sims[at[found]]
        if self.single and len(keys):
            for k in np.flatnonzero(np.isin(keys, np.fromiter(self.single, dtype=np.int64))).tolist():
                sims[k] = self.single[int(keys[k])]
        return sims


class _Similarity:
    """Pair similarities: signature estimates, made exact near the threshold when possible."""

    def __init__(self, fingerprints: Fingerprints, threshold: float, exact: ExactJaccard | None) -> None:
        self.fingerprints = fingerprints
        self.threshold = threshold
        self.exact = exact
        self.known = _KnownPairs(len(fingerprints.doc_hashes))

    def resolve(self, pairs: np.ndarray) -> np.ndarray:
        """Similarities of ``pairs`` (each ``i < j``), remembering them."""
        if len(pairs) == 0:
            return np.zeros(0)
        sigs, hashes = self.fingerprints.signatures, self.fingerprints.doc_hashes
        sims = _estimates(sigs, pairs)
        same = hashes[pairs[:, 0]] == hashes[pairs[:, 1]]
        sims[same] = 1.0
        if self.exact is not None:
            unsure = np.flatnonzero(~same & (np.abs(sims - self.threshold) < VERIFY_MARGIN))
            if len(unsure):
                sims[unsure] = self.exact(pairs[unsure])
        self.known.add(pairs, sims)
        return sims

    def get(self, i: int, j: int, exact: bool = True) -> float:
        """Similarity of one pair: resolved earlier, or resolved now; with ``exact`` False, a
        pair not resolved yet gets its signature estimate (no exact check, which re-reads
        documents) and is remembered with it."""
        pair = (i, j) if i < j else (j, i)
        known = self.known.get(*pair)
        if known is not None:
            return known
        pairs = np.array([pair], dtype=np.int64)
        if exact:
            return float(self.resolve(pairs)[0])
        sim = _estimates(self.fingerprints.signatures, pairs)
        if self.fingerprints.doc_hashes[i] == self.fingerprints.doc_hashes[j]:
            sim[0] = 1.0
        self.known.add(pairs, sim)
        return float(sim[0])


def _estimates(sigs: np.ndarray | SignatureFile, pairs: np.ndarray) -> np.ndarray:
    """Signature agreement of each pair. From a :class:`SignatureFile`, only the rows the pairs
    name are read, a batch of pairs at a time (an eighth of the budget)."""
    if not isinstance(sigs, SignatureFile):
        # In slices: both rows of every pair at once would hold 1 KB per pair (300 MB at 10^6
        # documents, the peak of the whole run).
        step = 1 << 14
        return np.concatenate([np.zeros(0)] + [
            (sigs[pairs[k : k + step, 0]] == sigs[pairs[k : k + step, 1]]).mean(axis=1)
            for k in range(0, len(pairs), step)
        ])
    step = max(1, sigs.chunk_rows(8) // 2)
    parts = []
    for k in range(0, len(pairs), step):
        rows = sigs.take(pairs[k : k + step].ravel())
        parts.append((rows[0::2] == rows[1::2]).mean(axis=1))
    return np.concatenate(parts)



def plan_corpus(fingerprints: Fingerprints, config: DedupConfig,
                exact: ExactJaccard | None = None,
                candidates: CandidatePairs = local_candidates) -> DocumentPlan:
    """Cluster documents and find boilerplate, deterministically, from pass-1 fingerprints.

    Candidate pairs come from LSH with bands and rows chosen so that a pair at the threshold is
    found with probability ≥ 0.985; each candidate is verified on its signatures, and, when
    ``exact`` is given, exactly when the estimate is within :data:`VERIFY_MARGIN` of the
    threshold. Signatures left on disk (a :class:`SignatureFile`) are resolved out of core in this
    process by :func:`spilled_candidates` (same pairs); ``candidates`` is used for signatures
    in memory. The candidate pairs themselves are held in memory (a few per duplicate).
    """
    from dedup.index import lsh_for

    n = len(fingerprints.doc_hashes)
    match, policy = config.match, config.policy
    duplicate_of = np.full(n, -1, dtype=np.int64)
    similarity = np.zeros(n, dtype=np.float64)
    cluster = np.full(n, -1, dtype=np.int64)
    plan = DocumentPlan(duplicate_of, similarity, cluster)
    if n == 0:
        return plan
    sigs = fingerprints.signatures
    if policy.dedup_documents and n > 1:
        measure = _Similarity(fingerprints, match.threshold, exact)
        bands, rows = lsh_for(match.threshold, config.fingerprint.num_perm, match.bands, match.rows)
        if isinstance(sigs, SignatureFile):
            pairs = spilled_candidates(sigs, bands, rows)  # out of core, in this process
        else:
            pairs = candidates(sigs, bands, rows)
        # Exact duplicates (same normalised text) are always candidates.
        order = stable_argsort(fingerprints.doc_hashes)
        same = fingerprints.doc_hashes[order][1:] == fingerprints.doc_hashes[order][:-1]
        exact_pairs = (np.stack([order[:-1][same], order[1:][same]], axis=1) if same.any()
                       else np.empty((0, 2), np.int64))
        pairs = unique_pairs([pairs, np.sort(exact_pairs, axis=1)]) if len(exact_pairs) else pairs
        empty = fingerprints.lengths == 0
        if len(pairs):
            pairs = pairs[~empty[pairs[:, 0]] & ~empty[pairs[:, 1]]]
            sims = measure.resolve(pairs)
            close = (sims < match.threshold) & (sims >= match.threshold - VERIFY_MARGIN)
            plan.near_misses = (pairs[close], sims[close])
            pairs = pairs[sims >= match.threshold]
        parent = np.arange(n, dtype=np.int64)
        for i, j in pairs.tolist():
            ri, rj = _find(parent, i), _find(parent, j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
        roots = _roots(parent)
        _resolve_components(roots, measure)
        plan.clusters = _assign(roots, measure, fingerprints, config, plan)
    units, docs = fingerprints.unit_hashes, fingerprints.unit_docs
    threshold = policy.boilerplate_threshold(n)
    plan.boilerplate_threshold = threshold
    if policy.boilerplate != "keep":
        plan.boilerplate = boilerplate_set(units, docs, duplicate_of, threshold)
    return plan


def boilerplate_set(units: np.ndarray, docs: np.ndarray, duplicate_of: np.ndarray, threshold: int,
                    near: Mapping[int, int] | None = None) -> dict[int, tuple[int, int]]:
    """Unit hashes found in at least ``threshold`` stories, each with that number and the first
    document written (``duplicate_of`` -1) holding it (-1 when none is). A document and the
    copies of it found in the corpus are one story (``duplicate_of``: each document's keeper;
    ``near``: near duplicates kept beside their keeper, document -> keeper), which counts once,
    whichever of them holds the unit: a banner one site added to its reprint counts, a story's
    own sentence repeated in its reprints does not.

    >>> units, docs = np.array([7, 7, 7, 9], dtype=np.uint64), np.array([0, 1, 2, 1])
    >>> boilerplate_set(units, docs, np.array([-1, 0, -1]), 2)  # unit 7: stories 0 and 2
    {7: (2, 0)}
    """
    kept = duplicate_of < 0
    story = np.where(kept, np.arange(len(duplicate_of)), duplicate_of)
    for document, keeper in (near or {}).items():
        story[document] = keeper
    for _ in range(64):  # a copy of a copy (of a near duplicate kept beside its keeper) is its story too
        followed = story[story]
        if np.array_equal(followed, story):
            break
        story = followed
    order = np.lexsort((story[docs], units))
    by_unit, by_story = units[order], story[docs][order]
    distinct = np.ones(len(by_unit), dtype=bool)
    distinct[1:] = (by_unit[1:] != by_unit[:-1]) | (by_story[1:] != by_story[:-1])
    values, counts = np.unique(by_unit[distinct], return_counts=True)
    frequent = counts >= threshold
    held = kept[docs]
    order = np.lexsort((docs[held], units[held]))
    holders, first = np.unique(units[held][order], return_index=True)
    first_kept = dict(zip(holders.tolist(), docs[held][order][first].tolist()))
    return {int(v): (int(c), first_kept.get(int(v), -1)) for v, c in zip(values[frequent], counts[frequent])}


def _roots(parent: np.ndarray) -> np.ndarray:
    """The root of every document, by pointer jumping (the union keeps ``parent[x] <= x``, so
    this ends at the roots :func:`_find` would give), with no Python object per document."""
    roots: np.ndarray = parent.copy()
    while True:
        jumped: np.ndarray = roots[roots]
        if np.array_equal(jumped, roots):
            return roots
        roots = jumped


def _component_table(roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The members of every component of two or more documents, components in order of root and
    members in document order, and where each component starts among them (with the end last).
    Singletons, most of a corpus, are left out; nothing is a Python object per component."""
    sizes = np.bincount(roots, minlength=len(roots))
    grouped = np.flatnonzero(sizes[roots] > 1)
    members = grouped[np.argsort(roots[grouped], kind="stable")]
    if not len(members):
        return members, np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(np.diff(roots[members])) + 1
    return members, np.concatenate([[0], starts, [len(members)]]).astype(np.int64)


def _resolve_components(roots: np.ndarray, measure: _Similarity) -> None:
    """Resolve, in one batch, every pair inside each small component (for the chain guard). A
    component of two has one pair, the one that joined it, resolved already."""
    members, bounds = _component_table(roots)
    sizes = np.diff(bounds)
    wanted = [
        pair for k in np.flatnonzero((sizes > 2) & (sizes <= PAIRWISE_LIMIT)).tolist()
        for pair in combinations(members[bounds[k] : bounds[k + 1]].tolist(), 2)
    ]
    if wanted:
        pairs = np.array(wanted, dtype=np.int64)
        pairs = pairs[measure.known.missing(pairs)]
        if len(pairs):
            measure.resolve(pairs)


def _assign(roots: np.ndarray, measure: _Similarity, fingerprints: Fingerprints, config: DedupConfig,
            plan: DocumentPlan) -> int:
    """Choose keepers per connected component, guarding against chains, and number the clusters
    in order of component. Components of two whose pair is at the threshold (all of them: that
    pair joined them), most of a corpus's, are decided together in numpy, as the loop of
    :func:`_component_keepers` would decide each."""
    threshold, keep = config.match.threshold, config.policy.keep
    members, bounds = _component_table(roots)
    starts, sizes = bounds[:-1], np.diff(bounds)
    two = np.flatnonzero(sizes == 2)
    pairs = np.stack([members[starts[two]], members[starts[two] + 1]], axis=1)
    sims = measure.known.lookup(pairs)
    at_threshold = sims >= threshold  # (NaN, not resolved yet, is not)
    two, pairs, sims = two[at_threshold], pairs[at_threshold], sims[at_threshold]
    clusters = np.ones(len(sizes), dtype=np.int64)  # of each component
    groups: dict[int, list[list[int]]] = {}
    for k in np.setdiff1d(np.arange(len(sizes)), two, assume_unique=True).tolist():
        groups[k] = _component_keepers(members[bounds[k] : bounds[k + 1]], measure, fingerprints, config, plan)
        clusters[k] = len(groups[k])
    first = np.cumsum(clusters) - clusters  # the number of each component's first cluster
    keeper, member = pairs[:, 0], pairs[:, 1]
    if keep == "longest":  # the longer, or the first of two as long
        swap = fingerprints.lengths[member] > fingerprints.lengths[keeper]
        keeper, member = np.where(swap, member, keeper), np.where(swap, keeper, member)
    plan.duplicate_of[member] = keeper
    plan.similarity[member] = [round(sim, 4) for sim in sims.tolist()]
    plan.cluster[keeper] = plan.cluster[member] = first[two]
    if keep == "none":
        plan.duplicate_of[keeper] = keeper
    for k, found in groups.items():
        for number, group in enumerate(found, start=int(first[k])):
            plan.cluster[group] = number
    return int(clusters.sum())


def _component_keepers(members: np.ndarray, measure: _Similarity, fingerprints: Fingerprints,
                       config: DedupConfig, plan: DocumentPlan) -> list[list[int]]:
    """Decide one component (members in document order): each member, in order of the keep
    policy, is a duplicate of the most similar keeper at the threshold, else a keeper itself.
    Returns its clusters, a keeper and its duplicates each."""
    threshold, keep = config.match.threshold, config.policy.keep
    if keep == "longest":
        members = members[np.argsort(-fingerprints.lengths[members], kind="stable")]
    keepers: list[int] = []
    # Pairs of small components were all resolved (exactly near the threshold) beforehand;
    # in larger ones, pairs not resolved yet are estimated on their signatures: checking
    # them exactly one at a time would re-read the corpus for each.
    exact = len(members) <= PAIRWISE_LIMIT
    for member in members.tolist():
        best, best_sim = -1, -1.0
        for keeper in keepers:
            sim = measure.get(member, keeper, exact)
            if sim >= threshold and sim > best_sim:
                best, best_sim = keeper, sim
        if best < 0:
            keepers.append(member)
        else:
            plan.duplicate_of[member] = best
            plan.similarity[member] = round(best_sim, 4)
    found: list[list[int]] = []
    for keeper in keepers:
        group = [keeper] + [m for m in members.tolist() if plan.duplicate_of[m] == keeper]
        if len(group) > 1:
            found.append(group)
            if keep == "none":
                plan.duplicate_of[keeper] = keeper
    return found


# --------------------------------------------------------------------------- library


def containment(copy: np.ndarray, keeper: np.ndarray, size: int) -> float:
    """The share of a copy's words that the keeper has: a word counts when one of the copy's
    shingles holding it is among the keeper's. ``copy`` is the copy's shingles in reading order
    (``size`` words each), ``keeper`` the keeper's sorted and unique; 1.0 for an empty copy.
    Unlike the share of shingles, one inserted word costs one word, not ``size`` shingles.

    >>> containment(np.array([1, 2, 9, 4]), np.array([1, 2, 3, 4]), 2)  # words a b c d e, (c d) new
    1.0
    >>> containment(np.array([1, 8, 9, 4]), np.array([1, 2, 3, 4]), 2)  # word c only in (b c), (c d)
    0.8
    """
    if not len(copy):
        return 1.0
    if not len(keeper):
        return 0.0
    found = np.searchsorted(keeper, copy)
    hit = keeper[np.minimum(found, len(keeper) - 1)] == copy
    if len(copy) == 1:
        return float(hit[0])
    covered = np.convolve(hit.astype(np.int32), np.ones(size, dtype=np.int32)) > 0
    return int(np.count_nonzero(covered)) / len(covered)


def verify_containment(plan: DocumentPlan, shingles_of: Callable[[list[int]], dict[int, np.ndarray]],
                       size: int, minimum: float, threshold: float) -> None:
    """Check every removal against its keeper on the text that will be written.

    A duplicate is removed only when at least ``minimum`` of its words are in its keeper
    (``min_containment``, :func:`containment`: 0.95 by default, so a reprint adding a few words
    goes and one adding a paragraph stays); the share is recorded in ``plan.containment``.
    Otherwise it is checked against the other copies of its cluster kept so far (in document
    order): a copy of a near duplicate that was kept for its extra text is removed as a copy of
    that one (its Jaccard at least ``threshold``). When none holds it, it holds text the kept
    copies lack, and it stays (``plan.kept_near``): no text is lost, and a second run over the
    output decides the same. ``shingles_of`` gives each document's shingles in reading order.
    """
    n = len(plan.duplicate_of)
    plan.containment = np.full(n, np.nan)
    removed = [d for d in np.flatnonzero(plan.duplicate_of >= 0).tolist() if plan.duplicate_of[d] != d]
    if not removed:
        return
    keepers = [int(plan.duplicate_of[d]) for d in removed]
    sets = shingles_of(sorted(set(removed) | set(keepers)))
    unique = {k: sorted_unique(sets[k]) for k in sets}
    kept: dict[int, list[int]] = {}  # cluster -> its near duplicates kept so far, in order
    for d, k in zip(removed, keepers):
        inside = containment(sets[d], unique[k], size)
        if inside >= minimum:
            plan.containment[d] = round(inside, 4)
            continue
        others = kept.setdefault(int(plan.cluster[d]), [])
        for other in others:
            similar = jaccard(unique[d], unique[other])
            share = containment(sets[d], unique[other], size)
            if similar >= threshold and share >= minimum:
                plan.duplicate_of[d] = other
                plan.similarity[d] = round(similar, 4)
                plan.containment[d] = round(share, 4)
                break
        else:
            plan.kept_near[d] = (k, float(plan.similarity[d]), round(inside, 4))
            plan.duplicate_of[d] = -1
            plan.similarity[d] = 0.0
            others.append(d)


@dataclass(frozen=True)
class Decisions:
    """What pass 2 needs to know of the plan: the plan (None outside corpus mode), every
    document's id, and the documents skipped because their id repeats an earlier one."""

    plan: DocumentPlan | None
    ids: IdTable
    repeated: frozenset[int] = frozenset()
