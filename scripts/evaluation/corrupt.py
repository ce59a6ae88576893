"""A seeded generator of the faults dedup exists to fix, each recorded with offsets.

Corruption starts from a clean :class:`~evaluation.sources.SourceDoc` and produces a
:class:`CorruptedDoc`: the text a system sees, the clean original, and one :class:`Fault` per
injected problem with its span in the corrupted text and what a correct repair must produce.

Fault kinds (see :data:`FAULT_KINDS`):

* ``dup_exact``, ``dup_quote``, ``dup_whitespace``: a paragraph repeated right after itself,
  verbatim, with ``'``/``’`` and ``"``/``“”`` swapped, or with doubled and trailing spaces.
* ``dup_glued``: a repeated paragraph that runs into the next paragraph with no space
  (``…morning.took place…``).
* ``near_dup_sentence``: a lightly edited copy of a body sentence appended to the lead paragraph.
* ``glued_boundary``: the space between two sentences removed (``blast.The``).
* ``caption``: an AP-style photo caption (``…, on Sept. 25, 2023.``, sometimes with
  ``(AP Photo/Name)``) glued onto the start of a paragraph.
* ``quote_space``: the space before an opening quote removed (``Karabakh’s"reintegration"``).
* ``boilerplate``: a newsletter, cookie, navigation or mailing-list footer block shared by
  many documents of a source.
* ``hard_wrap``: a paragraph wrapped at about 72 columns; inside it ``hyphenation``
  (``explo-\\nsion``) and ``compound_break`` (``Nagorno-\\nKarabakh``, whose hyphen must stay).
* ``mojibake``: a paragraph encoded as UTF-8 and decoded as Windows-1252 (Latin-1 for the
  bytes 1252 leaves undefined), the way ftfy's documentation describes it.

Documents reprinted with small edits (``reprint_of``) are added at corpus level for the
document-level near-duplicate scores.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .sources import SourceDoc
from .textutil import (
    boundary_positions,
    flat,
    jaccard,
    line_view,
    match_key,
    shingles,
    split_sentences,
)

FAULT_KINDS: tuple[str, ...] = (
    "dup_exact",
    "dup_quote",
    "dup_whitespace",
    "dup_glued",
    "near_dup_sentence",
    "glued_boundary",
    "caption",
    "quote_space",
    "boilerplate",
    "hard_wrap",
    "hyphenation",
    "compound_break",
    "mojibake",
)


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    Attributes:
        kind: one of :data:`FAULT_KINDS`.
        start: offset of the fault's span in the corrupted text.
        end: end offset (exclusive).
        detail: what the scorer needs: the clean paragraph, the contexts a correct repair
            restores, or the inserted text that must go.
    """

    kind: str
    start: int
    end: int
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CorruptedDoc:
    """A document as a system sees it, with its ground truth.

    Attributes:
        doc_id: id of the document (reprints get ``<id>~reprint``).
        source: source name.
        clean: the clean original text.
        text: the corrupted text handed to systems.
        faults: every injected fault, in text order.
        reprint_of: for a reprint, the id of the document it copies; else None.
    """

    doc_id: str
    source: str
    clean: str
    text: str
    faults: tuple[Fault, ...]
    reprint_of: str | None = None


@dataclass(frozen=True)
class FaultRates:
    """Per-document probabilities of each fault (keyword-only, frozen).

    Attributes:
        paragraph_fault: chance that a paragraph gets one in-paragraph fault.
        duplicate: chance of a duplicated paragraph (exact, quote or whitespace variant).
        duplicate_glued: chance of a duplicate glued onto the next paragraph.
        near_duplicate: chance of a near-duplicate sentence in the lead.
        caption: chance of a glued photo caption.
        boilerplate: chance of a shared boilerplate block.
        reprint: chance that a document is reprinted with small edits.
        paragraph_glue: chance that two paragraphs are glued with no whitespace (v2 only).
    """

    paragraph_fault: float = 0.45
    duplicate: float = 0.6
    duplicate_glued: float = 0.35
    near_duplicate: float = 0.4
    caption: float = 0.35
    boilerplate: float = 0.4
    reprint: float = 0.12
    paragraph_glue: float = 0.3


