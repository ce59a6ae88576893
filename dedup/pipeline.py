"""Pipeline: wire the stages together for one document (and, in corpus mode, for many).

read → fix encoding → repair → segment → fingerprint → match → decide → render → write, with the
edits of each stage composed back onto the input so that every change is reported in input
offsets and replaying the report reproduces the output exactly.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from dedup.config import DedupConfig
from dedup.document import Change, CleanResult, Flag
from dedup.edits import Edit, OffsetMap, apply_edits, compose
from dedup.language import config_for_language, language_config
from dedup.policy import Boilerplate, Paragraph, UnitKeys, credit_boundaries, decide_document
from dedup.render import removal_edits
from dedup.repair import fix_encoding, repair
from dedup.segment import Segmenter, Span, segmenter_for

__all__ = ["Prepared", "prepare", "explain_text", "paragraphs_of", "pack_segments", "unpack_segments"]


@dataclass(frozen=True)
class Prepared:
    """A document after repair and segmentation, before any removal."""

    source: str
    text: str
    edits: tuple[Edit, ...]  # input → text
    paragraphs: tuple[Paragraph, ...]
    boundaries: tuple[int, ...]
    #: The language it was prepared in (:func:`dedup.language.config_for_language` of ``source``).
    language: str


def paragraphs_of(text: str, segmenter: Segmenter, boundaries: tuple[int, ...],
                  previous: Prepared | None = None) -> tuple[Paragraph, ...]:
    """Paragraphs of repaired text with their lines and sentences (``boundaries`` sorted). A
    paragraph's lines and sentences depend on its text and the boundaries inside it alone: one
    the ``previous`` round's text has too, with the same boundaries, keeps those found there."""
    known = dict(_keyed(previous)) if previous is not None else {}
    result = []
    for key, span in _keyed_spans(text, segmenter.paragraphs(text), boundaries):
        found = known.get(key)
        if found is not None:
            result.append(_moved(found, span.start - found.span.start))
            continue
        forced = [span.start + b for b in key[1]]
        result.append(Paragraph(
            span,
            tuple(segmenter.lines(text, span.start, span.end)),
            tuple(segmenter.sentences(text, span.start, span.end, forced)),
        ))
    return tuple(result)


def _keyed_spans(text: str, spans: list[Span] | tuple[Span, ...],
                 boundaries: tuple[int, ...]) -> list[tuple[tuple[str, tuple[int, ...]], Span]]:
    """Each paragraph span with its key: its text and the boundaries inside it, from its start."""
    ordered = sorted(boundaries)
    keyed = []
    for span in spans:
        forced = ordered[bisect.bisect_right(ordered, span.start) : bisect.bisect_left(ordered, span.end)]
        keyed.append(((text[span.start : span.end], tuple(b - span.start for b in forced)), span))
    return keyed


def _keyed(prepared: Prepared) -> list[tuple[tuple[str, tuple[int, ...]], Paragraph]]:
    spans = [p.span for p in prepared.paragraphs]
    return [(key, paragraph) for (key, _), paragraph in
            zip(_keyed_spans(prepared.text, spans, prepared.boundaries), prepared.paragraphs)]


def _moved(paragraph: Paragraph, delta: int) -> Paragraph:
    def move(spans: tuple[Span, ...]) -> tuple[Span, ...]:
        return tuple(Span(s.start + delta, s.end + delta) for s in spans)

    return Paragraph(Span(paragraph.span.start + delta, paragraph.span.end + delta), move(paragraph.lines),
                     move(paragraph.sentences))


def repaired_text(source: str, config: DedupConfig) -> tuple[str, list[Edit], tuple[int, ...]]:
    """Fix encoding and repair one document: the text, the edits, the forced boundaries."""
    if not config.repair.enabled:
        return source, [], ()
    segmenter = segmenter_for(config.segment)
    text, edits = source, list[Edit]()
    boundaries: tuple[int, ...] = ()
    # A repair can make another one possible (a space after a period changes the token a later
    # decision looks at; joined lines change the wrap width or reunite a mojibake sequence split
    # across lines): repeat until nothing changes.
    joined_lines = True  # before the first round, every line is "new" to ftfy
    # Each round only joins lines or inserts spaces, so this ends; the bound is for safety.
    for _ in range(_MAX_REPAIR_ROUNDS):
        changed = False
        if config.repair.fix_encoding and joined_lines:
            fixed, encoding_edits = fix_encoding(text)
            if encoding_edits:
                edits = compose(edits, encoding_edits, text)
                boundaries = _carry(boundaries, tuple(encoding_edits))
                text, changed = fixed, True
        repaired = repair(text, config.repair, segmenter.abbreviations)
        joined_lines = any(e.kind in _JOINS for e in repaired.edits)
        if repaired.edits:
            edits = compose(edits, list(repaired.edits), text)
            boundaries = _carry(boundaries, repaired.edits) + repaired.boundaries
            text, changed = repaired.text, True
        if not changed:
            break
    # A photo credit with no full stop ends a sentence that Punkt would run on (policy's hook).
    return text, edits, tuple(sorted(set(boundaries).union(credit_boundaries(text))))


