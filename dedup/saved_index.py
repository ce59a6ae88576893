"""A saved, versioned index of documents, to deduplicate new data against everything seen
before (``dedup index build/add/info``, ``dedup clean --against``), and what a threshold means
(``dedup threshold``).

An index is a directory::

    crawl.idx/
      header.json            format, format_version, every setting that affects matching, the
                             MinHash scheme, the LSH bands and rows, and the list of segments
      segments/00000/        one segment per ``build`` or ``add`` (never rewritten afterwards)
        segment.json         counts
        ids.jsonl            one JSON value per document: its id with its JSON type
        signatures.npy       (n, num_perm) uint32 MinHash signatures
        doc_hashes.npy       (n,) uint64 hash of each normalised text (exact duplicates)
        band_keys.npy        (bands, n) uint64 band keys, each band sorted
        band_docs.npy        (bands, n) int64 the document of each sorted key
        shingle_ends.npy     (n,) int64 where each document's shingles end in shingles.npy
        shingles.npy         uint32 each document's sorted unique shingle hashes, concatenated
        boilerplate.npy      (m, 2) uint64 boilerplate unit hashes and their document counts

Only plain ``.npy`` arrays (read memory-mapped, never pickled), JSON and JSON Lines. A segment
is written in a temporary directory and renamed into place, then the header is replaced
atomically: an interrupted ``build`` or ``add`` leaves the index as it was.

The indexed documents are those a ``dedup clean`` of the inputs keeps, as it would write them
(repaired, boilerplate removed). A new document is a duplicate of an indexed one when LSH makes
them candidates and their exact Jaccard similarity (from the stored shingles, without the old
texts) is at least the threshold; as within a run, it is removed only when at least
``min_containment`` of its words are in the indexed document, else it
is kept and reported as a near duplicate. The indexed document is always the keeper.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.config import DedupConfig
from dedup.errors import ConfigError, InputError, OutputError

if TYPE_CHECKING:
    from dedup.corpus.cluster import DocumentPlan
    from dedup.engines import Engine
    from dedup.io.read import ReadOptions

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MATCHING_SETTINGS",
    "SavedIndex",
    "Segment",
    "AgainstMatch",
    "build_index",
    "index_info",
    "add_to_index",
    "open_index",
    "against_config",
    "match_against",
    "indexed_boilerplate",
    "config_against",
    "threshold_table",
    "report_thresholds",
]

FORMAT = "dedup-index"
#: The version of the layout above; an index of another version is refused.
FORMAT_VERSION = 1
#: The settings that decide whether two documents match: an index fixes them for every run
#: against it.
MATCHING_SETTINGS = ("num_perm", "seed", "shingle_size", "fold_digits", "fold_punctuation", "threshold",
                     "bands", "rows")
#: Documents per task when signing.
_BATCH = 256
#: Bytes reserved for the header of a ``.npy`` file written as a stream (its shape is known last).
_NPY_HEADER = 128


# --------------------------------------------------------------------------- the format


def _settings_header(config: DedupConfig) -> dict[str, Any]:
    """The header fields of an index built with ``config``."""
    from dedup import __version__
    from dedup.fingerprint import MINHASH_SCHEME
    from dedup.index import lsh_for

    match, fp = config.match, config.fingerprint
    bands, rows = lsh_for(match.threshold, fp.num_perm, match.bands, match.rows)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "minhash_scheme": MINHASH_SCHEME,
        "matching": {"num_perm": fp.num_perm, "seed": fp.seed, "shingle_size": fp.shingle_size,
                     "unit_shingle_size": fp.unit_shingle_size, "fold_digits": fp.fold_digits,
                     "fold_punctuation": fp.fold_punctuation, "threshold": match.threshold,
                     "bands": bands, "rows": rows},
        "settings": config.as_dict(),
        "built_by": {"dedup": __version__},
        "segments": [],
    }


@dataclass(frozen=True)
class Segment:
    """One segment of an index, its arrays memory-mapped."""

    path: str
    ids_path: str
    signatures: np.ndarray
    doc_hashes: np.ndarray
    band_keys: np.ndarray
    band_docs: np.ndarray
    shingle_ends: np.ndarray
    shingles: np.ndarray
    boilerplate: np.ndarray

    def __len__(self) -> int:
        return len(self.doc_hashes)

    def shingles_of(self, doc: int) -> np.ndarray:
        """The sorted unique shingles of document ``doc``."""
        start = int(self.shingle_ends[doc - 1]) if doc else 0
        return np.asarray(self.shingles[start : int(self.shingle_ends[doc])])

    def ids(self, docs: Iterable[int]) -> dict[int, Any]:
        """The ids (JSON values) of ``docs``, read from ``ids.jsonl`` in one pass."""
        wanted = set(docs)
        found: dict[int, Any] = {}
        if not wanted:
            return found
        last = max(wanted)
        with open(self.ids_path, encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number in wanted:
                    found[number] = json.loads(line)
                if number >= last:
                    break
        return found


@dataclass(frozen=True)
class SavedIndex:
    """An index opened for reading: its path, header and segments."""

    path: str
    header: dict[str, Any]
    segments: tuple[Segment, ...]

    @property
    def config(self) -> DedupConfig:
        """The settings the index was built with."""
        return _config_of(self.header)

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments)


def _config_of(header: Mapping[str, Any]) -> DedupConfig:
    settings = dict(header["settings"])
    if "extra_abbreviations" in settings:
        settings["extra_abbreviations"] = tuple(settings["extra_abbreviations"])
    return DedupConfig().replace(**settings)


def _read_header(path: str) -> dict[str, Any]:
    not_index = InputError(f"{path}: not a dedup index (expected the directory dedup index build writes)")
    name = os.path.join(path, "header.json")
    if not os.path.isdir(path) or not os.path.isfile(name):
        raise not_index
    try:
        with open(name, encoding="utf-8") as handle:
            header = json.load(handle)
    except (OSError, ValueError):
        raise not_index from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise not_index
    if header.get("format_version") != FORMAT_VERSION:
        raise InputError(f"{path}: index format version {header.get('format_version')!r}; this dedup reads "
                         f"version {FORMAT_VERSION} (rebuild the index with this version)")
    from dedup.fingerprint import MINHASH_SCHEME

    if header.get("minhash_scheme") != MINHASH_SCHEME:
        raise InputError(f"{path}: index signatures use MinHash scheme {header.get('minhash_scheme')!r}, this "
                         f"dedup computes {MINHASH_SCHEME!r} (rebuild the index)")
    return header


def open_index(path: str) -> SavedIndex:
    """Open the index at ``path`` (memory-mapped); anything else is an :class:`InputError` in one line.

    >>> open_index("no-such.idx")
    Traceback (most recent call last):
    ...
    dedup.errors.InputError: no-such.idx: not a dedup index (expected the directory dedup index build writes)
    """
    header = _read_header(path)
    segments = []
    for name in header["segments"]:
        where = os.path.join(path, "segments", name)

        def load(array: str, where: str = where, name: str = name) -> np.ndarray:
            try:
                loaded: np.ndarray = np.load(os.path.join(where, array + ".npy"), mmap_mode="r",
                                             allow_pickle=False)
            except (OSError, ValueError) as error:
                raise InputError(f"{path}: segment {name}: cannot read {array}.npy: {error}") from None
            return loaded

        for name_of_file in ("ids.jsonl", "segment.json"):
            if not os.path.isfile(os.path.join(where, name_of_file)):
                raise InputError(f"{path}: segment {name}: {name_of_file} is missing (the index is damaged)")
        segments.append(Segment(where, os.path.join(where, "ids.jsonl"), load("signatures"), load("doc_hashes"),
                                load("band_keys"), load("band_docs"), load("shingle_ends"), load("shingles"),
                                load("boilerplate")))
    return SavedIndex(path, header, tuple(segments))


class _NpyStream:
    """A 1-d or 2-d ``.npy`` file written a block of rows at a time (the shape is written last)."""

    def __init__(self, path: str, dtype: Any, width: int | None = None) -> None:
        self.path, self.dtype, self.width = path, np.dtype(dtype), width
        self.rows = 0
        self.handle = open(path, "wb")
        self.handle.write(b"\0" * _NPY_HEADER)

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        self.handle.write(block.tobytes())
        self.rows += len(block)

    def close(self) -> None:
        shape = (self.rows, self.width) if self.width is not None else (self.rows,)
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        text = repr(header).encode("latin1")
        prefix = b"\x93NUMPY\x01\x00"
        room = _NPY_HEADER - len(prefix) - 2
        text = text + b" " * (room - len(text) - 1) + b"\n"
        self.handle.seek(0)
        self.handle.write(prefix + len(text).to_bytes(2, "little") + text)
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()


def _save(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


# --------------------------------------------------------------------------- signing (a stage)


@dataclass(frozen=True)
class SignTask:
    """Texts to sign, with the index of the first."""

    first: int
    texts: tuple[str, ...]


@dataclass(frozen=True)
class SignContext:
    config: DedupConfig


@dataclass(frozen=True)
class Signed:
    """Signatures, exact hashes, and shingles (sorted unique, and in reading order) of a task."""

    first: int
    signatures: np.ndarray
    doc_hashes: np.ndarray
    unique_ends: np.ndarray
    unique: np.ndarray
    ordered_ends: np.ndarray
    ordered: np.ndarray


def sign_texts(task: SignTask, context: SignContext) -> Signed:
    """The stage that signs texts as :func:`dedup.corpus.passes.sign` does, keeping their shingles."""
    from dedup.fingerprint import keyed_texts, signatures, sorted_unique

    fp = context.config.fingerprint
    keyed = keyed_texts(task.texts, fp)
    # Signatures and Jaccard on each document's own shingle size (longer in Chinese and
    # Japanese), containment on windows of the shingle size, as a run does.
    ordered = [np.asarray(s, dtype=np.uint32) for s in keyed.shingles(fp.shingle_size)]
    unique = [sorted_unique(s) for s in keyed.shingles()]

    def flat(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        ends = np.cumsum([len(p) for p in parts], dtype=np.int64)
        return ends, (np.concatenate(parts) if parts else np.empty(0, np.uint32)).astype(np.uint32)

    return Signed(task.first, signatures(unique, fp.num_perm, fp.seed),
                  keyed.exact, *flat(unique), *flat(ordered))


def _split(ends: np.ndarray, flat: np.ndarray) -> list[np.ndarray]:
    return np.split(flat, ends[:-1]) if len(ends) else []


# --------------------------------------------------------------------------- building


def _kept_documents(inputs: Sequence[str], read: ReadOptions, config: DedupConfig,
                    engine: Engine) -> tuple[Iterator[tuple[Any, str]], dict[int, tuple[int, int]]]:
    """The documents a clean of ``inputs`` keeps, as ``(id, text as written)``, the id with its
    JSON type; and the run's boilerplate set."""
    from dedup.io.read import read_documents, sources_of
    from dedup.run import run_documents

    if not inputs or "-" in inputs:
        raise ConfigError("an index is built from files or directories, not stdin")
    sources, _ = sources_of(list(inputs), read)

    def stream() -> Iterator[Any]:
        for source in sources:
            yield from read_documents(source, read, [])

    decisions, written = run_documents(stream, config, engine)
    plan = decisions.plan
    boilerplate = dict(plan.boilerplate) if plan is not None else {}

    def kept() -> Iterator[tuple[Any, str]]:
        for _, document, result in written:
            if result is None:
                continue
            record = document.meta.get("record")
            ident = record.get(read.id_field) if read.id_field and isinstance(record, dict) else document.id
            yield ident, result.text

    return kept(), boilerplate


