"""LSH over document signatures: band keys, candidate pairs (stars per bucket), in memory or
out of core under a ``--memory`` budget (:func:`spilled_candidates`, same pairs).

Band ranges are datasketch's ``MinHashLSH`` ranges (checked against it in the tests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from dedup.corpus.arrays import unique_pairs
from dedup.corpus.store import SignatureFile

__all__ = [
    "band_keys",
    "candidate_pairs",
    "band_shard_pairs",
    "band_candidates",
    "local_candidates",
    "spilled_candidates",
    "CandidatePairs",
]


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
        mixers: np.ndarray = _fmix64(steps) | np.uint64(1)
        return mixers


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
