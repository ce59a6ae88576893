"""What the corpus stages keep between them: signatures (in memory, or on disk under a memory
budget), the compact per-document fingerprints, the document ids, and the
documents as prepared once (repaired and segmented) and as cleaned, kept on disk in the run's
temporary directory (:class:`BlobCache`) for the later stages.

Memory grows with the number of documents (a signature, a hash and a few unit hashes each),
never with the bytes read.
"""

from __future__ import annotations

import dataclasses
import json
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from dedup.corpus.arrays import stable_argsort
from dedup.document import Change, CleanResult, Flag
from dedup.records import JsonId

if TYPE_CHECKING:
    from dedup.pipeline import Prepared

__all__ = [
    "SignatureFile",
    "Fingerprints",
    "IdTable",
    "BlobCache",
    "BlobFile",
    "write_blobs",
    "encode_prepared",
    "decode_prepared",
    "encode_result",
    "decode_result",
    "compared_text",
]


class SignatureFile:
    """Signatures that stay on disk (row-major ``uint32``, ``rows × num_perm``) when they exceed
    half of a ``memory`` budget. They are read in row chunks or by row index with plain reads,
    never mapped whole, so what is resident is only what a step holds (file pages sit in the
    page cache, which the kernel can drop, and do not count in the process's RSS)."""

    def __init__(self, path: str, rows: int, num_perm: int, memory: int) -> None:
        self.path = path
        self.rows = rows
        self.num_perm = num_perm
        self.memory = memory

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.num_perm

    def __len__(self) -> int:
        return self.rows

    @property
    def row_bytes(self) -> int:
        return self.num_perm * 4

    def chunk_rows(self, fraction: int) -> int:
        """Rows in a chunk of ``1 / fraction`` of the budget (at least one)."""
        return max(1, self.memory // fraction // self.row_bytes)

    def chunks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, signatures)`` for consecutive chunks of ``rows`` rows."""
        for start in range(0, self.rows, rows):
            count = min(rows, self.rows - start)
            chunk = np.fromfile(self.path, dtype=np.uint32, count=count * self.num_perm,
                                offset=start * self.row_bytes)
            yield start, chunk.reshape(count, self.num_perm)

    def take(self, indices: np.ndarray) -> np.ndarray:
        """The signatures of rows ``indices`` (any order, repeats allowed), reading each distinct
        row once, runs of consecutive rows in one read."""

        wanted, inverse = np.unique(np.asarray(indices, dtype=np.int64), return_inverse=True)
        out = np.empty((len(wanted), self.num_perm), dtype=np.uint32)
        if len(wanted):
            view = out.data.cast("B")
            breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
            starts = np.concatenate([[0], breaks]).tolist()
            ends = np.concatenate([breaks, [len(wanted)]]).tolist()
            size = self.row_bytes
            fd = os.open(self.path, os.O_RDONLY)
            try:
                for a, b in zip(starts, ends):
                    if os.preadv(fd, [view[a * size : b * size]], int(wanted[a]) * size) != (b - a) * size:
                        raise OSError(f"{self.path}: short read")
            finally:
                os.close(fd)
        return out[inverse.reshape(-1)]



@dataclass
class Fingerprints:
    """Pass-1 output for a batch of documents, as flat numpy arrays."""

    signatures: np.ndarray | SignatureFile  # (n, num_perm) uint32, in memory or on disk
    doc_hashes: np.ndarray  # (n,) uint64
    lengths: np.ndarray  # (n,) int64, characters of the repaired text
    unit_hashes: np.ndarray  # (m,) uint64, unique per document
    unit_docs: np.ndarray  # (m,) int64, batch-local document index of each unit hash

    @classmethod
    def collect(cls, parts: Iterable[Fingerprints], num_perm: int, memory: int | None = None,
                spill_dir: str | None = None) -> Fingerprints:
        """Join batches in order without ever holding the signatures twice: each batch's
        signatures are appended to one growing buffer as they arrive. If they fit in half of the
        ``memory`` budget (or there is no budget) they stay there; once they do not, they go to a
        file in ``spill_dir`` instead and stay on disk as a :class:`SignatureFile`, which the plan
        reads in chunks sized to the budget."""
        import tempfile

        budget = memory // 2 if memory is not None and spill_dir is not None else None
        small: list[Fingerprints] = []
        buffer = bytearray()  # grown in place (a large realloc remaps pages, it does not copy them)
        spill: Any = None
        path = ""
        try:
            for part in parts:
                data = np.ascontiguousarray(part.signatures, dtype=np.uint32).reshape(-1).view(np.uint8).data
                if spill is None and budget is not None and len(buffer) + len(data) > budget:
                    handle, path = tempfile.mkstemp(prefix="signatures-", suffix=".u32", dir=spill_dir)
                    spill = os.fdopen(handle, "wb")
                    spill.write(buffer)
                    buffer = bytearray()
                if spill is not None:
                    spill.write(data)
                else:
                    buffer += data
                small.append(cls(np.empty((0, num_perm), np.uint32), part.doc_hashes, part.lengths,
                                 part.unit_hashes, part.unit_docs))
            joined = cls.concatenate(small, num_perm)
            if spill is not None and memory is not None:  # (a budget is what made it spill)
                spill.close()
                joined.signatures = SignatureFile(path, len(joined.doc_hashes), num_perm, memory)
                path = ""  # the caller's spill directory removes it after the plan
            else:
                joined.signatures = np.frombuffer(buffer, dtype=np.uint32).reshape(-1, num_perm)
        finally:
            if spill is not None:
                spill.close()
            if path:
                os.unlink(path)
        return joined

    @classmethod
    def concatenate(cls, parts: Sequence[Fingerprints], num_perm: int) -> Fingerprints:
        """Join batches in order, renumbering documents."""
        offsets = np.cumsum([0] + [len(p.doc_hashes) for p in parts])
        return cls(
            np.concatenate([p.signatures for p in parts]) if parts else np.empty((0, num_perm), np.uint32),
            np.concatenate([p.doc_hashes for p in parts]) if parts else np.empty(0, np.uint64),
            np.concatenate([p.lengths for p in parts]) if parts else np.empty(0, np.int64),
            np.concatenate([p.unit_hashes for p in parts]) if parts else np.empty(0, np.uint64),
            np.concatenate([p.unit_docs + o for p, o in zip(parts, offsets)]) if parts else np.empty(0, np.int64),
        )



class IdTable:
    """Document ids kept in one byte buffer with offsets and 64-bit hashes: a few bytes per
    document and no Python object each, so a corpus of millions of documents stays small."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("q")
        self._hashes = array("Q")
        self._typed = array("b")  # 1: a JsonId (an id that was a number, …), 0: a string

    def extend(self, ids: Iterable[str]) -> None:
        """Append ids in document order."""
        for ident in ids:
            # An id keeps its JSON type (JsonId), and any string is held (surrogatepass).
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

        hashes = np.frombuffer(self._hashes, dtype=np.uint64) if len(self) else np.empty(0, np.uint64)
        order = stable_argsort(hashes)
        same = np.flatnonzero(hashes[order][1:] == hashes[order][:-1])
        repeated: set[int] = set()
        for k in same.tolist():
            a, b = int(order[k]), int(order[k + 1])
            if self._typed[a] == self._typed[b] and str(self[a]) == str(self[b]):
                repeated.add(max(a, b))
        return repeated


