"""The corpus stages: plain functions of one task and an explicit context, which any engine
(:mod:`dedup.engines`) runs. Three stages, each document prepared once:

* :func:`prepare`: each document is repaired and segmented once (ftfy, repair, paragraphs,
  lines, sentences) into a :class:`~dedup.pipeline.Prepared`, which the driver keeps on disk;
  it also yields the document's boilerplate unit hashes and a MinHash signature of its repaired
  text (used only to count boilerplate over distinct documents).
* :func:`clean`: each prepared document is cleaned (boilerplate, captions, repeated paragraphs
  and sentences removed) and signed again: the plan compares documents on the text that will be
  written, so two sites' copies of one story match whatever banner or footer each added.
* :func:`write`: a shard's documents are written from the cleaned cache (documents the driver
  read are written by the driver, with :func:`emit`).

A task is a :class:`Batch` (texts the driver read) or a :class:`Shard` (a file, or a byte range
of one, read where the task runs). :func:`shingles` gives the exact shingles the plan checks.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.arrays import jaccard, sorted_unique
from dedup.corpus.cluster import Decisions
from dedup.corpus.store import (
    BlobFile,
    Fingerprints,
    IdTable,
    decode_prepared,
    decode_result,
    encode_prepared,
    encode_result,
    write_blobs,
)
from dedup.document import CleanResult, Document
from dedup.errors import InputError
from dedup.fingerprint import keyed_texts, signatures
from dedup.io.plan import OutputPlan
from dedup.io.read import ReadOptions, Source, read_documents
from dedup.io.write import Outputs
from dedup.language import language_fields
from dedup.policy import Boilerplate, boilerplate_units
from dedup.records import id_value
from dedup.report import document_record, encode_documents, is_jsonl

__all__ = [
    "PassContext",
    "CleanContext",
    "WriteContext",
    "Batch",
    "Shard",
    "CleanTask",
    "ShingleTask",
    "Prepared1",
    "Cleaned",
    "ShardOutput",
    "Tally",
    "prepare",
    "clean",
    "write",
    "shingles",
    "shingle_sets",
    "emit",
    "decision_fields",
    "prepare_batch",
    "sign",
    "pair_jaccard",
    "batches",
    "cleaning_needed",
    "reported_language",
    "reported",
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


def cleaning_needed(config: DedupConfig) -> bool:
    """Whether a config can change a document (given some boilerplate): else documents are
    neither segmented nor cleaned, only repaired (when repair is on) and compared."""
    from dedup.pipeline import changes_nothing

    return not changes_nothing(config, Boilerplate({0: (0, 0)}))


def language_matters(config: DedupConfig) -> bool:
    """Whether a document's language decides anything in a run: its repairs, sentence rules and
    boilerplate units (not in document mode, where documents are only compared)."""
    return config.repair.enabled or config.policy.boilerplate != "keep" or cleaning_needed(config)


def reported_language(config: DedupConfig) -> str | None:
    """The language setting the report's document entries are given (None: no ``language``)."""
    return config.segment.language if language_matters(config) else None


def reported(setting: str | None, language: str | None) -> str | None:
    """What :func:`emit` is given for a document's language: the ``language`` it was prepared in
    (as the setting would detect it again) when known and the report has languages."""
    return language if setting is not None and language is not None else setting


@dataclass(frozen=True, kw_only=True)
class PassContext:
    """What every task of :func:`prepare` and :func:`shingles` shares."""

    config: DedupConfig
    read: ReadOptions
    batch_size: int = 32
    #: The run's temporary directory, when the tasks run on this machine: a shard's prepared
    #: documents are written there, not sent back.
    spill: str | None = None


@dataclass(frozen=True, kw_only=True)
class CleanContext:
    """What every task of :func:`clean` shares: the config and the boilerplate set."""

    config: DedupConfig
    boilerplate: Mapping[int, tuple[int, int]]
    #: With ``--boilerplate keep_first``: the documents that hold the first copy of a unit.
    first_copies: frozenset[int] = frozenset()


@dataclass(frozen=True, kw_only=True)
class WriteContext:
    """What every task of :func:`write` shares: the plan's decisions and where outputs go."""

    config: DedupConfig
    read: ReadOptions
    decisions: Decisions
    outputs: OutputPlan
    annotate: bool = False
    annotate_prefix: str | None = None