BOILERPLATE: dict[str, tuple[str, ...]] = {
    "news": (
        "Sign up for our daily newsletter to get the top stories delivered to your inbox.",
        "We use cookies to improve your experience on our site. By continuing to browse, you "
        "agree to our use of cookies.",
        "Copyright 2002 ABC. All rights reserved. This material may not be published, "
        "broadcast, rewritten or redistributed.",
    ),
    "bbc": (
        "Skip to main content | News | Sport | Weather | iPlayer | Sounds",
        "Share this page: Email | Facebook | Twitter | Print",
        "Find out more about our BBC News App and how to get the latest headlines.",
    ),
    "email": (
        "_______________________________________________\nSci-space mailing list\n"
        "Sci-space@lists.example.org\nhttps://lists.example.org/mailman/listinfo/sci-space",
        "To unsubscribe from this list, send a message with UNSUBSCRIBE in the body to "
        "listserv@lists.example.org.",
    ),
    "encyclopedia": (
        "Home | Browse | Authors | Titles | Search | About",
        "This eBook is for the use of anyone anywhere at no cost and with almost no "
        "restrictions whatsoever.",
    ),
}

_CAPTION_SUBJECTS = (
    "Smoke rises following an explosion near",
    "Residents line up for fuel at a gas station in",
    "Firefighters battle a blaze on the outskirts of",
    "A man walks past a damaged building in",
    "People gather at a checkpoint outside",
    "Police officers stand guard in front of the parliament in",
)
_CAPTION_PLACES = (
    "Stepanakert, Nagorno-Karabakh",
    "Sydney, Australia",
    "Kabul, Afghanistan",
    "Srinagar, India",
    "Jerusalem",
    "Washington",
)
_CAPTION_MONTHS = ("Jan.", "Feb.", "March", "April", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")
_PHOTOGRAPHERS = ("Mara Lind", "Tomas Okafor", "Lena Petrosyan", "David Kim", "Ana Ruiz")
_SYNONYMS = {
    "said": "stated", "says": "stated", "people": "persons", "about": "around",
    "more": "over", "killed": "dead", "found": "discovered", "large": "big",
    "also": "as well", "help": "assist", "began": "started", "before": "prior to",
}
_OPEN_QUOTE_SPACE = re.compile(r"(?<=[\w’',.]) (?=[\"“][A-Za-z])")
_HYPHENATABLE = re.compile(r"^([A-Za-z]{8,})([^\w]*)$")
_COMPOUND = re.compile(r"^([A-Za-z]{3,})-([A-Za-z]{3,})([^\w-]*)$")


# --------------------------------------------------------------------------- text transforms


def quote_variant(text: str) -> str:
    """Swap straight and typographic quotes (the scraper's two copies of one paragraph).

    >>> quote_variant("it's “fine” and \\"ok\\"")
    'it’s "fine" and “ok”'
    """
    out = []
    double_open = True
    for ch in text:
        if ch == "'":
            out.append("’")
        elif ch in "’‘":
            out.append("'")
        elif ch in "“”":
            out.append('"')
        elif ch == '"':
            out.append("“" if double_open else "”")
            double_open = not double_open
        else:
            out.append(ch)
    return "".join(out)


def whitespace_variant(text: str, rng: random.Random) -> str:
    """Double some spaces and add trailing ones (a whitespace-only variant).

    >>> flat(whitespace_variant("a b c d", random.Random(1))) == "a b c d"
    True
    """
    spaced = "".join("  " if ch == " " and rng.random() < 0.3 else ch for ch in text)
    if spaced == text:
        spaced = text.replace(" ", "  ", 1)
    return spaced + "  "


def mojibake(text: str) -> str:
    """Encode as UTF-8 and decode as Windows-1252 (Latin-1 for its undefined bytes).

    >>> mojibake("Azerbaijan’s “bid”")
    'Azerbaijanâ€™s â€œbidâ€\\x9d'
    """
    out = []
    for ch in text:
        if ord(ch) < 128:
            out.append(ch)
            continue
        for byte in ch.encode("utf-8"):
            try:
                out.append(bytes([byte]).decode("cp1252"))
            except UnicodeDecodeError:
                out.append(chr(byte))
    return "".join(out)


def near_duplicate(sentence: str, rng: random.Random, min_jaccard: float = 0.8) -> str | None:
    """A lightly edited copy of a sentence whose word-3-gram Jaccard with it is >= ``min_jaccard``.

    Up to ten tries of small edits (a number changed, a word swapped or dropped); None when no
    try is similar enough or the sentence is too short to edit believably. The default matches
    dedup's default ``unit_threshold``, so every such fault is a near duplicate by dedup's own
    definition.

    >>> s = ("At least 13 bodies have been found near the town of Stepanakert since the blast on "
    ...      "Monday night, and another 290 people remain in hospital, the health ministry said.")
    >>> v = near_duplicate(s, random.Random(3))
    >>> v != s and jaccard(shingles(v, 3), shingles(s, 3)) >= 0.8
    True
    """
    if len(sentence.split(" ")) < 8:
        return None
    for _ in range(10):
        variant = _edit_once(sentence, rng)
        if variant != sentence and jaccard(shingles(variant, 3),
                                           shingles(sentence, 3)) >= min_jaccard:
            return variant
    return None


def _edit_once(sentence: str, rng: random.Random) -> str:
    tokens = sentence.split(" ")
    edits = 0
    for index, token in enumerate(tokens):
        core = token.strip(",.;:")
        if core.isdigit() and rng.random() < 0.3:
            tokens[index] = token.replace(core, str(int(core) + rng.choice((1, 2, 10))))
            edits += 1
        elif core.lower() in _SYNONYMS and rng.random() < 0.3:
            tokens[index] = token.replace(core, _SYNONYMS[core.lower()])
            edits += 1
        if edits:
            break
    if edits == 0:
        drop = rng.randrange(1, len(tokens) - 1)
        del tokens[drop]
    return " ".join(tokens)


def caption_text(rng: random.Random) -> str:
    """An AP-style photo caption, sometimes with a credit line.

    >>> caption_text(random.Random(0)).endswith((".", ")"))
    True
    """
    month = rng.choice(_CAPTION_MONTHS)
    caption = (f"{rng.choice(_CAPTION_SUBJECTS)} {rng.choice(_CAPTION_PLACES)}, on {month} "
               f"{rng.randint(1, 28)}, {rng.randint(2001, 2023)}.")
    if rng.random() < 0.4:
        caption += f" (AP Photo/{rng.choice(_PHOTOGRAPHERS)})"
    return caption


# Caption families seen in real scraped news (issue 16): how the caption, its date and its
# credit are written differs by outlet, so a repairer tuned to one family must not score here.
_CAPTION_ACTIONS = (
    "Smoke rises following an explosion", "Residents line up for fuel at a gas station",
    "Firefighters battle a blaze", "A man walks past a damaged building",
    "People gather at a checkpoint", "Police officers stand guard in front of the parliament",
    "Supporters of the opposition wave flags during a rally",
    "A woman holds a portrait of her missing son",
)
_CAPTION_PLACES_V2 = (
    ("Stepanakert", "Nagorno-Karabakh"), ("Sydney", "Australia"), ("Kabul", "Afghanistan"),
    ("Lima", "Peru"), ("Srinagar", "India"), ("Jerusalem", ""), ("Washington", ""),
    ("Kyiv", "Ukraine"),
)
_MONTHS_AP = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
              "Nov.", "Dec.")
