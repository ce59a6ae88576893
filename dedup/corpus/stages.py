"""The three stages of a corpus run over an engine (:class:`Corpus`): *prepare* each document
once into an on-disk cache, *plan* on the text that will be written, and the results *write*
reads; used by both drivers in :mod:`dedup.run` (the CLI's and the library's).
"""

from __future__ import annotations

import collections
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.cluster import DocumentPlan, boilerplate_set, plan_corpus, verify_containment
from dedup.corpus.passes import (
    Batch,
    CleanContext,
    CleanTask,
    PassContext,
    Shard,
    ShingleTask,
    batches,
    clean,
    cleaning_needed,
    pair_jaccard,
    prepare,
    shingle_sets,
    shingles,
)
from dedup.corpus.store import (
    BlobCache,
    BlobFile,
    Fingerprints,
    IdTable,
    compared_text,
    decode_prepared,
    decode_result,
)
from dedup.document import CleanResult
from dedup.engines import Engine
from dedup.io.read import (
    ReadOptions,
    input_size,
)

__all__ = ["Corpus", "Bar", "planned"]

_Texts = Callable[[list[int]], Iterator[tuple[int, str]]]

# --------------------------------------------------------------------------- the stages


class Corpus:
    """The three stages over one corpus, on an engine, with their caches in ``spill`` (a
    directory the caller removes). Call :meth:`prepare` with the tasks, then :meth:`plan`;
    :meth:`result` and :meth:`results` then give each document as it will be written."""

    def __init__(self, config: DedupConfig, engine: Engine, spill: str, *, read: ReadOptions | None = None,
                 batch_size: int = 32, memory: int | None = None, progress: bool = False) -> None:
        self.config, self.engine, self.spill = config, engine, spill
        self.read = read or ReadOptions()
        self.batch_size, self.memory, self.progress = batch_size, memory, progress
        self.ids = IdTable()
        self.starts: list[int] = []  # the first document of each shard
        self.skipped_records: list[dict[str, Any]] = []
        self.bytes_in = 0
        self._prepared = BlobCache(os.path.join(spill, "prepared.cache"))
        self._rounds = itertools.count()
        self._cleaning = cleaning_needed(config)
        self._cleaned = BlobCache(os.path.join(spill, "cleaned.cache"))
        self._raw: Fingerprints | None = None
        #: Boilerplate units known beforehand (from saved indexes, dedup.saved_index): hash ->
        #: (documents, -1), boilerplate here whatever their count in this corpus.
        self.known_boilerplate: dict[int, tuple[int, int]] = {}
        #: The number of documents, once prepared.
        self.documents = 0
        self._context = PassContext(config=config, read=self.read, batch_size=batch_size,
                                    spill=spill if engine.shares_files else None)

    def prepare(self, tasks: Iterable[Batch | Shard], total_bytes: int | None = None) -> None:
        """Stage 1 over every task (a shard's ids and sizes come back with it; a batch's are
        the caller's to add to :attr:`ids` and :attr:`bytes_in`). ``total_bytes``: the size of
        the inputs, for the progress bar."""
        sent: collections.deque[Batch | Shard] = collections.deque()

        def recorded() -> Iterator[Batch | Shard]:
            for task in tasks:
                sent.append(task)
                yield task

        def parts() -> Iterator[Fingerprints]:
            with Bar(self.progress, "prepare", total=total_bytes, unit="B") as bar:
                yield from measured(bar)

        def measured(bar: Bar) -> Iterator[Fingerprints]:
            for result in self.engine.map(prepare, recorded(), self._context):
                task = sent.popleft()  # (the engine's map keeps the order of the tasks)
                if not bar.shown:
                    pass
                elif isinstance(task, Batch):
                    bar.update(len(task.texts), sum(len(t.encode("utf-8")) for t in task.texts))
                else:  # (a size on a store is a request)
                    bar.update(len(result.ids or ()), input_size(task.source) or result.size)
                if result.ids is not None:
                    self.starts.append(len(self.ids))
                    self.ids.append(result.ids)
                    self.skipped_records.extend(result.skipped)
                    self.bytes_in += result.size
                if isinstance(result.prepared, BlobFile):
                    self._prepared.extend_from(result.prepared)
                else:
                    self._prepared.extend(result.prepared)
                yield result.fingerprints

        self._raw = Fingerprints.collect(parts(), self.config.fingerprint.num_perm, self.memory, self.spill)
        self.documents = len(self.ids)

    def plan(self, corpus: bool = True) -> DocumentPlan | None:
        """Stage 2: the boilerplate set, every document cleaned, the clusters of the cleaned
        texts with their removals verified (None outside corpus mode: cleaning only)."""
        config = self.config
        assert self._raw is not None
        first = None
        if corpus:
            first = plan_corpus(self._raw, config, self._exact(self._repaired_texts), self.engine.candidates)
        units, docs = self._raw.unit_hashes, self._raw.unit_docs
        self._raw = None  # (releases a signature file's memory map)
        boilerplate = {**self.known_boilerplate, **(first.boilerplate if first is not None else {})}
        if not self._cleaning:  # no document can change: the plan of the texts as they are
            if first is not None:
                verify_containment(first, self._shingles(self._repaired_texts, ordered=True),
                                   config.fingerprint.shingle_size, config.match.min_containment,
                                   config.match.threshold)
            return first
        kept = self._clean(boilerplate)
        if first is None:
            return None
        final = plan_corpus(kept, config, self._exact(self._cleaned_texts), self.engine.candidates)
        del kept
        verify_containment(final, self._shingles(self._cleaned_texts, ordered=True), config.fingerprint.shingle_size,
                           config.match.min_containment, config.match.threshold)
        final.boilerplate_threshold = first.boilerplate_threshold
        final.boilerplate = boilerplate
        if config.policy.boilerplate != "keep":
            # Boilerplate is counted again over the stories of the final clustering, near
            # duplicates kept for their extra text counted with their keeper (a second run over
            # the output counts no more). Cleaned again when that changes the set.
            near = {document: keeper for document, (keeper, _, _) in final.kept_near.items()}
            final.boilerplate = {**self.known_boilerplate, **boilerplate_set(
                units, docs, final.duplicate_of, first.boilerplate_threshold, near)}
            changed = set(final.boilerplate).symmetric_difference(boilerplate)
            if config.policy.boilerplate == "keep_first":  # (and units whose first copy was removed)
                changed |= {u for u, (_, holder) in final.boilerplate.items()
                            if u in boilerplate and boilerplate[u][1] != holder}
            if changed:
                affected = np.zeros(len(final.duplicate_of), dtype=bool)
                affected[docs[np.isin(units, np.fromiter(changed, dtype=np.uint64, count=len(changed)))]] = True
                self._clean(final.boilerplate, affected)
        return final

    def _clean(self, boilerplate: dict[int, tuple[int, int]], only: np.ndarray | None = None) -> Fingerprints:
        """Clean the prepared documents into a new cleaned cache (with ``only``, a mask, the
        batches holding those documents; the others are kept as they were cleaned); the
        fingerprints of the cleaned texts (of the batches cleaned)."""
        config = self.config
        n = len(self._prepared)
        starts = [start for start in range(0, n, self.batch_size)
                  if only is None or only[start : start + self.batch_size].any()]
        work = (CleanTask(start, tuple(self._prepared.range(start, min(n, start + self.batch_size))))
                for start in starts)
        first_copies = (frozenset(first for _, first in boilerplate.values())
                        if config.policy.boilerplate == "keep_first" else frozenset())
        context = CleanContext(config=config, boilerplate=boilerplate, first_copies=first_copies)
        previous = self._cleaned
        previous.close()
        self._cleaned = BlobCache(os.path.join(self.spill, f"cleaned-{next(self._rounds)}.cache"))

        def parts() -> Iterator[Fingerprints]:
            done = 0
            with Bar(self.progress, "plan", total=min(n, len(starts) * self.batch_size)) as bar:
                for start, cleaned in zip(starts, self.engine.map(clean, work, context)):
                    previous.copy_to(self._cleaned, done, start)
                    self._cleaned.extend(cleaned.results)
                    done = start + len(cleaned.results)
                    bar.update(len(cleaned.results))
                    yield cleaned.fingerprints
            previous.copy_to(self._cleaned, done, len(previous))

        return Fingerprints.collect(parts(), config.fingerprint.num_perm, self.memory, self.spill)

    def result(self, index: int) -> tuple[CleanResult, str | None]:
        """Document ``index`` as cleaned, and the language it was cleaned in (None when no
        document can change)."""
        if not self._cleaning:
            return CleanResult(next(self._prepared.take([index]))[1].decode("utf-8"), (), ()), None
        return decode_result(next(self._cleaned.take([index]))[1])

    def results(self, start: int, stop: int) -> tuple[bytes, ...] | BlobFile:
        """Documents ``start`` to ``stop`` as cleaned, encoded, for :func:`write` tasks: where
        they are in the cache when the tasks run on this machine, else the bytes; empty when no
        document can change (they are written as read)."""
        if not self._cleaning:
            return ()
        if self.engine.shares_files:
            return self._cleaned.file(start, stop)
        return tuple(self._cleaned.range(start, stop))

    def close(self) -> None:
        """Close the caches' files."""
        self._prepared.close()
        self._cleaned.close()

    def _repaired_texts(self, indices: list[int]) -> Iterator[tuple[int, str]]:
        if not self._cleaning:
            return ((i, blob.decode("utf-8")) for i, blob in self._prepared.take(indices))
        return ((i, decode_prepared(blob).text) for i, blob in self._prepared.take(indices))

    def _cleaned_texts(self, indices: list[int]) -> Iterator[tuple[int, str]]:
        return ((i, compared_text(blob)) for i, blob in self._cleaned.take(indices))

    def _shingles(self, texts: _Texts, ordered: bool = False) -> Callable[[list[int]], dict[int, np.ndarray]]:
        def shingles_of(indices: list[int]) -> dict[int, np.ndarray]:
            work = (ShingleTask(items=tuple(batch), ordered=ordered)
                    for batch in batches(texts(sorted(indices)), self.batch_size))
            return shingle_sets(self.engine.map(shingles, work, self._context))

        return shingles_of

    def _exact(self, texts: _Texts) -> Callable[[np.ndarray], np.ndarray]:
        shingles_of = self._shingles(texts)

        def exact(pairs: np.ndarray) -> np.ndarray:
            return pair_jaccard(pairs, shingles_of(sorted(set(pairs.ravel().tolist()))))

        return exact