@dataclass(frozen=True)
class Batch:
    """Documents the driver read, by text, in order."""

    number: int
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Shard:
    """A source read where the task runs; ``first`` is the index of its first document, and for
    :func:`write` ``results`` are its documents as cleaned (encoded)."""

    number: int
    source: Source
    first: int = 0
    results: tuple[bytes, ...] | BlobFile = ()


@dataclass(frozen=True)
class CleanTask:
    """Prepared documents (encoded) to clean, the first being document ``first``."""

    first: int
    prepared: tuple[bytes, ...]


@dataclass(frozen=True)
class ShingleTask:
    """``(index, text)`` of documents whose exact shingles a check needs (repaired text)."""

    items: tuple[tuple[int, str], ...] = ()
    #: Each document's shingles in reading order (repeats kept), not sorted and unique.
    ordered: bool = False


@dataclass
class Prepared1:
    """What :func:`prepare` gives for a task: fingerprints of the repaired texts, the prepared
    documents (encoded), and for a shard its ids, skipped records and bytes read."""

    fingerprints: Fingerprints
    prepared: list[bytes] | BlobFile = field(default_factory=list)
    ids: IdTable | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0


@dataclass
class Cleaned:
    """What :func:`clean` gives: the cleaned documents (encoded) and their signatures."""

    results: list[bytes]
    fingerprints: Fingerprints


@dataclass
class ShardOutput:
    """:func:`write` of a shard: its report entries (encoded), tally, bytes written and skipped
    records."""

    entries: str
    tally: Tally
    bytes_out: int
    skipped: list[dict[str, Any]]


# --------------------------------------------------------------------------- prepare


def prepare(task: Batch | Shard, context: PassContext) -> Prepared1:
    """Repair and segment each document of a task once; fingerprint the repaired texts."""
    config = context.config
    if isinstance(task, Batch):
        fingerprints, prepared = prepare_batch(task.texts, config)
        return Prepared1(fingerprints, _encoded(prepared, config))
    ids = IdTable()
    result = Prepared1(Fingerprints.concatenate([], config.fingerprint.num_perm), [], ids)
    parts = []

    def blobs() -> Iterator[bytes]:
        for batch in batches(read_documents(task.source, context.read, result.skipped), context.batch_size):
            ids.extend(d.id for d in batch)
            result.size += sum(len(d.text.encode("utf-8")) for d in batch)
            fingerprints, prepared = prepare_batch([d.text for d in batch], config)
            parts.append(fingerprints)
            yield from _encoded(prepared, config)

    if context.spill is not None:  # (the driver's machine: written to a file it copies)
        result.prepared = write_blobs(os.path.join(context.spill, f"prepared-{task.number}.part"), blobs())
    else:
        result.prepared = list(blobs())
    result.fingerprints = Fingerprints.concatenate(parts, config.fingerprint.num_perm)
    return result


def _encoded(prepared: list[Any], config: DedupConfig) -> list[bytes]:
    """Prepared documents for the cache; when no document can change, only their text."""
    if not cleaning_needed(config):
        return [p.source.encode("utf-8") for p in prepared]
    return [encode_prepared(p) for p in prepared]


def prepare_batch(texts: Sequence[str], config: DedupConfig) -> tuple[Fingerprints, list[Any]]:
    """Repair (and, where cleaning or boilerplate needs it, segment) a batch of documents; their
    fingerprints (signatures of the repaired texts, boilerplate unit hashes) and
    :class:`~dedup.pipeline.Prepared` documents."""
    from dedup.language import config_for_language
    from dedup.pipeline import Prepared, paragraphs_of, repaired_text
    from dedup.segment import segmenter_for

    want_units = config.policy.boilerplate != "keep"
    segment = want_units or cleaning_needed(config)
    per_language = language_matters(config)
    prepared = []
    unit_hashes: list[np.ndarray] = []
    unit_docs: list[np.ndarray] = []
    for index, text in enumerate(texts):
        resolved = config_for_language(text, config) if per_language else config
        repaired, edits, boundaries = repaired_text(text, resolved)
        paragraphs = paragraphs_of(repaired, segmenter_for(resolved.segment), boundaries) if segment else ()
        prepared.append(Prepared(text, repaired, tuple(edits), paragraphs, boundaries, resolved.segment.language))
        if want_units:
            units = np.array(boilerplate_units(repaired, paragraphs, config), dtype=np.uint64)
            unit_hashes.append(units)
            unit_docs.append(np.full(len(units), index, dtype=np.int64))
    fingerprints = sign([p.text for p in prepared], config)
    if unit_hashes:
        fingerprints.unit_hashes = np.concatenate(unit_hashes)
        fingerprints.unit_docs = np.concatenate(unit_docs)
    return fingerprints, prepared


