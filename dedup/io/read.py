"""Read: the documents of every input, streamed, in the input's own format.

Inputs: a text file (one document, a dump split by a separator pattern, or one document per
line), a directory (recursive, include/exclude globs), JSONL (plain, ``.gz``, ``.zst``), Parquet,
stdin (``-``), or a byte range of a plain JSONL file. Records keep every field; a reader never
changes them. Decoding errors name the file and the byte offset; malformed records name the file
and line.
"""

from __future__ import annotations

import codecs
import contextlib
import fnmatch
import gzip
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dedup.document import Document
from dedup.errors import DedupError, InputError
from dedup.io import remote
from dedup.outputs import is_own_temporary
from dedup.records import loads_record, lone_surrogate, record_id

__all__ = [
    "ReadOptions",
    "Source",
    "sources_of",
    "read_documents",
    "decode_bytes",
    "format_of",
    "split_ranges",
    "seekable",
    "describe_error",
    "read_stdin",
    "input_size",
]

_BINARY_SNIFF = 8192


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """How inputs are read."""

    encoding: str = "utf-8"
    errors: str = "strict"
    text_field: str = "text"
    id_field: str | None = None
    doc_separator: str | None = None
    lines: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    on_error: str = "fail"
    #: Read every input as this format ("text", "jsonl", "parquet"); None: from each name.
    input_format: str | None = None
    #: Read hidden files and directories (names starting with ".") in directories.
    hidden: bool = False
    #: A document (a text file, or a JSONL line) larger than this once decompressed is refused:
    #: a small compressed bomb cannot exhaust memory.
    max_document_bytes: int = 1 << 30


@dataclass(frozen=True)
class Source:
    """One input: a path (or ``-``), its format, and its name relative to a directory root; or a
    byte range of a plain JSONL file (``start`` to ``stop``, whole lines, the first of them line
    ``first_line``), which workers read in parallel (see :func:`split_ranges`)."""

    path: str
    format: str
    relative: str
    start: int = 0
    stop: int | None = None
    first_line: int = 1


def split_ranges(source: Source, at: Sequence[int]) -> list[Source]:
    """Cut a plain (uncompressed) JSONL file into byte ranges of whole lines, cut at the first
    line start at or after each offset of ``at`` (ascending), each range knowing the number of its
    first line, so that reading the ranges in order reads exactly the file, with the same line
    numbers."""
    size = os.path.getsize(source.path)
    cuts = [0]
    with open(source.path, "rb") as handle:
        for offset in at:
            handle.seek(max(offset, cuts[-1]))
            if handle.tell() > 0:
                handle.seek(handle.tell() - 1)
                handle.readline()  # to the start of the next line
            if cuts[-1] < handle.tell() < size:
                cuts.append(handle.tell())
        cuts.append(size)
        ranges, line = [], 1
        count = _newline_counter(handle)
        for start, stop in zip(cuts[:-1], cuts[1:]):
            ranges.append(Source(source.path, source.format, source.relative, start, stop, line))
            line += count(start, stop)
    return ranges


def _newline_counter(handle: io.BufferedReader) -> Callable[[int, int], int]:
    """A function counting the newlines in bytes ``start`` to ``stop`` of ``handle``: read into
    one buffer, reused, and counted by numpy (a new bytes object per block, counted by
    ``bytes.count``, took 5x as long)."""
    import numpy as np

    buffer = bytearray(1 << 20)
    view, found = np.frombuffer(buffer, dtype=np.uint8), np.empty(len(buffer), dtype=bool)

    def count(start: int, stop: int) -> int:
        handle.seek(start)
        newlines, remaining = 0, stop - start
        while remaining > 0:
            got = handle.readinto(memoryview(buffer)[: min(remaining, len(buffer))])
            if not got:
                break  # the file got shorter; reading the range will say so
            newlines += int(np.count_nonzero(np.equal(view[:got], 10, out=found[:got])))
            remaining -= got
        return newlines

    return count