_MONTHS_FULL = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_AGENCIES = ("AFP via Getty Images", "EPA", "Reuters", "AP", "Getty Images", "Shutterstock")
CAPTION_FAMILIES: tuple[str, ...] = (
    "ap_comma_on", "ap_on", "ap_no_on", "ap_photo", "reuters", "guardian", "getty", "bbc",
    "pictured",
)


def caption_parts(rng: random.Random, family: str | None = None) -> tuple[str, ...]:
    """A photo caption from one of the real families, as its parts (caption, credit...).

    Families: AP with and without the comma before ``on`` and without ``on``
    (``in Lima, Oct. 30, 2018.``), ``(AP Photo/Name)``, ``REUTERS/Name``, the Guardian's
    ``Photograph: Name/AFP via Getty Images``, ``(Photo by Name/Getty Images)``, the BBC's
    ``Image caption, …`` and ``Pictured: …``. Dates in the AP style (``Sept. 25, 2023``), in
    full (``25 September 2023``, ``September 25, 2023``) or as a weekday.

    >>> caption_parts(random.Random(1), "reuters")[-1].startswith("REUTERS/")
    True
    """
    family = family or rng.choice(CAPTION_FAMILIES)
    action = rng.choice(_CAPTION_ACTIONS)
    city, region = rng.choice(_CAPTION_PLACES_V2)
    place = f"{city}, {region}" if region else city
    name = rng.choice(_PHOTOGRAPHERS)
    day, year = rng.randint(1, 28), rng.randint(2001, 2024)
    ap_date = f"{rng.choice(_MONTHS_AP)} {day}, {year}"
    style = rng.random()
    if style < 0.4:
        long_date = f"{day} {rng.choice(_MONTHS_FULL)} {year}"
    elif style < 0.8:
        long_date = f"{rng.choice(_MONTHS_FULL)} {day}, {year}"
    else:
        long_date = rng.choice(_WEEKDAYS)
    if family == "ap_comma_on":
        return (f"{action} in {place}, on {ap_date}.",)
    if family == "ap_on":
        return (f"{action} in {place} on {ap_date}.",)
    if family == "ap_no_on":
        return (f"{action} in {place}, {ap_date}.",)
    if family == "ap_photo":
        return (f"{action} in {place}, {rng.choice(_WEEKDAYS)}, {ap_date}.", f"(AP Photo/{name})")
    if family == "reuters":
        return (f"{action} in {place}, {long_date}.", f"REUTERS/{name}")
    if family == "guardian":
        return (f"{action} in {city}.", f"Photograph: {name}/{rng.choice(_AGENCIES)}")
    if family == "getty":
        return (f"{action} in {place} on {long_date}.", f"(Photo by {name}/Getty Images)")
    if family == "bbc":
        return (f"Image caption, {action} in {city}",)
    return (f"Pictured: {action} in {place} on {long_date}",)


