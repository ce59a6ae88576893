"""The driver: read inputs, prepare, plan, write outputs and the report. The one driver behind
the CLI (:func:`run`), :class:`dedup.Deduplicator` and :mod:`dedup.hf` (:func:`run_documents`);
knows nothing of click.

Three stages, run on an engine (:mod:`dedup.engines`):

1. *prepare*: every document is repaired and segmented once
   (:func:`dedup.corpus.passes.prepare`); the prepared documents go to an on-disk cache.
2. *plan*: the boilerplate set is counted over distinct documents (a first clustering of the
   repaired texts), every prepared document is cleaned (:func:`dedup.corpus.passes.clean`: the
   boilerplate and in-document removals) into a second cache and signed again, and documents are
   clustered on that cleaned text; every removal is verified against its keeper
   (:func:`dedup.corpus.cluster.verify_containment`).
3. *write*: outputs are written from the cleaned cache (:func:`dedup.corpus.passes.write` for
   shards, by this process for documents it read).

Tasks are :class:`Shard` s when the workers can read and write the inputs themselves (JSONL or
Parquet shards to a directory, or byte ranges of one large JSONL file), else :class:`Batch` es of
documents this process reads. Where outputs go is decided once, by
:func:`dedup.io.plan.plan_outputs`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.cluster import Decisions, DocumentPlan
from dedup.corpus.passes import (
    Batch,
    Shard,
    ShardOutput,
    Tally,
    WriteContext,
    batches,
    emit,
    reported,
    reported_language,
    result_for,
    write,
)
from dedup.corpus.stages import Bar, Corpus, planned
from dedup.corpus.store import IdTable
from dedup.document import CleanResult, Document
from dedup.engines import Engine, InProcessEngine, make_engine
from dedup.errors import ConfigError, InputError
from dedup.io.plan import OutputPlan, check_output, plan_outputs
from dedup.io.read import (
    ReadOptions,
    Source,
    input_size,
    read_documents,
    read_stdin,
    seekable,
    sources_of,
    split_ranges,
)
from dedup.io.remote import is_url
from dedup.io.write import Outputs, RemovedWriter, atomic_writer
from dedup.lifecycle import InputIdentity, private_tempdir
from dedup.outputs import output_lock
from dedup.pipeline import RunOptions
from dedup.records import id_value
from dedup.report import ReportWriter, nothing_read, run_metadata

__all__ = ["run", "run_documents", "Corpus"]

Stream = Callable[[], Iterator[Document]]
"""A re-readable stream of documents: each call reads them again from the start."""



def run(options: RunOptions, read: ReadOptions, config: DedupConfig) -> dict[str, Any]:
    """Clean the inputs and write outputs and report; returns the summary."""
    if options.engine == "ray":
        options = _absolute_paths(options)
    # The temporary directory (document text) is private (0700) and removed on every exit path;
    # a killed run's is removed by the next run.
    with private_tempdir() as spill, _collector_for(config), contextlib.ExitStack() as hold:
        started = time.perf_counter()
        sources, skipped_files = sources_of(options.inputs, read)
        outputs = plan_outputs(sources, options.inputs, options.output, options.report,
                               force=options.force, annotate=options.annotate, temporary=spill)
        if options.removed is not None:
            _check_removed(options, outputs, {s.format for s in sources}, read, len(sources))
        if outputs.checked is not None:  # no second run writes these outputs (a store has no locks)
            hold.enter_context(output_lock(dataclasses.replace(
                outputs.checked, output=_local(outputs.checked.output) or "-", report=_local(outputs.checked.report))))
        corpus = len(sources) > 1 or sources[0].format != "text" or bool(read.doc_separator) or read.lines
        jobs = options.jobs if corpus or options.engine != "local" else 1
        in_memory = [p for p in (*options.inputs, options.output, options.report, options.removed)
                     if p is not None and p.startswith("memory://")]
        if in_memory and (jobs != 1 or options.engine != "local"):
            raise ConfigError(f"{in_memory[0]}: memory:// is this process's memory, which workers do not share; "
                              "pass --jobs 1", setting="jobs")
        engine = make_engine(options.engine, jobs, options.ray_address)
        try:
            summary = _Run(options, read, config, spill, engine, outputs).go(sources, corpus, skipped_files, started)
        finally:
            engine.close()
    return summary


#: At most this many near-miss pairs are listed in a summary (the closest to the threshold first).
NEAR_MISSES_LISTED = 10_000


def _near_misses(plan: DocumentPlan | None, ids: IdTable) -> list[dict[str, Any]]:
    """Pairs verified just below the threshold, closest first: ``id`` (the earlier document),
    ``other`` (the later, which a lower threshold would remove) and ``similarity``."""
    if plan is None or plan.near_misses is None or not len(plan.near_misses[0]):
        return []
    pairs, sims = plan.near_misses
    order = np.argsort(-sims, kind="stable")[:NEAR_MISSES_LISTED]
    return [{"id": id_value(ids[int(pairs[k, 0])]), "other": id_value(ids[int(pairs[k, 1])]),
             "similarity": round(float(sims[k]), 4)} for k in order.tolist()]


#: What :func:`result_for` is asked about when only whether a document is dropped matters.
_KEPT = CleanResult("", (), ())


def _check_removed(options: RunOptions, outputs: OutputPlan, formats: set[str], read: ReadOptions,
                   sources: int) -> None:
    """``--removed`` names a file of its own: not an input, the output, the report, or a file in
    the output directory; whole text files go to it as ``.jsonl`` records (one after another in
    a text file, nothing would tell them apart)."""
    removed = options.removed
    assert removed is not None
    inside = not outputs.single and os.path.abspath(removed).startswith(os.path.abspath(options.output) + os.sep)
    if removed == "-" or removed in (options.output, options.report) or inside:
        raise ConfigError(f"--removed {removed} must name a file of its own, not the output, the report, a file in "
                          "the output directory or stdout", setting="removed")
    from dedup.formats import format_of_name

    named = format_of_name(removed)
    allowed = formats | ({"jsonl"} if formats == {"text"} else set())
    if len(formats) > 1 or (named is not None and named not in allowed):
        also = "; text documents may also go to .jsonl records" if formats == {"text"} else ""
        raise ConfigError(f"--removed {removed}: the removed documents are written in the inputs' format "
                          f"({', '.join(sorted(formats))}{also}): name the file so", setting="removed")
    if formats == {"text"} and named != "jsonl" and sources > 1 and not (read.lines or read.doc_separator):
        raise ConfigError(f"--removed {removed}: several text files would run together in one text file; name "
                          "it .jsonl (a record {\"id\", \"text\"} each)", setting="removed")
    check_output(removed, options.inputs, options.force, "--removed")


def _local(path: str | None) -> str | None:
    """``path``, or ``-`` (nothing to lock) for a URL."""
    return "-" if is_url(path) else path


def _absolute_paths(options: RunOptions) -> RunOptions:
    """The run's input and output paths made absolute here, in the driver: Ray tasks run in
    another working directory (on a cluster, on another machine), where a relative path names
    nothing. The names recorded in outputs and reports are relative to the inputs as before."""

    def absolute(path: str) -> str:
        if path == "-" or is_url(path):
            return path
        directory = path.endswith(("/", os.sep))
        return os.path.abspath(path) + (os.sep if directory else "")

    return dataclasses.replace(options, inputs=tuple(absolute(p) for p in options.inputs),
                               output=absolute(options.output),
                               report=absolute(options.report) if options.report else options.report,
                               removed=absolute(options.removed) if options.removed else options.removed)


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


def run_documents(stream: Stream, config: DedupConfig, engine: Engine | None = None, *, annotate: bool = False,
                  batch_size: int = 32, against: tuple[str, ...] = (),
                  ) -> tuple[Decisions, Iterator[tuple[int, Document, CleanResult | None]]]:
    """The three stages over documents this process reads (``stream``, read twice): the
    decisions, and ``(index, document, result)`` of every document in order, the result None
    for a duplicate that is dropped (unless ``annotate``), or found in the saved indexes
    ``against``."""
    engine = engine or InProcessEngine()
    spill = tempfile.TemporaryDirectory(prefix="dedup-")
    corpus = Corpus(config, engine, spill.name, batch_size=batch_size)

    def tasks() -> Iterator[Batch]:
        for number, batch in enumerate(batches(stream(), batch_size)):
            corpus.ids.extend(d.id for d in batch)
            yield Batch(number, tuple(d.text for d in batch))

    corpus.prepare(tasks())
    decisions = Decisions(planned(corpus, True, against, engine), corpus.ids)

    def written() -> Iterator[tuple[int, Document, CleanResult | None]]:
        try:
            for index, document in enumerate(stream()):
                yield index, document, result_for(index, corpus.result(index)[0], decisions, annotate)
        finally:
            corpus.close()
            spill.cleanup()

    return decisions, written()


# --------------------------------------------------------------------------- the CLI's driver


class _Run:
    """One ``dedup clean`` run (see :func:`run`)."""

    def __init__(self, options: RunOptions, read: ReadOptions, config: DedupConfig, spill: str,
                 engine: Engine, outputs: OutputPlan) -> None:
        self.options, self.read, self.config = options, read, config
        self.engine, self.outputs, self.spill = engine, outputs, spill
        self.corpus = Corpus(config, engine, spill, read=read, batch_size=options.batch_size, memory=options.memory,
                             progress=options.progress)
        self.tally = Tally()
        self._stdin: bytes | None = None

    def go(self, sources: list[Source], corpus: bool, skipped_files: list[str], started: float) -> dict[str, Any]:
        options, stages = self.options, self.corpus
        shards = corpus and not self.outputs.single and all(s.format in ("jsonl", "parquet") for s in sources)
        pieces = [Shard(k, source) for k, source in enumerate(sources if shards else self._ranges_of(sources))]
        identity = InputIdentity.of([s.path for s in sources])  # the inputs as the prepare stage reads them
        try:
            total = None
            if options.progress:  # (a size on a store is a request per file)
                sizes = [input_size(s) for s in ([p.source for p in pieces] if pieces else sources)]
                total = sum(size for size in sizes if size is not None) if None not in sizes else None
            if pieces:
                stages.prepare(pieces, total)
            else:
                stages.prepare(self._batches(sources), total)
            if not len(stages.ids):  # before any output is written: a failed run leaves none
                raise InputError(nothing_read(stages.skipped_records))
            decisions = Decisions(planned(stages, corpus, options.against, self.engine), stages.ids,
                                  self._check_unique_ids(stages.ids))
            identity.check()  # an input changed since it was read: nothing is written
            with contextlib.ExitStack() as stack:
                report = None
                if options.report:
                    report = ReportWriter(stack.enter_context(atomic_writer(options.report)), options.report,
                                          {**run_metadata(self.config, inputs=list(options.inputs)),
                                           **({"against": list(options.against)} if options.against else {})})
                if pieces:
                    joined = stack.enter_context(atomic_writer(options.output, binary=True)) if not shards else None
                    bytes_out = self._write_shards(pieces, decisions, report, joined)
                else:
                    bytes_out = self._write_documents(sources, decisions, report)
                summary = self._summary(decisions.plan, stages.bytes_in, bytes_out, skipped_files, started)
                if options.removed is not None:
                    summary["removed_documents"] = self._write_removed(sources, decisions, stack)
                identity.check(written=True)  # changed while written: the outputs are not renamed in
                if report is not None:
                    report.close(summary)
        finally:
            stages.close()
        return summary

    # ------------------------------------------------------------------ reading

    def _batches(self, sources: list[Source]) -> Iterator[Batch]:
        stages = self.corpus
        for number, batch in enumerate(batches(self._documents(sources, record_skips=True), self.options.batch_size)):
            stages.ids.extend(d.id for d in batch)
            stages.bytes_in += sum(len(d.text.encode("utf-8")) for d in batch)
            yield Batch(number, tuple(d.text for d in batch))

    def _documents(self, sources: list[Source], record_skips: bool) -> Iterator[Document]:
        return (document for _, document in self._sourced(sources, record_skips))

    def _sourced(self, sources: list[Source], record_skips: bool) -> Iterator[tuple[Source, Document]]:
        """All documents of all sources, read again on each call (stdin is read once and kept)."""
        sink: list[dict[str, Any]] = self.corpus.skipped_records if record_skips else []
        for source in sources:
            if source.path == "-":
                if self._stdin is None:
                    self._stdin = read_stdin(self.read.max_document_bytes)  # bounded, as a file is
                yield from ((source, d) for d in _stdin_documents(self._stdin, source, self.read, sink, self.spill))
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
        self.outputs = dataclasses.replace(self.outputs, parts=self.corpus.spill)
        return split_ranges(source, _range_cuts(size, self.engine.jobs))

    # ------------------------------------------------------------------ writing

    def _write_shards(self, pieces: list[Shard], decisions: Decisions, report: ReportWriter | None,
                      joined: Any) -> int:
        """Stage 3 with one task per shard, each writing its output (or, for a byte range, its
        part, which is joined into ``joined`` in order as soon as it is written); the report is
        written here in input order. Returns the bytes written."""
        stages = self.corpus
        context = WriteContext(config=self.config, read=self.read, decisions=decisions, outputs=self.outputs,
                               annotate=self.options.annotate, annotate_prefix=self.options.annotate_prefix)
        bounds = [*stages.starts, len(stages.ids)]
        work = (dataclasses.replace(piece, first=bounds[k], results=stages.results(bounds[k], bounds[k + 1]))
                for k, piece in enumerate(pieces))
        bytes_out = 0
        with Bar(self.options.progress, "write", total=len(stages.ids)) as bar:
            for k, (piece, output) in enumerate(zip(pieces, self.engine.map(write, work, context))):
                assert isinstance(output, ShardOutput)
                bar.update(bounds[k + 1] - bounds[k], output.bytes_out)
                self._joined(piece, output, joined, report)
                bytes_out += output.bytes_out
        return bytes_out

    def _joined(self, piece: Shard, output: ShardOutput, joined: Any, report: ReportWriter | None) -> None:
        """What a write task gives: its part joined into ``joined`` (a byte range's), its tally,
        skipped records and report entries taken."""
        if joined is not None:
            part = self.outputs.target(piece.source)
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, joined, 1 << 20)
            os.unlink(part)
        self.tally.merge(output.tally)
        self.corpus.skipped_records.extend(output.skipped)
        if report is not None:
            report.documents(output.entries)

    def _write_documents(self, sources: list[Source], decisions: Decisions, report: ReportWriter | None) -> int:
        """Stage 3 for documents this process reads; returns the bytes written."""
        read, options, stages = self.read, self.options, self.corpus
        seen: set[Source] = set()
        setting = reported_language(self.config)
        with Bar(options.progress, "write", total=stages.documents) as bar, \
                Outputs(self.outputs, read, options.annotate, options.annotate_prefix) as outputs:
            for index, (source, document) in enumerate(self._sourced(sources, record_skips=False)):
                before = outputs.bytes_out
                seen.add(source)
                cleaned, language = stages.result(index)
                result = result_for(index, cleaned, decisions, options.annotate)
                record = emit(document, source, result, index, decisions, options.annotate, self.tally, outputs,
                              stages.skipped_records, reported(setting, language), report=report is not None)
                if report is not None and record is not None:
                    report.document(record)
                bar.update(1, outputs.bytes_out - before)
            for source in sources:
                if source not in seen and (source.format != "text" or read.doc_separator or read.lines):
                    outputs.touch(source)
            return outputs.bytes_out

    def _write_removed(self, sources: list[Source], decisions: Decisions, stack: contextlib.ExitStack) -> int:
        """``--removed``: every document the output lacks (a near duplicate, a repeated id),
        whole and as read, read once more; renamed into place with the other outputs."""
        assert self.options.removed is not None
        removed = stack.enter_context(RemovedWriter(self.options.removed, self.read))
        for index, (source, document) in enumerate(self._sourced(sources, record_skips=False)):
            if result_for(index, _KEPT, decisions, self.options.annotate) is None:
                removed.write(source, document)
        return removed.count

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
            "skipped_records": self.corpus.skipped_records,
            "near_misses": _near_misses(plan, self.corpus.ids),
            # Files already in the output directory that this run did not write (with --force).
            "stale_files": list(self.outputs.checked.stale) if self.outputs.checked is not None else [],
            "seconds": round(elapsed, 3),
            "mb_per_s": round(bytes_in / 1e6 / elapsed, 3) if elapsed > 0 else None,
            "jobs": self.engine.jobs,
        }


def _stdin_documents(data: bytes, source: Source, read: ReadOptions,
                     skipped: list[dict[str, Any]] | None = None, spill: str | None = None) -> Iterator[Document]:
    # Document text is held only in the run's private temporary directory.
    with tempfile.NamedTemporaryFile(suffix=".txt", dir=spill) as handle:
        handle.write(data)
        handle.flush()
        yield from read_documents(Source(handle.name, source.format, "stdin"), read, skipped)


#: A JSONL file at least this large is read in byte ranges.
_RANGE_MIN_BYTES = 4 << 20
#: The size of a range to aim at, and about this many ranges at most.
_RANGE_BYTES = 1 << 20
_MAX_RANGES = 1 << 14
#: The smallest range of a file's tail (see :func:`_range_cuts`).
_RANGE_TAIL_BYTES = 64 << 10


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
