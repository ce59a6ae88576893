"""Scorers: did a system fix each recorded fault, keep the original, and leave protected text alone?

Every check reads only the system's output text and the ground truth, never the system's own
report, so dedup and the baselines are judged the same way. Three views of text are used (see
:mod:`evaluation.textutil`): ``flat`` (all whitespace one space) for content, ``line_view`` where a
line break still counts (hard wraps), and ``paragraph_view`` where a paragraph break counts
(integrity of protected spans).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .corrupt import Fault
from .textutil import (
    find_all,
    flat,
    jaccard,
    line_view,
    match_key,
    paragraph_view,
    shingles,
    split_sentences,
)

PROTECTED_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("url", re.compile(r"(?:https?://|ftp://|www\.)[^\s<>()\"]+[\w/]|"
                       r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|au|uk)\b")),
    ("version", re.compile(r"\bv?\d+\.\d+\.\d+(?:\.\d+)*\b|\bv\d+\.\d+\b")),
    ("decimal", re.compile(r"(?<![\w.])\d+\.\d+(?![\w.]*\d)")),
    ("initials", re.compile(r"\b(?:[A-Z]\. ){1,3}[A-Z][a-z]+")),
    ("acronym", re.compile(r"\b(?:[A-Z]\.){2,}(?: [a-z]+)?")),
    ("abbreviation", re.compile(
        r"\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Lt|Col|Capt|Sgt|St|Rev|Jan|Feb|Aug|Sept|Oct|"
        r"Nov|Dec|Inc|Corp|Co|Ltd|No|vs|etc|approx|cf|e\.g|i\.e)\. \w+")),
)


@dataclass(frozen=True)
class ProtectedSpan:
    """A span of the clean text that no repair may change.

    Attributes:
        category: which pattern found it (``abbreviation``, ``decimal``, ``url``, ...).
        left: up to 12 characters before it, in paragraph view, to find it again.
        item: the span itself, in paragraph view.
    """

    category: str
    left: str
    item: str


# --------------------------------------------------------------------------- per-fault checks


def fault_fixed(fault: Fault, output: str) -> bool:
    """Decide from the output alone whether a recorded fault was repaired.

    Args:
        fault: the recorded fault with its ground-truth detail.
        output: the system's output for the document.

    Returns:
        True when the output is what a correct repair would give at that spot.
    """
    check = _CHECKS[fault.kind]
    return check(fault.detail, output)


def _expected(detail: dict[str, str], key: str = "expected") -> int:
    return int(detail.get(key, "1"))


def _duplicate_fixed(detail: dict[str, str], output: str) -> bool:
    return match_key(output).count(match_key(detail["paragraph"])) == _expected(detail)


def _duplicate_glued_fixed(detail: dict[str, str], output: str) -> bool:
    return _duplicate_fixed(detail, output) and _starts_cleanly(detail, output)


def _starts_cleanly(detail: dict[str, str], output: str) -> bool:
    found = (" " + flat(output)).count(" " + flat(detail["next"]))
    return found >= _expected(detail, "expected_next")


def _near_duplicate_fixed(detail: dict[str, str], output: str) -> bool:
    # Either copy may go (dedup keeps the first seen by default, which is the inserted copy in
    # the lead); losing the original sentence is charged to retention, not here.
    text = flat(output)
    variant_kept = flat(detail["variant"]) in text
    original_kept = text.count(flat(detail["original"])) >= _expected(detail)
    return variant_kept != original_kept


def _joined_fixed(detail: dict[str, str], output: str) -> bool:
    return flat(output).count(f"{detail['left']} {detail['right']}") >= _expected(detail)


def _caption_fixed(detail: dict[str, str], output: str) -> bool:
    key = match_key(output)
    if "parts" in detail:
        parts = detail["parts"].split("\n")
    else:
        parts = [p for p in re.split(r"(?<=\.) (?=\()", detail["caption"]) if p.strip()]
    gone = all(match_key(part) not in key for part in parts)
    return gone and _starts_cleanly(detail, output)


def _boilerplate_fixed(detail: dict[str, str], output: str) -> bool:
    text = line_view(output)
    lines = [line.strip() for line in detail["block"].splitlines()]
    return all(line not in text for line in lines if any(c.isalpha() for c in line))


def _unwrapped(detail: dict[str, str], output: str) -> bool:
    return line_view(output).count(flat(detail["paragraph"])) >= _expected(detail)


def _context_restored(detail: dict[str, str], output: str) -> bool:
    return flat(output).count(detail["context"]) >= _expected(detail)


def _decoded(detail: dict[str, str], output: str) -> bool:
    text = flat(output)
    garbled = flat(detail.get("garbled", ""))
    return (not garbled or garbled not in text) and \
        text.count(flat(detail["paragraph"])) >= _expected(detail)


_CHECKS = {
    "dup_exact": _duplicate_fixed,
    "dup_quote": _duplicate_fixed,
    "dup_whitespace": _duplicate_fixed,
    "dup_glued": _duplicate_glued_fixed,
    "near_dup_sentence": _near_duplicate_fixed,
    "glued_boundary": _joined_fixed,
    "quote_space": _joined_fixed,
    "caption": _caption_fixed,
    "boilerplate": _boilerplate_fixed,
    "hard_wrap": _unwrapped,
    "hyphenation": _context_restored,
    "compound_break": _context_restored,
    "mojibake": _decoded,
}


# --------------------------------------------------------------------------- retention, integrity


def clean_sentences(clean: str) -> list[str]:
    """The clean original's sentences (paragraph by paragraph), flattened.

    >>> clean_sentences("One two three. Four five six.\\n\\nSeven.")
    ['One two three.', 'Four five six.', 'Seven.']
    """
    return [flat(s) for p in clean.split("\n\n") for s in split_sentences(p) if s.strip()]


def retention(clean: str, output: str) -> tuple[int, int]:
    """Count the clean original's sentences present, verbatim up to whitespace, in the output.

    Returns:
        ``(kept, total)``.

    >>> retention("One two three. Four five six.", "One two three.")
    (1, 2)
    """
    sentences = clean_sentences(clean)
    text = flat(output)
    return sum(1 for s in sentences if s in text), len(sentences)


def protected_spans(clean: str) -> list[ProtectedSpan]:
    """Find abbreviations, initials, decimals, versions, URLs and e-mail addresses in clean text.

    >>> spans = protected_spans("Dr. Who paid $3.5 to a@b.org on Sept. 25.")
    >>> [(p.category, p.item) for p in spans]  # doctest: +NORMALIZE_WHITESPACE
    [('email', 'a@b.org'), ('decimal', '3.5'), ('abbreviation', 'Dr. Who'),
     ('abbreviation', 'Sept. 25')]
    """
    spans: list[ProtectedSpan] = []
    for paragraph in paragraph_view(clean).split("\n\n"):
        taken: list[tuple[int, int]] = []
        for category, pattern in PROTECTED_PATTERNS:
            for match in pattern.finditer(paragraph):
                if any(match.start() < e and s < match.end() for s, e in taken):
                    continue
                taken.append((match.start(), match.end()))
                left = paragraph[max(0, match.start() - 12) : match.start()]
                spans.append(ProtectedSpan(category, left, match.group()))
    return spans


def mangled_spans(spans: Iterable[ProtectedSpan], output: str) -> tuple[int, int]:
    """Count protected spans that the output changed.

    A span is checked when its left context is still in the output (otherwise the sentence was
    dropped or left broken, which retention and the fault scores already count); it is mangled
    when no occurrence of that context is followed by the span unchanged.

    Returns:
        ``(mangled, checked)``.

    >>> s = protected_spans("The U.S. forces left on Sept. 25 and sailed at 3.5 knots.")
    >>> mangled_spans(s, "The U.S. forces left on Sept.\\n\\n25 and sailed at 3. 5 knots.")
    (2, 3)
    """
    text = paragraph_view(output)
    mangled = checked = 0
    for span in spans:
        positions = find_all(text, span.left) if span.left else [0]
        if not positions:
            continue
        checked += 1
        if not any(text.startswith(span.item, p + len(span.left)) for p in positions):
            mangled += 1
    return mangled, checked


def edit_similarity(output: str, reference: str) -> float:
    """Normalised edit similarity in [0, 1] of two texts in line view (line breaks count).

    Uses rapidfuzz's normalised Indel similarity when it is importable (the evaluation venv
    installs it), else difflib's ratio, which is the same quantity computed more slowly.

    >>> edit_similarity("abc", "abc")
    1.0
    """
    a, b = line_view(output), line_view(reference)
    try:
        from rapidfuzz.distance import Indel
    except ImportError:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    return float(Indel.normalized_similarity(a, b))


def similarity_metric() -> str:
    """Name of the edit-similarity implementation in use."""
    try:
        import rapidfuzz  # noqa: F401
    except ImportError:
        return "difflib.SequenceMatcher.ratio"
    return "rapidfuzz Indel.normalized_similarity"


# --------------------------------------------------------------------------- documents


def true_pairs(texts: Sequence[str], threshold: float, ngram: int = 5) -> set[tuple[int, int]]:
    """All document pairs whose exact Jaccard of word n-gram shingles reaches the threshold.

    >>> sorted(true_pairs(["a b c d e f", "a b c d e f", "x y z w v u"], 0.8, ngram=3))
    [(0, 1)]
    """
    sets = [shingles(t, ngram) for t in texts]
    pairs = set()
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            if sets[i] and sets[j] and jaccard(sets[i], sets[j]) >= threshold:
                pairs.add((i, j))
    return pairs


def cluster_pairs(clusters: Iterable[Iterable[int]]) -> set[tuple[int, int]]:
    """Every unordered pair inside each cluster.

    >>> sorted(cluster_pairs([[3, 1, 2], [5]]))
    [(1, 2), (1, 3), (2, 3)]
    """
    pairs: set[tuple[int, int]] = set()
    for cluster in clusters:
        members = sorted(set(cluster))
        pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return pairs


def pair_precision_recall(predicted: set[tuple[int, int]],
                          truth: set[tuple[int, int]]) -> tuple[float, float]:
    """Precision and recall of predicted pairs (1.0 for an empty prediction / empty truth).

    >>> pair_precision_recall({(0, 1), (2, 3)}, {(0, 1)})
    (0.5, 1.0)
    """
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall
