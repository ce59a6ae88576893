"""Runs: read inputs, clean them (one document, or a corpus in two passes), write outputs and the
report. Used by the CLI and by :class:`dedup.Deduplicator`; knows nothing of click.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import errno
import itertools
import os
import shutil
import sys
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import xxhash

from dedup.config import DedupConfig
from dedup.document import CleanResult, Document
from dedup.errors import DedupError, InputError, OutputError
from dedup.io import (
    ReadOptions,
    Source,
    atomic_writer,
    last_line,
    lines_at,
    range_bytes,
    read_documents,
    read_stdin,
    seekable,
    sources_of,
    split_ranges,
    start_writeback,
    texts_at,
)
from dedup.lifecycle import InputIdentity, die_with_parent, private_tempdir
from dedup.outputs import output_lock
from dedup.pipeline import RunOptions
from dedup.records import JsonId, id_value
from dedup.report import ReportWriter, document_record, run_metadata

__all__ = ["run", "CorpusEngine"]

_WORKER: dict[str, Any] = {}  # per worker process: set once by the pool initializer


def _init_worker(config: DedupConfig, boilerplate: dict[int, tuple[int, int]] | None,
                 spill: str | None = None, shared: Any = None) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()  # safety hook: a worker never outlives the run (SIGKILL of the parent)
    _WORKER.update(config=config, boilerplate=boilerplate or {}, spill=spill, shared=shared)


def _with_shared(item: tuple[Callable[..., Any], Any]) -> Any:
    """Run ``fn(value, shared)`` with the run-wide data the pool was started with."""
    fn, value = item
    return fn(value, _WORKER["shared"])


def _preload(config: DedupConfig, share: bool = False) -> None:
    """Load what every worker needs (Punkt parameters, the lexicon, datasketch's permutations,
    ftfy and its codecs); with ``share``, before forking workers, the segmenter's memo is shared
    with them."""
    from dedup.fingerprint import permutations
    from dedup.repair import fix_encoding, get_lexicon
    from dedup.segment import segmenter_for

    permutations(config.fingerprint.num_perm, config.fingerprint.seed)
    if config.repair.fix_encoding:
        fix_encoding("Azerbaijan\u00e2\u20ac\u2122s")  # imports ftfy, which loads its codecs on first use
    if config.repair.enabled or config.policy.dedup_sentences or config.policy.captions != "keep":
        segmenter = segmenter_for(config.segment)
        if share:
            segmenter.share()
        get_lexicon()


def _spill_path(name: str) -> str | None:
    """A file ``name`` in the run's temporary directory (None when the run has none)."""
    spill = _WORKER.get("spill")
    return os.path.join(spill, name) if spill else None


def _segments_path(number: int | str) -> str | None:
    return _spill_path(f"segments-{number}.i64")


def _shard_part_path(source: Source, kind: str) -> str | None:
    """A file for ``kind`` of a shard (or of one byte range of it) in the run's temporary directory."""
    name = f"{source.path}\0{source.start}".encode("utf-8", "surrogateescape")
    return _spill_path(f"{kind}-shard-{xxhash.xxh64_hexdigest(name)}")


def _keep_segments(path: str | None, segments: list[Any] | None) -> None:
    """Write pass 1's segments of a batch or shard for pass 2 (nothing when none were kept)."""
    from dedup.pipeline import pack_segments

    if path and segments and any(s is not None for s in segments):
        pack_segments(segments).tofile(path)


def _take_segments(path: str | None) -> list[Any]:
    """Read (and remove) what :func:`_keep_segments` wrote; empty when there is nothing."""
    if not path or not os.path.exists(path):
        return []
    import numpy as np

    from dedup.pipeline import unpack_segments

    segments = unpack_segments(np.fromfile(path, dtype=np.int64))
    os.unlink(path)
    return segments


#: Below this many documents the bands take milliseconds: cheaper than forking workers for them.
_SHARED_BANDS_MIN = 1 << 16


def _band_pairs(item: tuple[int, int], sigs: Any) -> Any:
    """The LSH star edges of one band (see :func:`dedup.corpus.band_candidates`)."""
    from dedup.corpus import band_candidates

    band, rows = item
    return band_candidates(sigs, band, rows)


def _band_pairs_of_rows(item: tuple[int, int, int]) -> Any:
    """:func:`_band_pairs` of the first ``n`` rows of the pool's :class:`SignatureRows` table."""
    band, rows, n = item
    return _band_pairs((band, rows), _WORKER["shared"].table[:n])


def _pass1(item: tuple[int, list[str]]) -> Any:
    """Fingerprint batch ``number``; where the run has a local spill directory, its documents'
    segmentation is kept there for pass 2 (Punkt runs once per document, not once per pass)."""
    from dedup.corpus import fingerprint_batch

    number, texts = item
    path = _segments_path(number)
    segments: list[Any] | None = [] if path else None
    fingerprints = fingerprint_batch(texts, _WORKER["config"], segments)
    _keep_segments(path, segments)
    return fingerprints


def _pass2(item: tuple[int, list[tuple[int, str, bool]]]) -> list[CleanResult | None]:
    from dedup.pipeline import explain_text, prepared_from
    from dedup.policy import Boilerplate

    number, items = item
    config, units = _WORKER["config"], _WORKER["boilerplate"]
    segments = _take_segments(_segments_path(number))
    if len(segments) != len(items):  # none kept, or not the same batch: segment again
        segments = [None] * len(items)
    return [
        None if drop else explain_text(text, config, Boilerplate(units, index) if units else None,
                                       prepared_from(text, segment))
        for (index, text, drop), segment in zip(items, segments)
    ]