def _write_segment(directory: str, documents: Iterator[tuple[Any, str]], boilerplate: Mapping[int, tuple[int, int]],
                   config: DedupConfig, engine: Engine) -> dict[str, Any]:
    """Write one segment of ``documents`` into the new directory ``directory``; its counts."""
    from dedup.corpus.lsh import band_keys
    from dedup.index import lsh_for

    os.makedirs(directory)
    fp, match = config.fingerprint, config.match
    bands, rows = lsh_for(match.threshold, fp.num_perm, match.bands, match.rows)
    streams = {
        "signatures": _NpyStream(os.path.join(directory, "signatures.npy"), np.uint32, fp.num_perm),
        "doc_hashes": _NpyStream(os.path.join(directory, "doc_hashes.npy"), np.uint64),
        "shingle_ends": _NpyStream(os.path.join(directory, "shingle_ends.npy"), np.int64),
        "shingles": _NpyStream(os.path.join(directory, "shingles.npy"), np.uint32),
    }
    ids = open(os.path.join(directory, "ids.jsonl"), "w", encoding="utf-8")
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def tasks() -> Iterator[SignTask]:
        batch: list[str] = []
        first = 0
        for ident, text in documents:
            ids.write(encode(ident) + "\n")
            batch.append(text)
            if len(batch) == _BATCH:
                yield SignTask(first, tuple(batch))
                first += len(batch)
                batch = []
        if batch:
            yield SignTask(first, tuple(batch))

    shingles_done = 0
    try:
        for signed in engine.map(sign_texts, tasks(), SignContext(config=config)):
            streams["signatures"].append(signed.signatures)
            streams["doc_hashes"].append(signed.doc_hashes)
            streams["shingle_ends"].append(signed.unique_ends + shingles_done)
            streams["shingles"].append(signed.unique)
            shingles_done += len(signed.unique)
    finally:
        ids.close()
        for stream in streams.values():
            stream.close()
    documents_count = streams["doc_hashes"].rows
    signatures = np.load(os.path.join(directory, "signatures.npy"), mmap_mode="r")
    keys_out = _NpyStream(os.path.join(directory, "band_keys.npy"), np.uint64, documents_count)
    docs_out = _NpyStream(os.path.join(directory, "band_docs.npy"), np.int64, documents_count)
    chunk = 1 << 16
    for band in range(bands):
        keys = np.concatenate([np.empty(0, np.uint64)] + [
            band_keys(np.asarray(signatures[start : start + chunk]), band + 1, rows, band)[:, 0]
            for start in range(0, documents_count, chunk)])
        order = np.argsort(keys, kind="stable")
        keys_out.append(keys[order].reshape(1, -1))
        docs_out.append(order.astype(np.int64).reshape(1, -1))
    del signatures
    keys_out.close()
    docs_out.close()
    units = np.array(sorted((h, c) for h, (c, _) in boilerplate.items()), dtype=np.uint64).reshape(-1, 2)
    _save(os.path.join(directory, "boilerplate.npy"), units)
    counts = {"documents": documents_count, "shingles": shingles_done, "boilerplate_units": len(units)}
    with open(os.path.join(directory, "segment.json"), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(counts, indent=1) + "\n")
    return counts