def format_of(path: str) -> str:
    """The format of an input or output path, from its name.

    >>> format_of("shard-00.jsonl.zst"), format_of("a.parquet"), format_of("notes.txt")
    ('jsonl', 'parquet', 'text')
    """
    name = path.lower()
    for suffix in (".gz", ".zst", ".zstd"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    return "text"


def _looks_binary(path: Path | str) -> bool:
    with (remote.open_input(path) if isinstance(path, str) else path.open("rb")) as handle:
        head = handle.read(_BINARY_SNIFF)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return False
    if head.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"PAR1")):
        return False
    return b"\x00" in head


def sources_of(inputs: Sequence[str], options: ReadOptions) -> tuple[list[Source], list[str]]:
    """Expand inputs (files, directories, ``-``) into sources, sorted within each directory.

    Returns the sources and the binary files skipped in directories.
    """
    sources: list[Source] = []
    skipped: list[str] = []
    for given in inputs:
        if given == "-":
            sources.append(Source("-", options.input_format or "text", "stdin"))
            continue
        if remote.is_url(given):
            sources.extend(_remote_sources(given, options, skipped))
            continue
        path = Path(given)
        if path.is_dir():
            # Files, and what cannot be read as one (a link to a directory, which is not
            # followed; a broken link; a FIFO or device), named as skipped, never dropped silently.
            for file in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink() or not p.is_dir()):
                if is_own_temporary(file.name):  # a killed run's temporary file, or a run's lock
                    continue
                relative = file.relative_to(path).as_posix()
                if not options.hidden and any(part.startswith(".") for part in relative.split("/")):
                    continue
                if options.include and not any(fnmatch.fnmatch(relative, g) for g in options.include):
                    continue
                if any(fnmatch.fnmatch(relative, g) for g in options.exclude):
                    continue
                if not file.is_file():
                    skipped.append(str(file))
                    continue
                kind = options.input_format or format_of(relative)
                if kind == "text" and _looks_binary(file):
                    skipped.append(str(file))
                    continue
                sources.append(Source(str(file), kind, relative))
        elif path.is_file():
            sources.append(Source(str(path), options.input_format or format_of(str(path)), path.name))
        elif not path.exists():
            raise InputError(f"{given}: no such file or directory")
        else:
            raise InputError(f"{given}: not a regular file or directory")
    return sources, skipped


def skip_reason(path: str) -> str:
    """Why a file found in an input directory was skipped (see :func:`sources_of`).

    >>> skip_reason("/nonexistent/dedup/file")
    'a broken symbolic link or a file that vanished'
    """
    if os.path.islink(path) and os.path.isdir(path):
        return "a symbolic link to a directory, not followed (give its target as an input)"
    if not os.path.exists(path):
        return "a broken symbolic link or a file that vanished"
    if not os.path.isfile(path):
        return "not a regular file (a FIFO, socket or device)"
    return "a binary file"


def _remote_sources(url: str, options: ReadOptions, skipped: list[str]) -> list[Source]:
    """The sources of a URL: one file, or every file below a prefix (as a directory's)."""
    files = remote.list_files(url, hidden=options.hidden, include=options.include, exclude=options.exclude)
    if files is None:
        return [Source(url, options.input_format or format_of(url), url.rstrip("/").rsplit("/", 1)[-1])]
    sources = []
    for file, relative in files:
        kind = options.input_format or format_of(relative)
        if kind == "text" and _looks_binary(file):
            skipped.append(file)
            continue
        sources.append(Source(file, kind, relative))
    return sources


def input_size(source: Source) -> int | None:
    """The bytes of ``source`` as stored (a byte range's length; None for stdin, or when a store
    does not say), for progress.

    >>> input_size(Source("-", "text", "stdin")) is None
    True
    """
    if source.path == "-":
        return None
    if source.stop is not None:
        return source.stop - source.start
    if remote.is_url(source.path):
        return remote.size_of(source.path)
    try:
        return os.path.getsize(source.path)
    except OSError:
        return None


