"""Fingerprint: a normalised matching key, an exact hash and a MinHash signature per unit.

The key folds what should not make two copies differ (Unicode compatibility forms, case, quote
and dash styles, whitespace; punctuation and digits on request); the text itself is never
changed. Signatures are computed in numpy, in batches, bit-identical to datasketch's default
``affine32`` MinHash scheme fed with our shingle hash (a test holds this against
``datasketch.MinHash``): each word is hashed once (a polynomial hash of its UTF-8 bytes over
the whole batch in numpy, avalanched with the MurmurHash3 finaliser), ``n`` word hashes combine
into a shingle hash with no string building, and the permutations are datasketch's own.
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
    "KeyedTexts",
    "keyed_texts",
    "key_shingles",
    "key_word_hashes",
    "spaced_characters",
    "shingle_mode",
    "shingle_size_of",
    "document_shingles",
    "sorted_unique",
    "signatures",
    "permutations",
    "Signature",
    "MINHASH_SCHEME",
    "EMPTY_HASH",
]

MINHASH_SCHEME = "affine32"
EMPTY_HASH = np.uint32(0xFFFFFFFF)

_QUOTES = str.maketrans({
    "‘": "'", "’": "'", "ʼ": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
})
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s']+")
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'+|'+(?!\w)")
_DIGITS_BYTES = re.compile(rb"\d+")
# Lower-case ASCII letters, keep digits, '_' and the apostrophe, everything else is a space.
_PUNCT_NON_ASCII = re.compile(r"[^\x00-\x7f\w\s]+")
# A byte table over UTF-8 (bytes of non-ASCII characters pass unchanged); a backtick is an
# apostrophe typed on the wrong key: don`t.
_ASCII_FOLD_KEEP_HIGH = bytes(
    (0x27 if c == 0x60 else ord(chr(c).lower()) if chr(c).isalnum() or chr(c) in "_'" else 0x20)
    if c < 128 else c
    for c in range(256)
)
#: Apostrophe styles the key writes as ``'`` (other quotes are punctuation, hence space).
_APOSTROPHES = "’‘ʼ′"
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
    if fold_punctuation:
        folded = _folded_bytes(text, fold_digits)
        if folded is not None:
            return b" ".join(folded.split()).decode("utf-8")
    if text.isascii():
        key = text.lower()  # NFKC, case folding and the quote table change nothing else here
    else:
        if fold_punctuation:
            key = " ".join(_fold_characters(text).split())
            if _has_loose_apostrophe(key):
                key = " ".join(_LOOSE_APOSTROPHE.sub(" ", key).split())
            if fold_digits:
                key = _DIGITS.sub("0", key)
            return spaced_characters(key)
        key = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    if fold_punctuation:
        # Punctuation becomes space; an apostrophe survives only inside a word (azerbaijan's).
        key = _PUNCT.sub(" ", key)
        if "'" in key:
            key = _LOOSE_APOSTROPHE.sub(" ", key)
    if fold_digits:
        key = _DIGITS.sub("0", key)
    return spaced_characters(" ".join(key.strip().strip("'").split()))


# Scripts written without spaces between words: Han (with its iteration marks), Hiragana,
# Katakana, Thai, Lao, Myanmar, Khmer. In a key each of their characters is a word of its own, so
# shingles are character n-grams there and word n-grams elsewhere, in one token stream.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
)


def spaced_characters(key: str) -> str:
    """A key with each character of a script written without spaces made a word of its own (the
    key itself when it has none, as any key of English text).

    >>> spaced_characters("東京で big fire")
    '東 京 で big fire'
    """
    if key.isascii() or _UNSPACED.search(key) is None:
        return key
    return " ".join(_UNSPACED.sub(r" \g<0> ", key).split())


def shingle_mode(text: str) -> str:
    """How a text's key is shingled: ``words`` (no character of a script written without
    spaces), ``characters`` (no word of any other script) or ``mixed`` (both).

    >>> shingle_mode("The fire."), shingle_mode("東京の火事。"), shingle_mode("東京 Tower の火事")
    ('words', 'characters', 'mixed')
    """
    if text.isascii() or _UNSPACED.search(text) is None:
        return "words"
    rest = _UNSPACED.sub(" ", unicodedata.normalize("NFKC", text))
    return "mixed" if any(c.isalnum() for c in rest) else "characters"


def _fold_characters(text: str) -> str:
    """The characters of a key with punctuation folded, before words are split: NFKC, case
    folded, apostrophe styles as ``'``, other punctuation as space. The one definition both
    paths of :func:`normalize_key` use: the general one on a whole text, the fast one through
    :func:`_high_fold`, which applies it to each character on its own."""
    key = unicodedata.normalize("NFKC", text).casefold()
    for apostrophe in _APOSTROPHES:
        key = key.replace(apostrophe, "'")
    # ASCII punctuation in one byte-table pass; the rarer non-ASCII kind by expression.
    key = key.encode("utf-8").translate(_ASCII_FOLD_KEEP_HIGH).decode("utf-8")
    return _PUNCT_NON_ASCII.sub(" ", key)


def _has_loose_apostrophe(key: str) -> bool:
    """Whether an apostrophe stands outside a word, once other punctuation is space."""
    return "'" in key and (" '" in key or "' " in key or "''" in key or key[:1] == "'" or key[-1:] == "'")


# Blocks whose characters are common in (mostly English) text: Latin, Greek, Cyrillic, general
# punctuation, currency and letter-like symbols, enclosed and fullwidth forms, ligatures.
_FOLD_BLOCKS = ((0x80, 0x530), (0x2000, 0x2070), (0x20A0, 0x20D0), (0x2100, 0x2190),
                (0x2460, 0x2500), (0x3000, 0x3004), (0xFB00, 0xFB07), (0xFF01, 0xFF5F))
_ASCII_BYTES = bytes(range(128))  # deleted, they leave a text's non-ASCII characters
_WORD = re.compile(r"\w")
_DIGIT = re.compile(r"\d")


@functools.cache
def _high_fold() -> dict[str, bytes]:
    """What :func:`normalize_key` (punctuation folded) makes of each non-ASCII character that
    can be keyed on its own, as UTF-8.

    A character qualifies if neither it nor its NFKC form holds a combining mark (no character of
    these blocks then composes with its neighbours under NFKC: a test checks every pair), and its
    key is ASCII or non-digit word characters (which the byte table keeps and the digit fold leaves
    alone). Whitespace is a space, as splitting on whitespace makes it (and only the words
    matter, so a run of spaces is as good as one).
    """
    table = {}
    for low, high in _FOLD_BLOCKS:
        for point in range(low, high):
            char = chr(point)
            if unicodedata.category(char) in ("Cn", "Cs", "Co"):
                continue
            normal = unicodedata.normalize("NFKC", char)
            if any(unicodedata.combining(c) for c in char + normal):
                continue
            key = "".join(" " if c.isspace() else c for c in _fold_characters(char))
            if all(c.isascii() or (_WORD.match(c) and not _DIGIT.match(c)) for c in key):
                # A character that is only space is as many spaces as its bytes: the same words,
                # and a same-length replacement is a single pass.
                table[char] = b" " * len(char.encode("utf-8")) if key.isspace() else key.encode("utf-8")
    return table


def _folded_bytes(text: str, fold_digits: bool) -> bytes | None:
    """:func:`normalize_key` with punctuation folded, as UTF-8, before runs of spaces are
    collapsed (and leading and trailing ones dropped); None if the text needs the general path.

    ASCII text goes through one byte table. So does text whose non-ASCII characters can all be
    keyed on their own (curly quotes, dashes, £, mojibake, accented letters: nearly all of them),
    once each is replaced in the UTF-8 by its key. What is left is word characters, apostrophes
    and spaces, so an apostrophe is loose exactly when a space, another apostrophe or an end is
    next to it.
    """
    if text.isascii():
        key = text.encode("ascii").translate(_ASCII_FOLD_KEEP_HIGH)
    else:
        key = text.encode("utf-8")
        present = set(key.translate(None, _ASCII_BYTES).decode("utf-8"))
        fold = _high_fold()
        if not fold.keys() >= present:
            return None
        for char in present:
            key = key.replace(char.encode("utf-8"), fold[char])
        key = key.translate(_ASCII_FOLD_KEEP_HIGH)
    if b"'" in key:
        key = _drop_loose_apostrophes(key)
    if fold_digits:
        key = _DIGITS_BYTES.sub(b"0", key)
    return key


def _drop_loose_apostrophes(key: bytes) -> bytes:
    """Each apostrophe of a folded key not between two word characters becomes a space (what the
    expression ``(?<!\\w)'+|'+(?!\\w)`` does, by looking only at the apostrophes)."""
    pieces = key.split(b"'")
    joined = [pieces[0]]
    for before, after in zip(pieces, pieces[1:]):
        inside = before and after and before[-1] != 0x20 and after[0] != 0x20
        joined.append(b"'" if inside else b" ")
        joined.append(after)
    return b"".join(joined)


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
    """64-bit hash of each word (see :func:`key_word_hashes`), as uint64.

    >>> word_hashes(["blast", "the"]).dtype
    dtype('uint64')
    """
    return key_word_hashes(" ".join(words))


# Word hashes are polynomial hashes of the UTF-8 bytes, computed for all words of a key at once
# in numpy (no Python call per word), then avalanched with the MurmurHash3 finalizer:
#   h(w) = fmix64(sum_j byte_j * P**j  +  len(w) * L)          (mod 2**64)
# Each word's sum is a difference of prefix sums scaled by P**-start (P is odd, so invertible).
_P = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime
_P_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_L = np.uint64(0x9E3779B97F4A7C15)


def _powers(base: np.uint64, count: int) -> np.ndarray:
    """``base**0 .. base**(count-1)`` (mod 2**64); tables of up to 2**18 are kept, read-only."""
    if count <= 1 << 18:
        return _power_table(base, max(1 << 12, 1 << (count - 1).bit_length()))[:count]
    return _compute_powers(base, count)


@functools.lru_cache(maxsize=16)
def _power_table(base: np.uint64, count: int) -> np.ndarray:
    powers = _compute_powers(base, count)
    powers.setflags(write=False)
    return powers


def _compute_powers(base: np.uint64, count: int) -> np.ndarray:
    powers = np.empty(count, dtype=np.uint64)
    if count:
        powers[0] = 1
        powers[1:] = base
        with np.errstate(over="ignore"):
            np.cumprod(powers, out=powers)
    return powers


def key_word_hashes(key: str) -> np.ndarray:
    """Hashes of the words of a normalised key (words separated by single spaces), vectorised.

    >>> h = key_word_hashes("a b a"); bool(h[0] == h[2] and h[0] != h[1])
    True
    """
    return _word_hashes([key.encode("utf-8")])[0]


def _word_hashes(keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The word hashes of many keys in UTF-8, one array for all, and each key's number of words.
    Words are the runs of bytes other than a space (keys may have runs of spaces)."""
    words = _Words(keys)
    return words.hashes(), words.counts


