"""Decide: which units of a document are removed, which are only flagged, and why.

Inside one document, in reading order: captions and credit lines are scored from text features;
paragraphs repeating an earlier kept paragraph are removed; then sentences repeating an earlier
kept sentence are removed from the paragraphs that stay (the rest of the paragraph is untouched).
The first copy is kept. Each decision carries its reason, the kept twin and the similarity.

Short units are protected: a sentence of fewer than ``min_sentence_words`` words is never
removed, and one of fewer than ``near_min_words`` words only when it repeats exactly (after
normalisation), because short sentences ("He said no.") are alike by chance.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dedup.fingerprint import exact_hash, key_for, key_shingles
from dedup.index import UnitIndex
from dedup.segment import Span

if TYPE_CHECKING:
    from dedup.config import DedupConfig

__all__ = [
    "Paragraph", "Removal", "Decision", "Boilerplate", "caption_score", "decide_document",
    "boilerplate_units", "unit_hash",
]

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|March|Mar|April|Apr|May|June|Jun|July|Jul|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE_ENDING = re.compile(
    r",\s(?:on\s)?(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s)?"
    + _MONTH
    + r"\s\d{1,2},\s\d{4}\.?[\"”']?$"
)
_CREDIT = re.compile(
    r"\((?:AP|AFP|Reuters|Getty|EPA|Xinhua|Bloomberg|Photo|Image|Credit)\b[^()\n]{0,80}\)"
    r"|\b(?:AP|AFP|EPA|Reuters) Photo/"
    r"|\b(?:Photo|Image|Picture|Illustration)s?\s?(?:by|courtesy of|credit)\s?:?\s"
    r"|\bGetty Images\b|\bvia Getty\b|/\s?Shutterstock\b|\bStaff photographer\b",
    re.IGNORECASE,
)
_FILE_PREFIX = re.compile(r"^FILE\s?[-–—:]\s")
_CAPTION_VERB = re.compile(
    r"^[A-Z][^.!?]{0,60}?\s[a-z]{2,}(?:s|es)\s(?:a|an|the|at|in|on|near|during|following|outside|"
    r"inside|as|after|before|from|to|with|by|for|along|past|his|her|their|its|up|down|out|off)\b"
)
_PAST = re.compile(r"\b(?:was|were|had|said|says|told)\b")
# What a text must contain for any of its sentences to score above zero: the fixed parts of the
# credit, 'FILE' and date patterns (a few substring scans per document instead of three regular
# expressions per sentence).
_CREDIT_HINTS = ("(ap", "(afp", "(reuters", "(epa", "(xinhua", "(bloomberg", "(credit", "(getty", "(photo",
                 "(image", "photo/", "getty images", "via getty", "shutterstock", "staff photographer")
_CREDITED = re.compile(r"(?:photo|image|picture|illustration)s?\s?(?:by|courtesy of|credit)")
_YEAR_HINT = re.compile(r",\s\d{4}")
_DATE_HINT = re.compile(r"\d,\s\d{4}")


def _caption_hint(text: str) -> bool:
    """False only when no sentence of ``text`` can have a caption score above zero."""
    if "FILE" in text or (_YEAR_HINT.search(text) and _DATE_HINT.search(text)):
        return True
    folded = text.casefold()  # what IGNORECASE matching compares
    if any(hint in folded for hint in _CREDIT_HINTS):
        return True
    return any(word in folded for word in ("photo", "image", "picture", "illustration")) and bool(
        _CREDITED.search(folded))


def caption_score(sentence: str, glued: bool) -> tuple[float, str]:
    """Confidence (0–1) that a sentence is a photo caption or credit line, and why.

    >>> caption_score("Smoke rises near Stepanakert, Nagorno-Karabakh, on Sept. 25, 2023.", True)
    (0.9, 'ends with an AP-style date; present-tense scene; glued to the next sentence')
    >>> caption_score("The treaty was signed in Paris.", False)[0]
    0.0
    """
    score = 0.0
    reasons: list[str] = []
    words = len(sentence.split())
    if _CREDIT.search(sentence):
        score += 0.8
        reasons.append("photo credit")
    if _FILE_PREFIX.match(sentence):
        score += 0.6
        reasons.append("'FILE -' prefix")
    if _DATE_ENDING.search(sentence):
        score += 0.45
        reasons.append("ends with an AP-style date")
    if score and _CAPTION_VERB.match(sentence) and not _PAST.search(sentence):
        score += 0.25
        reasons.append("present-tense scene")
    if score and glued:
        score += 0.2
        reasons.append("glued to the next sentence")
    if words > 60:
        score *= 0.3
    return min(1.0, round(score, 3)), "; ".join(reasons)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph with its lines and sentences, as spans of the repaired text."""

    span: Span
    lines: tuple[Span, ...]
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Removal:
    """A unit to remove: its span (repaired text), and why."""

    start: int
    end: int
    kind: str
    level: str
    reason: str
    kept_start: int | None = None
    kept_end: int | None = None
    similarity: float | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class FlagMark:
    """A unit to flag and keep."""

    start: int
    end: int
    kind: str
    reason: str
    confidence: float | None = None


