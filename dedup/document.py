"""The values that flow between stages and out of the library: documents, changes and flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "Change", "Flag", "CleanResult"]


@dataclass(frozen=True)
class Document:
    """One document: an id, its text and whatever else its record carried (passed through)."""

    id: str
    text: str
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Change:
    """One change to a document, in offsets of the input text.

    Replaying every change of a document (``before`` → ``after`` at ``start:end``) turns the input
    into the output; replaying them backwards undoes the run. For a removal, ``kept_start`` and
    ``kept_end`` locate the copy that was kept (in the same input) and ``similarity`` says how
    alike the two were (1.0 for an exact repeat after normalisation).
    """

    kind: str
    start: int
    end: int
    before: str
    after: str
    reason: str = ""
    level: str | None = None
    confidence: float | None = None
    kept_start: int | None = None
    kept_end: int | None = None
    kept_document: str | None = None
    similarity: float | None = None
    absorbed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in reports: absent values are left out."""
        record: dict[str, Any] = {
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "before": self.before,
            "after": self.after,
        }
        for name in ("reason", "level", "confidence", "kept_start", "kept_end", "kept_document",
                     "similarity"):
            value = getattr(self, name)
            if value not in (None, ""):
                record[name] = value
        if self.absorbed:
            record["absorbed"] = list(self.absorbed)
        return record


@dataclass(frozen=True)
class Flag:
    """Something worth a look that was left in the text (a caption kept, a suspected splice)."""

    kind: str
    start: int
    end: int
    text: str
    reason: str
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in reports."""
        record: dict[str, Any] = {"kind": self.kind, "start": self.start, "end": self.end,
                                  "text": self.text, "reason": self.reason}
        if self.confidence is not None:
            record["confidence"] = self.confidence
        return record


@dataclass(frozen=True)
class CleanResult:
    """What :func:`dedup.clean_and_explain` returns: the cleaned text and the account of it."""

    text: str
    changes: tuple[Change, ...]
    flags: tuple[Flag, ...] = ()

    def summary(self) -> dict[str, int]:
        """Number of changes of each kind, plus ``flag:`` counts, sorted by kind.

        >>> CleanResult("x", (), ()).summary()
        {}
        """
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        for flag in self.flags:
            counts["flag:" + flag.kind] = counts.get("flag:" + flag.kind, 0) + 1
        return dict(sorted(counts.items()))