def _write_header(path: str, header: Mapping[str, Any]) -> None:
    from dedup.io.write import atomic_writer

    with atomic_writer(os.path.join(path, "header.json")) as handle:
        handle.write(json.dumps(header, ensure_ascii=False, indent=1) + "\n")


def build_index(inputs: Sequence[str], output: str, read: ReadOptions, config: DedupConfig,
                engine: Engine) -> dict[str, Any]:
    """Build a new index at ``output`` (which must not exist) from the documents a clean of
    ``inputs`` keeps; returns its header. Written in a temporary directory beside ``output`` and
    renamed into place when complete.

    >>> import json, os, tempfile
    >>> from dedup.engines import InProcessEngine
    >>> from dedup.io import ReadOptions
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "old.jsonl")
    >>> story = "The council approved the harbor budget on Tuesday after a long debate about the roads."
    >>> with open(source, "w") as handle:
    ...     _ = handle.write(json.dumps({"id": 7, "text": story}) + "\\n")
    >>> header = build_index([source], os.path.join(folder, "old.idx"), ReadOptions(id_field="id"),
    ...                      DedupConfig(), InProcessEngine())
    >>> header["documents"], header["matching"]["bands"], header["matching"]["rows"]
    (1, 18, 7)
    >>> index_info(os.path.join(folder, "old.idx"))["segments"][0]["documents"]
    1
    >>> import shutil; shutil.rmtree(folder)
    """
    if os.path.lexists(output):
        raise OutputError(f"{output}: already exists (add to an index with dedup index add, or remove it)")
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise OutputError(f"{output}: cannot write: {parent} is not a directory")
    header = _settings_header(config)
    with _writing(output):
        temporary = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}.", suffix=".part", dir=parent)
        try:
            documents, boilerplate = _kept_documents(inputs, read, config, engine)
            counts = _write_segment(os.path.join(temporary, "segments", "00000"), documents, boilerplate, config,
                                    engine)
            header["segments"] = ["00000"]
            header["documents"] = counts["documents"]
            _write_header(temporary, header)
            os.chmod(temporary, 0o755)
            os.rename(temporary, output)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
    return header