@dataclass
class Decision:
    """What to do with one document's units."""

    removals: list[Removal] = field(default_factory=list)
    flags: list[FlagMark] = field(default_factory=list)


def _dedup_level(text: str, spans: Sequence[Span], level: str, config: DedupConfig,
                 protect_short: bool) -> list[Removal]:
    if not spans:
        return []
    policy, fp = config.policy, config.fingerprint
    keys = [key_for(text[span.start : span.end], fp) for span in spans]
    words = [key.count(" ") + 1 if key else 0 for key in keys]
    shingles = key_shingles(keys, fp.unit_shingle_size)
    index = UnitIndex(config.match.unit_threshold,
                      [s if n >= policy.near_min_words else None for s, n in zip(shingles, words)])
    removals: list[Removal] = []
    for position, (span, key, count) in enumerate(zip(spans, keys, words)):
        if count == 0 or (protect_short and count < policy.min_sentence_words):
            continue
        exact = exact_hash(key)
        found = index.find(position, exact)
        if found is not None:
            keeper = spans[found[0]]
            similarity = round(found[1], 4)
            how = "exact repeat" if similarity == 1.0 else f"near repeat (Jaccard {similarity})"
            removals.append(Removal(
                span.start, span.end, "duplicate_removed", level,
                f"{how} of an earlier {level}", keeper.start, keeper.end, similarity,
            ))
        else:
            index.add(position, exact)
    return removals


def unit_hash(text: str, config: DedupConfig) -> int:
    """The exact hash of a unit's matching key (what boilerplate counting uses)."""
    return exact_hash(key_for(text, config.fingerprint))


def boilerplate_units(text: str, paragraphs: Sequence[Paragraph], config: DedupConfig) -> list[int]:
    """Hashes of the units of a document that may count as boilerplate: every paragraph, every
    line of a multi-line paragraph, and every sentence long enough to be removable."""
    hashes: set[int] = set()
    for paragraph in paragraphs:
        hashes.add(unit_hash(text[paragraph.span.start : paragraph.span.end], config))
        if len(paragraph.lines) > 1:
            for line in paragraph.lines:
                hashes.add(unit_hash(text[line.start : line.end], config))
        for sentence in paragraph.sentences:
            chunk = text[sentence.start : sentence.end]
            if len(chunk.split()) >= config.policy.min_sentence_words:
                hashes.add(unit_hash(chunk, config))
    return sorted(hashes)


@dataclass(frozen=True)
class Boilerplate:
    """Units found in many documents: hash → (number of documents, index of the first one)."""

    units: Mapping[int, tuple[int, int]]
    document_index: int = 0

    def verdict(self, text: str, config: DedupConfig) -> tuple[int, int] | None:
        """(documents, first document) when ``text`` is boilerplate to act on here, else None."""
        found = self.units.get(unit_hash(text, config))
        if found is None:
            return None
        if config.policy.boilerplate == "keep_first" and found[1] == self.document_index:
            return None
        return found


def _boilerplate(text: str, paragraphs: Sequence[Paragraph], boilerplate: Boilerplate,
                 config: DedupConfig, decision: Decision, removed: set[tuple[int, int]]) -> None:
    flag_only = config.policy.boilerplate == "flag"

    def act(start: int, end: int, level: str, found: tuple[int, int]) -> None:
        reason = f"boilerplate: this {level} appears in {found[0]} documents"
        if flag_only:
            decision.flags.append(FlagMark(start, end, "boilerplate", reason))
        else:
            decision.removals.append(Removal(start, end, "boilerplate_removed", level, reason))
            removed.add((start, end))

    for paragraph in paragraphs:
        found = boilerplate.verdict(text[paragraph.span.start : paragraph.span.end], config)
        if found is not None:
            if flag_only:
                act(paragraph.span.start, paragraph.span.end, "paragraph", found)
                continue
            # Removed sentence by sentence so that render joins them like any other removal.
            for sentence in paragraph.sentences:
                act(sentence.start, sentence.end, "paragraph", found)
            continue
        for line in paragraph.lines if len(paragraph.lines) > 1 else ():
            found = boilerplate.verdict(text[line.start : line.end], config)
            if found is None:
                continue
            inside = [s for s in paragraph.sentences if line.start <= s.start and s.end <= line.end]
            for sentence in inside if not flag_only else [line]:
                act(sentence.start, sentence.end, "line", found)
        for sentence in paragraph.sentences:
            if (sentence.start, sentence.end) in removed:
                continue
            chunk = text[sentence.start : sentence.end]
            if len(chunk.split()) < config.policy.min_sentence_words:
                continue
            found = boilerplate.verdict(chunk, config)
            if found is not None:
                act(sentence.start, sentence.end, "sentence", found)