# --------------------------------------------------------------------------- in-paragraph faults


@dataclass(frozen=True)
class _Local:
    """A fault in paragraph-local offsets, shifted when the document is assembled."""

    kind: str
    start: int
    end: int
    detail: dict[str, str]


def glue_boundary(paragraph: str, rng: random.Random) -> tuple[str, list[_Local]] | None:
    """Remove the whitespace at one sentence boundary.

    >>> glue_boundary("The blast was loud. The town was quiet.", random.Random(0))[0]
    'The blast was loud.The town was quiet.'
    """
    spots = boundary_positions(paragraph)
    if not spots:
        return None
    ws_start, ws_end = rng.choice(spots)
    left = paragraph[max(0, ws_start - 24) : ws_start]
    right = paragraph[ws_end : ws_end + 24]
    text = paragraph[:ws_start] + paragraph[ws_end:]
    start = ws_start - len(left)
    return text, [_Local("glued_boundary", start, ws_start + len(right),
                         {"left": flat(left), "right": flat(right)})]


def drop_quote_space(paragraph: str, rng: random.Random) -> tuple[str, list[_Local]] | None:
    """Remove the space before one opening quote.

    >>> drop_quote_space('It is Karabakh’s “reintegration” now.', random.Random(0))[0]
    'It is Karabakh’s“reintegration” now.'
    """
    spots = [m.start() for m in _OPEN_QUOTE_SPACE.finditer(paragraph)]
    if not spots:
        return None
    pos = rng.choice(spots)
    left = paragraph[max(0, pos - 20) : pos]
    right = paragraph[pos + 1 : pos + 21]
    text = paragraph[:pos] + paragraph[pos + 1 :]
    return text, [_Local("quote_space", pos - len(left), pos + len(right),
                         {"left": flat(left), "right": flat(right)})]


_CLOSE_QUOTE_SPACE = re.compile(r"(?<=[A-Za-z.,!?][\"”’]) (?=[A-Za-z])")
_OPEN_QUOTE_SPACE_V2 = re.compile(r"(?<=[\w’',.]) (?=[\"“‘][A-Za-z])")


