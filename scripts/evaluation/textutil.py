"""Text helpers shared by the generator and the scorers.

Everything here is deliberately simple and independent of ``dedup``: the evaluation must not
grade dedup with dedup's own segmenter or normaliser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# A sentence boundary the generator trusts: terminal punctuation after a lower-case word of at
# least three letters (or a digit / closing bracket), an optional closing quote, whitespace, then
# an upper-case letter or opening quote. Conservative on purpose: "Sept. 25", "U.S. forces",
# "Dr. Smith", "J. R. R. Tolkien" and "3.5" never match.
_BOUNDARY = re.compile(
    r"(?:(?<=[a-z]{3}[.!?])|(?<=[0-9)][.!?]))"
    r"([\"'”’)]?)"
    r"(\s+)"
    r"(?=[\"“‘(]?[A-Z])"
)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-",
                         "—": "-"})
_WS = re.compile(r"\s+")
_HSPACE = re.compile(r"[^\S\n]+")
_PARA_BREAK = re.compile(r"\s*\n\s*\n\s*")
_WORD = re.compile(r"\w+")


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences at conservative boundaries.

    Args:
        paragraph: text without paragraph breaks.

    Returns:
        The sentences, stripped, in order; joining them with single spaces gives the paragraph
        back (up to whitespace).

    >>> split_sentences('It rained in the U.S. on Sept. 25. Then it stopped. "Good," he said.')
    ['It rained in the U.S. on Sept. 25.', 'Then it stopped.', '"Good," he said.']
    """
    return [s for _, _, s in sentence_spans(paragraph)]


def sentence_spans(paragraph: str) -> list[tuple[int, int, str]]:
    """Return ``(start, end, sentence)`` triples for :func:`split_sentences`.

    >>> sentence_spans("One two three. Four five six.")
    [(0, 14, 'One two three.'), (15, 29, 'Four five six.')]
    """
    spans: list[tuple[int, int, str]] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.start(2)
        spans.append((start, end, paragraph[start:end]))
        start = match.end(2)
    if paragraph[start:].strip():
        spans.append((start, len(paragraph.rstrip()), paragraph[start:].rstrip()))
    return [(s, e, t) for s, e, t in spans if t.strip()]


def boundary_positions(paragraph: str) -> list[tuple[int, int]]:
    """Return ``(ws_start, ws_end)`` of the whitespace at each trusted sentence boundary.

    >>> boundary_positions("One two three. Four five six.")
    [(14, 15)]
    """
    return [(m.start(2), m.end(2)) for m in _BOUNDARY.finditer(paragraph)]


def flat(text: str) -> str:
    """Collapse every whitespace run to one space (the view used for content checks).

    >>> flat("a  b\\n\\nc\\t d ")
    'a b c d'
    """
    return _WS.sub(" ", text).strip()


def paragraph_view(text: str) -> str:
    """Keep paragraph breaks as ``\\n\\n``; collapse every other whitespace run to one space.

    >>> paragraph_view("a  b\\nc\\n\\n d")
    'a b c\\n\\nd'
    """
    parts = _PARA_BREAK.split(text.strip())
    return "\n\n".join(flat(p) for p in parts if p.strip())


def line_view(text: str) -> str:
    """Collapse horizontal whitespace and trim lines, keeping every line break.

    >>> line_view("a  b \\n c")
    'a b\\nc'
    """
    lines = (_HSPACE.sub(" ", line).strip() for line in text.strip().split("\n"))
    return "\n".join(lines)


def match_key(text: str) -> str:
    """Normalise for matching: NFKC, quotes and dashes unified, case-folded, whitespace collapsed.

    >>> match_key("It’s  “Fine” — OK")
    'it\\'s "fine" - ok'
    """
    return flat(unicodedata.normalize("NFKC", text).translate(_QUOTES)).casefold()


def words(text: str) -> list[str]:
    """Word tokens of the matching key.

    >>> words("It's a U.S. test")
    ['it', 's', 'a', 'u', 's', 'test']
    """
    return _WORD.findall(match_key(text))


def shingles(text: str, size: int = 5) -> set[str]:
    """Word ``size``-gram shingles of the matching key (one shingle for shorter texts).

    >>> sorted(shingles("a b c", size=2))
    ['a b', 'b c']
    """
    tokens = words(text)
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity of two sets (0.0 when both are empty).

    >>> jaccard({"a", "b"}, {"b", "c"})
    0.3333333333333333
    """
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def count_occurrences(haystack: str, needle: str) -> int:
    """Count possibly overlapping occurrences of ``needle``.

    >>> count_occurrences("aaa", "aa")
    2
    """
    if not needle:
        return 0
    return sum(1 for _ in _find_all(haystack, needle))


def _find_all(haystack: str, needle: str) -> Iterator[int]:
    start = haystack.find(needle)
    while start != -1:
        yield start
        start = haystack.find(needle, start + 1)


def find_all(haystack: str, needle: str) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence of ``needle``.

    >>> find_all("abab", "ab")
    [0, 2]
    """
    return list(_find_all(haystack, needle)) if needle else []