def sign(texts: Sequence[str], config: DedupConfig) -> Fingerprints:
    """Signatures, exact hashes and lengths of texts (no unit hashes)."""
    fp = config.fingerprint
    keyed = keyed_texts(texts, fp)
    return Fingerprints(
        signatures(keyed.shingles(), fp.num_perm, fp.seed),
        keyed.exact,
        # (A text with nothing to compare, no word in its key, has length 0: never a copy.)
        np.array([len(text) if words else 0 for text, words in zip(texts, keyed.words.tolist())], dtype=np.int64),
        np.empty(0, np.uint64),
        np.empty(0, np.int64),
    )


# --------------------------------------------------------------------------- clean


def clean(task: CleanTask, context: CleanContext) -> Cleaned:
    """Clean prepared documents with the boilerplate set and sign what will be written, without
    its boilerplate: where ``--boilerplate`` keeps some (``keep_first``'s first copies,
    ``flag``), documents are compared on the text with it removed, so that two copies of a story
    match whatever boilerplate each kept."""
    from dedup.pipeline import explain_text

    config, units = context.config, context.boilerplate
    blobs, compared = [], []
    for index, blob in enumerate(task.prepared, start=task.first):
        prepared = decode_prepared(blob)
        view = Boilerplate(units, index) if units else None
        result = explain_text(prepared.source, config, view, prepared)
        text = result.text
        if view is not None and (index in context.first_copies
                                 or any(flag.kind == "boilerplate" for flag in result.flags)):
            text = explain_text(prepared.source, config.replace(boilerplate="remove"), view, prepared).text
        blobs.append(encode_result(result, prepared.language, text if text != result.text else None))
        compared.append(text)
    return Cleaned(blobs, sign(compared, config))


# --------------------------------------------------------------------------- exact checks


def shingles(task: ShingleTask, context: PassContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact shingles of the task's texts (already repaired), for verifying pairs: the indices,
    where each document's shingles end, and all the shingles in one array (one array to send
    back, not one per document). Shingles in reading order (``ordered``, for containment,
    which counts tokens covered by ``shingle_size`` windows) are of that size in every script;
    the sets for Jaccard have each document's own size, as its signature."""
    fp = context.config.fingerprint
    shingled = keyed_texts([text for _, text in task.items], fp).shingles(fp.shingle_size if task.ordered else None)
    found = [np.asarray(s, dtype=np.uint32) if task.ordered else sorted_unique(s) for s in shingled]
    ends = np.cumsum([len(s) for s in found], dtype=np.int64)
    flat = np.concatenate(found) if found else np.empty(0, dtype=np.uint32)
    return np.array([index for index, _ in task.items], dtype=np.int64), ends, flat