def _carry(boundaries: tuple[int, ...], edits: tuple[Edit, ...]) -> tuple[int, ...]:
    """Move offsets of a text through edits made to it."""
    if not boundaries or not edits:
        return boundaries
    # The edits are sorted and do not overlap, so their ends are sorted too: the edits wholly
    # before a position are a prefix, and at most the next one straddles it.
    ends = [edit.end for edit in edits]
    shifts = list(itertools.accumulate((len(e.after) - (e.end - e.start) for e in edits), initial=0))
    moved = []
    for position in boundaries:
        k = bisect.bisect_right(ends, position)
        if k < len(edits) and edits[k].start < position:
            position = edits[k].start  # inside a replaced span: its start
        moved.append(position + shifts[k])
    return tuple(moved)


def prepare(source: str, config: DedupConfig, previous: Prepared | None = None) -> Prepared:
    """Fix encoding, repair and segment one document (``previous``: an earlier round's, whose
    segmentation of the paragraphs it shares is kept)."""
    config = config_for_language(source, config)
    text, edits, boundaries = repaired_text(source, config)
    paragraphs = paragraphs_of(text, segmenter_for(config.segment), boundaries, previous)
    return Prepared(source, text, tuple(edits), paragraphs, boundaries, config.segment.language)


def pack_segments(segments: list[tuple[int, tuple[Paragraph, ...]] | None]) -> np.ndarray:
    """Flatten ``(length, paragraphs)`` of documents that repair left unchanged (None for the
    others) into one int64 array: pass 1 segments each document once and pass 2 reads it back
    instead of running Punkt again."""
    flat: list[int] = []
    for segment in segments:
        if segment is None:
            flat.append(-1)
            continue
        length, paragraphs = segment
        flat += (length, len(paragraphs))
        for paragraph in paragraphs:
            flat += (paragraph.span.start, paragraph.span.end, len(paragraph.lines))
            for span in paragraph.lines:
                flat += (span.start, span.end)
            flat.append(len(paragraph.sentences))
            for span in paragraph.sentences:
                flat += (span.start, span.end)
    return np.array(flat, dtype=np.int64)


def unpack_segments(packed: np.ndarray) -> list[tuple[int, tuple[Paragraph, ...]] | None]:
    """The inverse of :func:`pack_segments`."""
    values = packed.tolist()
    result: list[tuple[int, tuple[Paragraph, ...]] | None] = []
    at = 0

    def spans(first: int, count: int) -> tuple[Span, ...]:
        return tuple(Span(values[k], values[k + 1]) for k in range(first, first + 2 * count, 2))

    while at < len(values):
        length = values[at]
        at += 1
        if length < 0:
            result.append(None)
            continue
        paragraphs = []
        count, at = values[at], at + 1
        for _ in range(count):
            span = Span(values[at], values[at + 1])
            lines = spans(at + 3, values[at + 2])
            at += 3 + 2 * len(lines)
            sentences = spans(at + 1, values[at])
            at += 1 + 2 * len(sentences)
            paragraphs.append(Paragraph(span, lines, sentences))
        result.append((length, tuple(paragraphs)))
    return result


def changes_nothing(config: DedupConfig, boilerplate: Boilerplate | None) -> bool:
    """True when a config can change no document (document-level dedup only)."""
    policy = config.policy
    return (
        not config.repair.enabled
        and not policy.dedup_paragraphs
        and not policy.dedup_sentences
        and policy.captions == "keep"
        and (boilerplate is None or not boilerplate.units or policy.boilerplate == "keep")
    )


_JOINS = frozenset({"line_unwrapped", "word_dehyphenated", "paragraph_rejoined"})
_REMOVALS = frozenset({"duplicate_removed", "caption_removed", "boilerplate_removed"})
_MAX_ROUNDS = 4
_MAX_REPAIR_ROUNDS = 16


def _change(edit: Edit, source: str) -> Change:
    info = edit.info
    return Change(
        kind=edit.kind,
        start=edit.start,
        end=edit.end,
        before=source[edit.start : edit.end],
        after=edit.after,
        reason=str(info.get("reason", "")),
        level=info.get("level"),
        confidence=info.get("confidence"),
        kept_start=info.get("kept_start"),
        kept_end=info.get("kept_end"),
        similarity=info.get("similarity"),
        absorbed=tuple(info.get("absorbed", ())),
    )


