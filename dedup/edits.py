"""Edits with offsets, and the arithmetic that carries them back to the input.

Every stage that changes text returns a sorted list of non-overlapping :class:`Edit` on the text it
was given. :func:`compose` merges the edits of two consecutive stages into edits on the first
stage's input, so the report can give every change in input offsets; :func:`apply_edits` replays a
list (the report is exactly what turns the input into the output), and :class:`OffsetMap` maps a
span of a later text back to the input.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Edit", "apply_edits", "compose", "OffsetMap"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``after``; ``kind`` and ``info`` say why."""

    start: int
    end: int
    after: str
    kind: str
    info: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply sorted, non-overlapping edits to ``text``.

    >>> apply_edits("ab.Cd", [Edit(3, 3, " ", "boundary_split")])
    'ab. Cd'
    """
    pieces: list[str] = []
    position = 0
    for edit in edits:
        if edit.start < position:
            raise ValueError(f"edits overlap or are unsorted at offset {edit.start}")
        pieces.append(text[position : edit.start])
        pieces.append(edit.after)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


class OffsetMap:
    """Maps offsets in a stage's output back to its input, given the stage's edits.

    An offset inside replaced text snaps outward to the edit's boundaries, so a mapped span
    always covers everything it came from.

    >>> m = OffsetMap([Edit(2, 2, "  ", "x")])
    >>> m.source_span(0, 6)
    (0, 4)
    """

    def __init__(self, edits: Sequence[Edit]) -> None:
        self.edits = list(edits)
        self.target_starts: list[int] = []
        self.target_ends: list[int] = []
        shift = 0
        for edit in self.edits:
            target_start = edit.start + shift
            self.target_starts.append(target_start)
            self.target_ends.append(target_start + len(edit.after))
            shift += len(edit.after) - (edit.end - edit.start)

    def source_start(self, position: int) -> int:
        """Input offset where a span starting at ``position`` of the output starts."""
        # Edits whose replacement ends at or before position lie wholly before it.
        k = bisect.bisect_right(self.target_ends, position)
        # Zero-length replacements at position also lie before it (a deletion at the seam).
        if k < len(self.edits) and self.target_starts[k] < position:
            return self.edits[k].start  # position inside edit k: snap to its start
        if k == 0:
            return position
        return position - self.target_ends[k - 1] + self.edits[k - 1].end

    def source_end(self, position: int) -> int:
        """Input offset where a span ending at ``position`` of the output ends."""
        # Edits that start before position and whose replacement ends at or before it.
        k = bisect.bisect_left(self.target_ends, position)
        # target_ends[k] >= position; an edit k with target_start < position straddles it.
        if k < len(self.edits) and self.target_starts[k] < position < self.target_ends[k]:
            return self.edits[k].end
        # Edits strictly before: those with target_end < position, plus non-empty ones ending at it.
        j = k
        while j < len(self.edits) and self.target_ends[j] == position and self.target_starts[j] < position:
            j += 1
        if j == 0:
            return position
        return position - self.target_ends[j - 1] + self.edits[j - 1].end

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Input span covering the output span ``[start, end)``."""
        source_start = self.source_start(start)
        return source_start, max(source_start, self.source_end(end))


def _touches(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """True when two spans share text, or one empty span lies strictly inside the other."""
    if a_start < b_end and b_start < a_end:
        return True
    if a_start == a_end and b_start < a_start < b_end:
        return True
    return b_start == b_end and a_start < b_start < a_end


def compose(first: Sequence[Edit], second: Sequence[Edit], middle: str) -> list[Edit]:
    """Merge edits ``first`` (input → ``middle``) and ``second`` (``middle`` → output) into edits
    on the input that give the output directly.

    Edits of ``second`` that overlap edits of ``first`` absorb them: the merged edit keeps the
    later edit's kind and lists the absorbed kinds in ``info["absorbed"]``.

    >>> first = [Edit(5, 5, " ", "boundary_split")]   # "blast.The" -> "blast. The"
    >>> second = [Edit(0, 7, "", "duplicate_removed")]  # drop "blast. " from the middle text
    >>> [(e.start, e.end, e.after, e.kind) for e in compose(first, second, "blast. The")]
    [(0, 6, '', 'duplicate_removed')]
    """
    if not second:
        return list(first)
    if not first:
        return list(second)
    first_map = OffsetMap(first)
    items: list[tuple[int, int, int, int]] = []  # (start, end, which, index) in middle offsets
    for index, (start, end) in enumerate(zip(first_map.target_starts, first_map.target_ends)):
        items.append((start, end, 0, index))
    for index, edit in enumerate(second):
        items.append((edit.start, edit.end, 1, index))
    items.sort(key=lambda item: (item[0], item[1], item[2]))

    clusters: list[list[tuple[int, int, int, int]]] = []
    for item in items:
        if clusters and any(
            member[2] != item[2] and _touches(item[0], item[1], member[0], member[1])
            for member in clusters[-1]
        ):
            clusters[-1].append(item)
        else:
            clusters.append([item])

    result: list[Edit] = []
    for cluster in clusters:
        firsts = [first[m[3]] for m in cluster if m[2] == 0]
        seconds = [second[m[3]] for m in cluster if m[2] == 1]
        if not seconds:
            result.extend(firsts)
            continue
        lo = min(m[0] for m in cluster)
        hi = max(m[1] for m in cluster)
        source_start = min(
            [e.start for e in firsts] + [first_map.source_start(e.start) for e in seconds]
        )
        source_end = max(
            [e.end for e in firsts]
            + [first_map.source_span(e.start, e.end)[1] for e in seconds]
        )
        local = [Edit(e.start - lo, e.end - lo, e.after, e.kind) for e in seconds]
        after = apply_edits(middle[lo:hi], local)
        lead = seconds[0]
        info = dict(lead.info)
        if firsts:
            info["absorbed"] = [k for e in firsts for k in (e.kind, *e.info.get("absorbed", ()))]
        if len(seconds) > 1:
            info["merged"] = [e.kind for e in seconds[1:]]
        result.append(Edit(source_start, source_end, after, lead.kind, MappingProxyType(info)))
    result.sort(key=lambda e: (e.start, e.end))
    return result