def planned(corpus: Corpus, whole: bool, against: tuple[str, ...], engine: Engine) -> DocumentPlan | None:
    """:meth:`Corpus.plan`, and with saved indexes ``against`` (issue 20, :mod:`dedup.saved_index`)
    their boilerplate applied and the documents found in them marked."""
    if not against:
        return corpus.plan(whole)
    from dedup.saved_index import indexed_boilerplate, match_against

    corpus.known_boilerplate = indexed_boilerplate(against, corpus.config)
    plan = corpus.plan(whole)
    match_against(plan, (corpus.result(i)[0].text for i in range(len(corpus.ids))), against, corpus.config, engine)
    return plan




class Bar:
    """A stage's progress bar on stderr (with tqdm, when ``enabled`` and tqdm is installed):
    documents, or bytes (``unit="B"``), against ``total`` where it is known, the other count
    shown beside it. Used as a context manager; a stage that ends completes its bar."""

    def __init__(self, enabled: bool, label: str, *, total: int | None = None, unit: str = "docs") -> None:
        self._bar: Any = None
        self._bytes = unit == "B"
        self.documents = self.size = 0
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self._bar = tqdm(desc=label, total=total, unit="B" if self._bytes else " docs", unit_scale=self._bytes,
                             unit_divisor=1024, file=sys.stderr, dynamic_ncols=True)

    @property
    def shown(self) -> bool:
        """Whether the bar is shown."""
        return self._bar is not None

    def __enter__(self) -> Bar:
        return self

    def update(self, documents: int, size: int = 0) -> None:
        """``documents`` more done, of ``size`` bytes."""
        self.documents += documents
        self.size += size
        if self._bar is None:
            return
        self._bar.update(size if self._bytes else documents)
        if self._bytes:
            self._bar.set_postfix_str(f"{self.documents:,} docs", refresh=False)
        elif self.size:
            self._bar.set_postfix_str(self._bar.format_sizeof(self.size, "B", 1024), refresh=False)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is None:
            return
        if exc[0] is None and self._bar.total is not None and self._bar.n < self._bar.total:
            self._bar.update(self._bar.total - self._bar.n)  # (a batch's text is smaller than its file)
        self._bar.close()