def encode_prepared(prepared: Prepared) -> bytes:
    """A prepared document (source, repaired text, edits, boundaries, paragraphs, language) as compact
    JSON bytes for the cache; :func:`decode_prepared` gives it back exactly."""
    from dedup.pipeline import pack_segments

    record = {
        "s": prepared.source,
        "t": prepared.text if prepared.text != prepared.source else None,
        "e": [[e.start, e.end, e.after, e.kind, dict(e.info)] for e in prepared.edits],
        "b": list(prepared.boundaries),
        "l": prepared.language,
        "p": pack_segments([(len(prepared.text), prepared.paragraphs)]).tolist(),
    }
    return _ENCODE(record).encode("utf-8")


def decode_prepared(blob: bytes) -> Prepared:
    """The inverse of :func:`encode_prepared`."""
    from types import MappingProxyType

    from dedup.edits import Edit
    from dedup.pipeline import Prepared, unpack_segments

    record = json.loads(blob)
    source = record["s"]
    text = record["t"] if record["t"] is not None else source
    edits = tuple(Edit(start, end, after, kind, MappingProxyType(info))
                  for start, end, after, kind, info in record["e"])
    segment = unpack_segments(np.asarray(record["p"], dtype=np.int64))[0]
    paragraphs = segment[1] if segment is not None else ()
    return Prepared(source, text, edits, paragraphs, tuple(record["b"]), record["l"])


def encode_result(result: CleanResult, language: str, compared: str | None = None) -> bytes:
    """A cleaned document (text, changes, flags), the language it was cleaned in and, when it
    differs from the text, the text the plan compares it on, as JSON bytes for the cache."""
    record = [result.text, [_values(c) for c in result.changes], [_values(f) for f in result.flags], language,
              compared]
    return _ENCODE(record).encode("utf-8")


