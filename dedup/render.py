"""Render: turn a document's removals into edits that rebuild it from the units it keeps.

A removed unit takes the whitespace that joined it to its neighbour with it, so joins stay
correct: no doubled spaces, no orphaned separators, paragraph and line breaks kept. When every
unit of a line or paragraph goes, the line or paragraph goes as a whole. This stage adds no text.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from types import MappingProxyType

from dedup.edits import Edit
from dedup.policy import Paragraph, Removal

__all__ = ["removal_edits"]


def _run_pieces(items: Sequence[tuple[int, int]], removed: Sequence[bool],
                outer: tuple[int, int]) -> dict[int, tuple[int, int]]:
    """Spans to delete for each removed item, each with the whitespace joining it to a kept
    neighbour (the next one if any, else the previous one)."""
    pieces: dict[int, tuple[int, int]] = {}
    count = len(items)
    index = 0
    while index < count:
        if not removed[index]:
            index += 1
            continue
        last = index
        while last + 1 < count and removed[last + 1]:
            last += 1
        if last + 1 < count:  # a kept item follows: delete up to its start
            for k in range(index, last + 1):
                pieces[k] = (items[k][0], items[k + 1][0])
        elif index > 0:  # a kept item precedes: delete from its end
            for k in range(index, last + 1):
                pieces[k] = (items[k - 1][1], items[k][1])
        else:  # everything goes
            for k in range(index, last + 1):
                end = items[k + 1][0] if k + 1 < count else items[k][1]
                pieces[k] = (items[k][0], end)
        index = last + 1
    del outer
    return pieces


def _split_piece(piece: tuple[int, int], removals: Sequence[Removal]) -> list[tuple[int, int, Removal]]:
    """Share one deleted span among the removals inside it, in order, without gaps."""
    ordered = sorted(removals, key=lambda r: r.start)
    result = []
    for k, removal in enumerate(ordered):
        start = piece[0] if k == 0 else removal.start
        end = ordered[k + 1].start if k + 1 < len(ordered) else piece[1]
        result.append((start, end, removal))
    return result


def _edit(start: int, end: int, removal: Removal) -> Edit:
    info: dict[str, object] = {"reason": removal.reason, "level": removal.level}
    for name in ("kept_start", "kept_end", "similarity", "confidence"):
        value = getattr(removal, name)
        if value is not None:
            info[name] = value
    return Edit(start, end, "", removal.kind, MappingProxyType(info))


def removal_edits(paragraphs: Sequence[Paragraph], removals: Sequence[Removal]) -> list[Edit]:
    """Edits deleting the removed units of a document with the right whitespace."""
    if not removals:
        return []
    whole = {(r.start, r.end): r for r in removals}
    by_start = sorted(removals, key=lambda r: r.start)
    removal_starts = [r.start for r in by_start]

    def inside(span: tuple[int, int]) -> list[Removal]:
        first = bisect.bisect_left(removal_starts, span[0])
        last = bisect.bisect_right(removal_starts, span[1])
        return [r for r in by_start[first:last] if r.end <= span[1]]

    def within(span: tuple[int, int], units: list[tuple[int, int]], starts: list[int]) -> list[tuple[int, int]]:
        """The units (sorted by start) that lie inside ``span``."""
        first, last = bisect.bisect_left(starts, span[0]), bisect.bisect_right(starts, span[1])
        return [u for u in units[first:last] if u[1] <= span[1]]

    def gone(span: tuple[int, int], units: Sequence[tuple[int, int]]) -> bool:
        return bool(units) and all(u in whole for u in units)

    edits: list[Edit] = []
    spans = [(p.span.start, p.span.end) for p in paragraphs]
    sentence_spans = [[(s.start, s.end) for s in p.sentences] for p in paragraphs]
    paragraph_gone = [
        spans[i] in whole or gone(spans[i], sentence_spans[i]) for i in range(len(paragraphs))
    ]
    outer = (spans[0][0], spans[-1][1]) if spans else (0, 0)
    for i, piece in _run_pieces(spans, paragraph_gone, outer).items():
        own = whole.get(spans[i])
        if own is not None:
            edits.append(_edit(piece[0], piece[1], own))
        else:
            edits.extend(_edit(a, b, r) for a, b, r in _split_piece(piece, inside(spans[i])))
    for i, paragraph in enumerate(paragraphs):
        if paragraph_gone[i]:
            continue
        lines = [(line.start, line.end) for line in paragraph.lines]
        sentence_starts = [s[0] for s in sentence_spans[i]]
        line_sentences = [within(line, sentence_spans[i], sentence_starts) for line in lines]
        line_gone = [gone(lines[k], line_sentences[k]) for k in range(len(lines))]
        for k, piece in _run_pieces(lines, line_gone, spans[i]).items():
            own = whole.get(lines[k])
            pieces = [(piece[0], piece[1], own)] if own else _split_piece(piece, inside(lines[k]))
            edits.extend(_edit(a, b, r) for a, b, r in pieces)
        for k, line in enumerate(lines):
            if line_gone[k]:
                continue
            units = line_sentences[k]
            flags = [u in whole for u in units]
            for j, piece in _run_pieces(units, flags, line).items():
                edits.append(_edit(piece[0], piece[1], whole[units[j]]))
    edits.sort(key=lambda e: (e.start, e.end))
    return edits
