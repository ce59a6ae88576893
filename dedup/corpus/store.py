"""What the corpus stages keep between them: signatures (in memory, or on disk under a memory
budget), the compact per-document fingerprints of pass 1, the document ids, and the
segmentation pass 1 made, kept in the run's temporary directory for pass 2.

Memory grows with the number of documents (a signature, a hash and a few unit hashes each),
never with the bytes read.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xxhash

from dedup.corpus.arrays import stable_argsort

__all__ = ["SignatureFile", "Fingerprints", "IdTable", "keep_segments", "take_segments"]


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
        import os

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
        import os
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

    def extend(self, ids: Iterable[str]) -> None:
        """Append ids in document order."""
        for ident in ids:
            encoded = ident.encode("utf-8")
            self._data += encoded
            self._ends.append(len(self._data))
            self._hashes.append(xxhash.xxh3_64_intdigest(encoded))

    def append(self, other: IdTable) -> None:
        """Append the ids of another table (built where they were read, say), in order."""
        if not len(other):
            return
        import numpy as np

        base = len(self._data)
        self._data += other._data
        self._ends.frombytes((np.frombuffer(other._ends, dtype=np.int64) + base).tobytes())
        self._hashes.extend(other._hashes)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        return self._data[start : self._ends[index]].decode("utf-8")

    def repeats(self) -> set[int]:
        """Indices whose id equals an earlier one."""
        import numpy as np

        hashes = np.frombuffer(self._hashes, dtype=np.uint64) if len(self) else np.empty(0, np.uint64)
        order = stable_argsort(hashes)
        same = np.flatnonzero(hashes[order][1:] == hashes[order][:-1])
        repeated: set[int] = set()
        for k in same.tolist():
            a, b = int(order[k]), int(order[k + 1])
            if self[a] == self[b]:
                repeated.add(max(a, b))
        return repeated


def keep_segments(path: str | None, segments: list[Any] | None) -> None:
    """Write pass 1's segments of a batch or shard for pass 2 (nothing when none were kept)."""
    from dedup.pipeline import pack_segments

    if path and segments and any(s is not None for s in segments):
        pack_segments(segments).tofile(path)


def take_segments(path: str | None) -> list[Any]:
    """Read (and remove) what :func:`keep_segments` wrote; empty when there is nothing."""
    if not path or not os.path.exists(path):
        return []
    from dedup.pipeline import unpack_segments

    segments = unpack_segments(np.fromfile(path, dtype=np.int64))
    os.unlink(path)
    return segments