def drop_quote_space_v2(paragraph: str, rng: random.Random) -> tuple[str, list[_Local]] | None:
    """Remove the space before an opening quote (straight, curly or single) or after a closing one.

    Real scrapes lose both: ``famed"clear blue water"``, ``called ‘peace’``, ``"water"is``.

    >>> drop_quote_space_v2('He said "no" to it.', random.Random(2))[0] in \\
    ...     ('He said"no" to it.', 'He said "no"to it.')
    True
    """
    spots = [m.start() for m in _OPEN_QUOTE_SPACE_V2.finditer(paragraph)]
    spots += [m.start() for m in _CLOSE_QUOTE_SPACE.finditer(paragraph)
              if paragraph[m.start() - 1] in "\"”" or rng.random() < 0.3]
    if not spots:
        return None
    pos = rng.choice(sorted(spots))
    left = paragraph[max(0, pos - 20) : pos]
    right = paragraph[pos + 1 : pos + 21]
    text = paragraph[:pos] + paragraph[pos + 1 :]
    return text, [_Local("quote_space", pos - len(left), pos + len(right),
                         {"left": flat(left), "right": flat(right)})]


def garble(paragraph: str, rng: random.Random) -> tuple[str, list[_Local]] | None:
    """Mojibake a paragraph that has non-ASCII characters."""
    if paragraph.isascii():
        return None
    text = mojibake(paragraph)
    return text, [_Local("mojibake", 0, len(text), {"paragraph": paragraph})]


def hard_wrap(paragraph: str, rng: random.Random, widths: tuple[int, int] = (64, 76),
              ragged: int = 0) -> tuple[str, list[_Local]] | None:
    """Wrap at ``widths`` columns (each line up to ``ragged`` shorter), hyphenating up to two
    long words and breaking one compound at its own hyphen.

    >>> text, faults = hard_wrap("word " * 40, random.Random(0))
    >>> "\\n" in text and faults[0].kind == "hard_wrap"
    True
    """
    if len(paragraph) < 100:
        return None
    base = rng.randint(*widths)
    width = base - (rng.randint(0, ragged) if ragged else 0)
    words = paragraph.split(" ")
    out = ""
    line_len = 0
    locals_: list[_Local] = []
    hyphens_left = 2
    for index, word in enumerate(words):
        if not out:
            out, line_len = word, len(word)
            continue
        if line_len + 1 + len(word) <= width:
            out += " " + word
            line_len += 1 + len(word)
            continue
        context = _word_context(words, index)
        long_word = _HYPHENATABLE.match(word)
        compound = _COMPOUND.match(word)
        if long_word and hyphens_left and rng.random() < 0.7:
            core = long_word.group(1)
            cut = rng.randint(3, len(core) - 4)
            head, tail = core[:cut] + "-", core[cut:] + long_word.group(2)
            start = len(out) + 1
            out += " " + head + "\n" + tail
            locals_.append(_Local("hyphenation", start, len(out), {"context": context}))
            hyphens_left -= 1
            line_len = len(tail)
            width = base - (rng.randint(0, ragged) if ragged else 0)
        elif compound and rng.random() < 0.8:
            head, tail = compound.group(1) + "-", compound.group(2) + compound.group(3)
            start = len(out) + 1
            out += " " + head + "\n" + tail
            locals_.append(_Local("compound_break", start, len(out), {"context": context}))
            line_len = len(tail)
            width = base - (rng.randint(0, ragged) if ragged else 0)
        else:
            out += "\n" + word
            line_len = len(word)
            width = base - (rng.randint(0, ragged) if ragged else 0)
    if "\n" not in out:
        return None
    return out, [_Local("hard_wrap", 0, len(out), {"paragraph": paragraph}), *locals_]


def _word_context(words: Sequence[str], index: int) -> str:
    return flat(" ".join(words[max(0, index - 1) : index + 2]))


def hard_wrap_v2(paragraph: str, rng: random.Random) -> tuple[str, list[_Local]] | None:
    """Wrap at 40-100 columns, ragged (each line up to 12 columns short), like real dumps."""
    return hard_wrap(paragraph, rng, widths=(40, 100), ragged=12)