_CREDIT_ONLY = re.compile(r"^\([^()\n]{2,120}\)$")


def _caption_units(text: str, paragraph: Paragraph) -> list[tuple[Span, ...]]:
    """The sentences of a paragraph, with a credit in parentheses kept with the sentence it
    follows (``… on Sept. 4, 2001. (AP Photo/Mara Lind)`` is one caption)."""
    units: list[tuple[Span, ...]] = []
    for sentence in paragraph.sentences:
        chunk = text[sentence.start : sentence.end]
        if units and _CREDIT_ONLY.match(chunk) and _CREDIT.search(chunk):
            units[-1] = units[-1] + (sentence,)
        else:
            units.append((sentence,))
    return units


def _captions(text: str, paragraphs: Sequence[Paragraph], boundaries: Sequence[int],
              config: DedupConfig, decision: Decision, removed: set[tuple[int, int]]) -> None:
    policy = config.policy
    if not _caption_hint(text):
        return
    for paragraph in paragraphs:
        units = _caption_units(text, paragraph)
        for unit in units:
            if any((s.start, s.end) in removed for s in unit):
                continue
            start, end = unit[0].start, unit[-1].end
            glued = any(end <= b <= end + 2 for b in boundaries)
            score, why = caption_score(text[start:end], glued)
            if score < policy.caption_confidence:
                continue
            shares = len(units) > 1
            if policy.captions == "remove" or (policy.captions == "auto" and shares):
                for sentence in unit:
                    decision.removals.append(Removal(
                        sentence.start, sentence.end, "caption_removed", "sentence",
                        why + ("; shares a paragraph with other text" if shares else ""),
                        confidence=score,
                    ))
                    removed.add((sentence.start, sentence.end))
            else:
                decision.flags.append(FlagMark(start, end, "caption", why, score))


def _sentences_as_read(text: str, paragraphs: Sequence[Paragraph], boundaries: Sequence[int],
                       removed: set[tuple[int, int]]) -> list[tuple[Span, ...]]:
    """The sentences left to compare, as the cleaned text reads them: a piece split off at a
    forced boundary that starts with a small letter (``morning.took place`` repaired to
    ``morning. took place``) is compared together with the sentence before it, as the segmenter
    joins them when the cleaned text is read again, so cleaning twice decides on the same units
    (idempotence). Each unit is its sentences in order."""
    forced = sorted(boundaries)
    units: list[tuple[Span, ...]] = []
    for paragraph in paragraphs:
        previous: Span | None = None
        for sentence in paragraph.sentences:
            if (sentence.start, sentence.end) in removed:
                previous = None
                continue
            if (previous is not None and text[sentence.start].islower()
                    and "\n" not in text[previous.end : sentence.start]
                    and bisect.bisect_left(forced, previous.end) < bisect.bisect_right(forced, sentence.start)):
                units[-1] = units[-1] + (sentence,)
            else:
                units.append((sentence,))
            previous = sentence
    return units


def decide_document(text: str, paragraphs: Sequence[Paragraph], boundaries: Sequence[int],
                    config: DedupConfig, boilerplate: Boilerplate | None = None) -> Decision:
    """Decide removals and flags for one repaired document."""
    policy = config.policy
    decision = Decision()
    removed: set[tuple[int, int]] = set()
    if boilerplate is not None and boilerplate.units and policy.boilerplate != "keep":
        _boilerplate(text, paragraphs, boilerplate, config, decision, removed)
    if policy.captions != "keep":
        _captions(text, paragraphs, boundaries, config, decision, removed)
    kept_paragraphs = list(paragraphs)
    if policy.dedup_paragraphs:
        candidates = [
            p.span for p in paragraphs
            if not all((s.start, s.end) in removed for s in p.sentences)
        ]
        paragraph_removals = _dedup_level(text, candidates, "paragraph", config, False)
        decision.removals.extend(paragraph_removals)
        gone = {(r.start, r.end) for r in paragraph_removals}
        kept_paragraphs = [p for p in paragraphs if (p.span.start, p.span.end) not in gone]
    if policy.dedup_sentences:
        units = _sentences_as_read(text, kept_paragraphs, boundaries, removed)
        pieces = {(unit[0].start, unit[-1].end): unit for unit in units}
        for removal in _dedup_level(text, [Span(u[0].start, u[-1].end) for u in units], "sentence", config, True):
            decision.removals.extend(
                dataclasses.replace(removal, start=piece.start, end=piece.end)
                for piece in pieces[(removal.start, removal.end)]
            )
    decision.removals.sort(key=lambda r: (r.start, r.end))
    return decision