def decode_bytes(data: bytes, name: str, encoding: str = "utf-8", errors: str = "strict") -> str:
    """Decode input bytes; a BOM wins over ``encoding``; errors name the byte offset.

    >>> decode_bytes(b"caf\\xc3\\xa9", "x.txt")
    'café'
    """
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: not valid {encoding} at byte {error.start} ({data[error.start:error.start + 4]!r}); "
            "pass --encoding (e.g. latin-1) or --errors replace to read it anyway"
        ) from None
    except LookupError:
        raise InputError(f"--encoding {encoding!r} is not an encoding Python knows") from None


class _ZstdReader(io.RawIOBase):
    """Streams a (multi-frame) zstd file and raises :class:`EOFError` when it ends mid-frame.

    ``ZstdDecompressor().stream_reader`` silently reports end-of-file on truncated data, which
    would drop the rest of a file without a word. Input is fed in small chunks so memory stays
    bounded even on a decompression bomb.
    """

    _CHUNK = 1 << 13

    def __init__(self, raw: IO[bytes], zstandard: Any) -> None:
        super().__init__()
        self._raw = raw
        self._zstandard = zstandard
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._in_frame = False
        self._pending = b""
        self._finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._finished:
            chunk = self._raw.read(self._CHUNK)
            if not chunk:
                self._finished = True
                if self._in_frame:
                    raise EOFError("truncated zstd stream")
                break
            while chunk:
                self._in_frame = True
                self._pending += self._decoder.decompress(chunk)
                if self._decoder.eof:  # a frame ended; more frames may follow
                    chunk = self._decoder.unused_data
                    self._decoder = self._zstandard.ZstdDecompressor().decompressobj()
                    self._in_frame = False
                else:
                    chunk = b""
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@contextlib.contextmanager
def _open_binary(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
        return
    lowered = path.lower()
    with (remote.open_input(path) if remote.is_url(path) else open(path, "rb")) as raw:
        if lowered.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw) as stream:
                yield stream  # type: ignore[misc]
        elif lowered.endswith((".zst", ".zstd")):
            try:
                import zstandard
            except ImportError:
                raise InputError(
                    f"{path}: reading .zst needs the zstandard package: pip install 'dedup-text[zstd]'"
                ) from None
            with io.BufferedReader(_ZstdReader(raw, zstandard)) as stream:
                yield stream
        else:
            yield raw


def _too_big(path: str, limit: int) -> InputError:
    return InputError(
        f"{path}: a document larger than {limit:,} bytes once decompressed; raise "
        "--max-document-bytes if it is genuine"
    )


def _read_all(path: str, limit: int = 1 << 30) -> bytes:
    try:
        with _open_binary(path) as stream:
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise _too_big(path, limit)
            return data
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: cannot read: {describe_error(error)}") from None
    except Exception as error:  # zstandard raises its own ZstdError
        if type(error).__name__ == "ZstdError":
            raise InputError(f"{path}: corrupt or truncated zstd data: {error}") from None
        raise


def read_stdin(limit: int) -> bytes:
    """All of stdin, refused with one line once it holds more than ``limit`` bytes (as a file
    input is: see ``--max-document-bytes``), before more is held in memory."""
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        raise InputError("stdin is closed; name the input files")
    try:
        data = stream.read(limit + 1)
    except OSError as error:
        raise InputError(f"stdin: cannot read: {describe_error(error)}") from None
    if len(data) > limit:
        raise _too_big("stdin", limit)
    return data


