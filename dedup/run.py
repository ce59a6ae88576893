"""The driver: read inputs, plan (corpus mode), clean, write outputs and the report. The one
driver behind the CLI (:func:`run`), :class:`dedup.Deduplicator` and :mod:`dedup.hf`
(:func:`plan_documents` and :func:`clean_documents`); knows nothing of click.

A run is pass 1 (:func:`dedup.corpus.passes.fingerprint` of every task), the plan
(:func:`dedup.corpus.cluster.plan_corpus`, with exact checks and the band-key reduce on the
engine), then pass 2 (:func:`dedup.corpus.passes.clean`). Tasks are :class:`Shard` s when the
workers can read and write the inputs themselves (JSONL or Parquet shards to a directory, or byte
ranges of one large JSONL file), else :class:`Batch` es of documents this process reads and
writes. Where outputs go is decided once, by :func:`dedup.io.plan.plan_outputs`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.cluster import Decisions, DocumentPlan, plan_corpus
from dedup.corpus.passes import (
    Batch,
    CleanContext,
    PassContext,
    ReportPart,
    Shard,
    ShardOutput,
    ShingleTask,
    Tally,
    batches,
    clean,
    emit,
    fingerprint,
    pair_jaccard,
    shingle_sets,
    shingles,
)
from dedup.corpus.store import Fingerprints, IdTable
from dedup.document import CleanResult, Document
from dedup.engines import Engine, InProcessEngine, make_engine
from dedup.errors import InputError
from dedup.io.plan import OutputPlan, plan_outputs
from dedup.io.read import ReadOptions, Source, read_documents, seekable, sources_of, split_ranges
from dedup.io.write import Outputs, atomic_writer
from dedup.pipeline import RunOptions, changes_nothing
from dedup.policy import Boilerplate
from dedup.report import ReportWriter, run_metadata

__all__ = ["run", "plan_documents", "clean_documents"]

Stream = Callable[[], Iterator[Document]]
"""A re-readable stream of documents: each call reads them again from the start."""


def run(options: RunOptions, read: ReadOptions, config: DedupConfig) -> dict[str, Any]:
    """Clean the inputs and write outputs and report; returns the summary."""
    with tempfile.TemporaryDirectory(prefix="dedup-") as spill, _collector_for(config):
        started = time.perf_counter()
        sources, skipped_files = sources_of(options.inputs, read)
        outputs = plan_outputs(sources, options.inputs, options.output, options.report,
                               force=options.force, annotate=options.annotate)
        corpus = len(sources) > 1 or sources[0].format != "text" or bool(read.doc_separator) or read.lines
        jobs = options.jobs if corpus or options.engine != "local" else 1
        engine = make_engine(options.engine, jobs, options.ray_address)
        try:
            summary = _Run(options, read, config, spill, engine, outputs).go(sources, corpus, skipped_files, started)
        finally:
            engine.close()
    for name in skipped_files:
        print(f"dedup: skipped binary file {name}", file=sys.stderr)
    return summary


@contextlib.contextmanager
def _collector_for(config: DedupConfig) -> Iterator[None]:
    """Python's cycle collector, set for a run: the models are loaded first and frozen (a full
    collection no longer walks them, and forked workers share their pages untouched), and the
    youngest generation is collected every 50,000 allocations instead of 700 (a run allocates
    millions of short-lived, acyclic objects). Restored after."""
    import gc

    _preload(config)
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _preload(config: DedupConfig) -> None:
    """Load what every worker needs (Punkt parameters, the lexicon, datasketch's permutations,
    ftfy and its codecs) before any worker is forked."""
    from dedup.fingerprint import permutations
    from dedup.repair import fix_encoding, get_lexicon
    from dedup.segment import segmenter_for

    permutations(config.fingerprint.num_perm, config.fingerprint.seed)
    if config.repair.fix_encoding:
        fix_encoding("Azerbaijan\u00e2\u20ac\u2122s")  # imports ftfy, which loads its codecs on first use
    if config.repair.enabled or config.policy.dedup_sentences or config.policy.captions != "keep":
        segmenter_for(config.segment)
        get_lexicon()


# --------------------------------------------------------------------------- the library's driver


def plan_documents(stream: Stream, config: DedupConfig, engine: Engine | None = None, *,
                   batch_size: int = 32, memory: int | None = None, spill: str | None = None,
                   progress: bool = False) -> tuple[Decisions, int]:
    """Pass 1 and the plan over documents this process reads (``stream``); returns the
    decisions and the bytes of text read."""
    engine = engine or InProcessEngine()
    context = PassContext(config=config, read=ReadOptions(), batch_size=batch_size,
                          spill=spill if engine.shares_files else None)
    ids = IdTable()
    bytes_in = 0

    def tasks() -> Iterator[Batch]:
        nonlocal bytes_in
        for number, batch in enumerate(batches(stream(), batch_size)):
            ids.extend(d.id for d in batch)
            bytes_in += sum(len(d.text.encode("utf-8")) for d in batch)
            yield Batch(number, tuple(d.text for d in batch))

    results = _progress(engine.map(fingerprint, tasks(), context), progress, "fingerprint")
    fingerprints = Fingerprints.collect((r.fingerprints for r in results), config.fingerprint.num_perm,
                                        memory, spill)

    def exact(pairs: np.ndarray) -> np.ndarray:
        # This process reads the documents the pairs name; the workers shingle them.
        needed = set(pairs.ravel().tolist())
        wanted = itertools.islice(((i, d.text) for i, d in enumerate(stream()) if i in needed), len(needed))
        work = (ShingleTask(items=tuple(batch)) for batch in batches(wanted, batch_size))
        return pair_jaccard(pairs, shingle_sets(engine.map(shingles, work, context)))

    plan = plan_corpus(fingerprints, config, exact, engine.candidates)
    return Decisions(plan, ids), bytes_in


def clean_documents(stream: Stream, config: DedupConfig, decisions: Decisions | None,
                    engine: Engine | None = None, *, annotate: bool = False, batch_size: int = 32,
                    spill: str | None = None, progress: bool = False,
                    ) -> Iterator[tuple[int, Document, CleanResult | None]]:
    """Pass 2 over documents this process reads (``stream``, as :func:`plan_documents` read
    them): ``(index, document, result)`` in order, the result None for a document dropped as
    a duplicate or for a repeated id."""
    plan = decisions.plan if decisions is not None else None
    repeated = decisions.repeated if decisions is not None else frozenset()
    engine = engine or InProcessEngine()
    if changes_nothing(config, Boilerplate(plan.boilerplate) if plan else None):
        # No document can change: shipping texts to workers and back would cost more than it does.
        engine = InProcessEngine()
    context = CleanContext(config=config, read=ReadOptions(), decisions=decisions or Decisions(None, IdTable()),
                           outputs=OutputPlan(output="-", report=None, single=True), annotate=annotate,
                           spill=spill if engine.shares_files else None)
    pending: list[Document] = []

    def tasks() -> Iterator[Batch]:
        index = 0
        for number, batch in enumerate(batches(stream(), batch_size)):
            pending.extend(batch)
            drops = []
            for _ in batch:
                drop = plan is not None and plan.duplicate_of[index] >= 0 and not annotate
                drops.append(bool(drop or index in repeated))
                index += 1
            yield Batch(number, tuple(d.text for d in batch), index - len(batch), tuple(drops))

    index = 0
    for results in _progress(engine.map(clean, tasks(), context), progress, "clean"):
        assert isinstance(results, list)
        for result in results:
            yield index, pending.pop(0), result
            index += 1


# --------------------------------------------------------------------------- the CLI's driver


class _Run:
    """One ``dedup clean`` run (see :func:`run`)."""

    def __init__(self, options: RunOptions, read: ReadOptions, config: DedupConfig, spill: str,
                 engine: Engine, outputs: OutputPlan) -> None:
        self.options, self.read, self.config, self.spill = options, read, config, spill
        self.engine, self.outputs = engine, outputs
        self.skipped_records: list[dict[str, Any]] = []
        self.tally = Tally()
        self._stdin: bytes | None = None

    def go(self, sources: list[Source], corpus: bool, skipped_files: list[str], started: float) -> dict[str, Any]:
        options = self.options
        shards = corpus and not self.outputs.single and all(s.format in ("jsonl", "parquet") for s in sources)
        ranges = [] if shards else self._ranges_of(sources)
        decisions: Decisions | None = None
        bytes_in = 0
        with contextlib.ExitStack() as stack:
            if shards or ranges:
                pieces = [Shard(k, source) for k, source in enumerate(ranges or sources)]
                decisions, bytes_in, starts = self._plan_shards(pieces)
                pieces = [dataclasses.replace(piece, first=first) for piece, first in zip(pieces, starts)]
            elif corpus:
                decisions, bytes_in = plan_documents(
                    self._stream(sources), self.config, self.engine,
                    batch_size=options.batch_size, memory=options.memory, spill=self.spill,
                    progress=options.progress)
                decisions = dataclasses.replace(decisions, repeated=self._check_unique_ids(decisions.ids))
            report = None
            if options.report:
                report = ReportWriter(stack.enter_context(atomic_writer(options.report)), options.report,
                                      run_metadata(self.config))
            if shards or ranges:
                assert decisions is not None
                joined = stack.enter_context(atomic_writer(options.output, binary=True)) if ranges else None
                bytes_out = self._clean_shards(pieces, decisions, report, joined)
            else:
                bytes_out, read_in = self._clean_batches(sources, corpus, decisions, report)
                bytes_in = bytes_in if corpus else read_in
            summary = self._summary(decisions.plan if decisions else None, bytes_in, bytes_out, skipped_files,
                                    started)
            if report is not None:
                report.close(summary)
        return summary

    # ------------------------------------------------------------------ reading

    def _stream(self, sources: list[Source]) -> Stream:
        """The documents of all sources, as a :data:`Stream` that records skipped records on
        its first reading only."""
        readings = itertools.count()

        def stream() -> Iterator[Document]:
            first = next(readings) == 0
            return (document for _, document in self._sourced(sources, record_skips=first))

        return stream

    def _sourced(self, sources: list[Source], record_skips: bool) -> Iterator[tuple[Source, Document]]:
        """All documents of all sources, read again on each call (stdin is read once and kept)."""
        sink: list[dict[str, Any]] = self.skipped_records if record_skips else []
        for source in sources:
            if source.path == "-":
                if self._stdin is None:
                    self._stdin = sys.stdin.buffer.read()
                yield from ((source, d) for d in _stdin_documents(self._stdin, self.read))
                continue
            for document in read_documents(source, self.read, sink):
                yield source, document

    def _ranges_of(self, sources: list[Source]) -> list[Source]:
        """Byte ranges of the one plain UTF-8 JSONL input of at least _RANGE_MIN_BYTES, which the
        workers read side by side; empty otherwise (several inputs, compression, another encoding,
        a small file, an engine whose tasks do not see this machine's files)."""
        if len(sources) != 1 or not self.engine.shares_files:
            return []
        source = sources[0]
        if not seekable(source) or self.read.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            return []
        size = os.path.getsize(source.path)
        if size < _RANGE_MIN_BYTES:
            return []
        self.outputs = dataclasses.replace(self.outputs, parts=self.spill)
        return split_ranges(source, _range_cuts(size, self.engine.jobs))

    # ------------------------------------------------------------------ shards

    def _plan_shards(self, pieces: list[Shard]) -> tuple[Decisions, int, list[int]]:
        """Pass 1 with one task per shard (read where the task runs), then the plan."""
        from dedup.corpus.arrays import sorted_unique

        options, config, engine = self.options, self.config, self.engine
        context = PassContext(config=config, read=self.read, batch_size=options.batch_size,
                              spill=self.spill if engine.shares_files else None)
        ids, starts = IdTable(), []
        bytes_in = 0

        def parts() -> Iterator[Fingerprints]:
            nonlocal bytes_in
            for result in _progress(engine.map(fingerprint, pieces, context), options.progress, "fingerprint"):
                starts.append(len(ids))
                assert result.ids is not None
                ids.append(result.ids)
                self.skipped_records.extend(result.skipped)
                bytes_in += result.size
                yield result.fingerprints

        def exact(pairs: np.ndarray) -> np.ndarray:
            # Each shard's task reads and shingles the documents of its shard the pairs name.
            needed = sorted_unique(pairs.ravel())
            bounds = [*starts, len(ids)]
            cuts = np.searchsorted(needed, bounds).tolist()
            wanted = [(dataclasses.replace(piece, first=bounds[k]), tuple(needed[cuts[k] : cuts[k + 1]].tolist()))
                      for k, piece in enumerate(pieces) if cuts[k] < cuts[k + 1]]
            # Consecutive shards in one task, a few tasks per worker at least.
            size = max(1, min(_SHINGLE_TASK_DOCS, len(needed) // (8 * engine.jobs)))
            work = (ShingleTask(shards=tuple(group)) for group in _groups(wanted, size))
            return pair_jaccard(pairs, shingle_sets(engine.map(shingles, work, context)))

        fingerprints = Fingerprints.collect(parts(), config.fingerprint.num_perm, options.memory, self.spill)
        plan = plan_corpus(fingerprints, config, exact, engine.candidates)
        del fingerprints  # release the memory map
        return Decisions(plan, ids, self._check_unique_ids(ids)), bytes_in, starts

    def _clean_shards(self, pieces: list[Shard], decisions: Decisions, report: ReportWriter | None,
                      joined: Any) -> int:
        """Pass 2 with one task per shard, each writing its output (or, for a byte range, its
        part, which is joined into ``joined`` in order as soon as it is written); the report is
        written here in input order. Returns the bytes written."""
        context = CleanContext(config=self.config, read=self.read, decisions=decisions, outputs=self.outputs,
                               annotate=self.options.annotate,
                               spill=self.spill if self.engine.shares_files else None)
        bytes_out = 0
        results = _progress(self.engine.map(clean, pieces, context), self.options.progress, "clean")
        for piece, output in zip(pieces, results):
            assert isinstance(output, ShardOutput)
            if joined is not None:
                part = self.outputs.target(piece.source)
                with open(part, "rb") as handle:
                    shutil.copyfileobj(handle, joined, 1 << 20)
                os.unlink(part)
            self.tally.merge(output.tally)
            self.skipped_records.extend(output.skipped)
            bytes_out += output.bytes_out
            if isinstance(output.entries, ReportPart):
                if report is not None:
                    report.documents_file(output.entries.path)
                os.unlink(output.entries.path)
            elif report is not None:
                report.documents(output.entries)
        return bytes_out

    # ------------------------------------------------------------------ batches

    def _clean_batches(self, sources: list[Source], corpus: bool, decisions: Decisions | None,
                       report: ReportWriter | None) -> tuple[int, int]:
        """Pass 2 over documents this process reads and writes; returns the bytes written and read."""
        read, options = self.read, self.options
        decisions = decisions or Decisions(None, IdTable())
        sourced = self._sourced(sources, record_skips=not corpus)
        pending: list[Source] = []
        bytes_in = 0

        def stream() -> Iterator[Document]:
            nonlocal bytes_in
            for source, document in sourced:
                pending.append(source)
                bytes_in += len(document.text.encode("utf-8"))
                yield document

        seen: set[Source] = set()
        with Outputs(self.outputs, read, options.annotate) as outputs:
            for index, document, result in clean_documents(
                    stream, self.config, decisions, self.engine, annotate=options.annotate,
                    batch_size=options.batch_size, spill=self.spill, progress=options.progress):
                source = pending.pop(0)
                seen.add(source)
                record = emit(document, source, result, index, decisions, options.annotate, self.tally, outputs,
                              self.skipped_records)
                if report is not None and record is not None:
                    report.document(record)
            for source in sources:
                if source not in seen and (source.format != "text" or read.doc_separator or read.lines):
                    outputs.touch(source)
            return outputs.bytes_out, bytes_in

    # ------------------------------------------------------------------ the rest

    def _check_unique_ids(self, ids: IdTable) -> frozenset[int]:
        """Indices of documents whose id repeats an earlier one; an error unless --on-error skip."""
        if not self.read.id_field:
            return frozenset()
        repeated = ids.repeats()
        if repeated and self.read.on_error == "fail":
            first = min(repeated)
            raise InputError(
                f"duplicate document id {ids[first]!r} in field {self.read.id_field!r} (document {first + 1}); "
                "ids must be unique (use --on-error skip to keep the first and skip the others)"
            )
        return frozenset(repeated)

    def _summary(self, plan: DocumentPlan | None, bytes_in: int, bytes_out: int, skipped_files: list[str],
                 started: float) -> dict[str, Any]:
        elapsed = time.perf_counter() - started
        tally = self.tally
        return {
            "documents_in": tally.documents_in,
            "documents_out": tally.documents_out,
            "duplicate_documents": int((plan.duplicate_of >= 0).sum()) if plan is not None else 0,
            "clusters": plan.clusters if plan is not None else 0,
            "boilerplate_units": len(plan.boilerplate) if plan is not None else 0,
            "boilerplate_threshold": plan.boilerplate_threshold if plan is not None else None,
            "bytes_in": bytes_in,
            "bytes_out": bytes_out,
            "bytes_removed": max(0, bytes_in - bytes_out),
            "changes": dict(sorted(tally.counts.items())),
            "top_boilerplate": [{"text": t, "documents": c} for t, c in tally.boilerplate.most_common(10)],
            "skipped_files": skipped_files,
            "skipped_records": self.skipped_records,
            "seconds": round(elapsed, 3),
            "mb_per_s": round(bytes_in / 1e6 / elapsed, 3) if elapsed > 0 else None,
            "jobs": self.engine.jobs,
        }


def _stdin_documents(data: bytes, read: ReadOptions) -> Iterator[Document]:
    with tempfile.NamedTemporaryFile(suffix=".txt") as handle:
        handle.write(data)
        handle.flush()
        yield from read_documents(Source(handle.name, "text", "stdin"), read)


#: A JSONL file at least this large is read in byte ranges.
_RANGE_MIN_BYTES = 4 << 20
#: The size of a range to aim at, and about this many ranges at most.
_RANGE_BYTES = 1 << 20
_MAX_RANGES = 1 << 14
#: The smallest range of a file's tail (see :func:`_range_cuts`).
_RANGE_TAIL_BYTES = 64 << 10
#: The exact checks' tasks take consecutive shards (or ranges) until they hold this many
#: documents to check.
_SHINGLE_TASK_DOCS = 512


def _range_cuts(size: int, jobs: int) -> list[int]:
    """Where to cut a file of ``size`` bytes into ranges for ``jobs`` workers.

    Ranges of about _RANGE_BYTES (larger when that would make more than _MAX_RANGES): what a
    range returns stays small however large the file. Towards the end the ranges shrink, each a
    ``1 / (2 jobs)`` share of what is left, down to _RANGE_TAIL_BYTES: the workers finish
    together, instead of one reading a whole last range while the others wait.

    >>> [round(c / 2**20, 2) for c in _range_cuts(6 << 20, 2)]
    [1.0, 2.0, 3.0, 3.75, 4.31, 4.73, 5.05, 5.29, 5.47, 5.6, 5.7, 5.77, 5.84, 5.9, 5.96]
    """
    step = max(_RANGE_BYTES, -(-size // _MAX_RANGES))
    cuts: list[int] = []
    at = 0
    while True:
        at += min(step, max(_RANGE_TAIL_BYTES, (size - at) // (2 * jobs)))
        if at >= size:
            return cuts
        cuts.append(at)


def _groups(items: list[tuple[Shard, tuple[int, ...]]], size: int) -> Iterator[list[tuple[Shard, tuple[int, ...]]]]:
    """Consecutive ``items`` in groups of at least ``size`` documents (the last perhaps fewer)."""
    group: list[tuple[Shard, tuple[int, ...]]] = []
    count = 0
    for item in items:
        group.append(item)
        count += len(item[1])
        if count >= size:
            yield group
            group, count = [], 0
    if group:
        yield group


def _progress(iterable: Iterable[Any], enabled: bool, label: str) -> Iterable[Any]:
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    wrapped: Iterable[Any] = tqdm(iterable, desc=label, unit="batch", file=sys.stderr)
    return wrapped
