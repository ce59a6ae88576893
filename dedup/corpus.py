"""Corpus mode: near-duplicate documents and cross-document boilerplate, in two streaming passes.

Pass 1 (map, in worker processes): each document is repaired and segmented, and yields a
compact :class:`Fingerprints` batch: a MinHash signature of its word shingles, the hash of its
matching key, and the hashes of its paragraphs, lines and sentences. Only these numpy arrays are
kept, so memory grows with the number of documents, never with the bytes read.

Between the passes (in the parent): LSH band keys are bucketed with a sort (the same band
ranges as datasketch's ``MinHashLSH``, checked against it in the tests), candidate pairs are
verified by signature agreement, clusters are formed with a chain guard (every member must be
similar to its keeper, not merely linked through a chain), and unit hashes found in at least K
documents become boilerplate. Under a ``--memory`` budget too small for the signatures, they stay
on disk and the buckets are resolved out of core (:func:`spilled_candidates`), with the same result.

Pass 2 (map, in worker processes): each document is cleaned with the boilerplate set, or
dropped (or annotated) as a duplicate of its keeper.

Both passes are plain functions over batches, so the same code runs in-process, in a local
process pool, or on a distributed engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from dedup.config import DedupConfig
from dedup.document import CleanResult, Document
from dedup.fingerprint import (
    exact_hash,
    key_for,
    key_shingles,
    signatures,
    sorted_unique,
)
from dedup.policy import Boilerplate, Paragraph, boilerplate_units

__all__ = [
    "Fingerprints",
    "SignatureFile",
    "SignatureRows",
    "fingerprint_batch",
    "document_shingles",
    "documents_shingles",
    "exact_jaccard",
    "band_keys",
    "unique_pairs",
    "candidate_pairs",
    "DocumentPlan",
    "plan_corpus",
    "Deduplicator",
    "CorpusResult",
    "DocumentResult",
]


class SignatureFile:
    """Signatures that stay on disk (row-major ``uint32``, ``rows × num_perm``) when they exceed
    half of a ``memory`` budget. They are read in row chunks or by row index with plain reads,
    never mapped whole, so what is resident is only what a step holds (file pages sit in the
    page cache, which the kernel can drop, and do not count in the process's RSS)."""

    def __init__(self, path: str, rows: int, num_perm: int, memory: int) -> None:
        self.path = path
        self.rows = rows
        self.num_perm = num_perm
        self.memory = memory

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.num_perm

    def __len__(self) -> int:
        return self.rows

    @property
    def row_bytes(self) -> int:
        return self.num_perm * 4

    def chunk_rows(self, fraction: int) -> int:
        """Rows in a chunk of ``1 / fraction`` of the budget (at least one)."""
        return max(1, self.memory // fraction // self.row_bytes)

    def chunks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, signatures)`` for consecutive chunks of ``rows`` rows."""
        for start in range(0, self.rows, rows):
            count = min(rows, self.rows - start)
            chunk = np.fromfile(self.path, dtype=np.uint32, count=count * self.num_perm,
                                offset=start * self.row_bytes)
            yield start, chunk.reshape(count, self.num_perm)

    def take(self, indices: np.ndarray) -> np.ndarray:
        """The signatures of rows ``indices`` (any order, repeats allowed), reading each distinct
        row once, runs of consecutive rows in one read."""
        import os

        wanted, inverse = np.unique(np.asarray(indices, dtype=np.int64), return_inverse=True)
        out = np.empty((len(wanted), self.num_perm), dtype=np.uint32)
        if len(wanted):
            view = out.data.cast("B")
            breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
            starts = np.concatenate([[0], breaks]).tolist()
            ends = np.concatenate([breaks, [len(wanted)]]).tolist()
            size = self.row_bytes
            fd = os.open(self.path, os.O_RDONLY)
            try:
                for a, b in zip(starts, ends):
                    if os.preadv(fd, [view[a * size : b * size]], int(wanted[a]) * size) != (b - a) * size:
                        raise OSError(f"{self.path}: short read")
            finally:
                os.close(fd)
        return out[inverse.reshape(-1)]


class SignatureRows:
    """Signatures in anonymous shared memory, one row per line of a JSONL file (row = line number
    - 1). Pass-1 workers, forked after it was made, write the rows of the documents they read in
    place: the signatures (512 bytes per document) never cross a pipe, nor are they copied into
    the parent. When pass 1 is done :meth:`compact` moves them into document order. Rows of lines
    that hold no document (blank or skipped) are never written, and shared memory is only
    allocated for the pages that are."""

    def __init__(self, lines: int, num_perm: int) -> None:
        import mmap

        self._buffer = mmap.mmap(-1, max(1, lines) * num_perm * 4)
        self.table = np.frombuffer(self._buffer, dtype=np.uint32).reshape(-1, num_perm)

    def put(self, rows: np.ndarray, signatures: np.ndarray) -> None:
        """Write ``signatures`` at ``rows`` (ascending)."""
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1:
            self.table[rows[0] : rows[-1] + 1] = signatures
        else:
            self.table[rows] = signatures

    def compact(self, rows: np.ndarray) -> np.ndarray:
        """The signatures of all documents in order, given the row of each (ascending), moved
        down in place: a row never moves up, so no row is overwritten before it is read."""
        n = len(rows)
        if n and rows[-1] != n - 1:  # (else every row is a document, already in place)
            if not (np.diff(rows) > 0).all():
                raise ValueError("signature rows must be ascending")
            step = 1 << 16
            for k in range(0, n, step):
                self.table[k : min(k + step, n)] = self.table[rows[k : k + step]]
        return self.table[:n]

    def holds(self, sigs: np.ndarray) -> bool:
        """Whether ``sigs`` are this table's first rows (as :meth:`compact` returned them)."""
        return bool(sigs.__array_interface__["data"][0] == self.table.__array_interface__["data"][0])


@dataclass
class Fingerprints:
    """Pass-1 output for a batch of documents, as flat numpy arrays."""

    signatures: np.ndarray | SignatureFile  # (n, num_perm) uint32, in memory or on disk
    doc_hashes: np.ndarray  # (n,) uint64
    lengths: np.ndarray  # (n,) int64, characters of the repaired text
    unit_hashes: np.ndarray  # (m,) uint64, unique per document
    unit_docs: np.ndarray  # (m,) int64, batch-local document index of each unit hash
    #: With a :class:`SignatureRows` table: the rows holding the batch's signatures (and
    #: ``signatures`` is empty).
    rows: np.ndarray | None = None

    @classmethod
    def collect(cls, parts: Iterable[Fingerprints], num_perm: int, memory: int | None = None,
                spill_dir: str | None = None, shared: SignatureRows | None = None) -> Fingerprints:
        """Join batches in order without ever holding the signatures twice: each batch's
        signatures are appended to one growing buffer as they arrive. If they fit in half of the
        ``memory`` budget (or there is no budget) they stay there; once they do not, they go to a
        file in ``spill_dir`` instead and stay on disk as a :class:`SignatureFile`, which the plan
        reads in chunks sized to the budget. Batches whose signatures are already in the
        ``shared`` table (all of them, when it is given) only give their rows."""
        import os
        import tempfile

        budget = memory // 2 if memory is not None and spill_dir is not None else None
        small: list[Fingerprints] = []
        buffer = bytearray()  # grown in place (a large realloc remaps pages, it does not copy them)
        spill: Any = None
        path = ""
        try:
            for part in parts:
                if shared is not None:
                    if part.rows is None:
                        raise ValueError("a batch whose signatures are not in the shared table")
                    small.append(part)
                    continue
                data = np.ascontiguousarray(part.signatures, dtype=np.uint32).reshape(-1).view(np.uint8).data
                if spill is None and budget is not None and len(buffer) + len(data) > budget:
                    handle, path = tempfile.mkstemp(prefix="signatures-", suffix=".u32", dir=spill_dir)
                    spill = os.fdopen(handle, "wb")
                    spill.write(buffer)
                    buffer = bytearray()
                if spill is not None:
                    spill.write(data)
                else:
                    buffer += data
                small.append(cls(np.empty((0, num_perm), np.uint32), part.doc_hashes, part.lengths,
                                 part.unit_hashes, part.unit_docs))
            joined = cls.concatenate(small, num_perm)
            if shared is not None:
                rows, joined.rows = joined.rows, None
                joined.signatures = shared.compact(rows if rows is not None else np.empty(0, np.int64))
            elif spill is not None and memory is not None:  # (a budget is what made it spill)
                spill.close()
                joined.signatures = SignatureFile(path, len(joined.doc_hashes), num_perm, memory)
                path = ""  # the caller's spill directory removes it after the plan
            else:
                joined.signatures = np.frombuffer(buffer, dtype=np.uint32).reshape(-1, num_perm)
        finally:
            if spill is not None:
                spill.close()
            if path:
                os.unlink(path)
        return joined

    @classmethod
    def concatenate(cls, parts: Sequence[Fingerprints], num_perm: int) -> Fingerprints:
        """Join batches in order, renumbering documents."""
        offsets = np.cumsum([0] + [len(p.doc_hashes) for p in parts])
        return cls(
            np.concatenate([p.signatures for p in parts]) if parts else np.empty((0, num_perm), np.uint32),
            np.concatenate([p.doc_hashes for p in parts]) if parts else np.empty(0, np.uint64),
            np.concatenate([p.lengths for p in parts]) if parts else np.empty(0, np.int64),
            np.concatenate([p.unit_hashes for p in parts]) if parts else np.empty(0, np.uint64),
            np.concatenate([p.unit_docs + o for p, o in zip(parts, offsets)]) if parts else np.empty(0, np.int64),
            np.concatenate([p.rows for p in parts]) if parts and all(p.rows is not None for p in parts) else None,
        )


def fingerprint_batch(texts: Sequence[str], config: DedupConfig,
                      segments: list[tuple[int, tuple[Paragraph, ...]] | None] | None = None) -> Fingerprints:
    """Pass 1 over a batch of document texts. With a ``segments`` list, each document's
    paragraphs are appended to it when repair left the text unchanged (else None), for pass 2."""
    from dedup.pipeline import paragraphs_of, repaired_text
    from dedup.segment import segmenter_for

    fp = config.fingerprint
    want_units = config.policy.boilerplate != "keep"
    keys: list[str] = []
    doc_hashes = np.zeros(len(texts), dtype=np.uint64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    unit_hashes: list[np.ndarray] = []
    unit_docs: list[np.ndarray] = []
    for index, text in enumerate(texts):
        repaired, edits, boundaries = repaired_text(text, config)
        key = key_for(repaired, fp)
        doc_hashes[index] = exact_hash(key)
        lengths[index] = len(repaired)
        keys.append(key)
        if not want_units:
            if segments is not None:
                segments.append(None)
            continue
        paragraphs = paragraphs_of(repaired, segmenter_for(config.segment), boundaries)
        if segments is not None:
            segments.append(None if edits or boundaries else (len(text), paragraphs))
        units = np.array(boilerplate_units(repaired, paragraphs, config), dtype=np.uint64)
        unit_hashes.append(units)
        unit_docs.append(np.full(len(units), index, dtype=np.int64))
    return Fingerprints(
        signatures(key_shingles(keys, fp.shingle_size), fp.num_perm, fp.seed),
        doc_hashes,
        lengths,
        np.concatenate(unit_hashes) if unit_hashes else np.empty(0, np.uint64),
        np.concatenate(unit_docs) if unit_docs else np.empty(0, np.int64),
    )


def document_shingles(text: str, config: DedupConfig) -> np.ndarray:
    """The sorted, unique shingle hashes of a document, exactly as pass 1 signs them."""
    return documents_shingles([text], config)[0]


def documents_shingles(texts: Sequence[str], config: DedupConfig) -> list[np.ndarray]:
    """:func:`document_shingles` of many documents, word hashing and shingling vectorised over
    them all (as pass 1 does), not one document at a time."""
    from dedup.pipeline import repaired_text

    keys = [key_for(repaired_text(text, config)[0], config.fingerprint) for text in texts]
    return [sorted_unique(shingles) for shingles in key_shingles(keys, config.fingerprint.shingle_size)]


def exact_jaccard(pairs: np.ndarray, texts: Iterable[tuple[int, str]], config: DedupConfig) -> np.ndarray:
    """Exact Jaccard of document ``pairs``, reading ``(index, text)`` once and keeping the
    shingles of only the documents the pairs name."""
    needed = set(pairs.ravel().tolist())
    shingles: dict[int, np.ndarray] = {}
    for index, text in texts:
        if index in needed:
            shingles[index] = document_shingles(text, config)
            if len(shingles) == len(needed):
                break
    return pair_jaccard(pairs, shingles)


def pair_jaccard(pairs: np.ndarray, shingles: Mapping[int, np.ndarray]) -> np.ndarray:
    """Exact Jaccard of document ``pairs`` from each document's sorted unique shingles."""
    result = np.zeros(len(pairs))
    for k, (i, j) in enumerate(pairs.tolist()):
        a, b = shingles[i], shingles[j]
        if len(a) > len(b):
            a, b = b, a
        if not len(a):
            result[k] = 0.0 if len(b) else 1.0
            continue
        # Each of the shorter set's shingles looked up in the longer (both sorted and unique).
        found = np.searchsorted(b, a)
        shared = int(np.count_nonzero(b[np.minimum(found, len(b) - 1)] == a))
        result[k] = shared / (len(a) + len(b) - shared)
    return result


def band_keys(sigs: np.ndarray, bands: int, rows: int, first: int = 0) -> np.ndarray:
    """One 64-bit key per (document, band): a hash of the band's ``rows`` hash values, over the
    same ranges as datasketch's ``MinHashLSH`` (band ``i`` covers ``[i*rows, (i+1)*rows)``).
    Shape ``(n, bands)``.

    The values are combined with odd 64-bit multipliers, one per position, plus a seed for the
    band's global position, then mixed once (``fmix64``, a bijection): two different bands of
    values get the same key only if the weighted sums of their differences vanish mod 2^64,
    which one differing value alone can never do."""
    from dedup.fingerprint import _fmix64

    n = len(sigs)
    keys = np.empty((n, bands - first), dtype=np.uint64)
    mixers = _band_mixers(rows)
    with np.errstate(over="ignore"):
        for band in range(first, bands):
            # The band's columns, each contiguous (one pass over the signatures).
            block = np.ascontiguousarray(sigs[:, band * rows : (band + 1) * rows]).T.copy()
            h = np.full(n, np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
            for column in range(rows):
                h += block[column] * mixers[column]
            keys[:, band - first] = _fmix64(h)
    return keys


@functools.lru_cache(maxsize=8)
def _band_mixers(rows: int) -> np.ndarray:
    """Odd 64-bit multipliers for the positions of a band (fmix64 of a Weyl sequence)."""
    from dedup.fingerprint import _fmix64

    with np.errstate(over="ignore"):
        steps = np.arange(1, rows + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return _fmix64(steps) | np.uint64(1)


def candidate_pairs(keys: np.ndarray) -> np.ndarray:
    """Candidate pairs ``(i, j)`` with ``i < j`` sharing a band key, as stars: each document in a
    bucket is paired with the bucket's first document, never all pairs (cliques)."""
    return band_shard_pairs(keys, np.arange(len(keys), dtype=np.int64))


def band_shard_pairs(keys: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The reduce of a band shard: star edges ``(head, doc)`` of every bucket, where ``keys`` is
    ``(m, b)`` (one column per band of the shard) and ``docs`` the ``(m,)`` document of each row.
    A bucket is the rows with equal keys in one column; its head is its smallest document. The
    rows may be any subset of documents that holds every bucket whole (all documents, or one
    radix partition of the key space), in any order. Sorted, unique pairs with ``head < doc``."""
    m, bands = keys.shape
    pairs: list[np.ndarray] = []
    for band in range(bands):
        column = keys[:, band]
        order = np.argsort(column)  # buckets contiguous; within one, any order (the head is its minimum)
        sorted_keys = column[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
        del sorted_keys
        sorted_docs = docs[order]
        del order
        head = np.repeat(np.minimum.reduceat(sorted_docs, starts), np.diff(np.append(starts, m)))
        mask = head != sorted_docs
        if mask.any():
            pairs.append(np.stack([head[mask], sorted_docs[mask]], axis=1))
    return unique_pairs(pairs)


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, faster where equal values are few (on 10^6 hashes: 2x
    with 5% of them repeated, 6x with none): numpy's unstable sort, then the positions of each run
    of equal values put in order.

    >>> stable_argsort(np.array([3, 1, 3, 2, 1])).tolist()
    [1, 4, 3, 0, 2]
    """
    order = np.argsort(values)
    ordered = values[order]
    tie = ordered[1:] == ordered[:-1]
    if tie.any():
        in_run = np.zeros(len(order), dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)  # whole runs, each in place: only the positions inside change
        order[at] = order[at][np.lexsort((order[at], ordered[at]))]
    return order


def unique_pairs(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The sorted unique rows of ``(k, 2)`` arrays of non-negative document pairs, as
    ``np.unique(..., axis=0)`` gives them (each pair coded as one integer to sort, when it fits)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(parts).astype(np.int64, copy=False)
    bound = int(pairs.max()) + 1
    if bound >= 1 << 31:
        return np.unique(pairs, axis=0)
    codes = sorted_unique(pairs[:, 0] * bound + pairs[:, 1])
    return np.stack([codes // bound, codes % bound], axis=1)


@dataclass
class DocumentPlan:
    """What pass 2 does with each document, decided between the passes."""

    duplicate_of: np.ndarray  # (n,) int64, -1 when kept
    similarity: np.ndarray  # (n,) float64
    cluster: np.ndarray  # (n,) int64, -1 when the document is alone
    boilerplate: dict[int, tuple[int, int]] = field(default_factory=dict)
    clusters: int = 0
    boilerplate_threshold: int = 0

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
_PAIRWISE_LIMIT = 64


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
        return np.isnan(self.lookup(pairs))

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


CandidatePairs = Callable[[np.ndarray, int, int], np.ndarray]
"""Candidate pairs from signatures, bands and rows (local, or band-sharded on an engine)."""


def local_candidates(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """All bands in this process, one band at a time (8 bytes of keys per document held)."""
    return unique_pairs([band_candidates(sigs, band, rows) for band in range(bands)])


def band_candidates(sigs: np.ndarray, band: int, rows: int) -> np.ndarray:
    """The star edges of one band (8 bytes of keys per document held)."""
    return candidate_pairs(band_keys(sigs, band + 1, rows, band))


#: Bytes of working memory per record while a partition is resolved (the records, their sort
#: order and the bucket heads), used to size radix partitions to the budget.
_REDUCE_BYTES = 96
#: Band-key records ``(key, doc)`` as they are spilled.
_RECORD = np.dtype([("key", "<u8"), ("doc", "<i8")])
#: At most 2**10 radix partitions per band (a budget too small for that is not met).
_MAX_RADIX_BITS = 10


def spilled_candidates(sigs: SignatureFile, bands: int, rows: int) -> np.ndarray:
    """:func:`local_candidates` out of core, with the same result.

    The signature file is streamed in row chunks of an eighth of the budget; each chunk's band
    keys (a key depends only on its row, so chunking changes nothing) are appended to disk as
    ``(key, doc)`` records, one file per band and radix partition (the high bits of the key),
    with as many partitions as it takes for one to be sorted in a quarter of the budget. Each
    partition holds whole buckets and is resolved in memory by :func:`band_shard_pairs`, the
    reduce the Ray engine runs per band shard. The files live in a temporary directory beside the
    signature file and are removed as they are read, and in any case on the way out.
    """
    import os
    import tempfile

    n = len(sigs)
    wanted_parts = -(-n * _REDUCE_BYTES // max(1, sigs.memory // 4))
    bits = min(_MAX_RADIX_BITS, max(0, int(wanted_parts - 1).bit_length()))
    parts = 1 << bits
    found: list[np.ndarray] = []
    with tempfile.TemporaryDirectory(prefix="band-keys-", dir=os.path.dirname(sigs.path) or None) as directory:
        def path(band: int, part: int) -> str:
            return os.path.join(directory, f"band{band}-part{part}.rec")

        for start, chunk in sigs.chunks(sigs.chunk_rows(8)):
            docs = np.arange(start, start + len(chunk), dtype=np.int64)
            for band in range(bands):
                keys = band_keys(chunk, band + 1, rows, band)[:, 0]
                records = np.empty(len(chunk), dtype=_RECORD)
                if bits:
                    part_of = (keys >> np.uint64(64 - bits)).astype(np.int64)
                    order = np.argsort(part_of, kind="stable")
                    records["key"], records["doc"] = keys[order], docs[order]
                    bounds = np.searchsorted(part_of[order], np.arange(parts + 1))
                else:
                    records["key"], records["doc"] = keys, docs
                    bounds = np.array([0, len(chunk)])
                for part in np.flatnonzero(np.diff(bounds)).tolist():
                    with open(path(band, part), "ab") as handle:
                        records[bounds[part] : bounds[part + 1]].tofile(handle)
        for band in range(bands):
            for part in range(parts):
                if not os.path.exists(path(band, part)):
                    continue
                records = np.fromfile(path(band, part), dtype=_RECORD)
                os.unlink(path(band, part))
                edges = band_shard_pairs(records["key"].reshape(-1, 1), records["doc"].copy())
                del records
                if len(edges):
                    found.append(edges)
    return unique_pairs(found)


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
            pairs = pairs[measure.resolve(pairs) >= match.threshold]
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
    if len(units) and policy.boilerplate != "keep":
        kept_docs = duplicate_of < 0
        mask = kept_docs[docs]
        units, docs = units[mask], docs[mask]
        order = np.lexsort((docs, units))
        units, docs = units[order], docs[order]
        values, first, counts = np.unique(units, return_index=True, return_counts=True)
        frequent = counts >= threshold
        plan.boilerplate = {
            int(v): (int(c), int(docs[f]))
            for v, f, c in zip(values[frequent], first[frequent], counts[frequent])
        }
    return plan


def _roots(parent: np.ndarray) -> np.ndarray:
    """The root of every document, by pointer jumping (the union keeps ``parent[x] <= x``, so
    this ends at the roots :func:`_find` would give), with no Python object per document."""
    roots = parent.copy()
    while True:
        jumped = roots[roots]
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
        pair for k in np.flatnonzero((sizes > 2) & (sizes <= _PAIRWISE_LIMIT)).tolist()
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
    exact = len(members) <= _PAIRWISE_LIMIT
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


@dataclass(frozen=True)
class DocumentResult:
    """The outcome for one document of a corpus run."""

    id: str
    text: str | None  # None when the document was dropped as a duplicate
    result: CleanResult | None
    duplicate_of: str | None = None
    similarity: float | None = None
    cluster: int | None = None


@dataclass(frozen=True)
class CorpusResult:
    """What :meth:`Deduplicator.run` returns."""

    documents: tuple[DocumentResult, ...]
    clusters: int
    boilerplate_threshold: int
    boilerplate_units: int

    @property
    def kept(self) -> list[DocumentResult]:
        """Documents that stay, in input order."""
        return [d for d in self.documents if d.text is not None]


def _as_document(item: Document | str, position: int) -> Document:
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(str(position), item)
    raise TypeError(f"document {position}: expected a str or dedup.Document, got {type(item).__name__}")


class Deduplicator:
    """Deduplicate a collection of documents: near-duplicate documents, cross-document
    boilerplate, and the within-document cleaning of :func:`dedup.clean`.

    ``run`` makes the same two passes as ``dedup clean`` on a corpus (same decisions, same
    text); ``stream`` makes one pass and yields each document as soon as it is decided, matching
    it against the documents kept so far (boilerplate is then a unit already seen in K kept
    documents).

    >>> from dedup.corpus import Deduplicator
    >>> docs = ["The council approved the budget on Tuesday after a long debate about roads.",
    ...         "The council approved the budget on Tuesday after a long debate about roads.",
    ...         "A storm knocked out power to thousands of homes across the region on Saturday."]
    >>> [d.duplicate_of for d in Deduplicator().run(docs).documents]
    [None, '0', None]
    """

    def __init__(self, config: DedupConfig | None = None, **overrides: Any) -> None:
        from dedup.config import make_config

        self.config = make_config(config, **overrides)

    def run(self, documents: Iterable[Document | str]) -> CorpusResult:
        """Two passes over ``documents`` (held in memory; for files use the CLI)."""
        from dedup.pipeline import explain_text, prepared_from

        docs = [_as_document(item, i) for i, item in enumerate(documents)]
        segments: list[tuple[int, tuple[Paragraph, ...]] | None] = []
        fingerprints = fingerprint_batch([d.text for d in docs], self.config, segments)
        plan = plan_corpus(fingerprints, self.config, lambda pairs: exact_jaccard(
            pairs, ((i, docs[i].text) for i in sorted(set(pairs.ravel().tolist()))), self.config))
        results = []
        for index, doc in enumerate(docs):
            keeper = int(plan.duplicate_of[index])
            cluster = int(plan.cluster[index]) if plan.cluster[index] >= 0 else None
            if keeper >= 0:
                results.append(DocumentResult(doc.id, None, None, docs[keeper].id,
                                              float(plan.similarity[index]), cluster))
                continue
            cleaned = explain_text(doc.text, self.config, plan.boilerplate_for(index),
                                   prepared_from(doc.text, segments[index]))
            results.append(DocumentResult(doc.id, cleaned.text, cleaned, None, None, cluster))
        return CorpusResult(tuple(results), plan.clusters, plan.boilerplate_threshold, len(plan.boilerplate))

    def stream(self, documents: Iterable[Document | str]) -> Iterator[DocumentResult]:
        """One pass: yield each document's outcome as soon as it is decided."""
        from datasketch import MinHashLSH

        from dedup.fingerprint import Signature
        from dedup.index import lsh_for
        from dedup.pipeline import explain_text, prepare

        config = self.config
        fp, match = config.fingerprint, config.match
        bands, rows = lsh_for(match.threshold, fp.num_perm, match.bands, match.rows)
        lsh = MinHashLSH(num_perm=fp.num_perm, params=(bands, rows))
        kept_signatures: dict[int, np.ndarray] = {}
        kept_ids: dict[int, str] = {}
        exact: dict[int, int] = {}
        unit_counts: dict[int, tuple[int, int]] = {}  # unit hash -> (documents, first document)
        threshold = config.policy.boilerplate_threshold(0)
        for position, item in enumerate(documents):
            doc = _as_document(item, position)
            prepared = prepare(doc.text, config)
            key = key_for(prepared.text, fp)
            doc_hash = exact_hash(key)
            signature = signatures(key_shingles([key], fp.shingle_size), fp.num_perm, fp.seed)[0]
            keeper, similarity = exact.get(doc_hash), 1.0
            if keeper is None and config.policy.dedup_documents and key:
                best = -1.0
                for candidate in sorted(lsh.query(Signature(signature, fp.seed))):
                    sim = float((kept_signatures[candidate] == signature).mean())
                    if sim >= match.threshold and sim > best:
                        keeper, best = candidate, sim
                similarity = best
            if keeper is not None and config.policy.dedup_documents:
                yield DocumentResult(doc.id, None, None, kept_ids[keeper], round(similarity, 4))
                continue
            units = boilerplate_units(prepared.text, prepared.paragraphs, config)
            seen = {u: unit_counts[u] for u in units if u in unit_counts and unit_counts[u][0] + 1 >= threshold}
            cleaned = explain_text(doc.text, config, Boilerplate(seen, position), prepared)
            for unit in units:
                count, first = unit_counts.get(unit, (0, position))
                unit_counts[unit] = (count + 1, first)
            exact.setdefault(doc_hash, position)
            if key:
                lsh.insert(position, Signature(signature, fp.seed), check_duplication=False)
            kept_signatures[position] = signature
            kept_ids[position] = doc.id
            yield DocumentResult(doc.id, cleaned.text, cleaned)
