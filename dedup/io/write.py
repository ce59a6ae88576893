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
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dedup.document import Document
from dedup.errors import OutputError
from dedup.io.plan import OutputPlan
from dedup.io.read import ReadOptions, Source, describe_error

__all__ = ["atomic_writer", "remove_pending", "Outputs"]

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
        if binary:
            yield sys.stdout.buffer
        else:
            yield sys.stdout
        sys.stdout.flush()
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
    temporary = str(directory / f".{target.name}.{os.urandom(6).hex()}.part")
    PENDING_OUTPUTS.add(temporary)
    try:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as error:
            raise OutputError(f"{path}: cannot write: {describe_error(error)}") from None
        with os.fdopen(handle, "wb") as raw:
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
                text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
                yield text
                text.flush()
                text.detach()
            if stream is not raw:
                stream.close()
            raw.flush()
            if sync:
                os.fsync(raw.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputError(f"{path}: cannot write: {describe_error(error)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        PENDING_OUTPUTS.discard(temporary)


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

    def __init__(self, plan: OutputPlan, read: ReadOptions, annotate: bool) -> None:
        self.plan = plan
        self.read = read
        self.annotate = annotate
        self._stack = contextlib.ExitStack()
        self._current: tuple[str, Any, Source] | None = None
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
            target, _, source = self._current
            if source.format == "parquet":
                self._write_parquet(target, source)
            self._current = None
            self._stack.close()
            self._stack = contextlib.ExitStack()

    def _switch(self, source: Source) -> Any:
        if self._current is not None and self._current[2] == source:
            return self._current[1]
        self._finish()
        target = self.plan.target(source)
        if source.format == "parquet":
            handle = None
        else:
            # A byte range's part goes to the run's temporary directory: joined, not kept.
            handle = self._stack.enter_context(atomic_writer(target, sync=source.stop is None))
        self._current = (target, handle, source)
        self._rows = []
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
            if text == document.text and not self.annotate:
                # Unchanged: the record's own line, byte for byte (formatting and escapes kept).
                line = document.meta["line_text"].rstrip("\r\n") + "\n"
            else:
                record = dict(document.meta["record"])
                record[self.read.text_field] = text if text is not None else document.text
                if self.annotate:
                    record.update(annotation)
                line = json.dumps(record, ensure_ascii=False) + "\n"
            self.bytes_out += len(line.encode("utf-8"))
            handle.write(line)
        elif source.format == "parquet":
            if text is None and not self.annotate:
                return
            record = dict(document.meta["record"])
            record[self.read.text_field] = text if text is not None else document.text
            if self.annotate:
                record.update(annotation)
            self.bytes_out += len(record[self.read.text_field].encode("utf-8"))
            self._rows.append(record)
        else:
            if text is None:
                return
            separator = document.meta.get("separator")
            out = text + "\n" if self.read.lines else text + (separator if separator else "")
            self.bytes_out += len(out.encode("utf-8"))
            handle.write(out)

    def touch(self, source: Source) -> None:
        """Make sure a source with no kept documents still gets its (empty) output."""
        self._switch(source)

    def _write_parquet(self, target: str, source: Source) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.ParquetFile(source.path).schema_arrow
        if self.annotate:
            for name, kind in ANNOTATION_COLUMNS:
                if name not in schema.names:
                    schema = schema.append(pa.field(name, getattr(pa, kind)()))
        table = pa.Table.from_pylist(self._rows, schema=schema)
        with atomic_writer(target, binary=True) as handle:
            pq.write_table(table, handle)
