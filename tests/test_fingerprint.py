from __future__ import annotations

import numpy as np
from datasketch import MinHash, MinHashLSH

from dedup.corpus import band_keys, candidate_pairs
from dedup.fingerprint import (
    normalize_key,
    shingle_hash_of,
    shingle_hashes,
    signatures,
    spaced_characters,
    word_hashes,
)
from dedup.index import lsh_params


def test_signatures_bit_identical_to_datasketch():
    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(200)]
    for size in (1, 3, 5, 40, 300):
        words = [vocabulary[i] for i in rng.integers(0, 200, size)]
        ours = signatures([shingle_hashes(word_hashes(words), 5)], 128, 1)[0]
        reference = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash_of)
        width = min(5, len(words))
        reference.update_batch([tuple(words[i : i + width]) for i in range(len(words) - width + 1)])
        assert reference.scheme == "affine32"
        assert np.array_equal(ours, reference.hashvalues)


def test_normalised_keys_fold_typography():
    assert normalize_key("Azerbaijan’s “swift”  operation") == normalize_key("azerbaijan's \"swift\" operation")
    assert normalize_key("a — b") == normalize_key("a - b")


def test_lsh_params_match_datasketch():
    from datasketch.lsh import _optimal_param

    for threshold in (0.5, 0.7, 0.8, 0.9):
        assert lsh_params(threshold, 128) == _optimal_param(threshold, 128, 0.5, 0.5)


def test_band_candidates_match_datasketch_lsh():
    rng = np.random.default_rng(3)
    base = [list(rng.integers(0, 500, 80)) for _ in range(30)]
    docs = []
    for words in base:
        docs.append(words)
        edited = list(words)
        edited[rng.integers(0, 80)] = 999
        docs.append(edited)
    sets = [shingle_hashes(word_hashes([str(w) for w in d]), 5) for d in docs]
    sigs = signatures(sets, 128, 1)
    bands, rows = lsh_params(0.8, 128)
    ours = {tuple(p) for p in candidate_pairs(band_keys(sigs, bands, rows)).tolist()}
    lsh = MinHashLSH(num_perm=128, params=(bands, rows))
    minhashes = [MinHash(num_perm=128, seed=1, hashvalues=s, scheme="affine32") for s in sigs]
    for i, m in enumerate(minhashes):
        lsh.insert(i, m)
    theirs = set()
    for i, m in enumerate(minhashes):
        for j in lsh.query(m):
            if j != i:
                theirs.add((min(i, j), max(i, j)))
    # Ours are stars over each bucket; connected components must agree with datasketch's pairs.
    def components(pairs):
        parent = list(range(len(docs)))
        def find(x):
            while parent[x] != x:
                x = parent[x]
            return x
        for a, b in pairs:
            parent[find(a)] = find(b)
        return sorted(sorted(i for i in range(len(docs)) if find(i) == r) for r in {find(i) for i in range(len(docs))})
    assert components(ours) == components(theirs)
    assert ours <= theirs


def _reference_key(text, fold_digits):
    """The matching key as DESIGN.md defines it, written plainly (the fast paths must agree)."""
    import re
    import unicodedata

    from dedup.fingerprint import _QUOTES

    key = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    key = re.sub(r"[^\w\s']+", " ", key)
    key = re.sub(r"(?<!\w)'+|'+(?!\w)", " ", key)
    if fold_digits:
        key = re.sub(r"\d+", "0", key)
    return spaced_characters(" ".join(key.split()).strip("'"))  # (Han, kana, Thai: one word each)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

KEY_ALPHABET = "ab C1_'’‘ʼ—–“”…é£ÉßﬁＡ\u00a0\u2028 .,!?-\"\x00\x1c٣中`\t\n"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=KEY_ALPHABET, max_size=40) | st.text(max_size=40), st.booleans())
def test_fast_key_paths_equal_the_reference(text, fold_digits):
    assert normalize_key(text, fold_digits=fold_digits) == _reference_key(text, fold_digits)


def _general_key(text, fold_digits):
    """The general (NFKC, casefold, expression) path of ``normalize_key`` with punctuation folded,
    as it was before non-ASCII characters were keyed one by one: the fast path must agree."""
    import unicodedata

    from dedup.fingerprint import (
        _ASCII_FOLD_KEEP_HIGH,
        _DIGITS,
        _LOOSE_APOSTROPHE,
        _PUNCT_NON_ASCII,
        _has_loose_apostrophe,
    )

    key = unicodedata.normalize("NFKC", text).casefold()
    key = key.replace("’", "'").replace("‘", "'").replace("ʼ", "'").replace("′", "'")
    key = key.encode("utf-8").translate(_ASCII_FOLD_KEEP_HIGH).decode("utf-8")
    key = " ".join(_PUNCT_NON_ASCII.sub(" ", key).split())
    if _has_loose_apostrophe(key):
        key = " ".join(_LOOSE_APOSTROPHE.sub(" ", key).split())
    if fold_digits:
        key = _DIGITS.sub("0", key)
    return spaced_characters(key)


def _high_fold_chars():
    from dedup.fingerprint import _high_fold

    return sorted(_high_fold())


