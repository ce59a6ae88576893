"""Fingerprint: a normalised matching key, an exact hash and a MinHash signature per unit.

The key folds what should not make two copies differ (Unicode compatibility forms, case, quote
and dash styles, whitespace; punctuation and digits on request); the text itself is never
changed. Signatures are computed in numpy, in batches, bit-identical to datasketch's default
``affine32`` MinHash scheme fed with our shingle hash (a test holds this against
``datasketch.MinHash``): each word is hashed once with xxh3, ``n`` word hashes combine into a
shingle hash with no string building, and the permutations are datasketch's own.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xxhash

if TYPE_CHECKING:
    from dedup.config import FingerprintConfig

__all__ = [
    "normalize_key",
    "exact_hash",
    "word_hashes",
    "shingle_hashes",
    "shingle_hash_of",
    "signature_of",
    "signatures",
    "permutations",
    "Signature",
    "MINHASH_SCHEME",
    "EMPTY_HASH",
]

MINHASH_SCHEME = "affine32"
EMPTY_HASH = np.uint32(0xFFFFFFFF)

_QUOTES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
})
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]+")
_DIGITS = re.compile(r"\d+")
_U64 = np.uint64
# Odd multipliers combining the word hashes of one shingle, position by position.
_MIXERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9] * 4,
    dtype=np.uint64,
)


def normalize_key(text: str, *, fold_punctuation: bool = True, fold_digits: bool = False) -> str:
    """The matching key of a unit: what two copies must share to count as the same.

    >>> normalize_key("Azerbaijan’s  swift — OPERATION.")
    "azerbaijan's swift operation"
    >>> normalize_key("Azerbaijan's swift - operation", fold_punctuation=False)
    "azerbaijan's swift - operation"
    """
    if text.isascii():
        key = text.lower()  # NFKC, case folding and the quote table change nothing else here
    else:
        key = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    if fold_punctuation:
        key = _PUNCT.sub(lambda m: "'" if m.group() == "'" else " ", key)
        key = key.replace(" '", " ").replace("' ", " ")
    if fold_digits:
        key = _DIGITS.sub("0", key)
    return _SPACE.sub(" ", key).strip().strip("'")


def key_for(text: str, config: FingerprintConfig) -> str:
    """:func:`normalize_key` with a config's folding settings. Short texts (units) are memoised:
    the same sentence is keyed by several stages; documents are not, to bound memory."""
    if len(text) <= 1000:
        return _short_key(text, config.fold_punctuation, config.fold_digits)
    return normalize_key(text, fold_punctuation=config.fold_punctuation, fold_digits=config.fold_digits)


@functools.lru_cache(maxsize=8192)
def _short_key(text: str, fold_punctuation: bool, fold_digits: bool) -> str:
    return normalize_key(text, fold_punctuation=fold_punctuation, fold_digits=fold_digits)


def exact_hash(key: str) -> int:
    """64-bit hash of a key (xxh3), stable across processes and machines.

    >>> exact_hash("a b") == exact_hash("a b")
    True
    """
    return xxhash.xxh3_64_intdigest(key.encode("utf-8"))


def word_hashes(words: Sequence[str]) -> np.ndarray:
    """xxh3 of each word, as uint64."""
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(w.encode("utf-8")) for w in words), dtype=np.uint64, count=len(words)
    )


def key_word_hashes(key: str) -> np.ndarray:
    """Word hashes of a normalised key (words separated by single spaces): the same values as
    ``word_hashes(key.split())``, computed on the encoded bytes in one pass.

    >>> bool((key_word_hashes("a b c") == word_hashes(["a", "b", "c"])).all())
    True
    """
    return np.array(list(map(xxhash.xxh3_64_intdigest, key.encode("utf-8").split())), dtype=np.uint64)


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def shingle_hashes(hashes: np.ndarray, n: int) -> np.ndarray:
    """32-bit hashes of the word ``n``-grams given word hashes; fewer than ``n`` words make one
    shingle of them all; no words make none.

    >>> shingle_hashes(word_hashes("a b c d".split()), 3).shape
    (2,)
    """
    count = len(hashes)
    if count == 0:
        return np.empty(0, dtype=np.uint32)
    width = min(n, count)
    total = count - width + 1
    with np.errstate(over="ignore"):
        combined = hashes[:total] * _MIXERS[0]
        for k in range(1, width):
            combined = combined + hashes[k : k + total] * _MIXERS[k]
        mixed = _fmix64(combined + _U64(width))
    return (mixed >> _U64(32)).astype(np.uint32)


def shingle_hash_of(words: Sequence[str]) -> int:
    """The hash of one shingle given as its words (the ``hashfunc`` datasketch would need to
    reproduce our signatures; used by tests and benchmarks, not on the hot path)."""
    return int(shingle_hashes(word_hashes(words), len(words))[0])


@functools.lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=MINHASH_SCHEME).permutations
    a = np.ascontiguousarray(a, dtype=np.uint32)
    b = np.ascontiguousarray(b, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signature_of(shingles: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signature (uint32, ``num_perm``) of a set of 32-bit shingle hashes."""
    a, b = permutations(num_perm, seed)
    if len(shingles) == 0:
        return np.full(num_perm, EMPTY_HASH, dtype=np.uint32)
    return _big(shingles, a, b)


