"""Write: cleaned documents out in their input's format, atomically, one writer per format.

Every output is written to a temporary file beside its destination and renamed into place when
complete, so an interrupted run leaves no partial file (:func:`atomic_writer`). Where each
source's documents go is decided by an :class:`~dedup.io.plan.OutputPlan`, never here.
A JSONL record whose text is unchanged is written as its own input line, byte for byte.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dedup.document import Document
from dedup.errors import InputError, OutputError
from dedup.formats import format_of_name
from dedup.io import remote
from dedup.io.plan import OutputPlan
from dedup.io.read import ReadOptions, Source, describe_error, parquet_file
from dedup.outputs import temporary_name
from dedup.records import id_value

__all__ = ["atomic_writer", "remove_pending", "Outputs", "RemovedWriter"]

#: The columns --annotate adds, with their Arrow types.
ANNOTATION_COLUMNS = (("dedup_cluster", "int64"), ("dedup_duplicate_of", "string"), ("dedup_similarity", "float64"))


@contextlib.contextmanager
def atomic_writer(path: str, binary: bool = False, sync: bool = True) -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file that replaces it only when writing succeeds.

    ``-`` writes to stdout. Compression follows the suffix (``.gz``, ``.zst``). The data reach
    the disk before the file is renamed, unless ``sync`` is false (a part of an output in a
    temporary directory, joined into the output later). An uncompressed binary stream names the
    file being written in its ``temporary`` attribute, for other processes to write parts of it
    in place (see :func:`dedup.run._write_in_place`).
    """
    if path == "-":
        # A closed or full stdout is one line, not a traceback.
        if sys.stdout is None or sys.stdout.closed:
            raise OutputError("stdout is closed; pass -o FILE to write the output to a file")
        try:
            if binary:
                yield sys.stdout.buffer
            else:
                yield sys.stdout
            sys.stdout.flush()
        except (BrokenPipeError, TimeoutError):
            raise
        except OSError as error:
            if error.errno is None:
                raise
            raise OutputError(f"stdout: cannot write: {describe_error(error)}") from None
        return
    if remote.is_url(path):
        with remote.remote_writer(path) as raw:
            with _encoded(raw, path, binary) as stream:
                yield stream
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    for parent in (directory, *directory.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{path}: cannot write: {parent} is a file, not a directory")
            break
    # The name is recorded before the file exists, so an interruption at any point (SIGTERM
    # arrives as KeyboardInterrupt) leaves nothing that remove_pending() would not find.
    if _streams_into(path):  # a device or FIFO is written into, never replaced
        with _stream_writer(path, binary) as into:
            yield into
        return
    temporary = str(directory / temporary_name(target.name))
    PENDING_OUTPUTS.add(temporary)
    try:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as error:
            raise OutputError(f"{path}: cannot write: {describe_error(error)}") from None
        with os.fdopen(handle, "wb") as raw:
            with _encoded(raw, path, binary) as stream:
                yield stream
            raw.flush()
            if sync:
                os.fsync(raw.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, TimeoutError) or (error.filename not in (None, temporary, path)):
            raise  # not this output's write failure (a time limit in a stage, another file)
        raise OutputError(f"{path}: cannot write: {describe_error(error)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        PENDING_OUTPUTS.discard(temporary)


@contextlib.contextmanager
def _encoded(raw: IO[bytes], path: str, binary: bool) -> Iterator[IO[Any]]:
    """A stream into ``raw`` compressed by the suffix of ``path``, text unless ``binary``."""
    lowered = path.lower()
    if lowered.endswith(".gz"):
        stream: IO[bytes] = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)  # type: ignore[assignment]
    elif lowered.endswith((".zst", ".zstd")):
        import zstandard

        stream = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    else:
        stream = raw
    if binary:
        yield stream
    else:
        # A lone surrogate (from a file name) is written as its escape.
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="backslashreplace", newline="")
        yield text
        text.flush()
        text.detach()
    if stream is not raw:
        stream.close()