class _Words:
    """The words of many keys in UTF-8 joined by a space into ``data``: where each word starts
    and ends, each key's number of words and where each key starts."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.data = data = np.frombuffer(b" ".join(keys), dtype=np.uint8)
        spaces = np.flatnonzero(data == 0x20)
        starts = np.concatenate(([0], spaces + 1))
        ends = np.concatenate((spaces, [len(data)]))
        nonempty = ends > starts
        self.starts, self.ends = starts[nonempty], ends[nonempty]
        lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
        self.key_starts = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths + 1, out=self.key_starts[1:])
        self.counts = np.diff(np.searchsorted(self.starts, self.key_starts))

    def hashes(self) -> np.ndarray:
        """Each word's hash."""
        data, starts, ends, count = self.data, self.starts, self.ends, len(self.data)
        with np.errstate(over="ignore"):
            prefix = np.zeros(count + 1, dtype=np.uint64)
            np.multiply(data, _powers(_P, count), out=prefix[1:])
            np.cumsum(prefix[1:], out=prefix[1:])
            sums = (prefix[ends] - prefix[starts]) * _powers(_P_INVERSE, count)[starts]
            return _fmix64(sums + (ends - starts).astype(np.uint64) * _L)

    def exact_hashes(self) -> np.ndarray:
        """:func:`exact_hash` of each key once its runs of spaces are one space and its ends
        have none (the key :func:`key_for` gives): its words' bytes and the space after each word
        but its last, taken from ``data`` at once."""
        keep = self.data != 0x20
        inner = np.ones(len(self.ends), dtype=bool)
        inner[(np.cumsum(self.counts) - 1)[self.counts > 0]] = False
        keep[self.ends[inner]] = True
        # Each key's length so kept: its words' bytes and a space fewer than its words.
        word_bytes = np.zeros(len(self.ends) + 1, dtype=np.int64)
        np.cumsum(self.ends - self.starts, out=word_bytes[1:])
        first_words = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=first_words[1:])
        lengths = np.diff(word_bytes[first_words]) + np.maximum(self.counts - 1, 0)
        bounds = [0, *np.cumsum(lengths).tolist()]
        collapsed = memoryview(self.data[keep].tobytes())
        digest = xxhash.xxh3_64_intdigest
        return np.fromiter((digest(collapsed[a:b]) for a, b in zip(bounds[:-1], bounds[1:])),
                           dtype=np.uint64, count=len(self.counts))


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    result: np.ndarray = h ^ (h >> _U64(33))
    return result


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
    result: np.ndarray = (mixed >> _U64(32)).astype(np.uint32)
    return result


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a 1-d integer array, by sorting. numpy 2.3 and later find the
    unique values of an array with a hash table when nothing else is asked for; here that was
    4.5x slower on a document's shingles (300 values) and 100x slower on 10^6 values.

    >>> sorted_unique(np.array([3, 1, 3, 2], dtype=np.uint32)).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(values, axis=None)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def key_shingles(keys: Sequence[str], n: int) -> list[np.ndarray]:
    """:func:`shingle_hashes` of many keys at once (word hashing and shingling vectorised over
    the whole batch); element ``i`` equals ``shingle_hashes(key_word_hashes(keys[i]), n)``.

    >>> keys = ["the cat sat on the mat", "a b"]
    >>> all((x == shingle_hashes(key_word_hashes(k), 3)).all() for x, k in zip(key_shingles(keys, 3), keys))
    True
    """
    return _shingles_by_key(*_word_hashes([key.encode("utf-8") for key in keys]), n)