_PARAGRAPH_FAULTS = (glue_boundary, drop_quote_space, hard_wrap, garble)
PARAGRAPH_FAULTS_V2 = (glue_boundary, drop_quote_space_v2, hard_wrap_v2, garble)
GENERATORS = ("v1", "v2")


# --------------------------------------------------------------------------- assembly


@dataclass
class _Element:
    """A piece of the corrupted document and how it joins the next piece."""

    text: str
    faults: list[_Local]
    joiner: str = "\n\n"


def corrupt_document(doc: SourceDoc, seed: int, rates: FaultRates | None = None,
                     boilerplate: str | None = None, generator: str = "v2") -> CorruptedDoc:
    """Corrupt one clean document, recording every fault.

    The random stream depends only on ``seed`` and ``doc.doc_id``, so a document's corruption
    does not change when other documents are added or removed.

    Args:
        doc: the clean document.
        seed: the run's seed.
        rates: fault probabilities.
        boilerplate: a shared block to insert, chosen at corpus level, or None.
        generator: ``"v2"`` (caption families, date styles, 40-100 column ragged wraps, quote
            spaces lost on either side, glued paragraph joins) or ``"v1"`` (the original
            generator, kept so that older figures can be reproduced).

    Returns:
        The corrupted document with its faults in text order.
    """
    if generator not in GENERATORS:
        raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}")
    rates = rates or FaultRates()
    faults_in_paragraph = _PARAGRAPH_FAULTS if generator == "v1" else PARAGRAPH_FAULTS_V2
    rng = random.Random(f"{seed}:{doc.doc_id}")
    paragraphs = list(doc.paragraphs)
    elements = [_Element(p, []) for p in paragraphs]
    touched = [False] * len(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if rng.random() >= rates.paragraph_fault:
            continue
        order = rng.sample(faults_in_paragraph, len(faults_in_paragraph))
        if not paragraph.isascii() and rng.random() < 0.4:
            order.insert(0, garble)
        for fault in order:
            result = fault(paragraph, rng)
            if result is not None:
                elements[index] = _Element(result[0], result[1])
                touched[index] = True
                break
    _insert_near_duplicate(elements, paragraphs, touched, rng, rates)
    _insert_duplicates(elements, paragraphs, touched, rng, rates)
    reserved = {paragraphs[i] for i in range(1, len(paragraphs)) if touched[i]}
    _insert_caption(elements, rng, rates, reserved, generator)
    if generator == "v2":
        _glue_paragraphs(elements, rng, rates)
    if boilerplate is not None:
        block = _Element(boilerplate, [_Local("boilerplate", 0, len(boilerplate),
                                              {"block": boilerplate})])
        if rng.random() < 0.5:
            elements.insert(0, block)
        else:
            elements.append(block)
    text, faults = _assemble(elements)
    return CorruptedDoc(doc.doc_id, doc.source, doc.text, text,
                        tuple(_with_expected_counts(f, doc.text) for f in faults))


def expected_text(fault: Fault) -> tuple[str, str] | None:
    """The string a correct repair leaves in the output, and the view it is counted in.

    Views: ``"flat"`` (all whitespace one space), ``"line"`` (line breaks kept) or ``"key"``
    (matching key). None for faults whose repair only removes text (caption, boilerplate).
    """
    detail = fault.detail
    if fault.kind.startswith("dup_"):
        return detail["paragraph"], "key"
    if fault.kind in {"glued_boundary", "quote_space"}:
        return f"{detail['left']} {detail['right']}", "flat"
    if fault.kind in {"hyphenation", "compound_break"}:
        return detail["context"], "flat"
    if fault.kind == "hard_wrap":
        return detail["paragraph"], "line"
    if fault.kind == "mojibake":
        return detail["paragraph"], "flat"
    if fault.kind == "near_dup_sentence":
        return detail["original"], "flat"
    return None


def view(text: str, name: str) -> str:
    """Render ``text`` in one of the views named by :func:`expected_text`.

    >>> view("A  b\\nc", "line"), view("A  b\\nc", "flat"), view("A  b\\nc", "key")
    ('A b\\nc', 'A b c', 'a b c')
    """
    if name == "key":
        return match_key(text)
    if name == "line":
        return line_view(text)
    return flat(text)


def _with_expected_counts(fault: Fault, clean: str) -> Fault:
    """Record how often the repaired form occurs in the clean original (phrases do repeat)."""
    expected = expected_text(fault)
    detail = dict(fault.detail)
    if expected is not None:
        target, name = expected
        needle = view(target, "key" if name == "key" else "flat")
        detail["expected"] = str(max(1, view(clean, name).count(needle)))
    if "next" in detail:
        detail["expected_next"] = str(max(1, (" " + flat(clean)).count(" " + flat(detail["next"]))))
    if fault.kind == "mojibake":
        detail["garbled"] = mojibake(detail["paragraph"])
    return Fault(fault.kind, fault.start, fault.end, detail)


def _insert_near_duplicate(elements: list[_Element], paragraphs: list[str], touched: list[bool],
                           rng: random.Random, rates: FaultRates) -> None:
    if len(paragraphs) < 2 or touched[0] or rng.random() >= rates.near_duplicate:
        return
    candidates = [i for i in range(1, len(paragraphs)) if not touched[i]]
    rng.shuffle(candidates)
    for index in candidates:
        for sentence in split_sentences(paragraphs[index]):
            variant = near_duplicate(sentence, rng)
            if variant is None or variant in elements[0].text:
                continue
            lead = elements[0]
            start = len(lead.text) + 1
            lead.text += " " + variant
            similarity = jaccard(shingles(variant, 3), shingles(sentence, 3))
            touched[index] = True  # keep other faults off the original's paragraph
            lead.faults.append(_Local("near_dup_sentence", start, len(lead.text),
                                      {"original": sentence, "variant": variant,
                                       "jaccard_3gram": f"{similarity:.3f}"}))
            touched[0] = True
            return


def _insert_duplicates(elements: list[_Element], paragraphs: list[str], touched: list[bool],
                       rng: random.Random, rates: FaultRates) -> None:
    free = [i for i in range(len(paragraphs)) if not touched[i]]
    if not free:
        return
    glued_at = None
    if rng.random() < rates.duplicate_glued:
        pairs = [i for i in free if i + 1 < len(paragraphs) and not touched[i + 1]]
        if pairs:
            glued_at = rng.choice(pairs)
    plain_at = None
    if rng.random() < rates.duplicate:
        choices = [i for i in free if i != glued_at]
        if choices:
            plain_at = rng.choice(choices)
    # From the end, so that the lower index still points at its original when it comes.
    for index in sorted(i for i in (glued_at, plain_at) if i is not None)[::-1]:
        paragraph = paragraphs[index]
        if index == glued_at:
            copy = quote_variant(paragraph) if rng.random() < 0.5 else paragraph
            nxt = split_sentences(paragraphs[index + 1])[0]
            element = _Element(copy, [_Local("dup_glued", 0, len(copy),
                                             {"paragraph": paragraph, "next": nxt})], joiner="")
        else:
            kind, copy = _duplicate_variant(paragraph, rng)
            element = _Element(copy, [_Local(kind, 0, len(copy), {"paragraph": paragraph})])
        elements.insert(index + 1, element)


def _duplicate_variant(paragraph: str, rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.4 and any(q in paragraph for q in "'\"’“”"):
        return "dup_quote", quote_variant(paragraph)
    if roll < 0.7:
        return "dup_whitespace", whitespace_variant(paragraph, rng)
    return "dup_exact", paragraph


def _glue_paragraphs(elements: list[_Element], rng: random.Random, rates: FaultRates) -> None:
    """Join two untouched paragraphs with no whitespace (``</p><p>`` scraped as ``blast.The``)."""
    if rng.random() >= rates.paragraph_glue:
        return
    spots = [i for i in range(len(elements) - 1)
             if not elements[i].faults and not elements[i + 1].faults
             and elements[i].joiner == "\n\n" and elements[i].text[-1:] in ".!?\"”"
             and elements[i + 1].text[:1].isupper()]
    if not spots:
        return
    index = rng.choice(spots)
    element, following = elements[index], elements[index + 1]
    left, right = element.text[-24:], following.text[:24]
    element.joiner = ""
    element.faults.append(_Local("glued_boundary", len(element.text) - len(left),
                                 len(element.text) + len(right),
                                 {"left": flat(left), "right": flat(right)}))


def _insert_caption(elements: list[_Element], rng: random.Random, rates: FaultRates,
                    reserved: set[str], generator: str = "v2") -> None:
    if len(elements) < 2 or rng.random() >= rates.caption:
        return
    targets = [i for i in range(1, len(elements))
               if not elements[i].faults and elements[i - 1].joiner != ""
               and elements[i].text not in reserved]
    if not targets:
        return
    index = rng.choice(targets)
    if generator == "v1":
        caption = caption_text(rng)
        detail = {"caption": caption}
    else:
        family = rng.choice(CAPTION_FAMILIES)
        parts = caption_parts(rng, family)
        caption = " ".join(parts)
        detail = {"caption": caption, "parts": "\n".join(parts), "family": family}
    nxt = split_sentences(elements[index].text)[0]
    glued = rng.random() < 0.7
    elements.insert(index, _Element(caption, [_Local("caption", 0, len(caption),
                                                     {**detail, "next": nxt})],
                                    joiner="" if glued else "\n\n"))


def _assemble(elements: list[_Element]) -> tuple[str, list[Fault]]:
    text = ""
    faults: list[Fault] = []
    for position, element in enumerate(elements):
        offset = len(text)
        text += element.text
        faults.extend(Fault(f.kind, offset + f.start, offset + f.end, dict(f.detail))
                      for f in element.faults)
        if position + 1 < len(elements):
            text += element.joiner
    faults.sort(key=lambda f: (f.start, f.end))
    return text, faults


# --------------------------------------------------------------------------- corpus


def reprint(doc: SourceDoc, seed: int) -> CorruptedDoc:
    """A reprint of ``doc`` with small edits: a few words changed, a credit line added.

    >>> d = SourceDoc("news:1", "news", ("One sentence said here. Two more said.", "Last one."))
    >>> reprint(d, 0).reprint_of
    'news:1'
    """
    rng = random.Random(f"{seed}:{doc.doc_id}:reprint")
    paragraphs = list(doc.paragraphs)
    if len(paragraphs) >= 4 and rng.random() < 0.5:
        paragraphs.pop()
    edited = []
    for paragraph in paragraphs:
        tokens = paragraph.split(" ")
        for index, token in enumerate(tokens):
            core = token.strip(",.;:")
            if core.lower() in _SYNONYMS and rng.random() < 0.1:
                tokens[index] = token.replace(core, _SYNONYMS[core.lower()])
        edited.append(" ".join(tokens))
    edited.append(f"(Reporting by {rng.choice(_PHOTOGRAPHERS)}; "
                  f"Editing by {rng.choice(_PHOTOGRAPHERS)})")
    text = "\n\n".join(edited)
    return CorruptedDoc(f"{doc.doc_id}~reprint", doc.source, text, text, (), doc.doc_id)


def build_corpus(docs: Sequence[SourceDoc], seed: int, rates: FaultRates | None = None,
                 generator: str = "v2") -> list[CorruptedDoc]:
    """Corrupt every document, add shared boilerplate and reprints.

    Reprints follow all originals, in a seeded order, so "first seen" keeps the original.

    Args:
        docs: clean documents (any sources).
        seed: the run's seed.
        rates: fault probabilities.
        generator: ``"v2"`` or ``"v1"`` (see :func:`corrupt_document`).
    """
    rates = rates or FaultRates()
    corpus = []
    reprints = []
    for doc in docs:
        rng = random.Random(f"{seed}:{doc.doc_id}:corpus")
        pool = BOILERPLATE.get(doc.source, ())
        block = rng.choice(pool) if pool and rng.random() < rates.boilerplate else None
        corpus.append(corrupt_document(doc, seed, rates, block, generator))
        if rng.random() < rates.reprint:
            reprints.append(reprint(doc, seed))
    random.Random(f"{seed}:reprints").shuffle(reprints)
    return corpus + reprints