@contextlib.contextmanager
def _writing(path: str) -> Iterator[None]:
    """An error of the file system while writing the index ``path``, as one line."""
    try:
        yield
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None


def add_to_index(path: str, inputs: Sequence[str], read: ReadOptions, engine: Engine) -> dict[str, Any]:
    """Append a segment of the documents a clean of ``inputs`` keeps to the index at ``path``,
    with the index's settings; the old segments are not touched. Returns the new header."""
    header = _read_header(path)
    config = _config_of(header)
    number = len(header["segments"])
    name = f"{number:05d}"
    segments = os.path.join(path, "segments")
    with _writing(path):
        temporary = tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=segments)
        try:
            documents, boilerplate = _kept_documents(inputs, read, config, engine)
            counts = _write_segment(os.path.join(temporary, name), documents, boilerplate, config, engine)
            target = os.path.join(segments, name)
            if os.path.lexists(target):  # left by an interrupted add, never listed in the header
                shutil.rmtree(target)
            os.rename(os.path.join(temporary, name), target)
            header = {**header, "segments": [*header["segments"], name],
                      "documents": int(header.get("documents", 0)) + counts["documents"]}
            _write_header(path, header)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
    return header


def index_info(path: str) -> dict[str, Any]:
    """The header of the index at ``path`` with the counts and bytes of each segment."""
    index = open_index(path)
    segments = []
    for name, segment in zip(index.header["segments"], index.segments):
        size = sum(os.path.getsize(os.path.join(segment.path, f)) for f in os.listdir(segment.path))
        with open(os.path.join(segment.path, "segment.json"), encoding="utf-8") as handle:
            counts = json.load(handle)
        segments.append({"segment": name, **counts, "bytes": size})
    total = sum(s["bytes"] for s in segments)
    documents = sum(s["documents"] for s in segments)
    return {**{k: v for k, v in index.header.items() if k != "segments"}, "segments": segments,
            "documents": documents, "bytes": total,
            "bytes_per_document": round(total / documents, 1) if documents else None}