def describe_error(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the compressed stream is truncated"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _text_documents(source: Source, options: ReadOptions) -> Iterator[Document]:
    text = decode_bytes(_read_all(source.path, options.max_document_bytes), source.path, options.encoding,
                        options.errors)
    name = source.relative
    if options.lines:
        lines = text.split("\n")
        if lines[-1] == "":  # (the end of the last line, not a line)
            lines.pop()
        # Every line is a document, a blank one too: it is written back as it was (a text with no
        # word is never a duplicate), so no line vanishes without a record.
        for number, line in enumerate(lines, 1):
            yield Document(f"{name}:{number}", line, {"source": source.path, "line": number})
        return
    if options.doc_separator:
        try:
            pattern = re.compile(options.doc_separator, re.MULTILINE)
        except re.error as error:
            raise InputError(f"--doc-separator {options.doc_separator!r} is not a valid pattern: {error}") from None
        # Each document keeps the separator before it (None for the first): written before it
        # when an earlier document of the file was written too, so a dropped last document
        # leaves no separator dangling at the end.
        position, number, before = 0, 1, None
        for match in pattern.finditer(text):
            yield Document(f"{name}#{number}", text[position : match.start()],
                           {"source": source.path, "separator_before": before})
            position, number, before = match.end(), number + 1, match.group()
        yield Document(f"{name}#{number}", text[position:], {"source": source.path, "separator_before": before})
        return
    yield Document(name, text, {"source": source.path})


def _jsonl_documents(source: Source, options: ReadOptions, skipped: list[dict[str, Any]]) -> Iterator[Document]:
    def bad(number: int, problem: str) -> None:
        where = f"{source.path}:{number}"
        if options.on_error == "fail":
            raise InputError(f"{where}: {problem} (use --on-error skip to skip such records)")
        skipped.append({"source": source.path, "line": number, "problem": problem})

    try:
        with _open_binary(source.path) as stream:
            limit = options.max_document_bytes
            remaining = None if source.stop is None else source.stop - source.start
            if source.start:
                stream.seek(source.start)
            position = source.start
            for number, raw in enumerate(iter(lambda: stream.readline(limit + 1), b""), source.first_line):
                offset, position = position, position + len(raw)
                if remaining is not None:
                    if remaining <= 0:
                        break  # the end of this byte range
                    remaining -= len(raw)
                if len(raw) > limit:
                    raise _too_big(f"{source.path}:{number}", limit)
                if not raw.strip():
                    continue
                line_text = decode_bytes(raw, f"{source.path}:{number}", options.encoding, options.errors)
                try:
                    record = loads_record(line_text)
                except json.JSONDecodeError as error:
                    bad(number, f"not valid JSON ({error.msg} at column {error.colno})")
                    continue
                except RecursionError:  # one line for a bad record, never a traceback
                    bad(number, "nested too deeply to read")
                    continue
                except ValueError as error:
                    bad(number, f"not readable JSON ({error})")
                    continue
                if not isinstance(record, dict):
                    bad(number, f"expected a JSON object, got {type(record).__name__}")
                    continue
                text = record.get(options.text_field)
                if not isinstance(text, str):
                    what = "missing" if options.text_field not in record else f"a {type(text).__name__}, not a string"
                    bad(number, f"text field {options.text_field!r} is {what}")
                    continue
                ident = record.get(options.id_field) if options.id_field else None
                if options.id_field and ident is None:
                    bad(number, f"id field {options.id_field!r} is missing (pass --id-field '' for file:line ids)")
                    continue
                if "\\u" in line_text:  # a JSON escape may hold a lone surrogate
                    fixed = _without_surrogates(text, ident, options, f"{source.path}:{number}")
                    if fixed is None:
                        skipped.append({"source": source.path, "line": number, "problem": "lone surrogate"})
                        continue
                    text, ident = fixed
                doc_id = record_id(ident, f"{source.relative}:{number}")  # ids keep their JSON type
                yield Document(doc_id, text, {"record": record, "source": source.path, "line": number,
                                              "line_text": line_text, "offset": offset, "end": position})
    except (OSError, EOFError) as error:
        raise InputError(f"{source.path}: cannot read: {describe_error(error)}") from None
    except InputError:
        raise
    except Exception as error:
        if type(error).__name__ == "ZstdError":
            raise InputError(f"{source.path}: corrupt or truncated zstd data: {error}") from None
        raise


def _without_surrogates(text: str, ident: Any, options: ReadOptions,
                        where: str) -> tuple[str, Any] | None:
    """The text and id of a record with lone surrogate escapes (``\\ud800``: not Unicode, common
    in crawls) replaced by U+FFFD under ``--errors replace``; else one error line (or None to
    skip the record, under ``--on-error skip``)."""
    for name, value in (("text field " + repr(options.text_field), text), ("id field", ident)):
        if not isinstance(value, str):
            continue
        at = lone_surrogate(value)
        if at < 0:
            continue
        if options.errors == "replace":
            if value is text:
                text = _SURROGATES.sub("\ufffd", text)
            else:
                ident = _SURROGATES.sub("\ufffd", value)
            continue
        problem = (f"{where}: {name} holds a lone surrogate escape (\\u{ord(value[at]):04x}) at character {at}, "
                   "which is not Unicode; pass --errors replace to read it as U+FFFD")
        if options.on_error == "skip":
            return None
        raise InputError(problem + " or --on-error skip to skip the record")
    return text, ident


_SURROGATES = re.compile("[\ud800-\udfff]")


def seekable(source: Source) -> bool:
    """Whether ``source`` is a plain JSONL file, whose records :func:`texts_at` can read by the
    byte offsets (``meta["offset"]``) a read of it gave."""
    return (source.format == "jsonl" and source.path != "-" and not remote.is_url(source.path)
            and not source.path.lower().endswith((".gz", ".zst", ".zstd")))


def _parquet_documents(source: Source, options: ReadOptions) -> Iterator[Document]:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError(f"{source.path}: reading Parquet needs pyarrow: pip install 'dedup-text[parquet]'") from None
    with contextlib.ExitStack() as stack:
        yield from _parquet_rows(source, options, stack)


@contextlib.contextmanager
def parquet_file(path: str) -> Iterator[Any]:
    """``pyarrow.parquet.ParquetFile`` of a path or URL (opened through fsspec), closed after."""
    import pyarrow.parquet as pq

    with contextlib.ExitStack() as stack:
        opened = stack.enter_context(remote.open_input(path)) if remote.is_url(path) else path
        yield pq.ParquetFile(opened)


def _parquet_rows(source: Source, options: ReadOptions, stack: contextlib.ExitStack) -> Iterator[Document]:
    try:
        parquet = stack.enter_context(parquet_file(source.path))
    except DedupError:
        raise
    except Exception as error:
        raise InputError(f"{source.path}: not a readable Parquet file: {error}") from None
    names = parquet.schema_arrow.names
    if options.text_field not in names:
        raise InputError(
            f"{source.path}: no column {options.text_field!r} (columns: {', '.join(names)}); "
            "pass --text-field"
        )
    if options.id_field and options.id_field not in names:
        raise InputError(
            f"{source.path}: no column {options.id_field!r} for the ids (columns: {', '.join(names)}); "
            "pass --id-field, or --id-field '' for file:row ids"
        )
    row = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for record in batch.to_pylist():
            row += 1
            text = record.get(options.text_field)
            if not isinstance(text, str):
                raise InputError(f"{source.path}: row {row}: column {options.text_field!r} is not text")
            ident = record.get(options.id_field) if options.id_field else None
            doc_id = record_id(ident, f"{source.relative}:{row}")  # ids keep their type
            yield Document(doc_id, text, {"record": record, "source": source.path, "row": row})


def read_documents(source: Source, options: ReadOptions,
                   skipped: list[dict[str, Any]] | None = None) -> Iterator[Document]:
    """Stream the documents of one source."""
    sink = skipped if skipped is not None else []
    if source.format == "jsonl":
        yield from _jsonl_documents(source, options, sink)
    elif source.format == "parquet":
        yield from _parquet_documents(source, options)
    else:
        yield from _text_documents(source, options)