class CorpusEngine:
    """Runs the two passes locally, in-process (``jobs=1``) or in a process pool."""

    def candidates(self, sigs: Any, bands: int, rows: int) -> Any:
        """LSH candidate pairs. With workers (forked, they share the signatures) each computes
        the star edges of some of the bands; else all bands in this process. The same pairs."""
        from dedup.corpus import SignatureRows, local_candidates, unique_pairs

        if self.jobs < 2 or bands < 2 or len(sigs) < _SHARED_BANDS_MIN or sys.platform != "linux":
            return local_candidates(sigs, bands, rows)
        if self._kept is not None and isinstance(self._shared, SignatureRows) and self._shared.holds(sigs):
            # The kept workers have the table the signatures are in: no new processes.
            items = ((band, rows, len(sigs)) for band in range(bands))
            return unique_pairs(list(self._kept(_band_pairs_of_rows, items)))
        with self._mapper(None, None, sigs) as mapper:
            return unique_pairs(list(mapper(_with_shared, ((_band_pairs, (band, rows)) for band in range(bands)))))

    def __init__(self, config: DedupConfig, jobs: int) -> None:
        self.config = config
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self._kept: Callable[..., Iterable[Any]] | None = None
        self._shared: Any = None

    @contextlib.contextmanager
    def workers(self, spill: str | None = None, shared: Any = None) -> Iterator[None]:
        """Keep one set of workers for the :meth:`map_sources` calls inside that carry no run-wide
        data (pass 1 and the plan's exact checks) and for :meth:`candidates`: they are forked
        once, not once per call (each new process faults in its own copy of the pages it
        touches). ``shared`` (a :class:`~dedup.corpus.SignatureRows` table for pass 1) reaches
        them when they start."""
        with self._mapper(None, spill, shared) as mapper:
            self._kept, self._shared = mapper, shared
            try:
                yield
            finally:
                self._kept = self._shared = None

    def map_sources(self, fn: Callable[..., Any], items: Iterable[Any], shared: Any = None,
                    boilerplate: dict[int, tuple[int, int]] | None = None,
                    spill: str | None = None) -> Iterator[Any]:
        """Run ``fn`` once per shard in a worker, which reads (and in pass 2 writes) the shard
        itself; results come back in order. ``shared`` reaches the workers once, when they start
        (forked, they inherit it), not with every shard."""
        if self._kept is not None and shared is None and boilerplate is None:
            yield from self._kept(fn, items)
            return
        with self._mapper(boilerplate, spill, shared) as mapper:
            if shared is None:
                yield from mapper(fn, items)
            else:
                yield from mapper(_with_shared, ((fn, item) for item in items))

    @contextlib.contextmanager
    def _mapper(self, boilerplate: dict[int, tuple[int, int]] | None,
                spill: str | None = None, shared: Any = None) -> Iterator[Callable[..., Iterable[Any]]]:
        if self.jobs == 1:
            _init_worker_local = {"config": self.config, "boilerplate": boilerplate or {}, "spill": spill,
                                  "shared": shared}
            saved = dict(_WORKER)
            _WORKER.clear()
            _WORKER.update(_init_worker_local)
            try:
                yield lambda fn, items: map(fn, items)
            finally:
                _WORKER.clear()
                _WORKER.update(saved)
            return
        import multiprocessing

        if sys.platform == "linux":
            _preload(self.config, share=True)  # forked workers inherit the loaded models
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        pool = ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_init_worker,
                                   initargs=(self.config, boilerplate, spill, shared))
        try:
            def mapper(fn: Callable[..., Any], items: Iterable[Any]) -> Iterable[Any]:
                # Keep a bounded number of batches in flight, so reading never runs ahead of
                # the workers (Executor.map would read every input up front).
                in_flight: deque[Any] = deque()
                limit = 2 * self.jobs
                try:
                    for item in items:
                        in_flight.append(pool.submit(fn, item))
                        if len(in_flight) >= limit:
                            yield in_flight.popleft().result()
                    while in_flight:
                        yield in_flight.popleft().result()
                except BrokenProcessPool:
                    raise DedupError("a worker process died (out of memory or killed); no output was written") from None
                finally:
                    for future in in_flight:  # on the way out (an error, an interruption) start nothing more
                        future.cancel()
            yield mapper
        finally:
            # Not waiting for the workers to exit: they unmap their memory while this process
            # goes on (the executor reaps them; interpreter exit waits for that).
            pool.shutdown(wait=False, cancel_futures=True)