def _to_source(edit: Edit, to_source: OffsetMap) -> Edit:
    """The same edit with its kept-twin offsets mapped back through earlier edits."""
    if edit.info.get("kept_start") is None:
        return edit
    info = dict(edit.info)
    info["kept_start"], info["kept_end"] = to_source.source_span(info["kept_start"], info["kept_end"])
    return Edit(edit.start, edit.end, edit.after, edit.kind, MappingProxyType(info))


def _round(source: str, config: DedupConfig, boilerplate: Boilerplate | None, prepared: Prepared,
           unit_keys: UnitKeys) -> tuple[str, list[Edit], list[Flag]]:
    decision = decide_document(prepared.text, prepared.paragraphs, prepared.boundaries, config, boilerplate,
                               unit_keys)
    removals = removal_edits(prepared.paragraphs, decision.removals)
    output = apply_edits(prepared.text, removals)
    to_source = OffsetMap(prepared.edits)
    edits = [_to_source(e, to_source) for e in compose(prepared.edits, removals, prepared.text)]
    flags = []
    for mark in decision.flags:
        start, end = to_source.source_span(mark.start, mark.end)
        flags.append(Flag(mark.kind, start, end, source[start:end], mark.reason, mark.confidence))
    for edit in prepared.edits:
        if edit.kind == "suspected_splice":
            fragment = source[edit.end : edit.end + 60].split("\n")[0]
            flags.append(Flag("suspected_splice", edit.start, edit.end, fragment, str(edit.info.get("reason", ""))))
    return output, edits, flags


def explain_text(source: str, config: DedupConfig, boilerplate: Boilerplate | None = None,
                 prepared: Prepared | None = None) -> CleanResult:
    """Clean one document and account for every change (see :func:`dedup.clean_and_explain`).

    A removal can bring together text that a further round would change (a fragment now next to
    a paragraph it continues, a sentence now repeating another), so a further round runs after
    each round that removed something: cleaning the output again changes nothing. A round that
    only repaired leaves text its own repairs already reached a fixed point on.
    """
    if changes_nothing(config, boilerplate):
        return CleanResult(source, (), ())
    setting = config
    # Decided on the input (by prepare, when the document comes prepared).
    config = config_for_language(source, config) if prepared is None else language_config(prepared.language, config)
    prepared = prepared if prepared is not None else prepare(source, config)
    unit_keys = UnitKeys(config)
    output, edits, flags = _round(source, config, boilerplate, prepared, unit_keys)
    latest = edits
    for _ in range(_MAX_ROUNDS - 1):
        if not any(e.kind in _REMOVALS or e.info.get("absorbed") for e in latest):
            break
        # A removal can change the language a text reads as (a document in two languages losing
        # its repeats in one): a further round cleans the text in the language it has now, as
        # cleaning the output again would.
        now = config_for_language(output, setting)
        if now.segment.language != config.segment.language:
            config, prepared, unit_keys = now, prepare(output, now), UnitKeys(now)
        else:
            prepared = prepare(output, config, prepared)
        following, more, more_flags = _round(output, config, boilerplate, prepared, unit_keys)
        if not more:
            break
        latest = more
        to_source = OffsetMap(edits)
        more = [_to_source(e, to_source) for e in more]
        edits = compose(edits, more, output)
        flags = [f for f in flags if f.kind == "suspected_splice"] + [
            Flag(f.kind, *to_source.source_span(f.start, f.end), f.text, f.reason, f.confidence)
            for f in more_flags if f.kind != "suspected_splice"
        ]
        output = following
    flags = sorted(flags, key=lambda f: (f.start, f.end, f.kind))
    flags = [f if source[f.start : f.end] == f.text or f.kind == "suspected_splice"
             else Flag(f.kind, f.start, f.end, source[f.start : f.end], f.reason, f.confidence) for f in flags]
    return CleanResult(output, tuple(_change(e, source) for e in edits), tuple(flags))


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Where a run reads and writes, and how it uses the machine (not what it decides)."""

    inputs: tuple[str, ...] = ("-",)
    output: str = "-"
    report: str | None = None
    force: bool = False
    annotate: bool = False
    annotate_prefix: str | None = None  # --annotate's field names: PREFIX + cluster, … (default dedup_)
    removed: str | None = None  # --removed: the documents a run drops, whole, in the inputs' format
    jobs: int = 0
    batch_size: int = 32
    progress: bool = False
    memory: int | None = None  # bytes; above half of it, signatures and band keys stay on disk
    engine: str = "local"  # "local" (in-process or a process pool) or "ray"
    ray_address: str | None = None  # with engine "ray": an existing cluster; None starts a local one
    against: tuple[str, ...] = ()  # saved indexes to deduplicate against (dedup.saved_index)