def _shingles_by_key(hashes: np.ndarray, counts: np.ndarray, n: int) -> list[np.ndarray]:
    """Each key's shingle hashes, given the word hashes of all keys and each one's word count."""
    offsets = np.concatenate(([0], np.cumsum(counts)))
    total = len(hashes)
    full = shingle_hashes(hashes, n) if total >= n else np.empty(0, dtype=np.uint32)
    empty = np.empty(0, dtype=np.uint32)
    result = []
    for count, offset in zip(counts.tolist(), offsets.tolist()):
        if count >= n:
            result.append(full[offset : offset + count - n + 1])
        elif count:
            result.append(shingle_hashes(hashes[offset : offset + count], n))
        else:
            result.append(empty)
    return result


def shingle_size_of(key: str, n: int) -> int:
    """The shingle size of a key: ``n`` words, or more tokens when most of its tokens are
    characters of a script written without spaces (a character carries less than a word): ``2n``
    with kana (Japanese), ``round(1.4n)`` otherwise (Chinese; Thai and the others are assumed to
    be like it). Measured so that a threshold means the same edit in every language (see
    docs/languages.md).

    >>> shingle_size_of("the cat sat", 5), shingle_size_of("東 京 の 火 事", 5), shingle_size_of("中 国 人", 5)
    (5, 10, 7)
    """
    if key.isascii() or _UNSPACED.search(key) is None:
        return n
    characters = _UNSPACED.findall(key)
    if 2 * len(characters) < key.count(" ") + 1:
        return n
    if any("\u3040" <= c <= "\u30ff" or "\u31f0" <= c <= "\u31ff" for c in characters):
        return 2 * n
    return round(1.4 * n)