class IdTable:
    """Document ids kept in one byte buffer with offsets and 64-bit hashes: a few bytes per
    document and no Python object each, so a corpus of millions of documents stays small."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("q")
        self._hashes = array("Q")
        self._typed = array("b")  # 1: a JsonId (a number, …), 0: a string

    def extend(self, ids: Iterable[str]) -> None:
        """Append ids in document order."""
        for ident in ids:
            # safety hook: an id keeps its JSON type (JsonId), and any string is held (surrogatepass)
            encoded = ident.encode("utf-8", "surrogatepass")
            typed = isinstance(ident, JsonId)
            self._data += encoded
            self._ends.append(len(self._data))
            self._typed.append(typed)
            self._hashes.append(xxhash.xxh3_64_intdigest(encoded, seed=int(typed)))

    def append(self, other: IdTable) -> None:
        """Append the ids of another table (built where they were read, say), in order."""
        if not len(other):
            return
        import numpy as np

        base = len(self._data)
        self._data += other._data
        self._ends.frombytes((np.frombuffer(other._ends, dtype=np.int64) + base).tobytes())
        self._hashes.extend(other._hashes)
        self._typed.extend(other._typed)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        text = self._data[start : self._ends[index]].decode("utf-8", "surrogatepass")
        return JsonId(text) if self._typed[index] else text

    def repeats(self) -> set[int]:
        """Indices whose id equals an earlier one."""
        import numpy as np

        from dedup.corpus import stable_argsort

        hashes = np.frombuffer(self._hashes, dtype=np.uint64) if len(self) else np.empty(0, np.uint64)
        order = stable_argsort(hashes)
        same = np.flatnonzero(hashes[order][1:] == hashes[order][:-1])
        repeated: set[int] = set()
        for k in same.tolist():
            a, b = int(order[k]), int(order[k + 1])
            if self._typed[a] == self._typed[b] and str(self[a]) == str(self[b]):
                repeated.add(max(a, b))
        return repeated


_T = TypeVar("_T")


def _batches(documents: Iterable[_T], size: int) -> Iterator[list[_T]]:
    batch: list[_T] = []
    for document in documents:
        batch.append(document)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Reader:
    """Re-readable stream of all documents of all sources (stdin is read once and kept)."""

    def __init__(self, sources: list[Source], read: ReadOptions, spill: str | None = None) -> None:
        self.sources = sources
        self.spill = spill
        self.read = read
        self.skipped_records: list[dict[str, Any]] = []
        self._stdin: bytes | None = None

    def documents(self, record_skips: bool) -> Iterator[tuple[Source, Document]]:
        sink: list[dict[str, Any]] = self.skipped_records if record_skips else []
        for source in self.sources:
            if source.path == "-":
                if self._stdin is None:
                    self._stdin = read_stdin(self.read.max_document_bytes)  # safety hook: bounded
                yield from ((source, d) for d in _stdin_documents(self._stdin, source, self.read, self.spill))
                continue
            for document in read_documents(source, self.read, sink):
                yield source, document


def _stdin_documents(data: bytes, source: Source, read: ReadOptions, spill: str | None = None) -> Iterator[Document]:
    import tempfile

    # safety hook: document text is held only in the run's private temporary directory
    with tempfile.NamedTemporaryFile(suffix=".txt", dir=spill) as handle:
        handle.write(data)
        handle.flush()
        yield from read_documents(Source(handle.name, "text", "stdin"), read)


def _single_output(sources: list[Source], options: RunOptions) -> bool:
    """Whether the run writes one output file (else a directory mirroring the inputs)."""
    output = options.output
    from_directory = any(given != "-" and Path(given).is_dir() for given in options.inputs)
    return len(sources) <= 1 and not from_directory and (
        output == "-" or not (Path(output).is_dir() or output.endswith(("/", os.sep)))
    )


class _Outputs:
    """Writes each source's kept documents to its output, mirroring the input format."""

    def __init__(self, sources: list[Source], options: RunOptions, read: ReadOptions,
                 single: bool | None = None) -> None:
        self.options = options
        self.read = read
        self.single = _single_output(sources, options) if single is None else single
        self._stack = contextlib.ExitStack()
        self._current: tuple[str, Any, Source] | None = None
        self._rows: list[dict[str, Any]] = []
        self._row_bytes = 0
        self.bytes_out = 0

    def target(self, source: Source) -> str:
        if source.stop is not None:  # a byte range: its part of the output, joined after pass 2
            return str(Path(self.options.output) / f"range-{source.start:015d}.part")
        if self.single:
            return self.options.output
        relative = source.relative if source.path != "-" else "stdin.txt"
        return str(Path(self.options.output) / relative)

    def __enter__(self) -> _Outputs:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if exc[0] is None:
                self._finish()
        finally:
            self._stack.__exit__(*exc)

    def _finish(self) -> None:
        if self._current is not None:
            target, handle, source = self._current
            if source.format == "parquet":
                self._flush_parquet(handle)
                handle.close()
            self._current = None
            self._stack.close()
            self._stack = contextlib.ExitStack()

    def _switch(self, source: Source) -> Any:
        if self._current is not None and self._current[2] == source:
            return self._current[1]
        self._finish()
        target = self.target(source)
        if source.format == "parquet":
            # safety hook: row groups written as records arrive (memory stays bounded)
            handle = self._parquet_writer(self._stack.enter_context(atomic_writer(target, binary=True)), source)
        else:
            # A byte range's part goes to the run's temporary directory: joined, not kept.
            handle = self._stack.enter_context(atomic_writer(target, sync=source.stop is None))
        self._current = (target, handle, source)
        self._rows = []
        self._row_bytes = 0
        return handle

    def write(self, source: Source, document: Document, text: str | None, annotation: dict[str, Any]) -> None:
        if text is None and not (self.options.annotate or source.format != "text" or self.read.lines
                                 or self.read.doc_separator):
            return  # a dropped single-document file gets no output file
        handle = self._switch(source)
        if source.format == "jsonl":
            if text is None and not self.options.annotate:
                return
            if text == document.text and not self.options.annotate:
                # Unchanged: the record's own line, byte for byte (formatting and escapes kept).
                line = document.meta["line_text"].rstrip("\r\n") + "\n"
            else:
                # safety hook: the new text (and the annotation) patched into the record's own bytes
                line = _patched_line(document, self.read.text_field, None if text == document.text else text,
                                     _prefixed(annotation, self.options) if self.options.annotate else None) + "\n"
            self.bytes_out += len(line.encode("utf-8"))
            handle.write(line)
        elif source.format == "parquet":
            if text is None and not self.options.annotate:
                return
            record = dict(document.meta["record"])
            record[self.read.text_field] = text if text is not None else document.text
            if self.options.annotate:
                record.update(_prefixed(annotation, self.options))
            size = len(record[self.read.text_field].encode("utf-8"))
            self.bytes_out += size
            self._rows.append(record)
            self._row_bytes += size
            if len(self._rows) >= _PARQUET_GROUP_ROWS or self._row_bytes >= _PARQUET_GROUP_BYTES:
                self._flush_parquet(handle)
        else:
            if text is None:
                return
            separator = document.meta.get("separator")
            if self.read.lines:
                out = text + "\n"
            else:
                out = text + (separator if separator else "")
            self.bytes_out += len(out.encode("utf-8"))
            handle.write(out)

    def touch(self, source: Source) -> None:
        """Make sure a source with no kept documents still gets its (empty) output."""
        self._switch(source)

    def _parquet_writer(self, sink: Any, source: Source) -> Any:
        """A Parquet writer into ``sink`` with the input's schema (plus --annotate's columns)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.ParquetFile(source.path).schema_arrow
        if self.options.annotate:
            prefix = _annotate_prefix(self.options)
            for name, kind in (("cluster", pa.int64()), ("duplicate_of", pa.string()),
                               ("similarity", pa.float64())):
                if prefix + name in schema.names:  # safety hook: never overwrite a column
                    raise InputError(_ANNOTATED.format(where=source.path, field=prefix + name))
                schema = schema.append(pa.field(prefix + name, kind))
        return pq.ParquetWriter(sink, schema)

    def _flush_parquet(self, writer: Any) -> None:
        """Write the rows held as one row group."""
        import pyarrow as pa

        if self._rows:
            writer.write_table(pa.Table.from_pylist(self._rows, schema=writer.schema))
        self._rows = []
        self._row_bytes = 0


#: A Parquet output's row group holds at most this many rows or bytes of text (decided by the
#: data alone, so every engine writes the same bytes).
_PARQUET_GROUP_ROWS = 1 << 16
_PARQUET_GROUP_BYTES = 16 << 20


_ANNOTATED = ("{where}: already has a field {field!r}; --annotate never overwrites a field (pass "
              "--annotate-prefix to name the added fields differently, e.g. --annotate-prefix dedup2_)")


def _annotate_prefix(options: RunOptions) -> str:
    return getattr(options, "annotate_prefix", None) or "dedup_"


def _prefixed(annotation: dict[str, Any], options: RunOptions) -> dict[str, Any]:
    """The --annotate fields under the chosen prefix (``dedup_`` unless --annotate-prefix)."""
    prefix = _annotate_prefix(options)
    return {prefix + key.removeprefix("dedup_"): value for key, value in annotation.items()}


def _patched_line(document: Document, text_field: str, text: str | None, added: dict[str, Any] | None) -> str:
    """A JSONL record's own line with a new text and added fields (see
    :func:`dedup.records.patch_record`); an added field the record has is a one-line error."""
    from dedup.records import patch_record

    try:
        return patch_record(document.meta["line_text"], text_field, text, added)
    except KeyError as error:
        where = f"{document.meta.get('source')}:{document.meta.get('line')}"
        raise InputError(_ANNOTATED.format(where=where, field=error.args[0])) from None


def _engine(options: RunOptions, config: DedupConfig, corpus: bool) -> Any:
    if options.engine not in ("local", "ray"):
        raise DedupError(f"engine must be 'local' or 'ray', got {options.engine!r}")
    if options.ray_address and options.engine != "ray":
        raise DedupError("--ray-address needs --engine ray")
    if options.engine == "ray":
        from dedup.engine_ray import RayEngine

        return RayEngine(config, options.jobs, options.ray_address)
    return CorpusEngine(config, options.jobs if corpus else 1)


def _check_run(options: RunOptions, sources: list[Source], spill: str | None = None) -> Any:
    """Check the run before anything is read twice or written; returns the output plan (see
    :func:`dedup.outputs.plan_outputs`: every output path, checked against every input)."""
    from dedup.outputs import plan_outputs

    if not sources:
        raise InputError("no input documents found (check the paths and --include/--exclude)")
    if options.annotate and any(s.format == "text" for s in sources):
        raise DedupError("--annotate needs record inputs (JSONL or Parquet): text has nowhere to put the fields")
    if len(sources) > 1 and options.output == "-":
        raise DedupError("several inputs need an output directory: pass -o DIR")
    # safety hook: one place decides every output path
    return plan_outputs(inputs=options.inputs, sources=[(s.path, s.relative) for s in sources],
                        output=options.output, report=options.report, force=options.force,
                        directory=not _single_output(sources, options), temporary=spill)


def _plan(reader: _Reader, engine: Any, options: RunOptions, config: DedupConfig,
          ids: IdTable, spill: str) -> tuple[Any, int]:
    """Pass 1 and the plan between the passes; returns the plan and the bytes read. Temporary
    files go to ``spill`` (the caller removes it after pass 2)."""
    from dedup.corpus import Fingerprints, pair_jaccard, plan_corpus

    bytes_in = 0
    # One plain JSONL file: where each document starts, so the exact checks read only theirs.
    offsets = array("q") if len(reader.sources) == 1 and seekable(reader.sources[0]) else None
    with engine._mapper(None, spill) as mapper:
        documents = (d for _, d in reader.documents(record_skips=True))

        def texts() -> Iterator[tuple[int, list[str]]]:
            nonlocal bytes_in
            for number, batch in enumerate(_batches(documents, options.batch_size)):
                ids.extend(d.id for d in batch)
                bytes_in += sum(len(d.text.encode("utf-8")) for d in batch)
                if offsets is not None:
                    offsets.extend(d.meta["offset"] for d in batch)
                yield number, [d.text for d in batch]

        fingerprints = Fingerprints.collect(
            _progress(mapper(_pass1, texts()), options.progress, "fingerprint"), config.fingerprint.num_perm,
            options.memory, spill,
        )

        def exact(pairs: Any) -> Any:
            # The parent reads the documents the pairs name; the workers shingle them.
            needed = set(pairs.ravel().tolist())
            wanted: Iterable[tuple[int, str]]
            if offsets is not None:
                order = sorted(needed)
                wanted = zip(order, texts_at(reader.sources[0], reader.read, (offsets[i] for i in order)))
            else:
                stream = ((i, d.text) for i, (_, d) in enumerate(reader.documents(record_skips=False)))
                wanted = itertools.islice(((i, text) for i, text in stream if i in needed), len(needed))
            batches = _batches(wanted, options.batch_size)
            return pair_jaccard(pairs, _shingle_sets(mapper(_shingle_batch, batches)))

        plan = plan_corpus(fingerprints, config, exact, engine.candidates)
        del fingerprints  # release the memory map
    return plan, bytes_in


def _plan_shards(reader: _Reader, engine: Any, options: RunOptions, config: DedupConfig,
                 ids: IdTable, spill: str, lengths: list[Any] | None = None) -> tuple[Any, int, list[int]]:
    """Pass 1 with one task per shard (read where the task runs), then the plan. Each shard's
    copied line lengths (see :func:`_source_fingerprints`) are appended to ``lengths``."""
    from dedup.corpus import Fingerprints, pair_jaccard, plan_corpus
    from dedup.fingerprint import sorted_unique

    starts: list[int] = []
    bytes_in = 0
    items = ((source, reader.read, options.batch_size) for source in reader.sources)

    def parts() -> Iterator[Any]:
        nonlocal bytes_in
        for fingerprints, shard_ids, skipped, size, copied in _progress(
                engine.map_sources(_source_fingerprints, items, spill=spill), options.progress, "fingerprint"):
            starts.append(len(ids))
            ids.append(shard_ids)
            reader.skipped_records.extend(skipped)
            bytes_in += size
            if lengths is not None:
                lengths.append(copied)
            yield fingerprints

    def exact(pairs: Any) -> Any:
        import numpy as np

        # Each shard's worker reads and shingles the documents of its shard the pairs name.
        needed = sorted_unique(pairs.ravel())
        bounds = [*starts, len(ids)]
        cuts = np.searchsorted(needed, bounds).tolist()
        items = [(source, reader.read, bounds[k], needed[cuts[k] : cuts[k + 1]].tolist())
                 for k, source in enumerate(reader.sources) if cuts[k] < cuts[k + 1]]
        # Tasks of consecutive shards or ranges: a few per worker at least (documents may be
        # long), but not one per range when a range has only a few documents to check.
        per_task = min(_SHINGLE_TASK_DOCS, len(needed) // (8 * getattr(engine, "jobs", 1)))
        groups = list(_task_groups(items, max(1, per_task)))
        # The groups come back in document order: a pair is checked as soon as the shingles of
        # its later document are in, so that this process's share overlaps the workers' groups.
        order = np.argsort(pairs[:, 1], kind="stable")
        later = pairs[order, 1]
        sims, sets, done = np.empty(len(pairs)), {}, 0
        for group, batches in zip(groups, engine.map_sources(_sources_shingles, groups)):
            sets.update(_shingle_sets(batches))
            upto = int(np.searchsorted(later, group[-1][3][-1], side="right"))  # its last document
            if upto > done:
                sims[order[done:upto]] = pair_jaccard(pairs[order[done:upto]], sets)
                done = upto
        if done != len(pairs):  # (the last group holds the last document any pair names)
            raise RuntimeError("exact checks: a pair's documents were not read")
        return sims

    table = _signature_rows(reader.sources, engine, options, config)
    kept = engine.workers(spill, table) if isinstance(engine, CorpusEngine) else contextlib.nullcontext()
    with kept:
        # Shard by shard, as the batch path does (never all signatures twice).
        joined = Fingerprints.collect(parts(), config.fingerprint.num_perm, options.memory, spill, table)
        return plan_corpus(joined, config, exact, engine.candidates), bytes_in, starts


def _signature_rows(sources: list[Source], engine: Any, options: RunOptions, config: DedupConfig) -> Any:
    """A :class:`~dedup.corpus.SignatureRows` table for pass 1 over byte ranges of one file on the
    local engine (forked workers, or this process), when it fits in half of the ``--memory``
    budget; else None (the signatures come back with each range's result)."""
    from dedup.corpus import SignatureRows

    if not isinstance(engine, CorpusEngine) or not sources or any(s.stop is None for s in sources):
        return None
    if engine.jobs > 1 and sys.platform != "linux":
        return None  # spawned workers would not share it
    lines, num_perm = last_line(sources[-1]), config.fingerprint.num_perm
    if options.memory is not None and lines * num_perm * 4 > options.memory // 2:
        return None
    try:
        return SignatureRows(lines, num_perm)
    except OSError:  # more than the machine can map at once: collected as results arrive instead
        return None


def _clean_shards(engine: Any, sources: list[Source], read: ReadOptions, options: RunOptions,
                  starts: list[int], shared: tuple[Any, IdTable, set[int]], tally: _Tally,
                  report: ReportWriter | None, reader: _Reader, spill: str | None = None,
                  done: Callable[[Source], None] | None = None, places: list[Any] | None = None) -> int:
    """Pass 2 with one task per shard, each writing its own output shard, or at its place in one
    output (``places``, see :func:`_places`); the driver writes the report in input order, and
    calls ``done`` with each shard once it is written (in order). Returns the bytes written."""
    plan = shared[0]
    bytes_out = 0
    items = ((source, read, options, start, places[k] if places else None)
             for k, (source, start) in enumerate(zip(sources, starts)))
    results = engine.map_sources(_clean_source, items, shared, plan.boilerplate, spill)
    for source, (entries, shard_tally, size, skipped) in zip(sources, _progress(results, options.progress, "clean")):
        if done is not None:
            done(source)
        tally.merge(shard_tally)
        reader.skipped_records.extend(skipped)
        bytes_out += size
        if isinstance(entries, _ReportPart):
            if report is not None:
                report.documents_file(entries.path)
            os.unlink(entries.path)
        elif report is not None:
            report.documents(entries)
    return bytes_out


class _Tally:
    """Counts for the summary, kept while documents are written."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.boilerplate: Counter[str] = Counter()
        self.documents_in = 0
        self.documents_out = 0

    def merge(self, other: _Tally) -> None:
        """Add another tally (of later documents)."""
        self.counts.update(other.counts)
        self.boilerplate.update(other.boilerplate)
        self.documents_in += other.documents_in
        self.documents_out += other.documents_out

    def add(self, result: CleanResult) -> None:
        self.documents_out += 1
        for change in result.changes:
            self.counts[change.kind] += 1
            if change.kind == "boilerplate_removed":
                self.boilerplate[change.before.strip()[:200]] += 1
        for flag in result.flags:
            self.counts["flag:" + flag.kind] += 1


def _emit(document: Document, source: Source, result: CleanResult | None, index: int,
          shared: tuple[Any, IdTable, set[int]], options: RunOptions, tally: _Tally, outputs: _Outputs,
          skipped_records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Write document ``index`` (or drop it) and return its report record (None when skipped)."""
    plan, ids, repeated_ids = shared
    tally.documents_in += 1
    if index in repeated_ids:
        where = document.meta.get("source"), document.meta.get("line") or document.meta.get("row")
        skipped_records.append({"source": where[0], "line": where[1], "problem": f"duplicate id {document.id!r}"})
        return None
    fields, annotation = _decision_fields(plan, index, ids, options.annotate, tally)
    record: dict[str, Any] = {"id": document.id, **fields}
    if result is not None:
        tally.add(result)
        record.update(document_record(document.id, result))
    else:
        record.update(changes=[], flags=[])
    record["id"] = id_value(document.id)  # safety hook: the report's ids keep their JSON type
    outputs.write(source, document, result.text if result is not None else None, annotation)
    return record


# --------------------------------------------------------------------------- shard tasks
# With an engine that runs tasks where the data is (Ray), each record shard is read, fingerprinted,
# cleaned and written inside a task of its own: the driver only plans and writes the report.


def _source_fingerprints(item: tuple[Source, ReadOptions, int]) -> tuple[Any, IdTable, list[dict[str, Any]], int,
                                                                        Any]:
    """Pass 1 over one shard, read where the task runs. Returns its fingerprints, ids, skipped
    records, the bytes of text read and, for a byte range, what :func:`_copied_lengths` gives."""
    import numpy as np

    from dedup.corpus import Fingerprints, SignatureRows, fingerprint_batch
    from dedup.pipeline import changes_nothing

    source, read, batch_size = item
    config = _WORKER["config"]
    # A byte range of a file whose signatures go to the pool's shared table, at row = line - 1.
    table = _WORKER.get("shared") if source.stop is not None else None
    table = table if isinstance(table, SignatureRows) else None
    skipped: list[dict[str, Any]] = []
    parts: list[Any] = []
    ids = IdTable()  # encoded and hashed here, not by the parent
    size = 0
    path = _shard_part_path(source, "segments")
    segments: list[Any] | None = [] if path else None
    # Where each document starts, for the plan's exact checks to read only the documents they need.
    offsets_path = _shard_part_path(source, "offsets") if seekable(source) else None
    offsets = array("q")
    # Where their lines end, for pass 2 to write a range's kept lines at their place in the output
    # (when it only copies them).
    ends = array("q") if offsets_path and source.stop is not None and changes_nothing(config, None) else None
    for batch in _batches(read_documents(source, read, skipped), batch_size):
        ids.extend(d.id for d in batch)
        size += sum(len(d.text.encode("utf-8")) for d in batch)
        if offsets_path:
            offsets.extend(d.meta["offset"] for d in batch)
        if ends is not None:
            ends.extend(d.meta["end"] for d in batch)
        fingerprints = fingerprint_batch([d.text for d in batch], config, segments)
        if table is not None:
            rows = np.fromiter((d.meta["line"] - 1 for d in batch), dtype=np.int64, count=len(batch))
            if rows[-1] >= len(table.table):
                new = rows[np.searchsorted(rows, len(table.table))] + 1
                raise InputError(f"{source.path}: changed while it was being read (line {new} is new)")
            table.put(rows, np.asarray(fingerprints.signatures))
            fingerprints = dataclasses.replace(
                fingerprints, signatures=np.empty((0, config.fingerprint.num_perm), np.uint32), rows=rows)
        parts.append(fingerprints)
    _keep_segments(path, segments)  # for pass 2 over this shard (see _pass1)
    if offsets_path:
        with open(offsets_path, "wb") as handle:
            offsets.tofile(handle)
    joined = Fingerprints.concatenate(parts, config.fingerprint.num_perm)
    if table is not None and joined.rows is None:  # (a range holding no document)
        joined.rows = np.empty(0, np.int64)
    lengths = _copied_lengths(source, read, offsets, ends) if ends is not None else None
    return joined, ids, skipped, size, lengths


def _copied_lengths(source: Source, read: ReadOptions, offsets: array[int], ends: array[int]) -> Any:
    """The bytes pass 2's copy (:func:`_copy_source`) writes for each document of a byte range:
    its line, newline included (one is added to a file's last line when it has none). None when
    the copy could not write the lines as they are (see :func:`_plain_range`), or a line is 4 GiB."""
    import numpy as np

    data = _plain_range(source, read)
    if data is None:
        return None
    lengths = np.frombuffer(ends, np.int64) - np.frombuffer(offsets, np.int64)
    if len(lengths) and ends[-1] == source.stop and not data.endswith(b"\n"):
        lengths[-1] += 1
    if len(lengths) and int(lengths.max()) >= 1 << 32:
        return None
    return lengths.astype(np.uint32)


def _shingle_batch(items: list[tuple[int, str]]) -> tuple[Any, Any, Any]:
    """Exact shingles of documents ``(index, text)``, for verifying pairs near the threshold:
    the indices, where each document's shingles end, and all the shingles in one array (one
    array to send back, not one per document: unpickling those kept the parent busy)."""
    import numpy as np

    from dedup.corpus import documents_shingles

    shingles = documents_shingles([text for _, text in items], _WORKER["config"])
    ends = np.cumsum([len(s) for s in shingles], dtype=np.int64)
    flat = np.concatenate(shingles) if shingles else np.empty(0, dtype=np.uint32)
    return np.array([index for index, _ in items], dtype=np.int64), ends, flat


def _shingle_sets(batches: Iterable[tuple[Any, Any, Any]]) -> dict[int, Any]:
    """The shingles of each document, from :func:`_shingle_batch` results (views, not copies)."""
    import numpy as np

    sets: dict[int, Any] = {}
    for indices, ends, flat in batches:
        sets.update(zip(indices.tolist(), np.split(flat, ends[:-1])))
    return sets


def _source_shingles(item: tuple[Source, ReadOptions, int, list[int]]) -> tuple[Any, Any, Any]:
    """:func:`_shingle_batch` of the documents ``wanted`` of one shard starting at ``start``."""
    source, read, start, wanted = item
    offsets = _offsets_of(source)
    if offsets is not None:  # pass 1 noted where each document starts
        wanted = sorted(wanted)
        return _shingle_batch(list(zip(wanted, texts_at(source, read, (offsets[i - start] for i in wanted)))))
    remaining = set(wanted)
    texts = []
    for offset, document in enumerate(read_documents(source, read, [])):
        if start + offset in remaining:
            texts.append((start + offset, document.text))
            remaining.discard(start + offset)
            if not remaining:
                break
    return _shingle_batch(texts)


def _sources_shingles(group: list[tuple[Source, ReadOptions, int, list[int]]]) -> list[tuple[Any, Any, Any]]:
    """:func:`_source_shingles` of a few shards or byte ranges, in one task."""
    return [_source_shingles(item) for item in group]


#: The exact checks' tasks take consecutive shards (or ranges) until they hold this many
#: documents at most: a range often has only a few to check, and a task per range cost more
#: than them (at 10^6 short documents); fewer when there are few to check, so that every worker
#: gets several tasks (on 50 MB of long articles: 0.17 -> 0.12 s).
_SHINGLE_TASK_DOCS = 512


def _task_groups(items: list[tuple[Source, ReadOptions, int, list[int]]], size: int) -> Iterator[list[Any]]:
    """Consecutive ``items`` in groups of at least ``size`` documents to check (the last one
    perhaps fewer)."""
    group: list[Any] = []
    count = 0
    for item in items:
        group.append(item)
        count += len(item[3])
        if count >= size:
            yield group
            group, count = [], 0
    if group:
        yield group


@dataclasses.dataclass(frozen=True)
class _ReportPart:
    """A file of report entries a worker wrote to the run's temporary directory."""

    path: str


def _clean_source(item: tuple[Source, ReadOptions, RunOptions, int, Any],
                  shared: tuple[Any, IdTable, set[int]]) -> tuple[str | _ReportPart, _Tally, int,
                                                                  list[dict[str, Any]]]:
    """Pass 2 over one shard: clean, write its output shard (or its place in the output, when
    the item has one); returns its report entries, encoded here (see
    :func:`dedup.report.encode_documents`), its tally, the bytes written and the records skipped.
    With a local temporary directory the entries are written there (a range's report can be
    larger than the range: the parent then copies a file instead of receiving the text)."""
    from dedup.pipeline import changes_nothing
    from dedup.policy import Boilerplate
    from dedup.report import encode_documents, is_jsonl

    source, read, options, start, place = item
    plan, ids, repeated_ids = shared
    config, units = _WORKER["config"], _WORKER["boilerplate"]
    tally = _Tally()
    records: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    offsets = _offsets_of(source)
    if (offsets is not None and not options.annotate and changes_nothing(config, Boilerplate(units) if units else None)
            and not any(start <= index < start + len(offsets) for index in repeated_ids)):
        records, tally, bytes_out = _copy_source(source, read, options, start, offsets, plan, ids, place)
    elif place is not None:
        raise RuntimeError(f"{source.path}: bytes {source.start}-{source.stop} were placed but are not copied")
    else:
        bytes_out = _clean_source_documents(item, shared, tally, records, skipped)
    entries = encode_documents(records, is_jsonl(options.report)) if options.report else ""
    path = _shard_part_path(source, "report")
    if entries and path:
        with open(path, "w", encoding="utf-8", newline="") as part:
            part.write(entries)
        return _ReportPart(path), tally, bytes_out, skipped
    return entries, tally, bytes_out, skipped


def _offsets_of(source: Source) -> array[int] | None:
    """Where each document of a shard or range starts, as pass 1 noted (None where it did not)."""
    path = _shard_part_path(source, "offsets")
    if not path or not os.path.exists(path):
        return None
    offsets = array("q")
    with open(path, "rb") as handle:
        offsets.frombytes(handle.read())
    return offsets


def _copy_source(source: Source, read: ReadOptions, options: RunOptions, start: int, offsets: array[int],
                 plan: Any, ids: IdTable, place: Any = None) -> tuple[list[dict[str, Any]], _Tally, int]:
    """Pass 2 over a shard when no document can change (document-level dedup only) and pass 1
    noted where each record starts: each kept record's own line is copied, as the general path
    writes an unchanged record, without parsing the JSON again, to the shard's output or at its
    ``place`` in the output (see :func:`_places`). Returns the report records, the tally and the
    bytes written."""
    from dedup.report import is_jsonl

    tally = _Tally()
    tally.documents_in = len(offsets)
    records: list[dict[str, Any]] = []
    # A JSON Lines report has lines for the removed documents only; a JSON report lists every one.
    every = options.report is not None and not is_jsonl(options.report)
    removed = (plan.duplicate_of[start : start + len(offsets)] >= 0).tolist()
    for k in range(len(offsets)):
        if removed[k] or every:
            fields, _ = _decision_fields(plan, start + k, ids, False, tally)
            records.append({"id": id_value(ids[start + k]), **fields, "changes": [], "flags": []})
    kept = [offset for offset, gone in zip(offsets, removed) if not gone]
    tally.documents_out = len(kept)
    if place is not None:  # (pass 1 found the range's bytes plain: see _copied_lengths)
        return records, tally, _write_in_place(source, range_bytes(source) if kept else b"", kept, place)
    data = _plain_range(source, read) if kept else None
    bytes_out = 0
    target = _Outputs([source], options, read, single=False).target(source)
    with atomic_writer(target, binary=True, sync=source.stop is None) as out:
        if data is not None:
            # The kept lines are the file's own bytes: runs of adjacent ones are written at once.
            starts, ends = _line_spans(data, [offset - source.start for offset in kept])
            for start_at, end_at in zip(starts.tolist(), ends.tolist()):
                out.write(data[start_at:end_at])
                bytes_out += end_at - start_at
            if not data.endswith(b"\n") and ends[-1] == len(data):  # the file's last line
                out.write(b"\n")
                bytes_out += 1
        else:
            for _, line in lines_at(source, read, kept):
                encoded = (line.rstrip("\r\n") + "\n").encode("utf-8")
                out.write(encoded)
                bytes_out += len(encoded)
    return records, tally, bytes_out


def _write_in_place(source: Source, data: bytes, kept: list[int], place: tuple[str, str, int, int]) -> int:
    """Write the kept lines of a byte range (its bytes ``data``; the lines starting at ``kept``)
    at their place in the output: ``(file, output, offset, size)``, the file being the output's
    temporary one (see :func:`dedup.io.atomic_writer`). Returns the bytes written (``size``,
    checked: a range whose lines changed length since pass 1 is an error)."""
    temporary, output, at, size = place
    views: list[Any] = []
    if kept:
        starts, ends = _line_spans(data, [offset - source.start for offset in kept])
        whole = memoryview(data)
        views = [whole[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
        if not data.endswith(b"\n") and ends[-1] == len(data):  # the file's last line
            views.append(memoryview(b"\n"))
    if sum(len(view) for view in views) != size:
        raise InputError(f"{source.path}: changed while it was being read (bytes {source.start}-{source.stop})")
    try:
        handle = os.open(temporary, os.O_WRONLY)
        try:
            first = 0  # the first view not written whole
            while first < len(views):
                done = os.pwritev(handle, views[first : first + _IOV_MAX], at)
                if done == 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                at += done
                while first < len(views) and done >= len(views[first]):
                    done -= len(views[first])
                    first += 1
                if done:  # (a short write: the rest of a line)
                    views[first] = views[first][done:]
            start_writeback(handle, place[2], size)  # while this worker goes on to its next range
        finally:
            os.close(handle)
    except OSError as error:
        raise OutputError(f"{output}: cannot write: {error.strerror or error}") from None
    return size


#: The most buffers one os.pwritev takes (POSIX's minimum of IOV_MAX is 16, also taken where the
#: system does not say; Linux allows 1024).
_IOV_MAX = max(16, os.sysconf("SC_IOV_MAX")) if hasattr(os, "sysconf") and "SC_IOV_MAX" in os.sysconf_names else 16


def _places(lengths: list[Any], starts: list[int], plan: Any, repeated_ids: set[int], options: RunOptions,
            copy_only: bool, output: Any) -> list[tuple[str, str, int, int]] | None:
    """Where the kept lines of each byte range go in the output, ``(file, output, offset,
    size)``, when pass 2 copies every range's lines as they are into a plain file (``output``,
    from :func:`dedup.io.atomic_writer`): the workers then write them there themselves, side by
    side, instead of this process joining each range's part after them. ``lengths`` are the
    copied lengths pass 1 found (see :func:`_copied_lengths`). None otherwise: lines the copy
    re-encodes, documents that can change or are annotated, a repeated id, stdout, compression,
    a system without ``os.pwritev`` (Windows)."""
    import numpy as np

    temporary = getattr(output, "temporary", None)
    if (temporary is None or not hasattr(os, "pwritev") or plan is None or not copy_only or options.annotate
            or repeated_ids
            or len(lengths) != len(starts) or any(part is None for part in lengths)):
        return None
    every = np.concatenate(lengths).astype(np.int64) if lengths else np.empty(0, np.int64)
    if len(every) != len(plan.duplicate_of):
        raise RuntimeError(f"pass 1 noted {len(every)} lines for {len(plan.duplicate_of)} documents")
    ends = np.concatenate(([0], np.cumsum(np.where(plan.duplicate_of < 0, every, 0))))
    bounds = np.asarray([*starts, len(every)])
    at, stop = ends[bounds[:-1]].tolist(), ends[bounds[1:]].tolist()
    return [(temporary, options.output, a, b - a) for a, b in zip(at, stop)]


def _plain_range(source: Source, read: ReadOptions) -> bytes | None:
    """The bytes of a byte range whose lines the copy may write as they are: UTF-8 read strictly
    (pass 1 decoded these very bytes), no carriage return (a line's CRLF becomes LF) and nothing
    that could be a BOM (decoding drops one at the start of any line: files joined with cat; the
    bytes of a UTF-16 one never occur in UTF-8). None otherwise, and for whole files (which may
    be large)."""
    if source.stop is None or read.errors != "strict" or not _reads_utf8(read):
        return None
    data = range_bytes(source)
    if any(mark in data for mark in (b"\r", b"\xfe", b"\xff")):
        return None
    if b"\xef" in data and codecs.BOM_UTF8 in data:  # (the first test is a memchr, 70x cheaper)
        return None
    return data


def _line_spans(data: bytes, starts: list[int]) -> tuple[Any, Any]:
    """The byte spans ``[start, end)`` of the whole lines of ``data`` beginning at ``starts``
    (ascending line starts), each line with its newline (the last line of ``data`` may have
    none), and lines that follow each other joined into one span.

    >>> [span.tolist() for span in _line_spans(b'a\\nbb\\n\\ncc\\nd', [0, 2, 6, 9])]
    [[0, 6], [5, 10]]
    """
    import numpy as np

    line_ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
    begin = np.asarray(starts, dtype=np.int64)
    at = np.searchsorted(line_ends, begin, side="right")
    end = np.append(line_ends, len(data))[at]
    joined = np.flatnonzero(begin[1:] == end[:-1]) + 1  # a line starting where the last ended
    first = np.ones(len(begin), dtype=bool)
    first[joined] = False
    last = np.append(first[1:], True)
    return begin[first], end[last]


def _clean_source_documents(item: tuple[Source, ReadOptions, RunOptions, int, Any],
                            shared: tuple[Any, IdTable, set[int]], tally: _Tally, records: list[dict[str, Any]],
                            skipped: list[dict[str, Any]]) -> int:
    """Pass 2 over one shard, document by document (the general path of :func:`_clean_source`);
    returns the bytes written."""
    from dedup.pipeline import explain_text, prepared_from
    from dedup.policy import Boilerplate

    source, read, options, start, _ = item
    plan, _, repeated_ids = shared
    config, units = _WORKER["config"], _WORKER["boilerplate"]
    segments = _take_segments(_shard_part_path(source, "segments"))
    with _Outputs([source], options, read, single=False) as outputs:
        for offset, document in enumerate(read_documents(source, read, [])):
            index = start + offset
            _check_planned(plan, index, source.path)  # safety hook: a shard grew after pass 1
            drop = (plan.duplicate_of[index] >= 0 and not options.annotate) or index in repeated_ids
            segment = segments[offset] if offset < len(segments) else None
            result = None if drop else explain_text(document.text, config,
                                                   Boilerplate(units, index) if units else None,
                                                   prepared_from(document.text, segment))
            record = _emit(document, source, result, index, shared, options, tally, outputs, skipped)
            if record is not None:
                records.append(record)
        outputs.touch(source)
        return outputs.bytes_out


def _check_planned(plan: Any, index: int, where: str) -> None:
    """Document ``index`` of pass 2 is one pass 1 planned (else its input grew in between)."""
    if index >= len(plan.duplicate_of):
        raise InputError(f"{where}: changed while dedup was reading it (document {index + 1} is new); "
                         "run again once it is complete")


def _decision_fields(plan: Any, index: int, ids: IdTable, annotate: bool,
                     tally: _Tally) -> tuple[dict[str, Any], dict[str, Any]]:
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
            record = {"removed": not annotate, "duplicate_of": id_value(ids[keeper]), "similarity": similarity,
                      "cluster": int(plan.cluster[index])}
            tally.counts["document_removed" if not annotate else "document_annotated"] += 1
    elif annotate:
        annotation = {"dedup_cluster": None, "dedup_duplicate_of": None, "dedup_similarity": None}
    return record, annotation


def run(options: RunOptions, read: ReadOptions, config: DedupConfig) -> dict[str, Any]:
    """Clean the inputs and write outputs and report; returns the summary."""
    # safety hook: a 0700 directory removed on every exit path (a killed run's, by the next run)
    with private_tempdir() as spill, _collector_for(config), \
            contextlib.ExitStack() as hold:
        return _run(options, read, config, spill, hold)


@contextlib.contextmanager
def _collector_for(config: DedupConfig) -> Iterator[None]:
    """Python's cycle collector, set for a run: the models are loaded first and frozen (a full
    collection no longer walks them, and forked workers share their pages untouched), and the
    youngest generation is collected every 50,000 allocations instead of 700 (a run allocates
    millions of short-lived, acyclic objects; about 3% of full mode's time). Restored after."""
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


def _run(options: RunOptions, read: ReadOptions, config: DedupConfig, spill: str,
         hold: contextlib.ExitStack) -> dict[str, Any]:
    from dedup.pipeline import changes_nothing
    from dedup.policy import Boilerplate

    started = time.perf_counter()
    sources, skipped_files = sources_of(options.inputs, read)
    output_plan = _check_run(options, sources, spill)
    hold.enter_context(output_lock(output_plan))  # safety hook: no second run writes these outputs
    identity = InputIdentity.of([s.path for s in sources])  # safety hook: inputs as pass 1 reads them
    reader = _Reader(sources, read, spill)
    corpus = len(sources) > 1 or sources[0].format != "text" or bool(read.doc_separator) or read.lines
    engine = _engine(options, config, corpus)
    ids = IdTable()
    repeated_ids: set[int] = set()
    bytes_in = 0
    plan = None
    shards = (corpus and hasattr(engine, "map_sources") and not _single_output(sources, options)
              and all(source.format in ("jsonl", "parquet") for source in sources))
    ranges = [] if shards else _ranges_of(sources, engine, read)
    if ranges:
        # One large JSONL file: the workers read, clean and write byte ranges of it like shards.
        reader = _Reader(ranges, read, spill)
        shards = True
    starts: list[int] = []
    lengths: list[Any] = []  # of the lines pass 2 copies (ranges)
    if shards:
        plan, bytes_in, starts = _plan_shards(reader, engine, options, config, ids, spill, lengths)
        repeated_ids = _check_unique_ids(ids, read)
    elif corpus:
        plan, bytes_in = _plan(reader, engine, options, config, ids, spill)
        repeated_ids = _check_unique_ids(ids, read)
    if corpus:
        identity.check()  # safety hook: an input changed since pass 1 read it: nothing is written
    tally = _Tally()
    # When no document can change (document-level dedup only), pass 2 only copies: shipping
    # texts to workers and back would cost more than it does.
    copy_only = changes_nothing(config, Boilerplate(plan.boilerplate) if plan else None)
    second = CorpusEngine(config, 1) if copy_only else engine
    with contextlib.ExitStack() as stack:
        report = None
        if options.report:
            report = ReportWriter(stack.enter_context(atomic_writer(options.report)), options.report,
                             run_metadata(config))
        if ranges:
            parts = dataclasses.replace(options, output=spill)
            written = _Outputs(ranges, parts, read, single=False)  # where each range's part goes
            with atomic_writer(options.output, binary=True) as joined:
                places = _places(lengths, starts, plan, repeated_ids, options, copy_only, joined)

                def join(piece: Source) -> None:
                    # Joined as each range is done, while the workers clean the next ones.
                    with open(written.target(piece), "rb") as part:
                        shutil.copyfileobj(part, joined, 1 << 20)
                    os.unlink(written.target(piece))

                bytes_out = _clean_shards(engine, ranges, read, parts, starts, (plan, ids, repeated_ids),
                                          tally, report, reader, spill, None if places else join, places)
        elif shards:
            bytes_out = _clean_shards(engine, sources, read, options, starts, (plan, ids, repeated_ids),
                                      tally, report, reader, spill)
        else:
            boilerplate = plan.boilerplate if plan else None
            with second._mapper(boilerplate, spill) as mapper, _Outputs(sources, options, read) as outputs:
                stream = reader.documents(record_skips=not corpus)
                pending: list[tuple[Source, Document]] = []

                def items() -> Iterator[tuple[int, list[tuple[int, str, bool]]]]:
                    nonlocal bytes_in
                    index = 0
                    for number, batch in enumerate(_batches(_remember(stream, pending), options.batch_size)):
                        work = []
                        for document in batch:
                            if plan is not None:
                                _check_planned(plan, index, "an input")  # safety hook: an input grew
                            drop = bool(plan is not None and plan.duplicate_of[index] >= 0 and not options.annotate)
                            work.append((index, document.text, drop or index in repeated_ids))
                            index += 1
                            if plan is None:
                                bytes_in += len(document.text.encode("utf-8"))
                        yield number, work

                index = 0
                seen_sources: set[Source] = set()
                for results in _progress(mapper(_pass2, items()), options.progress, "clean"):
                    for result in results:
                        source, document = pending.pop(0)
                        seen_sources.add(source)
                        record = _emit(document, source, result, index, (plan, ids, repeated_ids), options,
                                       tally, outputs, reader.skipped_records)
                        if report is not None and record is not None:
                            report.document(record)
                        index += 1
                for source in sources:
                    if source not in seen_sources and (source.format != "text" or read.doc_separator or read.lines):
                        outputs.touch(source)
                bytes_out = outputs.bytes_out
        summary = _summary(tally, plan, bytes_in, bytes_out, skipped_files, reader, started, engine)
        summary["stale_files"] = list(output_plan.stale)  # safety hook: files this run did not write
        if corpus:
            identity.check(written=True)  # safety hook: changed during pass 2: no report
        if report is not None:
            report.close(summary)
    for name in skipped_files:
        print(f"dedup: skipped binary file {name}", file=sys.stderr)
    if output_plan.stale:
        shown = ", ".join(output_plan.stale[:5]) + (", …" if len(output_plan.stale) > 5 else "")
        print(f"dedup: {len(output_plan.stale)} file(s) in {options.output} were not written by this run: {shown}",
              file=sys.stderr)
    return summary


#: A JSONL file at least this large is read in byte ranges.
_RANGE_MIN_BYTES = 4 << 20
#: The size of a range to aim at, and about this many ranges at most.
_RANGE_BYTES = 1 << 20
_MAX_RANGES = 1 << 14
#: The smallest range of a file's tail (see :func:`_range_cuts`).
_RANGE_TAIL_BYTES = 64 << 10


def _ranges_of(sources: list[Source], engine: Any, read: ReadOptions) -> list[Source]:
    """Byte ranges of the one plain JSONL input, which the local workers read (or, with one
    worker, this process, the same way); empty otherwise (several inputs, compression, another
    encoding, a small file, Ray)."""
    if len(sources) != 1 or not isinstance(engine, CorpusEngine):
        return []
    source = sources[0]
    if not seekable(source) or not _reads_utf8(read):
        return []
    size = os.path.getsize(source.path)
    if size < _RANGE_MIN_BYTES:
        return []
    return split_ranges(source, _range_cuts(size, engine.jobs))


def _reads_utf8(read: ReadOptions) -> bool:
    """Whether inputs are read as UTF-8 (byte ranges cut at newlines, and copied as bytes)."""
    return read.encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def _range_cuts(size: int, jobs: int) -> list[int]:
    """Where to cut a file of ``size`` bytes into ranges for ``jobs`` workers.

    Ranges of about _RANGE_BYTES (larger when that would make more than _MAX_RANGES): what a
    range returns (its fingerprints, ids and report entries) stays small however large the file.
    Towards the end the ranges shrink, each a ``1 / (2 jobs)`` share of what is left, down to
    _RANGE_TAIL_BYTES (a guided schedule): the workers finish together, instead of one reading
    a whole last range while the others wait.

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


def _summary(tally: _Tally, plan: Any, bytes_in: int, bytes_out: int, skipped_files: list[str],
             reader: _Reader, started: float, engine: Any) -> dict[str, Any]:
    elapsed = time.perf_counter() - started
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
        "skipped_records": reader.skipped_records,
        "seconds": round(elapsed, 3),
        "mb_per_s": round(bytes_in / 1e6 / elapsed, 3) if elapsed > 0 else None,
        "jobs": engine.jobs,
    }


def _remember(stream: Iterator[tuple[Source, Document]], pending: list[tuple[Source, Document]]) -> Iterator[Document]:
    for source, document in stream:
        pending.append((source, document))
        yield document


def _check_unique_ids(ids: IdTable, read: ReadOptions) -> set[int]:
    """Indices of documents whose id repeats an earlier one; an error unless --on-error skip."""
    if not read.id_field:
        return set()
    repeated = ids.repeats()
    if repeated and read.on_error == "fail":
        first = min(repeated)
        raise InputError(
            f"duplicate document id {ids[first]!r} in field {read.id_field!r} (document {first + 1}); "
            "ids must be unique (use --on-error skip to keep the first and skip the others)"
        )
    return repeated


def _progress(iterable: Iterable[Any], enabled: bool, label: str) -> Iterable[Any]:
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=label, unit="batch", file=sys.stderr)