def signatures(shingle_sets: Sequence[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    """Signatures of many shingle sets at once: an array of shape ``(len(shingle_sets), num_perm)``.

    >>> sets = [shingle_hashes(word_hashes("the cat sat on the mat".split()), 3)]
    >>> signatures(sets, 64, 1).shape
    (1, 64)
    """
    out = np.full((len(shingle_sets), num_perm), EMPTY_HASH, dtype=np.uint32)
    if not shingle_sets:
        return out
    a, b = permutations(num_perm, seed)
    lengths = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    nonempty = np.flatnonzero(lengths)
    # Batch small sets together: one matrix product and one segmented min per batch.
    batch: list[int] = []
    batch_size = 0
    for index in nonempty:
        batch.append(int(index))
        batch_size += int(lengths[index])
        if batch_size >= 8192:
            _fill(out, batch, shingle_sets, a, b)
            batch, batch_size = [], 0
    if batch:
        _fill(out, batch, shingle_sets, a, b)
    return out


def _fill(out: np.ndarray, rows: list[int], shingle_sets: Sequence[np.ndarray], a: np.ndarray,
          b: np.ndarray) -> None:
    if len(rows) == 1 and len(shingle_sets[rows[0]]) > 8192:
        out[rows[0]] = _big(shingle_sets[rows[0]], a, b)
        return
    parts = [shingle_sets[r] for r in rows]
    flat = np.concatenate(parts)
    starts = np.zeros(len(parts), dtype=np.int64)
    np.cumsum([len(p) for p in parts[:-1]], out=starts[1:])
    with np.errstate(over="ignore"):
        permuted = np.outer(_fmix32(flat), a) + b
    out[rows] = np.minimum.reduceat(permuted, starts, axis=0)


def _big(shingles: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    result = np.full(len(a), EMPTY_HASH, dtype=np.uint32)
    with np.errstate(over="ignore"):
        mixed = _fmix32(shingles)
        for chunk in range(0, len(mixed), 8192):
            part = mixed[chunk : chunk + 8192]
            np.minimum(result, (np.outer(part, a) + b).min(axis=0), out=result)
    return result


@dataclass(frozen=True, eq=False)
class Signature:
    """A MinHash as datasketch's LSH index expects it (``hashvalues``, ``seed``, ``scheme``)."""

    hashvalues: np.ndarray
    seed: int
    scheme: str = MINHASH_SCHEME

    def __len__(self) -> int:
        return len(self.hashvalues)


def tokens(key: str) -> list[str]:
    """The words of a matching key."""
    return key.split()
