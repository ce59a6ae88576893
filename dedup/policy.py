"""Decide: which units of a document are removed, which are only flagged, and why.

Inside one document, in reading order: captions and credit lines are scored from text features;
paragraphs repeating an earlier kept paragraph are removed; then sentences repeating an earlier
kept sentence are removed from the paragraphs that stay (the rest of the paragraph is untouched).
The first copy is kept. Each decision carries its reason, the kept twin and the similarity.

Short units are protected: a sentence of fewer than ``min_sentence_words`` words is never
removed, and one of fewer than ``near_min_words`` words only when it repeats exactly (after
normalisation), because short sentences ("He said no.") are alike by chance. A number or a link
counts as one word, and a short unit that holds one is data (a table row, a link) and is kept
even when it repeats.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dedup.fingerprint import document_shingles, exact_hash, key_for, normalize_key, shingle_mode
from dedup.index import UnitIndex
from dedup.language import has_function_word
from dedup.segment import Span

if TYPE_CHECKING:
    import numpy as np

    from dedup.config import DedupConfig

__all__ = [
    "Paragraph", "Removal", "Decision", "Boilerplate", "UnitKeys", "caption_score", "credit_boundaries",
    "decide_document", "boilerplate_units", "boilerplate_form", "boilerplate_eligible",
    "unit_hash", "word_count", "BOILERPLATE_MIN_WORDS",
]

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|March|Mar|April|Apr|May|June|Jun|July|Jul|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
# A full date: "Sept. 25, 2023", "September 25 2023", "25 September 2023".
_DATE = rf"(?:{_MONTH}\s\d{{1,2}},?\s\d{{4}}|\d{{1,2}}\s{_MONTH}\s\d{{4}})"
_END = r"[\"”'’]?\s*$"
# Dates that end a caption, strongest first (each matched against the end of the unit, after any
# credit): AP's "…in Kyiv, Ukraine, Monday, Sept. 25, 2023.", AP without a weekday
# ("…in Lima, Oct. 30, 2018."), Reuters' place then date with no comma ("…Seattle, Washington,
# U.S. March 20, 2020."), "…in Kyiv on Sept. 25, 2023.", Getty's "…on March 24, 2018 in Chicago,
# Illinois.".
_DATE_ENDINGS = (
    (re.compile(rf",\s{_WEEKDAY},\s{_DATE}\.?{_END}"), 0.6, "ends with an AP-style place, weekday and date"),
    (re.compile(rf",\s(?:on\s)?(?:{_WEEKDAY},?\s)?{_DATE}\.?{_END}"), 0.45, "ends with an AP-style date"),
    (re.compile(rf"\sin\s[A-Z][\w.'’-]*(?:,?\s[A-Z][\w.'’-]*){{0,3}}\son\s(?:{_WEEKDAY},?\s)?{_DATE}\.?{_END}"),
     0.35, "ends with a place and a date"),
    (re.compile(rf"[A-Z][\w.]*\s{_MONTH}\s\d{{1,2}},\s\d{{4}}\.?{_END}"), 0.35, "ends with a place and a date"),
    (re.compile(rf"(?:,|\son)\s{_DATE},?\sin\s[A-Z][\w.'’-]*(?:,?\s[A-Z][\w.'’-]*){{0,4}}\.?{_END}"), 0.35,
     "ends with a date and a place"),
)
_AGENCY = (r"(?:Getty Images|AFP|AP|EPA(?:-EFE)?|Reuters|REUTERS|PA(?: Images| Wire)?|Bloomberg|Xinhua|"
           r"Anadolu(?: Agency)?|Shutterstock|Alamy|REX|Rex Features|Corbis|NurPhoto|SOPA Images|"
           r"Sipa|ZUMA(?: Wire)?|Pool|Handout)")
_NAME = r"[A-Z][\w'’.-]*(?:\s[A-Z][\w'’.-]*){0,3}"
# A credit line: a label and a name, perhaps with an agency ("Photo: Jane Smith",
# "Photograph: Andrew Parsons/No 10 Downing Street", "Credit: AFP/Getty Images"), never a label
# followed by prose ("Credit: Banks tightened lending.").
_CREDIT_LINE = (
    r"(?:©\s?)?(?:Photograph|Photo|Photos|Picture|Image|Illustration|Credit|Photo credit|Image credit|"
    rf"Copyright)s?(?:\s?:\s?|\sby\s|\scourtesy of\s){_NAME}(?:\s?/\s?[^\n]{{1,80}}?)?"
)
# Credits that cannot be ordinary prose: each counts only where it ends the unit (a credit
# followed by more text is the next sentence run on, and prose must not go with it).
_CREDIT = re.compile(
    r"(?:\((?:AP|AFP|EPA|Reuters|REUTERS|Xinhua|Bloomberg|PA|Getty|UPI)\s(?:Photo|PHOTO|Images)\b[^()\n]{0,120}\)"
    r"|\[(?:AP|AFP|EPA|Reuters)\s?PHOTO/[^\[\]\n]{1,80}\]"
    r"|\((?:Photo|Photos|Photograph|Image|Picture|Illustration|Credit)s?(?:\s(?:by|courtesy of|credit)\b|\s?:)"
    r"[^()\n]{1,240}\)"
    rf"|(?:^|(?<=[.!?)\]”\"]\s)){_CREDIT_LINE}"
    r"|\bvia Getty Images)[.\s]*$",
)
# Labels that start a caption: "Image caption …", "Pictured: …", "Main image: …".
_LABEL = re.compile(
    r"(?:©\s?)?(?:(?:Image|Media) (?:caption|copyright|source)\b(?=[\s,:]*(?:[A-Z\"“(]|$))"
    r"|(?:Pictured|Main image|Top image|Caption|Photo illustration)\s?:)"
)
_FILE_PREFIX = re.compile(r"^(?:FILE|File)(?:\s(?:PHOTO|photo|Photo))?\s?[-–—:]\s")
# Credits that end a caption: "REUTERS/David Ryder/File Photo", "Drew Angerer/Getty Images",
# "NAME/AFP via Getty Images", "Tyrone Siu/Reuters".
_CREDIT_TAIL = re.compile(
    rf"(?:^|\s)(?:(?:REUTERS|Reuters|AFP|EPA|Xinhua|Anadolu)\s?/\s?{_NAME}"
    rf"|{_NAME}\s?/\s?(?:[A-Z][\w.-]*\s?/\s?)?(?:AFP via |AP via )?{_AGENCY})"
    r"(?:\s?/\s?(?:File(?: Photo)?|Pool|Handout|File))?\)?\.?\s*$"
)
# Where a credit ends and the next sentence begins though Punkt sees one sentence: after the
# bracket of a credit in brackets followed by a capital ("(AP Photo/Name) The minister…"), and
# after a credit ending in an agency run on, with or without a space, into a capitalised word
# ("Jim Young/Getty ImagesThe minister…", "REUTERS/Name/File Photo The…").
_CREDIT_RUN_ON = re.compile(
    r"(?:\((?:AP|AFP|EPA|Reuters|REUTERS|Xinhua|Bloomberg|PA|Getty|UPI)\s(?:Photo|PHOTO|Images)\b[^()\n]{0,120}\)"
    r"|\[(?:AP|AFP|EPA|Reuters)\s?PHOTO/[^\[\]\n]{1,80}\]"
    r"|\((?:Photo|Photos|Photograph|Image|Picture|Illustration|Credit)s?(?:\s(?:by|courtesy of|credit)\b|\s?:)"
    r"[^()\n]{1,240}\)"
    rf"|(?:(?:REUTERS|Reuters|AFP|EPA)\s?/\s?{_NAME}\s?/\s?(?:File(?: Photo)?|Pool|Handout)"
    rf"|{_NAME}\s?/\s?(?:[A-Z][\w.-]*\s?/\s?)?(?:AFP via |AP via )?(?:Getty Images|Shutterstock|Alamy|"
    r"Rex Features|NurPhoto|SOPA Images|ZUMA Wire)(?:\s?/\s?(?:File(?: Photo)?|Pool|Handout))?))"
    r"[ \t]*(?!(?:Photo|PHOTO|Images|Pool|Handout|File)\b)(?=[A-Z“\"‘'][a-z]|[A-Z][A-Z]?\s)"
)
# What a credit run on without a slash starts with (the other forms all hold a "/").
_CREDIT_PAREN = re.compile(r"\((?:AP|AFP|EPA|Reuters|REUTERS|Xinhua|Bloomberg|PA|Getty|UPI|Photo|Photograph|Image|"
                           r"Picture|Illustration|Credit)")
# Reported speech and attribution: a sentence that says who said or reported something is prose,
# whatever date or agency it mentions ("…, Agence France Presse (AFP) reported.").
_ATTRIBUTION = re.compile(
    r"\b(?:said|says|say|reported|reports|announced|announces|told|tells|according to|added|adds|stated|"
    r"citing|quoted|wrote|writes|claimed|claims|confirmed|confirms|denied|insisted|warned|explained|"
    r"includes?|included)\b"
)
# A present-tense scene: "Smoke rises near…", "Refugees walk after…", "A man is seen…".
_CAPTION_VERB = re.compile(
    r"^[A-Z][^.!?]{0,60}?\s[a-z]{2,}(?:s|es)\s(?:a|an|the|at|in|on|near|during|following|outside|"
    r"inside|as|after|before|from|to|with|by|for|along|past|his|her|their|its|up|down|out|off)\b"
    r"|^(?:[^.!?\n]{0,80}?\s)?(?:[A-Za-z]+s|(?i:people|police|children|men|women|staff|troops))\s(?:walk|sit|stand|"
    r"gather|attend|pose|hold|look|wait|watch|march|protest|arrive|take|gesture|react|carry|ride|play|"
    r"celebrate|cry|smile|wave|pray|mourn|rest|work|clear|inspect|leave|check|queue|line|dance|sing|"
    r"cross|climb|push|raise|listen|talk|meet|vote|search|demonstrate|fight|battle|enter|visit|help|"
    r"wear|chant|shout|flee|evacuate|rally|kneel|embrace|hug|greet|cheer|light|lay|place|clean|dig|"
    r"patrol|run|hang|collect|sort|shelter|line up)\b"
    r"|\b(?:is|are) (?:seen|pictured|shown)\b"
)
_PAST = re.compile(r"\b(?:was|were|had)\b")
# A date in a sentence about what is due, planned or required is prose ("…takes place on
# 27 February 2005.", "The agreement expires on Sept 30, 1988.").
_SCHEDULE = re.compile(
    r"\b(?:will|would|shall|must|should|could|might|due|scheduled|expected|expires?|deadline|"
    r"takes? place|until)\b"
)
# What a text must contain for any of its sentences to score above zero: a fixed part of every
# credit, label, 'FILE' and date pattern above (one scan per document instead of the patterns
# per sentence).
_HINT_WORDS = ("/", "©", "FILE", "File", "aption", "opyright", "Pictured", "Main image", "Top image", "Photo",
               "Image", "Picture", "Illustration", "Credit", "Getty")
_HINT_DATE = re.compile(r"\d,?\s\d{4}|\d\s[A-Z][a-z]+\.?\s\d{4}")
# How much of a long unit the end and start patterns look at: a caption's date and credit sit in
# its last words, its label in its first ones (and a pattern never scans a long unit twice).
_TAIL = 240
_HEAD = 400


def _caption_hint(text: str) -> bool:
    """False only when no sentence of ``text`` can have a caption score above zero."""
    return any(word in text for word in _HINT_WORDS) or _HINT_DATE.search(text) is not None


def credit_boundaries(text: str) -> list[int]:
    """Where a sentence begins right after a photo credit that has no full stop: Punkt runs the
    credit into the next sentence, so these are forced sentence boundaries (nothing is inserted).

    >>> text = "Crowds gather. Jim Young/Getty ImagesThe rally ended. (AP Photo/Jo Lee) It rained."
    >>> [text[at:at + 8] for at in credit_boundaries(text)]
    ['The rall', 'It raine']
    >>> credit_boundaries("A Reuters/Ipsos poll found (in March) That was all.")
    []
    """
    if "/" not in text and not _CREDIT_PAREN.search(text):
        return []
    return [match.end() for match in _CREDIT_RUN_ON.finditer(text)]


def caption_score(sentence: str, glued: bool, *, credited: bool = False) -> tuple[float, str]:
    """Confidence (0–1) that a sentence is a photo caption or credit line, and why.

    Evidence: a photo credit (``(AP Photo/…)``, ``REUTERS/Name``, ``Name/Getty Images``,
    ``Photograph: …``), a label (``Image caption``, ``Pictured:``, ``FILE -``), a date ending in
    the styles of AP, Reuters and Getty captions, a present-tense scene, being glued to the next
    sentence, and being followed by a credit line naming an agency or photographer in full
    (``credited``: enough on its own for a present-tense sentence). Reported speech and
    attribution (``said``, ``reported``, ``according to``) is prose: without a credit it scores
    zero, whatever date it ends with.

    >>> caption_score("Smoke rises near Stepanakert, Nagorno-Karabakh, on Sept. 25, 2023.", True)
    (0.9, 'ends with an AP-style date; present-tense scene; glued to the next sentence')
    >>> caption_score("People gather in Chicago. Jim Young/Getty Images", False)
    (1.0, 'photo credit; present-tense scene')
    >>> caption_score("Heavy rain fell in the east, Agence France Presse (AFP) reported.", True)[0]
    0.0
    >>> caption_score("The treaty was signed in Paris.", False)[0]
    0.0
    """
    score = 0.0
    reasons: list[str] = []
    head, tail = sentence[:_HEAD], sentence[-_TAIL:]
    credit = _LABEL.match(head) or _CREDIT.search(tail) or _CREDIT_TAIL.search(tail)
    if credit:
        score += 0.8
        reasons.append("photo credit")
        if credit.re is not _LABEL:
            tail = tail[: credit.start()]
    if _FILE_PREFIX.match(head):
        score += 0.6
        reasons.append("'FILE -' prefix")
    if (not credit or credit.re is _LABEL) and _ATTRIBUTION.search(sentence):
        return 0.0, ""  # reported speech: prose, even after a label ("Pictured: …, officials said.")
    if not credit and _PAST.search(sentence):
        return 0.0, ""  # captions describe a scene in the present tense; "…was in Dresden, Aug. 17, 2002." is prose
    tail = re.sub(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*$", "", tail)  # a credit in brackets
    for pattern, weight, why in _DATE_ENDINGS if credit or not _SCHEDULE.search(sentence) else ():
        if pattern.search(tail):
            score += weight
            reasons.append(why)
            break
    if score and _CAPTION_VERB.search(head) and not _PAST.search(sentence):
        score += 0.25
        reasons.append("present-tense scene")
    if score and glued:
        score += 0.2
        reasons.append("glued to the next sentence")
    if credited:
        # Enough on its own for a present-tense sentence; a sentence in the past tense needs
        # more (a body sentence can end a paragraph that a bare credit was glued onto).
        score += 0.35 if _PAST.search(sentence) or sentence.rstrip()[-1:] in "\"”’'?!" else 0.6
        reasons.append("followed by a photo credit")
    if len(sentence.split()) > 60:
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


#: What the matching key leaves out but a fact depends on: numbers, and signs and operators
#: (a minus before a number or standing alone, not a hyphen inside a word).
_FIGURES = re.compile(r"\d+|[+<>=\u00b1\u00d7\u00f7%$\u20ac\u00a3\u2212]|(?<![^\s(=])-(?=[\s\d$])")


def _figures(text: str, span: Span) -> list[str]:
    """The numbers and signs of a unit, in order: two units with the same words but other
    figures (``x > 5`` and ``x < 5``, ``-$5,000`` and ``$5,000``) are not repeats."""
    return _FIGURES.findall(text, span.start, span.end)


_ALNUM_RUN = re.compile(r"[^\W_]+")
_DIGIT_TOKEN = re.compile(r"(?<!\S)\S*\d\S*")  # a whitespace-separated token holding a digit


def _number_parts(unit: str) -> int:
    """How many more words a unit's matching key has than the unit has numbers and identifiers
    as written: ``1.34`` is one word written and two in the key, ``02/10/07/132252`` one and
    four. A table row (``Duluth 1.34 1.75 1.50 1.85 4.68 --``) or a link is then short, and is
    removed only as an exact repeat, not as a near repeat of a row or link that differs in the
    one token that is its content.

    >>> _number_parts("Duluth 1.34 1.75 1.50 1.85 4.68 --"), _number_parts("It rose 3 pct.")
    (5, 0)
    """
    if unit.isascii():
        # (In ASCII, \d is str.isdigit and \S what split() keeps; most units hold no digit.)
        tokens = _DIGIT_TOKEN.findall(unit) if _DIGIT.search(unit) else []
    else:
        tokens = [token for token in unit.split() if any(map(str.isdigit, token))]
    # (A token of letters and digits only is one run: it adds nothing.)
    return sum(len(runs) - 1 for token in tokens if not token.isalnum() and len(runs := _ALNUM_RUN.findall(token)) > 1)


class UnitKeys:
    """The matching key of each unit text of one document, with its number of words, its words
    less its number parts and its shingles: a unit met again (a one-sentence paragraph is also
    a sentence; a further cleaning round meets the units the first left alone) is keyed once."""

    def __init__(self, config: DedupConfig) -> None:
        self.fingerprint = config.fingerprint
        self._known: dict[str, tuple[str, int, int, np.ndarray]] = {}

    def of(self, units: Sequence[str]) -> list[tuple[str, int, int, np.ndarray]]:
        """``(key, words, near words, shingles)`` of each unit."""
        known, fp = self._known, self.fingerprint
        new = [unit for unit in dict.fromkeys(units) if unit not in known]
        keys = [key_for(unit, fp) for unit in new]
        for unit, key, shingles in zip(new, keys, document_shingles(keys, fp.unit_shingle_size) if new else ()):
            words = key.count(" ") + 1 if key else 0
            known[unit] = (key, words, words - _number_parts(unit), shingles)
        return [known[unit] for unit in units]


def _dedup_level(text: str, spans: Sequence[Span], level: str, config: DedupConfig,
                 protect_short: bool, unit_keys: UnitKeys,
                 in_place: Callable[[Span, Span], bool] | None = None) -> list[Removal]:
    """Removals of the units that repeat an earlier one (``in_place(unit, earlier)``: a repeat
    that stays, as a heading repeating its table of contents' line)."""
    if not spans:
        return []
    policy = config.policy
    keys, words, near_words, shingles = zip(*unit_keys.of([text[span.start : span.end] for span in spans]))
    index = UnitIndex(config.match.unit_threshold,
                      [s if n >= policy.near_min_words else None for s, n in zip(shingles, near_words)])
    removals: list[Removal] = []
    for position, (span, key, count) in enumerate(zip(spans, keys, words)):
        if count == 0 or (protect_short and count < policy.min_sentence_words):
            continue
        if near_words[position] < policy.near_min_words and any(
                c.isdigit() for c in text[span.start : span.end]):
            # A short unit with a number is data: a table row (``Avg shrs 2,332,397 vs
            # 1,428,000`` under both the quarter and the year) or a link, kept when it repeats.
            continue
        if near_words[position] < policy.near_min_words and _inside_a_sentence(text, span):
            continue  # a piece of a sentence around a line shown on its own: kept when it repeats
        exact = exact_hash(key)
        found = index.find(position, exact)
        if found is not None and _figures(text, span) != _figures(text, spans[found[0]]):
            found = None  # the same words with other numbers or signs (x > 5, x < 5): not a repeat
        if found is not None and in_place is not None and in_place(span, spans[found[0]]):
            found = None
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


def _inside_a_sentence(text: str, span: Span) -> bool:
    """Whether a unit is a lead-in (it ends in a colon: ``Some common uses are:``), a line shown
    after one (``apt-get source foo`` after ``get the source package:``), or prose going on from
    a sentence left open before it, from its first word on (``and remove the hold with`` after a
    command), as around a command shown on a line of its own. (A menu, ``index modules | next``,
    or a title, ``test — Regression tests package for Python``, is none of them.)"""
    unit = text[span.start : span.end].strip()
    if not unit:
        return False
    if unit.endswith(":"):
        return True
    before = text[max(0, span.start - 200) : span.start].rstrip()[-1:]
    return before == ":" or (unit[0].islower() and (before.isalpha() or before == ",")
                             and has_function_word(unit.split(None, 1)[0]))


def unit_hash(text: str, config: DedupConfig) -> int:
    """The exact hash of a unit's matching key (what boilerplate counting uses)."""
    return exact_hash(key_for(text, config.fingerprint))


# Template text that carries a number and is still boilerplate: a copyright line.
_COPYRIGHT = re.compile(r"©|\(c\)\s\d|\b(?:[Cc]opyright|All rights reserved)\b")
# (What every match of it contains: a unit without any of these is not a copyright line.)
_COPYRIGHT_PARTS = ("©", "(c)", "opyright", "All rights reserved")
# Data: a digit, or a date written in words ("Record March Two", "Pay April one"). (The
# lookahead only lets the search skip positions where no month can start.)
_DIGIT = re.compile(r"\d")
#: The number of a list item or a numbered heading at the start of a line (``1.``, ``2)``,
#: ``3.1.2.``): where a thing is in a list, not data.
_LIST_NUMBER = re.compile(r"(?m)^[ \t]*\d{1,3}(?:\.\d{1,3})*[.)](?=[ \t\u00a0])")
_DATE_IN_WORDS = re.compile(
    r"\b(?=(?i:[adfjmnos]))(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s"
    r"(?i:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty)\b"
)
#: The fewest words a unit needs to count as template text ("All rights reserved." has three);
#: shorter units ("Year", "Reuter", "Advertisement") are headings and sign-offs.
BOILERPLATE_MIN_WORDS = 3


def word_count(unit: str) -> int:
    """The words of a unit: those between spaces, and in a script written without spaces
    (Chinese, Japanese, Thai) each character, as its matching key counts them.

    >>> word_count("All rights reserved."), word_count("本文版权归新华社所有。")
    (3, 10)
    """
    if unit.isascii() or shingle_mode(unit) == "words":
        return len(unit.split())
    return len(normalize_key(unit).split())


def boilerplate_form(unit: str) -> str:
    """What a unit looks like, for deciding whether it can be boilerplate.

    ``"data"``: numbers or dates (``Pay March 31``, ``Record March Two``, ``Shr 18 cts vs 15
    cts``, a table row), data that recurs across related reports, never boilerplate by default;
    a copyright line (``© 2025 …``) is template text whatever its digits. ``"short"``: fewer
    than :data:`BOILERPLATE_MIN_WORDS` words (``Year``, ``Reuter``), a heading or a sign-off,
    never boilerplate either (a word or two in many documents is no evidence of a template).
    ``"template"``: anything else; boilerplate when enough unrelated documents share it.

    >>> [boilerplate_form(u) for u in ("Sign up for our morning newsletter.", "© 2025 Westhaven News.")]
    ['template', 'template']
    >>> [boilerplate_form(u) for u in ("Year", "Pay March 31", "Record March Two", "Shr 18 cts vs 15 cts")]
    ['short', 'data', 'data', 'data']
    >>> boilerplate_form("1. Developers are volunteers.\\n2. Delegates may refuse them.")
    'template'
    """
    if any(part in unit for part in _COPYRIGHT_PARTS) and _COPYRIGHT.search(unit):
        return "template" if word_count(unit) >= 2 else "short"
    if _DIGIT.search(_LIST_NUMBER.sub("", unit)) or _DATE_IN_WORDS.search(unit):
        return "data"
    return "template" if word_count(unit) >= BOILERPLATE_MIN_WORDS else "short"


def boilerplate_eligible(unit: str) -> bool:
    """Whether a unit can count as boilerplate by default: its form is ``"template"``.

    >>> boilerplate_eligible("All rights reserved."), boilerplate_eligible("Pay March 31")
    (True, False)
    """
    return boilerplate_form(unit) == "template"


def boilerplate_units(text: str, paragraphs: Sequence[Paragraph], config: DedupConfig) -> list[int]:
    """Hashes of the units of a document that may count as boilerplate (:func:`_boilerplate_spans`:
    every paragraph, every line of a multi-line paragraph but those of a hard-wrapped sentence,
    every sentence long enough to be removable), each only when :func:`boilerplate_eligible`
    allows its form (``"template"``). This is what a corpus plan counts: such a unit is
    boilerplate when enough unrelated documents hold it.

    >>> from dedup.config import DedupConfig
    >>> from dedup.pipeline import prepare
    >>> config = DedupConfig()
    >>> doc = prepare("Sign up for our newsletter today.\\n\\nThe vote is on Monday.\\n\\nAdvertisement", config)
    >>> units = boilerplate_units(doc.text, doc.paragraphs, config)
    >>> unit_hash("Sign up for our newsletter today.", config) in units, unit_hash("Advertisement", config) in units
    (True, False)
    """
    units: dict[int, bool] = {}  # (a unit met again in another form is decided by the last)
    for paragraph in paragraphs:
        for _, span, _ in _boilerplate_spans(text, paragraph, config):
            chunk = text[span.start : span.end]
            units[unit_hash(chunk, config)] = boilerplate_eligible(chunk)
    return sorted(unit for unit, eligible in units.items() if eligible)


def _boilerplate_spans(text: str, paragraph: Paragraph,
                       config: DedupConfig) -> Iterator[tuple[str, Span, tuple[Span, ...]]]:
    """The units of a paragraph that boilerplate is counted and removed by, each as its level,
    its span and the sentences that go with it: the paragraph; each line of a multi-line
    paragraph but the lines of a hard-wrapped sentence (:func:`_wrapped_line_ends`: removing one
    would leave the sentence's other lines as fragments); each sentence, with the pieces of one
    wrapped across lines together, of at least ``min_sentence_words`` words."""
    yield "paragraph", paragraph.span, tuple(paragraph.sentences)
    wrapped = _wrapped_line_ends(text, paragraph)
    lines = paragraph.lines
    for k, line in enumerate(lines if len(lines) > 1 else ()):
        if line.end not in wrapped and not (k and lines[k - 1].end in wrapped):
            yield "line", Span(line.start, line.end), tuple(
                s for s in paragraph.sentences if line.start <= s.start and s.end <= line.end)
    units: list[tuple[Span, ...]] = []
    for sentence in paragraph.sentences:
        if units and any(units[-1][-1].end <= end <= sentence.start for end in wrapped):
            units[-1] = units[-1] + (sentence,)
        else:
            units.append((sentence,))
    for unit in units:
        span = Span(unit[0].start, unit[-1].end)
        if word_count(text[span.start : span.end]) >= config.policy.min_sentence_words:
            yield "sentence", span, unit


#: A line is a hard wrap (its sentence goes on on the next line) when it ends in a word or a
#: comma, the next line starts with a letter, and it is about as long as the paragraph's longest
#: line, and that long: a menu's or a footer's lines are short, or of all lengths, and end in a
#: colon (``send an email to:``) or a rule (``---~-->``).
_WRAP_SHARE, _WRAP_MIN = 0.75, 40


def _wrapped_line_ends(text: str, paragraph: Paragraph) -> set[int]:
    """Where the lines of a paragraph end that a sentence goes on from (a hard wrap the repairer
    left, as in an indented list)."""
    lines = paragraph.lines
    if len(lines) < 2:
        return set()
    widest = max(line.end - line.start for line in lines)
    return {line.end for line, following in zip(lines, lines[1:])
            if line.end - line.start >= max(_WRAP_MIN, _WRAP_SHARE * widest)
            and (text[line.end - 1].isalpha() or text[line.end - 1] == ",") and text[following.start].isalpha()}


@dataclass(frozen=True)
class Boilerplate:
    """Units found in many documents: hash → (number of documents, index of the first one)."""

    units: Mapping[int, tuple[int, int]]
    document_index: int = 0

    def verdict(self, text: str, config: DedupConfig) -> tuple[int, int] | None:
        """(documents, first document) when ``text`` is boilerplate to act on here, else None."""
        found = self.units.get(unit_hash(text, config))
        if found is None or boilerplate_form(text) == "data":  # data is never boilerplate
            return None
        if config.policy.boilerplate == "keep_first" and found[1] == self.document_index:
            return None
        return found


def _boilerplate(text: str, paragraphs: Sequence[Paragraph], boilerplate: Boilerplate,
                 config: DedupConfig, decision: Decision, removed: set[tuple[int, int]]) -> None:
    flag_only = config.policy.boilerplate == "flag"
    for paragraph in paragraphs:
        for level, span, pieces in _boilerplate_spans(text, paragraph, config):
            if any((s.start, s.end) in removed for s in pieces):
                continue  # (in a paragraph or line removed already)
            found = boilerplate.verdict(text[span.start : span.end], config)
            if found is None:
                continue
            reason = f"boilerplate: this {level} appears in {found[0]} documents"
            if flag_only:
                decision.flags.append(FlagMark(span.start, span.end, "boilerplate", reason))
                if level == "paragraph":
                    break
                continue
            # Removed sentence by sentence so that render joins them like any other removal.
            for piece in pieces:
                decision.removals.append(Removal(piece.start, piece.end, "boilerplate_removed", level, reason))
                removed.add((piece.start, piece.end))
            if level == "paragraph":
                break


def _credit_only(chunk: str) -> bool:
    """True for a sentence that is nothing but a credit: ``(AP Photo/Mara Lind)``,
    ``REUTERS/David Ryder/File Photo``, ``Photograph: Name/Agency``, ``Jim Young/Getty Images``."""
    if len(chunk) > 160 or len(chunk.split()) > 14:
        return False
    if chunk[:1] in "([":
        return chunk[-1:] in ")]" and _CREDIT.search(chunk) is not None
    found = _CREDIT.search(chunk) or _CREDIT_TAIL.search(chunk)
    return found is not None and not chunk[: found.start()].strip()


_ONLY_DATE = re.compile(rf"(?:{_WEEKDAY},?\s)?{_DATE}\.?\s*$")


def _caption_units(text: str, paragraph: Paragraph) -> list[tuple[Span, ...]]:
    """The sentences of a paragraph, with the sentences of a caption in parentheses kept
    together (``(Photo: A crowd gathers. Credit: AFP/Getty Images)``) and a date split off after
    an abbreviation kept with its sentence (``…Seattle, Washington, U.S.`` ``March 20, 2020.``)."""
    units: list[tuple[Span, ...]] = []
    for sentence in paragraph.sentences:
        if units and len(units[-1]) < 4:
            previous = text[units[-1][0].start : units[-1][-1].end]
            unclosed = previous.startswith("(") and ")" not in previous and len(previous) < 400
            if unclosed or _ONLY_DATE.match(text, sentence.start, sentence.end):
                units[-1] = units[-1] + (sentence,)
                continue
        units.append((sentence,))
    return units


def _captions(text: str, paragraphs: Sequence[Paragraph], boundaries: Sequence[int],
              config: DedupConfig, decision: Decision, removed: set[tuple[int, int]]) -> None:
    policy = config.policy
    if not _caption_hint(text):
        return
    for paragraph in paragraphs:
        units = _caption_units(text, paragraph)
        chunks = [text[u[0].start : u[-1].end].strip() for u in units]
        credit_only = [_credit_only(chunk) for chunk in chunks]
        # A credit with an agency or a photographer's name in full ("(AP Photo/…)", "REUTERS/…",
        # "Name/Getty Images") names the sentence before it a caption; "Photo: Name" alone does not.
        strong = [only and ("/" in chunk or chunk[:1] in "([") for only, chunk in zip(credit_only, chunks)]
        scored = []
        for number, unit in enumerate(units):
            end = unit[-1].end
            after = bisect_left(boundaries, end)  # boundaries are sorted
            glued = after < len(boundaries) and boundaries[after] <= end + 2
            credited = number + 1 < len(units) and strong[number + 1] and not credit_only[number]
            chunk = text[unit[0].start : end]
            # (A unit without any hint scores zero unless a credit line follows it.)
            scored.append(caption_score(chunk, glued, credited=credited) if credited or _caption_hint(chunk)
                          else (0.0, ""))
        captions = [score >= policy.caption_confidence for score, _ in scored]
        # Other text in the paragraph: the caption was glued onto it, or stands in front of it.
        shares = not all(captions)
        for number, unit in enumerate(units):
            score, why = scored[number]
            if not captions[number] or any((s.start, s.end) in removed for s in unit):
                continue
            start, end = unit[0].start, unit[-1].end
            if policy.captions == "remove" or (policy.captions == "auto" and shares):
                for sentence in unit:
                    decision.removals.append(Removal(
                        sentence.start, sentence.end, "caption_removed", "sentence",
                        why + ("; shares a paragraph with other text" if shares else ""),
                        confidence=score,
                    ))
                    removed.add((sentence.start, sentence.end))
            elif credit_only[number] and decision.flags and decision.flags[-1].kind == "caption" and \
                    number and decision.flags[-1].end == units[number - 1][-1].end:
                # A credit line flagged with the caption it follows: one flag for both.
                last = decision.flags[-1]
                decision.flags[-1] = FlagMark(last.start, end, "caption", last.reason, last.confidence)
            else:
                decision.flags.append(FlagMark(start, end, "caption", why, score))


#: A list item (``1.``, ``2)``, ``d)``, a bullet) or a tab-separated table row: content in its
#: place even when another list or table repeats it, never removed as a repeated sentence or
#: paragraph. (Rows aligned with spaces are not told from text with doubled spaces here.)
_LIST_ITEM = re.compile(r"[ \t]*(?:(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z])[.)]|[-*\u2022\u00b7\u2013])[ \t\u00a0]")
#: A piece that is only an item's number (``1.1.``, cut off by the segmenter as a sentence).
_NUMBER_ONLY = re.compile(r"[ \t]*(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z])[.)][ \t\u00a0]*")
_TAB_ROW = re.compile(r"[^\n]*\S\t[^\n]*\S\t\S")


def _list_or_row(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a list item or a tab-separated row (a row has a tab)."""
    return bool(_LIST_ITEM.match(text, start, end)
                or (text.find("\t", start, end) >= 0 and _TAB_ROW.match(text, start, end)))

def _on_a_listed_line(text: str, paragraph: Paragraph, unit: tuple[Span, ...]) -> bool:
    """Whether a sentence unit starts on a line of a list item or a table row (its paragraph not
    being one as a whole: then every unit of it is one, ``1.1. Where do I get it? And how?``)."""
    if len(paragraph.lines) < 2:
        return False
    at = bisect.bisect_right([line.start for line in paragraph.lines], unit[0].start) - 1
    return at > 0 and _list_or_row(text, paragraph.lines[at].start, unit[-1].end)


#: A sentence ends with one of these, perhaps followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\uff61]"
                           r"[\"'\u201d\u2019\u00bb)\]\u300d\u300f\uff09\u3011]*\s*$")


def _sentences_as_read(text: str, paragraphs: Sequence[Paragraph], boundaries: Sequence[int],
                       removed: set[tuple[int, int]]) -> list[tuple[Span, ...]]:
    """The sentences left to compare, as whole sentences of the cleaned text. Two pieces are
    compared together with the one before them:

    - a piece after a line break that the repairer left where the piece before does not end a
      sentence (an indented hard-wrapped paragraph, a Markdown source's short lines): a wrapped
      line is not a sentence, and removing it would cut a sentence in half;
    - a piece split off at a forced boundary that starts with a small letter (``morning.took
      place`` repaired to ``morning. took place``), as the segmenter joins them when the cleaned
      text is read again, so cleaning twice decides on the same units (idempotence);
    - a piece after one that is only an item's number on the same line (``1.1. Where do I get
      it?``, a numbered heading): the number and its text are one list item.

    Each unit is its pieces in order."""
    forced = sorted(boundaries)
    units: list[tuple[Span, ...]] = []
    for paragraph in paragraphs:
        previous: Span | None = None
        for sentence in paragraph.sentences:
            if (sentence.start, sentence.end) in removed:
                previous = None
                continue
            if previous is not None and (
                    not _SENTENCE_END.search(text, previous.start, previous.end)
                    or (_NUMBER_ONLY.fullmatch(text, previous.start, previous.end)
                        and "\n" not in text[previous.end : sentence.start])
                    or (text[sentence.start].islower()
                        and "\n" not in text[previous.end : sentence.start]
                        and bisect.bisect_left(forced, previous.end) < bisect.bisect_right(forced, sentence.start))):
                units[-1] = units[-1] + (sentence,)
            else:
                units.append((sentence,))
            previous = sentence
    return units


def _heading_in_place(text: str, paragraphs: Sequence[Paragraph], config: DedupConfig) -> Callable[[Span, Span], bool]:
    """Whether a repeated unit stays: a heading (a paragraph of one line that ends no sentence)
    whose repeat is not part of a repeated run (the paragraph before or after it repeats the one
    before or after the earlier copy, as navigation at the top and bottom of a page does): a
    section's heading repeating its line in the table of contents stays in its place."""
    starts = [p.span.start for p in paragraphs]

    def at(position: int) -> int:
        return bisect.bisect_right(starts, position) - 1

    def key(index: int) -> str | None:
        if 0 <= index < len(paragraphs):
            span = paragraphs[index].span
            return key_for(text[span.start : span.end], config.fingerprint)
        return None

    def in_place(unit: Span, earlier: Span) -> bool:
        here = at(unit.start)
        paragraph = paragraphs[here]
        whole = ((paragraph.span.start, paragraph.span.end),
                 (paragraph.sentences[0].start, paragraph.sentences[-1].end) if paragraph.sentences else None)
        if len(paragraph.lines) != 1 or (unit.start, unit.end) not in whole or _SENTENCE_END.search(
                text, unit.start, unit.end):
            return False
        there = at(earlier.start)
        return not any(key(here + step) is not None and key(here + step) == key(there + step)
                       for step in (-1, 1))

    return in_place


def decide_document(text: str, paragraphs: Sequence[Paragraph], boundaries: Sequence[int],
                    config: DedupConfig, boilerplate: Boilerplate | None = None,
                    unit_keys: UnitKeys | None = None) -> Decision:
    """Decide removals and flags for one repaired document (``unit_keys``: the keys of its units
    found so far, by an earlier round over it)."""
    policy = config.policy
    unit_keys = unit_keys if unit_keys is not None else UnitKeys(config)
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
            and not _list_or_row(text, p.span.start, p.span.end)
        ]
        paragraph_removals = _dedup_level(text, candidates, "paragraph", config, True, unit_keys,
                                          _heading_in_place(text, paragraphs, config))
        decision.removals.extend(paragraph_removals)
        gone = {(r.start, r.end) for r in paragraph_removals}
        kept_paragraphs = [p for p in paragraphs if (p.span.start, p.span.end) not in gone]
    if policy.dedup_sentences:
        # (A list item, a numbered heading or a table row keeps every sentence of it.)
        units = [unit for paragraph in kept_paragraphs
                 if not _list_or_row(text, paragraph.span.start, paragraph.span.end)
                 for unit in _sentences_as_read(text, [paragraph], boundaries, removed)
                 if not _on_a_listed_line(text, paragraph, unit)]
        pieces = {(unit[0].start, unit[-1].end): unit for unit in units}
        in_place = _heading_in_place(text, kept_paragraphs, config)
        for removal in _dedup_level(text, [Span(u[0].start, u[-1].end) for u in units], "sentence", config, True,
                                    unit_keys, in_place):
            decision.removals.extend(
                dataclasses.replace(removal, start=piece.start, end=piece.end)
                for piece in pieces[(removal.start, removal.end)]
            )
    decision.removals.sort(key=lambda r: (r.start, r.end))
    return decision