def decode_result(blob: bytes) -> tuple[CleanResult, str]:
    """The inverse of :func:`encode_result`: the result and its language."""
    text, changes, flags, language, _ = json.loads(blob)
    return CleanResult(text, tuple(dataclasses.replace(Change(*c), absorbed=tuple(c[-1])) for c in changes),
                       tuple(Flag(*f) for f in flags)), language


def compared_text(blob: bytes) -> str:
    """The text the plan compares a cleaned document on (see :func:`encode_result`)."""
    text, _, _, _, compared = json.loads(blob)
    found: str = compared if compared is not None else text
    return found


def _values(record: Change | Flag) -> list[Any]:
    """A flat dataclass's field values in order (``dataclasses.astuple`` without its deep copy)."""
    return [getattr(record, f.name) for f in dataclasses.fields(record)]


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True)
class BlobFile:
    """Blobs in a file: the file, the byte where the first starts, and where each ends (from
    that byte). A worker on this machine writes a shard's blobs to one
    (:func:`write_blobs`), or reads a shard's from the driver's cache, instead of sending them
    through a pipe: what a shard holds never sits in memory whole."""

    path: str
    ends: tuple[int, ...]
    start: int = 0

    def __len__(self) -> int:
        return len(self.ends)

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            done = 0
            for end in self.ends:
                yield handle.read(end - done)
                done = end


def write_blobs(path: str, blobs: Iterable[bytes]) -> BlobFile:
    """Write ``blobs`` to a new file ``path``, one after another."""
    ends: list[int] = []
    with open(path, "wb") as handle:
        for blob in blobs:
            handle.write(blob)
            ends.append((ends[-1] if ends else 0) + len(blob))
    return BlobFile(path, tuple(ends))


class BlobCache:
    """Byte strings, one per document in document order, appended to a file in the run's
    temporary directory; only their offsets stay in memory (8 bytes a document). Read back by
    document ranges or by index."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ends = array("q")
        self._handle: Any = open(path, "wb")

    def extend(self, blobs: Iterable[bytes]) -> None:
        """Append the blobs of the next documents."""
        end = self._ends[-1] if self._ends else 0
        for blob in blobs:
            self._handle.write(blob)
            end += len(blob)
            self._ends.append(end)

    def extend_from(self, blobs: BlobFile) -> None:
        """Append the blobs of a :class:`BlobFile` (copied, a block at a time), then remove it."""
        end = self._ends[-1] if self._ends else 0
        with open(blobs.path, "rb") as handle:
            handle.seek(blobs.start)
            remaining = blobs.ends[-1] if blobs.ends else 0
            while remaining > 0:
                block = handle.read(min(remaining, 1 << 20))
                if not block:
                    raise OSError(f"{blobs.path}: shorter than its blobs")
                self._handle.write(block)
                remaining -= len(block)
        self._ends.extend(end + e for e in blobs.ends)
        os.unlink(blobs.path)

    def file(self, start: int, stop: int) -> BlobFile:
        """Documents ``start`` to ``stop`` as a :class:`BlobFile` of this cache's file."""
        if not self._handle.closed:
            self._handle.flush()
        first = self._ends[start - 1] if start else 0
        return BlobFile(self.path, tuple(self._ends[k] - first for k in range(start, stop)), first)

    def __len__(self) -> int:
        return len(self._ends)

    def range(self, start: int, stop: int) -> list[bytes]:
        """The blobs of documents ``start`` to ``stop``."""
        if stop <= start:
            return []
        if not self._handle.closed:
            self._handle.flush()
        first = self._ends[start - 1] if start else 0
        with open(self.path, "rb") as handle:
            handle.seek(first)
            data = handle.read(self._ends[stop - 1] - first)
        cuts = [0, *(self._ends[k] - first for k in range(start, stop))]
        return [data[a:b] for a, b in zip(cuts[:-1], cuts[1:])]

    def take(self, indices: Iterable[int]) -> Iterator[tuple[int, bytes]]:
        """``(index, blob)`` of ``indices`` (ascending)."""
        if not self._handle.closed:
            self._handle.flush()
        with open(self.path, "rb") as handle:
            for index in indices:
                first = self._ends[index - 1] if index else 0
                handle.seek(first)
                yield index, handle.read(self._ends[index] - first)

    def copy_to(self, other: BlobCache, start: int, stop: int, step: int = 1024) -> None:
        """Append the blobs of documents ``start`` to ``stop`` to ``other``, ``step`` at a time."""
        for at in range(start, stop, step):
            other.extend(self.range(at, min(stop, at + step)))

    def close(self) -> None:
        """Close the file (it stays until the run's temporary directory is removed)."""
        self._handle.close()