def shingle_sets(results: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[int, np.ndarray]:
    """The shingles of each document, from :func:`shingles` results (views, not copies)."""
    sets: dict[int, np.ndarray] = {}
    for indices, ends, flat in results:
        sets.update(zip(indices.tolist(), np.split(flat, ends[:-1])))
    return sets


def pair_jaccard(pairs: np.ndarray, shingles: Mapping[int, np.ndarray]) -> np.ndarray:
    """Exact Jaccard of document ``pairs`` from each document's sorted unique shingles."""
    return np.array([jaccard(shingles[i], shingles[j]) for i, j in pairs.tolist()], dtype=np.float64)






# --------------------------------------------------------------------------- write


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


def write(task: Shard, context: WriteContext) -> ShardOutput:
    """Write a shard's documents, as cleaned, to its output; its report entries come back."""
    decisions = context.decisions
    report = context.outputs.report
    setting = reported_language(context.config)
    tally = Tally()
    records: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    as_read = isinstance(task.results, tuple) and not task.results  # (no document can change)
    cleaned_blobs = iter(task.results)
    with Outputs(context.outputs, context.read, context.annotate, context.annotate_prefix) as outputs:
        for offset, document in enumerate(read_documents(task.source, context.read, [])):
            index = task.first + offset
            blob = b"" if as_read else next(cleaned_blobs, None)
            if blob is None:
                raise InputError(f"{task.source.path}: changed while dedup was reading it (document {offset + 1} "
                                 "is new); run again once it is complete")
            cleaned, language = decode_result(blob) if blob else (CleanResult(document.text, (), ()), None)
            result = result_for(index, cleaned, decisions, context.annotate)
            record = emit(document, task.source, result, index, decisions, context.annotate, tally,
                          outputs, skipped, reported(setting, language), report=report is not None)
            if record is not None:
                records.append(record)
        outputs.touch(task.source)
    entries = encode_documents(records, is_jsonl(report)) if report else ""
    return ShardOutput(entries, tally, outputs.bytes_out, skipped)


def result_for(index: int, result: CleanResult, decisions: Decisions, annotate: bool) -> CleanResult | None:
    """The result to write for document ``index``: None when it is dropped (a duplicate, unless
    annotating, or a repeated id)."""
    plan = decisions.plan
    if index in decisions.repeated or (plan is not None and plan.duplicate_of[index] >= 0 and not annotate):
        return None
    return result


def decision_fields(plan: Any, index: int, ids: IdTable, annotate: bool,
                    tally: Tally) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report fields and the --annotate columns of document ``index``."""
    record: dict[str, Any] = {}
    annotation: dict[str, Any] = {}
    if plan is None:
        return record, annotation
    if index in plan.against:  # matched in a saved index (dedup clean --against)
        from dedup.saved_index import against_fields

        return against_fields(plan.against[index], annotate, tally.counts)
    if plan.cluster[index] >= 0:
        keeper = int(plan.duplicate_of[index])
        similarity = float(plan.similarity[index]) if keeper >= 0 else None
        annotation = {
            "dedup_cluster": int(plan.cluster[index]),
            "dedup_duplicate_of": ids[keeper] if keeper >= 0 else None,
            "dedup_similarity": similarity,
        }
        if keeper >= 0:
            record = {"removed": not annotate, "duplicate_of": id_value(ids[keeper]), "similarity": similarity,
                      "cluster": int(plan.cluster[index])}
            if plan.containment is not None and plan.containment[index] == plan.containment[index]:
                record["containment"] = float(plan.containment[index])
            tally.counts["document_removed" if not annotate else "document_annotated"] += 1
        elif index in plan.kept_near:
            other, near, inside = plan.kept_near[index]
            record = {"near_duplicate_of": id_value(ids[other]), "similarity": near, "containment": inside,
                      "cluster": int(plan.cluster[index]),
                      "reason": "kept: holds text the kept copy lacks"}
            tally.counts["near_duplicate_kept"] += 1
    elif annotate:
        annotation = {"dedup_cluster": None, "dedup_duplicate_of": None, "dedup_similarity": None}
    return record, annotation


def emit(document: Document, source: Source, result: CleanResult | None, index: int, decisions: Decisions,
         annotate: bool, tally: Tally, outputs: Outputs | None,
         skipped_records: list[dict[str, Any]], language: str | None = "auto", *, report: bool = True
         ) -> dict[str, Any] | None:
    """Write document ``index`` (or drop it) and, when a ``report`` is written, return its
    report record (None when skipped for a repeated id, or without a report); ``language`` is
    the setting (the record gets the document's language, unless None, and its shingle mode)."""
    tally.documents_in += 1
    if index in decisions.repeated:
        where = document.meta.get("source"), document.meta.get("line") or document.meta.get("row")
        skipped_records.append({"source": where[0], "line": where[1], "problem": f"duplicate id {document.id!r}"})
        return None
    fields, annotation = decision_fields(decisions.plan, index, decisions.ids, annotate, tally)
    if result is not None:
        tally.add(result)
    if outputs is not None:
        outputs.write(source, document, result.text if result is not None else None, annotation)
    if not report:
        return None
    record: dict[str, Any] = {"id": document.id, **fields, **language_fields(document.text, language)}
    record.update(document_record(document.id, result) if result is not None else {"changes": [], "flags": []})
    record["id"] = id_value(document.id)  # the report's ids keep their JSON type
    return record