def document_shingles(keys: Sequence[str], n: int) -> list[np.ndarray]:
    """:func:`key_shingles` with each key's own size (:func:`shingle_size_of`); for keys of text
    in spaced scripts (any English text) exactly ``key_shingles(keys, n)``.

    >>> keys = ["the cat sat on the mat", "東 京 で 大 き な 火 事"]
    >>> [len(s) for s in document_shingles(keys, 3)]
    [4, 3]
    """
    sizes = [shingle_size_of(key, n) for key in keys]
    if all(size == n for size in sizes):
        return key_shingles(keys, n)
    result: list[np.ndarray] = [np.empty(0, dtype=np.uint32)] * len(keys)
    for size in set(sizes):
        chosen = [k for k, s in enumerate(sizes) if s == size]
        for k, shingles in zip(chosen, key_shingles([keys[k] for k in chosen], size)):
            result[k] = shingles
    return result


def shingle_hash_of(words: Sequence[str]) -> int:
    """The hash of one shingle given as its words (the ``hashfunc`` datasketch would need to
    reproduce our signatures; used by tests and benchmarks, not on the hot path)."""
    return int(shingle_hashes(word_hashes(words), len(words))[0])


@functools.lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``.

    This is datasketch's own generator (``MinHash._init_permutations``: a ``RandomState(seed)``
    draws odd multipliers, then offsets), reproduced so that a run does not import datasketch,
    and with it scipy, just to start (about a second); a test holds the result equal to
    ``datasketch.MinHash(num_perm, seed).permutations``.
    """
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    result: np.ndarray = h ^ (h >> np.uint32(16))
    return result




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
    mixed = _fmix32(flat)
    # (permutations, shingles): each permutation's row is contiguous for the segmented min, and
    # 16 permutations at a time (512 KiB for 8192 shingles) stay in cache between the passes.
    block = 16
    buffer = np.empty(block * len(mixed), dtype=np.uint32)
    result = np.empty((len(a), len(rows)), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for first in range(0, len(a), block):
            permuted = buffer[: len(a[first : first + block]) * len(mixed)].reshape(-1, len(mixed))
            np.multiply(a[first : first + block, None], mixed, out=permuted)
            permuted += b[first : first + block, None]
            np.minimum.reduceat(permuted, starts, axis=1, out=result[first : first + block])
    out[rows] = result.T


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


@dataclass(frozen=True, eq=False)
class KeyedTexts:
    """The matching keys of many texts, hashed at once (:func:`keyed_texts`): every word's hash
    in one array, each key's number of words, shingle size and exact hash."""

    hashes: np.ndarray  #: the word hashes of all keys, one after another
    words: np.ndarray  #: each key's number of words (int64)
    sizes: tuple[int, ...]  #: each key's own shingle size (:func:`shingle_size_of`)
    exact: np.ndarray  #: each key's :func:`exact_hash` (uint64)

    def shingles(self, size: int | None = None) -> list[np.ndarray]:
        """Each key's shingle hashes in reading order: of its own size, or all of ``size``
        (element ``i`` equals ``shingle_hashes(key_word_hashes(key_i), size_i)``)."""
        common = size if size is not None else (self.sizes[0] if self.sizes else 1)
        result = _shingles_by_key(self.hashes, self.words, common)
        if size is None and any(s != common for s in self.sizes):
            offsets = np.concatenate(([0], np.cumsum(self.words))).tolist()
            for k, own in enumerate(self.sizes):
                if own != common:
                    result[k] = shingle_hashes(self.hashes[offsets[k] : offsets[k + 1]], own)
        return result