# --------------------------------------------------------------------------- against


def against_config(paths: Sequence[str], given: Mapping[str, Any]) -> dict[str, Any]:
    """The matching settings a run against the indexes at ``paths`` must use, as overrides.
    ``given`` holds the settings given on the command line (None where not given); one that
    differs from the indexes', or indexes that differ among themselves, is a :class:`ConfigError`."""
    chosen: dict[str, Any] | None = None
    first = ""
    for path in paths:
        header = _read_header(path)
        matching = {k: header["matching"][k] for k in MATCHING_SETTINGS}
        if chosen is None:
            chosen, first = matching, path
        elif matching != chosen:
            differ = next(k for k in MATCHING_SETTINGS if matching[k] != chosen[k])
            raise ConfigError(f"--against {path} has {differ}={matching[differ]}, --against {first} has "
                              f"{chosen[differ]}: indexes used together need the same matching settings")
    assert chosen is not None
    for name, value in chosen.items():
        if given.get(name) is not None and given[name] != value:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} {given[name]} conflicts with --against {first}, built with {name}={value}; "
                              f"drop {flag} (settings come from the index)")
    return chosen


def config_against(paths: Sequence[str], config: DedupConfig | None = None, **overrides: Any) -> DedupConfig:
    """The library's config for a run against the indexes at ``paths``: ``config`` and
    ``overrides`` with the indexes' matching settings; a matching setting given (an override, or
    a value of ``config`` other than the default) that differs is a :class:`ConfigError`."""
    from dedup.config import make_config

    given = dict(overrides)
    if config is not None:
        default = DedupConfig().as_dict()
        given.update({k: v for k, v in config.as_dict().items() if v != default[k] and k not in given})
    return make_config(config, **{**overrides, **against_config(paths, given)})


def indexed_boilerplate(paths: Sequence[str], config: DedupConfig) -> dict[int, tuple[int, int]]:
    """The boilerplate units of the indexes at ``paths`` (hash -> (documents, -1): the first copy
    is in an index), for a run against them to remove as their build did; empty when the run
    keeps boilerplate. A unit counts as boilerplate when it was in one segment's build; counts are
    not summed across segments or with the new data."""
    if config.policy.boilerplate == "keep":
        return {}
    found: dict[int, tuple[int, int]] = {}
    for path in paths:
        for segment in open_index(path).segments:
            for unit, documents in np.asarray(segment.boilerplate).tolist():
                known = found.get(unit)
                found[unit] = (max(documents, known[0]) if known else documents, -1)
    return found


@dataclass(frozen=True)
class AgainstMatch:
    """A new document's best match in a saved index."""

    index: str
    id: Any
    similarity: float
    containment: float
    removed: bool