# Letters of many scripts, combining marks, compatibility forms (ﬁ ① Ａ ²), case-folding oddities
# (ß İ ς ſ K), mojibake, whitespace and punctuation of all kinds, digits of other scripts.
MIXED_ALPHABET = (
    "aZ09_' .,-`\t\n\x1c\x85\u00a0\u2028\u3000"
    "’‘ʼ′“”„‚—–…£€™¢¬âÂÃ©®°±½¼éÉèçñßẞİıſKÅΣσςΐΆάЁёЯ中ｶﾞ가각ᄀ ᅡ"
    "ﬁﬂ①⑳ＡＺ０²ℌℵⅫ\u0301\u0308\u0327\u0338\u0345\u0307=<>٣߁\u200b\u200d\ufeff"
)


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet="ab1_' \t.-`", max_size=20)
       | st.text(alphabet=MIXED_ALPHABET, max_size=30)
       | st.text(alphabet=st.sampled_from(_high_fold_chars()) | st.characters(max_codepoint=127), max_size=30)
       | st.text(max_size=30),
       st.booleans())
def test_character_fold_equals_the_general_path(text, fold_digits):
    assert normalize_key(text, fold_digits=fold_digits) == _general_key(text, fold_digits)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_high_fold_chars()) | st.sampled_from(MIXED_ALPHABET)
               | st.characters(max_codepoint=127), max_size=40),
       st.booleans())
def test_fast_path_equals_the_general_path_it_is_derived_from(text, fold_digits):
    # The character table is derived from _fold_characters; the whole-text general path uses it
    # directly. Both must give the same key, whichever the text takes.
    from dedup.fingerprint import _DIGITS, _LOOSE_APOSTROPHE, _fold_characters, _folded_bytes, spaced_characters

    folded = _folded_bytes(text, fold_digits)
    general = " ".join(_fold_characters(text).split())
    general = " ".join(_LOOSE_APOSTROPHE.sub(" ", general).split())
    if fold_digits:
        general = _DIGITS.sub("0", general)
    if folded is not None:
        assert b" ".join(folded.split()).decode("utf-8") == general
    assert normalize_key(text, fold_digits=fold_digits) == spaced_characters(general)


def test_character_fold_is_taken_for_typical_text():
    from dedup.fingerprint import _folded_bytes

    text = "Donâ€™t pay £5 — ﬁne Œuvre naïve ①\u00a0“Ελλάδα” Straße İstanbul."
    assert b" ".join(_folded_bytes(text, False).split()).decode() == _general_key(text, False)
    assert _folded_bytes("e\u0301", False) is None  # a combining mark: the general path


def test_folded_characters_are_keyed_the_same_beside_any_neighbour():
    # NFKC composes neighbours; no pair of folded (or ASCII) characters may do so.
    import unicodedata

    from dedup.fingerprint import _high_fold

    fold = _high_fold()
    alphabet = [chr(c) for c in range(128)] + sorted(fold)
    single = {c: unicodedata.normalize("NFKC", c) for c in alphabet}
    for x in alphabet:
        for y in alphabet:
            assert unicodedata.normalize("NFKC", x + y) == single[x] + single[y], (x, y)
    for char, key in fold.items():
        assert normalize_key(f"a{char}b {char}") == _general_key(f"a{char}b {char}", False), char
        # Replacing one character never produces another that would be replaced differently.
        assert all(c.isascii() or fold.get(c, c.encode()) == c.encode() for c in key.decode()), char
    assert len(fold) > 1000


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=MIXED_ALPHABET, max_size=60) | st.text(max_size=20), max_size=8),
       st.booleans(), st.booleans(), st.sampled_from([1, 3, 5]))
def test_keyed_texts_equal_the_composed_stages(texts, fold_digits, fold_punctuation, n):
    # keyed_texts hashes uncollapsed key bytes at once; it must give exactly what the composed
    # functions give for the keys key_for makes: exact hash, words, shingles of each size.
    from dedup.config import FingerprintConfig
    from dedup.fingerprint import (
        document_shingles,
        exact_hash,
        key_for,
        key_shingles,
        key_word_hashes,
        keyed_texts,
        shingle_size_of,
    )

    config = FingerprintConfig(num_perm=32, shingle_size=n, fold_digits=fold_digits,
                               fold_punctuation=fold_punctuation)
    keys = [key_for(t, config) for t in texts]
    keyed = keyed_texts(texts, config)
    assert keyed.exact.tolist() == [exact_hash(k) for k in keys]
    assert keyed.words.tolist() == [len(k.split(" ")) if k else 0 for k in keys]
    assert keyed.sizes == tuple(shingle_size_of(k, n) for k in keys)
    for own, fixed, expected_own, expected_fixed in zip(keyed.shingles(), keyed.shingles(n),
                                                        document_shingles(keys, n), key_shingles(keys, n)):
        assert np.array_equal(own, expected_own) and np.array_equal(fixed, expected_fixed)
    for key, shingles in zip(keys, key_shingles(keys, n)):
        assert np.array_equal(shingles, shingle_hashes(key_word_hashes(key), n))
        assert len(key_word_hashes(key)) == len(key.split())


def test_word_hashes_are_pinned():
    # Changing the word or shingle hash changes every stored signature: it must be deliberate.
    from dedup.fingerprint import key_word_hashes

    assert key_word_hashes("the cat").tolist() == [9107429846345146972, 12845478136782925517]
    assert shingle_hashes(key_word_hashes("a b c d e f"), 5).tolist() == [2677675569, 4164439361]



@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 4), max_size=50),
       st.sampled_from([np.uint64, np.uint32, np.int64]))
def test_sorted_unique_is_numpys_unique(values, dtype):
    """The sort-based unique (numpy's own is a hash table, slow on these arrays) gives
    np.unique's values and dtype: empty, one value, repeats in runs or apart, either end."""
    from dedup.fingerprint import sorted_unique

    array = np.array(values, dtype=np.uint64).astype(dtype)
    got = sorted_unique(array)
    assert got.dtype == array.dtype and got.tolist() == np.unique(array).tolist()