def _streams_into(path: str) -> bool:
    """Whether ``path`` is a character device or a FIFO (``/dev/null``, a named pipe)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


@contextlib.contextmanager
def _stream_writer(path: str, binary: bool) -> Iterator[IO[Any]]:
    try:
        raw = open(path, "wb")
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {describe_error(error)}") from None
    try:
        with raw:
            if binary:
                yield raw
            else:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                yield text
                text.flush()
                text.detach()
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {describe_error(error)}") from None


#: Temporary outputs being written (see :func:`atomic_writer`).
PENDING_OUTPUTS: set[str] = set()


def remove_pending() -> None:
    """Remove every temporary output still being written (after an interruption)."""
    for temporary in list(PENDING_OUTPUTS):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        PENDING_OUTPUTS.discard(temporary)


class Outputs:
    """Writes each source's kept documents to the file its :class:`OutputPlan` names, in the
    input's format: JSONL lines, Parquet rows (written when the source is done), or text (with
    the document separator, or one document per line). Used as a context manager; outputs are
    complete (renamed into place) when it exits without an error."""

    def __init__(self, plan: OutputPlan, read: ReadOptions, annotate: bool, annotate_prefix: str | None = None) -> None:
        self.plan = plan
        self.read = read
        self.annotate = annotate
        self.prefix = annotate_prefix or "dedup_"
        self._row_bytes = 0
        self._stack = contextlib.ExitStack()
        self._current: tuple[str, Any, Source] | None = None
        self._joined = False  # a document was written to the current text output
        self._rows: list[dict[str, Any]] = []
        self.bytes_out = 0

    def __enter__(self) -> Outputs:
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
            _, writer, source = self._current
            if source.format == "parquet":
                self._flush_parquet(writer)
                writer.close()
            self._current = None
            self._stack.close()
            self._stack = contextlib.ExitStack()

    def _switch(self, source: Source) -> Any:
        if self._current is not None and self._current[2] == source:
            return self._current[1]
        self._finish()
        self._joined = False
        target = self.plan.target(source)
        if source.format == "parquet":
            # Row groups are written as records arrive: memory stays bounded.
            handle = self._parquet_writer(self._stack.enter_context(atomic_writer(target, binary=True)), source)
        else:
            # A byte range's part goes to the run's temporary directory: joined, not kept.
            handle = self._stack.enter_context(atomic_writer(target, sync=source.stop is None))
        self._current = (target, handle, source)
        self._rows = []
        self._row_bytes = 0
        return handle

    def write(self, source: Source, document: Document, text: str | None, annotation: dict[str, Any]) -> None:
        """Write ``document`` of ``source`` with its cleaned ``text`` (None: dropped; written
        unchanged with its ``annotation`` under --annotate)."""
        if text is None and not (self.annotate or source.format != "text" or self.read.lines
                                 or self.read.doc_separator):
            return  # a dropped single-document file gets no output file
        handle = self._switch(source)
        if source.format == "jsonl":
            if text is None and not self.annotate:
                return
            own = document.meta["line_text"]
            ending = own[len(own.rstrip("\r\n")):] or "\n"  # the record's own line end (CRLF stays)
            if text == document.text and not self.annotate:
                # Unchanged: the record's own line, byte for byte (formatting and escapes kept).
                line = own_line(document)
            else:
                # The new text (and the annotation) patched into the record's own bytes: every
                # other field is written exactly as read.
                line = _patched_line(document, self.read.text_field, None if text == document.text else text,
                                     self._prefixed(annotation) if self.annotate else None) + ending
            # The text's bytes, as bytes_in counts them (not the record's other fields).
            self.bytes_out += len((text if text is not None else document.text).encode("utf-8"))
            handle.write(line)
        elif source.format == "parquet":
            if text is None and not self.annotate:
                return
            record = dict(document.meta["record"])
            record[self.read.text_field] = text if text is not None else document.text
            if self.annotate:
                record.update(self._prefixed(annotation))
            size = len(record[self.read.text_field].encode("utf-8"))
            self.bytes_out += size
            self._rows.append(record)
            self._row_bytes += size
            if len(self._rows) >= PARQUET_GROUP_ROWS or self._row_bytes >= PARQUET_GROUP_BYTES:
                self._flush_parquet(handle)
        else:
            if text is None:
                return
            separator = document.meta.get("separator_before") if self._joined else None
            out = text + "\n" if self.read.lines else (separator or "") + text
            self._joined = True
            self.bytes_out += len(out.encode("utf-8"))
            handle.write(out)

    def touch(self, source: Source) -> None:
        """Make sure a source with no kept documents still gets its (empty) output."""
        self._switch(source)

    def _prefixed(self, annotation: dict[str, Any]) -> dict[str, Any]:
        """The --annotate fields under the chosen prefix (``dedup_`` unless --annotate-prefix)."""
        return {self.prefix + key.removeprefix("dedup_"): value for key, value in annotation.items()}

    def _parquet_writer(self, sink: Any, source: Source) -> Any:
        """A Parquet writer into ``sink`` with the input's schema (plus --annotate's columns)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        with parquet_file(source.path) as parquet:
            schema = parquet.schema_arrow
        if self.annotate:
            for name, kind in ANNOTATION_COLUMNS:
                column = self.prefix + name.removeprefix("dedup_")
                if column in schema.names:  # never overwrite a column
                    raise InputError(_ANNOTATED.format(where=source.path, field=column))
                schema = schema.append(pa.field(column, getattr(pa, kind)()))
        return pq.ParquetWriter(sink, schema)

    def _flush_parquet(self, writer: Any) -> None:
        """Write the rows held as one row group."""
        write_rows(writer, self._rows)
        self._rows = []
        self._row_bytes = 0