def keyed_texts(texts: Sequence[str], config: FingerprintConfig) -> KeyedTexts:
    """:func:`key_for` of each text with its words hashed, each key's exact hash and shingle
    size, computed without building each key's string where the key's bytes can be folded in one
    pass (:func:`_folded_bytes`: nearly all text): the words and the exact hash are taken from
    the folded bytes, runs of spaces and all. A test holds the result equal to the composed
    functions (:func:`key_for`, :func:`exact_hash`, :func:`shingle_size_of`, :func:`key_shingles`).

    >>> from dedup.config import FingerprintConfig
    >>> keyed = keyed_texts(["The cat sat on the mat.", "東京で大きな火事"], FingerprintConfig(shingle_size=3))
    >>> keyed.words.tolist(), keyed.sizes, [len(s) for s in keyed.shingles()]
    ([6, 8], (3, 6), [4, 3])
    """
    n = config.shingle_size
    keys: list[bytes] = []
    sizes: list[int] = []
    for text in texts:
        folded = _folded_bytes(text, config.fold_digits) if config.fold_punctuation else None
        if folded is not None:  # (no character of a script written without spaces)
            keys.append(folded)
            sizes.append(n)
        else:
            key = key_for(text, config)
            keys.append(key.encode("utf-8"))
            sizes.append(shingle_size_of(key, n))
    words = _Words(keys)
    return KeyedTexts(words.hashes(), words.counts, tuple(sizes), words.exact_hashes())


def tokens(key: str) -> list[str]:
    """The words of a matching key."""
    return key.split()