def match_against(plan: DocumentPlan | None, texts: Iterator[str], indexes: Sequence[str], config: DedupConfig,
                  engine: Engine) -> None:
    """Find each new document (``texts``, as they will be written, in order) in the saved
    ``indexes`` and record it in ``plan.against``: removed (``plan.duplicate_of[d] = d``) when
    its exact Jaccard similarity with an indexed document is at least the threshold and its words
    are in it (``min_containment``), else kept as a near duplicate."""
    from dedup.corpus.arrays import jaccard
    from dedup.corpus.cluster import containment
    from dedup.corpus.lsh import band_keys
    from dedup.corpus.passes import batches

    if plan is None:
        raise ConfigError("--against needs corpus mode (JSONL, Parquet, a directory, several inputs, "
                          "--doc-separator or --lines)")
    opened = [open_index(path) for path in indexes]
    threshold, size = config.match.threshold, config.fingerprint.shingle_size
    bands, rows = opened[0].header["matching"]["bands"], opened[0].header["matching"]["rows"]
    found: dict[int, tuple[float, int, int, int, float]] = {}  # doc -> (sim, index, segment, indexed doc, inside)

    def tasks() -> Iterator[SignTask]:
        first = 0
        for batch in batches(texts, _BATCH):
            yield SignTask(first, tuple(batch))
            first += len(batch)

    for signed in engine.map(sign_texts, tasks(), SignContext(config=config)):
        unique = _split(signed.unique_ends, signed.unique)
        # (a document with no words has no shingles and matches nothing)
        keys = band_keys(signed.signatures, bands, rows)
        keys[[not len(u) for u in unique]] = 0
        ordered = _split(signed.ordered_ends, signed.ordered)
        for which, index in enumerate(opened):
            for number, segment in enumerate(index.segments):
                pairs = _candidates(keys, segment)
                for local, doc in pairs.tolist():
                    mine = unique[local]
                    if not len(mine):
                        continue
                    theirs = segment.shingles_of(doc)
                    sim = jaccard(mine, theirs)
                    if sim < threshold:
                        continue
                    new = signed.first + local
                    best = found.get(new)
                    if best is None or sim > best[0]:
                        found[new] = (sim, which, number, doc, containment(ordered[local], theirs, size))
    against: dict[int, AgainstMatch] = {}
    wanted: dict[tuple[int, int], set[int]] = {}
    for _, which, number, doc, _ in found.values():
        wanted.setdefault((which, number), set()).add(doc)
    names = {key: opened[key[0]].segments[key[1]].ids(docs) for key, docs in wanted.items()}
    for new, (sim, which, number, doc, inside) in sorted(found.items()):
        removed = inside >= config.match.min_containment
        if not removed and plan.duplicate_of[new] >= 0:
            continue  # removed inside the new data anyway
        against[new] = AgainstMatch(indexes[which], names[which, number][doc], round(sim, 4), round(inside, 4),
                                    removed)
        plan.kept_near.pop(new, None)
        if removed:
            plan.duplicate_of[new] = new
            plan.similarity[new] = round(sim, 4)
    plan.against = against