def own_line(document: Document) -> str:
    """A JSONL record's line as read, with its own line end (``\\r\\n`` stays; none becomes ``\\n``)."""
    own: str = document.meta["line_text"]
    body = own.rstrip("\r\n")
    return body + (own[len(body):] or "\n")


def write_rows(writer: Any, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (when there are any) as one row group of a Parquet ``writer``."""
    import pyarrow as pa

    if rows:
        writer.write_table(pa.Table.from_pylist(rows, schema=writer.schema))


#: A Parquet output's row group holds at most this many rows or bytes of text (decided by the
#: data alone, so every engine writes the same bytes).
PARQUET_GROUP_ROWS = 1 << 16
PARQUET_GROUP_BYTES = 16 << 20

_ANNOTATED = ("{where}: already has a field {field!r}; --annotate never overwrites a field (pass "
              "--annotate-prefix to name the added fields differently, e.g. --annotate-prefix dedup2_)")


def _patched_line(document: Document, text_field: str, text: str | None, added: dict[str, Any] | None) -> str:
    """A JSONL record's own line with a new text and added fields (see
    :func:`dedup.records.patch_record`); an added field the record has is a one-line error."""
    from dedup.records import patch_record

    try:
        return patch_record(document.meta["line_text"], text_field, text, added)
    except KeyError as error:
        where = f"{document.meta.get('source')}:{document.meta.get('line')}"
        raise InputError(_ANNOTATED.format(where=where, field=error.args[0])) from None


class RemovedWriter:
    """Writes the documents a run removed, whole and as read, into one file (``--removed``): a
    JSONL record's own line, a Parquet row, or a text document with its separator. The file's
    format is the inputs' (all of one format), except that text documents go to a file named
    ``.jsonl`` (``.gz``, ``.zst``) as records ``{"id": …, "text": …}``, one per line. The file is
    complete (renamed into place) when the writer exits without an error. Used as a context
    manager."""

    def __init__(self, path: str, read: ReadOptions) -> None:
        self.path = path
        self.read = read
        self.count = 0
        self._stack = contextlib.ExitStack()
        self._handle: Any = None
        self._writer: Any = None
        self._rows: list[dict[str, Any]] = []
        self._format: str | None = None
        self._separator: str | None = None  # in a dump: the last separator seen
        self._ended = True  # in a dump: the last document written ended with a line break

    def __enter__(self) -> RemovedWriter:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if exc[0] is None:
                if self._format is None:  # nothing removed: an empty file
                    self._stack.enter_context(atomic_writer(self.path))
                elif self._writer is not None:
                    self._flush()
                    self._writer.close()
        finally:
            self._stack.__exit__(*exc)

    def write(self, source: Source, document: Document) -> None:
        """Write one removed document of ``source``."""
        if self._format is None:
            self._format = source.format
            if source.format == "parquet":
                import pyarrow.parquet as pq

                sink = self._stack.enter_context(atomic_writer(self.path, binary=True))
                with parquet_file(source.path) as parquet:
                    self._writer = pq.ParquetWriter(sink, parquet.schema_arrow)
            else:
                self._handle = self._stack.enter_context(atomic_writer(self.path))
        elif source.format != self._format:
            raise OutputError(f"{self.path}: --removed needs inputs of one format, not {self._format} and "
                              f"{source.format} ({source.path})")
        self.count += 1
        if source.format == "text" and format_of_name(self.path) == "jsonl":
            self._handle.write(json.dumps({"id": id_value(document.id), "text": document.text},
                                          ensure_ascii=False) + "\n")
        elif source.format == "jsonl":
            self._handle.write(own_line(document))
        elif source.format == "parquet":
            self._rows.append(document.meta["record"])
            if len(self._rows) >= PARQUET_GROUP_ROWS:
                self._flush()
        elif self.read.doc_separator and not self.read.lines:
            # A dump: documents joined by the separator each had before it (the first of a file
            # has none: the last separator written joins it to the previous file's).
            separator = document.meta.get("separator_before") or self._separator
            if self.count > 1:
                self._handle.write(separator if separator is not None else ("" if self._ended else "\n"))
            self._separator = separator
            self._handle.write(document.text)
            self._ended = document.text.endswith("\n")
        else:  # a document per line, or a whole file: each ends with a line break
            self._handle.write(document.text if document.text.endswith("\n") else document.text + "\n")

    def _flush(self) -> None:
        write_rows(self._writer, self._rows)
        self._rows = []
