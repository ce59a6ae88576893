"""The corpus passes as stages: plain functions of one task and an explicit context, which any
engine (:mod:`dedup.engines`) runs.

A task is a :class:`Batch` (documents the driver read, by text) or a :class:`Shard` (a file,
or a byte range of one, read, and in pass 2 written, where the task runs).

* :func:`fingerprint` (pass 1): each document is repaired and segmented and yields a compact
  :class:`~dedup.corpus.store.Fingerprints` row: a MinHash signature of its word shingles, the
  hash of its matching key, and the hashes of its paragraphs, lines and sentences. With a
  temporary directory in the context, the segmentation is kept there for pass 2.
* :func:`shingles` (the plan's exact checks): the exact shingles of the documents a check needs.
* :func:`clean` (pass 2): each document is cleaned with the boilerplate set, or dropped (or
  annotated) as a duplicate of its keeper; a shard's documents are written to its output.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.arrays import sorted_unique
from dedup.corpus.cluster import Decisions
from dedup.corpus.store import Fingerprints, IdTable, keep_segments, take_segments
from dedup.document import CleanResult, Document
from dedup.fingerprint import exact_hash, key_for, key_shingles, signatures
from dedup.io.plan import OutputPlan
from dedup.io.read import ReadOptions, Source, read_documents
from dedup.io.write import Outputs
from dedup.policy import Boilerplate, Paragraph, boilerplate_units
from dedup.report import document_record, encode_documents, is_jsonl

__all__ = [
    "PassContext",
    "CleanContext",
    "Batch",
    "Shard",
    "ShingleTask",
    "Pass1Result",
    "ShardOutput",
    "Tally",
    "fingerprint",
    "shingles",
    "shingle_sets",
    "clean",
    "emit",
    "fingerprint_batch",
    "document_shingles",
    "documents_shingles",
    "exact_jaccard",
    "pair_jaccard",
    "batches",
]

_T = TypeVar("_T")


def batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Consecutive lists of ``size`` items (the last perhaps fewer).

    >>> list(batches(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, kw_only=True)
class PassContext:
    """What every task of pass 1 and of the exact checks shares."""

    config: DedupConfig
    read: ReadOptions
    batch_size: int = 32
    #: The run's temporary directory, when the tasks can see it (pass 1 keeps segments there).
    spill: str | None = None


@dataclass(frozen=True, kw_only=True)
class CleanContext:
    """What every task of pass 2 shares: the plan's decisions and where outputs go."""

    config: DedupConfig
    read: ReadOptions
    decisions: Decisions
    outputs: OutputPlan
    annotate: bool = False
    spill: str | None = None

    @property
    def boilerplate(self) -> dict[int, tuple[int, int]]:
        plan = self.decisions.plan
        return plan.boilerplate if plan is not None else {}


@dataclass(frozen=True)
class Batch:
    """Documents the driver read: ``texts`` in order, the first being document ``first``; in
    pass 2, ``drops`` says which are not cleaned (duplicates, repeated ids)."""

    number: int
    texts: tuple[str, ...]
    first: int = 0
    drops: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Shard:
    """A source read (and in pass 2 written) where the task runs; its first document is
    document ``first`` of the corpus (known in pass 2)."""

    number: int
    source: Source
    first: int = 0


@dataclass(frozen=True)
class ShingleTask:
    """Documents whose exact shingles a check needs: ``(index, text)`` the driver read, or the
    indices wanted of shards."""

    items: tuple[tuple[int, str], ...] = ()
    shards: tuple[tuple[Shard, tuple[int, ...]], ...] = ()


@dataclass
class Pass1Result:
    """Pass 1 of a task: fingerprints, and for a shard its ids, skipped records and bytes read."""

    fingerprints: Fingerprints
    ids: IdTable | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class ReportPart:
    """A file of report entries a worker wrote to the run's temporary directory."""

    path: str


@dataclass
class ShardOutput:
    """Pass 2 of a shard: its report entries (encoded, or in a file), tally, bytes written and
    skipped records."""

    entries: str | ReportPart
    tally: Tally
    bytes_out: int
    skipped: list[dict[str, Any]]


def _spill_file(spill: str | None, name: str) -> str | None:
    return os.path.join(spill, name) if spill else None


# --------------------------------------------------------------------------- pass 1


def fingerprint(task: Batch | Shard, context: PassContext) -> Pass1Result:
    """Pass 1 of a task."""
    config = context.config
    path = _spill_file(context.spill, f"segments-{task.number}.i64")
    segments: list[Any] | None = [] if path else None
    if isinstance(task, Batch):
        fingerprints = fingerprint_batch(task.texts, config, segments)
        keep_segments(path, segments)
        return Pass1Result(fingerprints)
    result = Pass1Result(Fingerprints.concatenate([], config.fingerprint.num_perm), IdTable())
    parts = []
    for batch in batches(read_documents(task.source, context.read, result.skipped), context.batch_size):
        assert result.ids is not None
        result.ids.extend(d.id for d in batch)
        result.size += sum(len(d.text.encode("utf-8")) for d in batch)
        parts.append(fingerprint_batch([d.text for d in batch], config, segments))
    keep_segments(path, segments)
    result.fingerprints = Fingerprints.concatenate(parts, config.fingerprint.num_perm)
    return result