def _candidates(keys: np.ndarray, segment: Segment) -> np.ndarray:
    """``(new document, indexed document)`` pairs sharing a band key, unique (two documents of the
    same normalised text share every band key)."""
    found = []
    n = len(segment)
    if not n:
        return np.empty((0, 2), dtype=np.int64)
    for band in range(keys.shape[1]):
        column = segment.band_keys[band]
        left = np.searchsorted(column, keys[:, band], side="left")
        right = np.searchsorted(column, keys[:, band], side="right")
        for local in np.flatnonzero(right > left).tolist():
            docs = np.asarray(segment.band_docs[band, left[local] : right[local]])
            found.append(np.stack([np.full(len(docs), local, dtype=np.int64), docs], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    from dedup.corpus.arrays import unique_pairs

    return unique_pairs(found)


def against_fields(match: AgainstMatch, annotate: bool, counts: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report fields and --annotate columns of a document matched in a saved index."""
    if match.removed:
        counts["document_removed" if not annotate else "document_annotated"] += 1
        record = {"removed": not annotate, "duplicate_of": match.id, "index": match.index,
                  "similarity": match.similarity, "containment": match.containment}
        annotation = {"dedup_cluster": None, "dedup_duplicate_of": str(match.id),
                      "dedup_similarity": match.similarity}
        return record, annotation
    counts["near_duplicate_kept"] += 1
    record = {"near_duplicate_of": match.id, "index": match.index, "similarity": match.similarity,
              "containment": match.containment, "reason": "kept: holds text the indexed copy lacks"}
    annotation = {"dedup_cluster": None, "dedup_duplicate_of": None, "dedup_similarity": None} if annotate else {}
    return record, annotation


# --------------------------------------------------------------------------- thresholds


def threshold_table(threshold: float, num_perm: int, bands: int | None = None,
                    rows: int | None = None) -> dict[str, Any]:
    """What LSH does at ``threshold`` with ``num_perm`` permutations: the bands and rows a run
    uses, the probability that a pair at similarity J becomes a candidate for J = 0.5 … 1.0, the
    chance a pair at the threshold is missed, and the mean chance that a pair below the threshold
    becomes a (verified, then dropped) candidate.

    >>> table = threshold_table(0.8, 128)
    >>> table["bands"], table["rows"], table["probability"]["0.80"]
    (18, 7, 0.9855)
    """
    from dedup.index import candidate_probability, lsh_for

    bands, rows = lsh_for(threshold, num_perm, bands, rows)
    grid = [round(0.5 + 0.05 * k, 2) for k in range(11)]
    if round(threshold, 2) not in grid:
        grid = sorted([*grid, round(threshold, 4)])
    probability = {f"{j:.2f}": round(float(candidate_probability(j, bands, rows)), 4) for j in grid}
    low = np.linspace(0.0, threshold, 513)
    high = np.linspace(threshold, 1.0, 513)
    missed = float(np.trapezoid(1.0 - candidate_probability(high, bands, rows), high)) / max(1e-12, 1 - threshold)
    false = float(np.trapezoid(candidate_probability(low, bands, rows), low)) / max(1e-12, threshold)
    return {
        "threshold": threshold, "num_perm": num_perm, "bands": bands, "rows": rows,
        "probability": probability,
        "missed_at_threshold": round(1.0 - float(candidate_probability(threshold, bands, rows)), 4),
        "missed_above_threshold": round(missed, 4),
        "candidates_below_threshold": round(false, 4),
    }


def report_thresholds(path: str, at: float | None = None) -> dict[str, Any]:
    """From a report of ``dedup clean``: the distribution of the verified similarities it holds
    (removed duplicates and near duplicates kept), and how many documents threshold ``at``
    would remove. Below the run's threshold the report's near misses (candidate pairs verified
    within 0.12 under it) are added: the later document of each pair at or above ``at`` not
    removed already; further below, or when the list was cut, the count is a lower bound."""
    from dedup.report import read_report

    report = read_report(path)
    run_threshold = float(report["settings"].get("threshold", 0.8))
    removed = [float(d["similarity"]) for d in report["documents"]
               if d.get("duplicate_of") is not None and d.get("similarity") is not None]
    kept = [float(d["similarity"]) for d in report["documents"]
            if d.get("near_duplicate_of") is not None and d.get("similarity") is not None]
    edges = [round(run_threshold + k * 0.02, 2) for k in range(int((1.0 - run_threshold) / 0.02) + 1)]
    histogram = []
    for k, low in enumerate(edges):
        high = edges[k + 1] if k + 1 < len(edges) else 1.0 + 1e-9
        histogram.append({"from": low, "removed": sum(low <= s < high for s in removed),
                          "kept_near": sum(low <= s < high for s in kept)})
    result: dict[str, Any] = {"threshold": run_threshold, "removed": len(removed), "kept_near": len(kept),
                              "histogram": histogram}
    near = (report.get("summary") or {}).get("near_misses") or []
    result["near_misses"] = len(near)
    if at is not None:
        from dedup.corpus.cluster import VERIFY_MARGIN
        from dedup.run import NEAR_MISSES_LISTED

        result["at"] = at
        gone = {json.dumps(d["id"]) for d in report["documents"] if d.get("duplicate_of") is not None}
        more = {json.dumps(m["other"]) for m in near if float(m["similarity"]) >= at} - gone
        result["removed_at"] = sum(s >= at for s in removed) + (len(more) if at < run_threshold else 0)
        result["lower_bound"] = at < run_threshold - VERIFY_MARGIN or (
            at < run_threshold and len(near) >= NEAR_MISSES_LISTED)
    return result