def fingerprint_batch(texts: Sequence[str], config: DedupConfig,
                      segments: list[tuple[int, tuple[Paragraph, ...]] | None] | None = None) -> Fingerprints:
    """Pass 1 over a batch of document texts. With a ``segments`` list, each document's
    paragraphs are appended to it when repair left the text unchanged (else None), for pass 2."""
    from dedup.pipeline import paragraphs_of, repaired_text
    from dedup.segment import segmenter_for

    fp = config.fingerprint
    want_units = config.policy.boilerplate != "keep"
    keys: list[str] = []
    doc_hashes = np.zeros(len(texts), dtype=np.uint64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    unit_hashes: list[np.ndarray] = []
    unit_docs: list[np.ndarray] = []
    for index, text in enumerate(texts):
        repaired, edits, boundaries = repaired_text(text, config)
        key = key_for(repaired, fp)
        doc_hashes[index] = exact_hash(key)
        lengths[index] = len(repaired)
        keys.append(key)
        if not want_units:
            if segments is not None:
                segments.append(None)
            continue
        paragraphs = paragraphs_of(repaired, segmenter_for(config.segment), boundaries)
        if segments is not None:
            segments.append(None if edits or boundaries else (len(text), paragraphs))
        units = np.array(boilerplate_units(repaired, paragraphs, config), dtype=np.uint64)
        unit_hashes.append(units)
        unit_docs.append(np.full(len(units), index, dtype=np.int64))
    return Fingerprints(
        signatures(key_shingles(keys, fp.shingle_size), fp.num_perm, fp.seed),
        doc_hashes,
        lengths,
        np.concatenate(unit_hashes) if unit_hashes else np.empty(0, np.uint64),
        np.concatenate(unit_docs) if unit_docs else np.empty(0, np.int64),
    )


def document_shingles(text: str, config: DedupConfig) -> np.ndarray:
    """The sorted, unique shingle hashes of a document, exactly as pass 1 signs them."""
    return documents_shingles([text], config)[0]


def documents_shingles(texts: Sequence[str], config: DedupConfig) -> list[np.ndarray]:
    """:func:`document_shingles` of many documents, word hashing and shingling vectorised over
    them all (as pass 1 does), not one document at a time."""
    from dedup.pipeline import repaired_text

    keys = [key_for(repaired_text(text, config)[0], config.fingerprint) for text in texts]
    return [sorted_unique(shingles) for shingles in key_shingles(keys, config.fingerprint.shingle_size)]


def exact_jaccard(pairs: np.ndarray, texts: Iterable[tuple[int, str]], config: DedupConfig) -> np.ndarray:
    """Exact Jaccard of document ``pairs``, reading ``(index, text)`` once and keeping the
    shingles of only the documents the pairs name."""
    needed = set(pairs.ravel().tolist())
    shingles: dict[int, np.ndarray] = {}
    for index, text in texts:
        if index in needed:
            shingles[index] = document_shingles(text, config)
            if len(shingles) == len(needed):
                break
    return pair_jaccard(pairs, shingles)


def pair_jaccard(pairs: np.ndarray, shingles: Mapping[int, np.ndarray]) -> np.ndarray:
    """Exact Jaccard of document ``pairs`` from each document's sorted unique shingles."""
    result = np.zeros(len(pairs))
    for k, (i, j) in enumerate(pairs.tolist()):
        a, b = shingles[i], shingles[j]
        if len(a) > len(b):
            a, b = b, a
        if not len(a):
            result[k] = 0.0 if len(b) else 1.0
            continue
        # Each of the shorter set's shingles looked up in the longer (both sorted and unique).
        found = np.searchsorted(b, a)
        shared = int(np.count_nonzero(b[np.minimum(found, len(b) - 1)] == a))
        result[k] = shared / (len(a) + len(b) - shared)
    return result




# --------------------------------------------------------------------------- exact checks


def shingles(task: ShingleTask, context: PassContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact shingles of the task's documents, for verifying pairs near the threshold: the
    indices, where each document's shingles end, and all the shingles in one array (one array
    to send back, not one per document)."""
    items = list(task.items)
    for shard, wanted in task.shards:
        remaining = set(wanted)
        for offset, document in enumerate(read_documents(shard.source, context.read, [])):
            if shard.first + offset in remaining:
                items.append((shard.first + offset, document.text))
                remaining.discard(shard.first + offset)
                if not remaining:
                    break
    found = documents_shingles([text for _, text in items], context.config)
    ends = np.cumsum([len(s) for s in found], dtype=np.int64)
    flat = np.concatenate(found) if found else np.empty(0, dtype=np.uint32)
    return np.array([index for index, _ in items], dtype=np.int64), ends, flat


def shingle_sets(results: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[int, np.ndarray]:
    """The shingles of each document, from :func:`shingles` results (views, not copies)."""
    sets: dict[int, np.ndarray] = {}
    for indices, ends, flat in results:
        sets.update(zip(indices.tolist(), np.split(flat, ends[:-1])))
    return sets


# --------------------------------------------------------------------------- pass 2


class Tally:
    """Counts for the summary, kept while documents are written."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.boilerplate: Counter[str] = Counter()
        self.documents_in = 0
        self.documents_out = 0

    def merge(self, other: Tally) -> None:
        """Add another tally (of later documents)."""
        self.counts.update(other.counts)
        self.boilerplate.update(other.boilerplate)
        self.documents_in += other.documents_in
        self.documents_out += other.documents_out

    def add(self, result: CleanResult) -> None:
        """Count a kept document and its changes."""
        self.documents_out += 1
        for change in result.changes:
            self.counts[change.kind] += 1
            if change.kind == "boilerplate_removed":
                self.boilerplate[change.before.strip()[:200]] += 1
        for flag in result.flags:
            self.counts["flag:" + flag.kind] += 1


def clean(task: Batch | Shard, context: CleanContext) -> list[CleanResult | None] | ShardOutput:
    """Pass 2 of a task: a batch's results (the driver writes them), or a shard cleaned and
    written to its output."""
    from dedup.pipeline import explain_text, prepared_from

    config, units = context.config, context.boilerplate
    segments = take_segments(_spill_file(context.spill, f"segments-{task.number}.i64"))
    if isinstance(task, Batch):
        if len(segments) != len(task.texts):  # none kept, or not the same batch: segment again
            segments = [None] * len(task.texts)
        return [
            None if drop else explain_text(text, config, Boilerplate(units, index) if units else None,
                                           prepared_from(text, segment))
            for index, text, drop, segment in zip(range(task.first, task.first + len(task.texts)),
                                                  task.texts, task.drops, segments)
        ]
    decisions, plan = context.decisions, context.decisions.plan
    tally = Tally()
    records: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    with Outputs(context.outputs, context.read, context.annotate) as outputs:
        for offset, document in enumerate(read_documents(task.source, context.read, [])):
            index = task.first + offset
            drop = (plan is not None and plan.duplicate_of[index] >= 0 and not context.annotate) \
                or index in decisions.repeated
            segment = segments[offset] if offset < len(segments) else None
            result = None if drop else explain_text(document.text, config,
                                                   Boilerplate(units, index) if units else None,
                                                   prepared_from(document.text, segment))
            record = emit(document, task.source, result, index, decisions, context.annotate, tally,
                          outputs, skipped)
            if record is not None:
                records.append(record)
        outputs.touch(task.source)
    report = context.outputs.report
    entries = encode_documents(records, is_jsonl(report)) if report else ""
    path = _spill_file(context.spill, f"report-{task.number}.part")
    if entries and path:
        # A range's report can be larger than the range: the driver copies a file instead of
        # receiving the text.
        with open(path, "w", encoding="utf-8", newline="") as part:
            part.write(entries)
        return ShardOutput(ReportPart(path), tally, outputs.bytes_out, skipped)
    return ShardOutput(entries, tally, outputs.bytes_out, skipped)


def decision_fields(plan: Any, index: int, ids: IdTable, annotate: bool,
                    tally: Tally) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report fields and the --annotate columns of document ``index``."""
    record: dict[str, Any] = {}
    annotation: dict[str, Any] = {}
    if plan is None:
        return record, annotation
    if plan.cluster[index] >= 0:
        keeper = int(plan.duplicate_of[index])
        similarity = float(plan.similarity[index]) if keeper >= 0 else None
        annotation = {
            "dedup_cluster": int(plan.cluster[index]),
            "dedup_duplicate_of": ids[keeper] if keeper >= 0 else None,
            "dedup_similarity": similarity,
        }
        if keeper >= 0:
            record = {"removed": not annotate, "duplicate_of": ids[keeper], "similarity": similarity,
                      "cluster": int(plan.cluster[index])}
            tally.counts["document_removed" if not annotate else "document_annotated"] += 1
    elif annotate:
        annotation = {"dedup_cluster": None, "dedup_duplicate_of": None, "dedup_similarity": None}
    return record, annotation


def emit(document: Document, source: Source, result: CleanResult | None, index: int, decisions: Decisions,
         annotate: bool, tally: Tally, outputs: Outputs | None,
         skipped_records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Write document ``index`` (or drop it) and return its report record (None when skipped
    for a repeated id)."""
    tally.documents_in += 1
    if index in decisions.repeated:
        where = document.meta.get("source"), document.meta.get("line") or document.meta.get("row")
        skipped_records.append({"source": where[0], "line": where[1], "problem": f"duplicate id {document.id!r}"})
        return None
    fields, annotation = decision_fields(decisions.plan, index, decisions.ids, annotate, tally)
    record: dict[str, Any] = {"id": document.id, **fields}
    if result is not None:
        tally.add(result)
        record.update(document_record(document.id, result))
    else:
        record.update(changes=[], flags=[])
    if outputs is not None:
        outputs.write(source, document, result.text if result is not None else None, annotation)
    return record
