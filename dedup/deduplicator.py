"""The library's corpus API: :class:`Deduplicator` over an iterable of documents, with a typed
result per document."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dedup.config import DedupConfig
from dedup.corpus.arrays import jaccard
from dedup.document import CleanResult, Document
from dedup.errors import InputError
from dedup.fingerprint import keyed_texts, signatures, sorted_unique
from dedup.policy import Boilerplate, boilerplate_units
from dedup.run import run_documents

__all__ = ["Deduplicator", "CorpusResult", "DocumentResult"]


@dataclass(frozen=True)
class DocumentResult:
    """The outcome for one document of a corpus run."""

    id: str
    text: str | None  # None when the document was dropped as a duplicate
    result: CleanResult | None
    duplicate_of: str | None = None
    similarity: float | None = None
    cluster: int | None = None
    #: The saved index holding ``duplicate_of`` (``Deduplicator(against=...)``), else None.
    index: str | None = None


@dataclass(frozen=True)
class CorpusResult:
    """What :meth:`Deduplicator.run` returns."""

    documents: tuple[DocumentResult, ...]
    clusters: int
    boilerplate_threshold: int
    boilerplate_units: int

    @property
    def kept(self) -> list[DocumentResult]:
        """Documents that stay, in input order."""
        return [d for d in self.documents if d.text is not None]


def _as_document(item: Document | str, position: int) -> Document:
    if isinstance(item, Document):
        if not isinstance(item.id, str):
            raise InputError(f"document {position}: its id must be a str, not {type(item.id).__name__} "
                             f"({item.id!r}); write str({item.id!r})")
        if not isinstance(item.text, str):
            raise InputError(f"document {position} ({item.id!r}): its text must be a str, not "
                             f"{type(item.text).__name__}")
        return item
    if isinstance(item, str):
        return Document(str(position), item)
    raise TypeError(f"document {position}: expected a str or dedup.Document, got {type(item).__name__}")


class Deduplicator:
    """Deduplicate a collection of documents: near-duplicate documents, cross-document
    boilerplate, and the within-document cleaning of :func:`dedup.clean`.

    ``run`` runs the same stages as ``dedup clean`` on a corpus (same decisions, same
    text); ``stream`` makes one pass and yields each document as soon as it is decided, matching
    it against the documents kept so far (boilerplate is then a unit already seen in K kept
    documents).

    >>> from dedup import Deduplicator
    >>> docs = ["The council approved the budget on Tuesday after a long debate about roads.",
    ...         "The council approved the budget on Tuesday after a long debate about roads.",
    ...         "A storm knocked out power to thousands of homes across the region on Saturday."]
    >>> [d.duplicate_of for d in Deduplicator().run(docs).documents]
    [None, '0', None]
    """

    def __init__(self, config: DedupConfig | None = None, *, against: Sequence[str] = (), **overrides: Any) -> None:
        from dedup.config import make_config

        self.against = tuple(str(path) for path in against)
        if self.against:  # the matching settings come from the saved indexes (dedup.saved_index)
            from dedup.saved_index import config_against

            self.config = config_against(self.against, config, **overrides)
        else:
            self.config = make_config(config, **overrides)

    def run(self, documents: Iterable[Document | str]) -> CorpusResult:
        """The stages of ``dedup clean`` over ``documents`` (held in memory; for files use the
        CLI), by the same driver (:mod:`dedup.run`)."""
        docs = [_as_document(item, i) for i, item in enumerate(documents)]
        decisions, written = run_documents(lambda: iter(docs), self.config, against=self.against)
        plan = decisions.plan
        assert plan is not None
        results = []
        for index, doc, cleaned in written:
            if index in plan.against:
                match = plan.against[index]
                if match.removed:
                    results.append(DocumentResult(doc.id, None, None, str(match.id), match.similarity, None,
                                                  match.index))
                    continue
            keeper = int(plan.duplicate_of[index])
            cluster = int(plan.cluster[index]) if plan.cluster[index] >= 0 else None
            if keeper >= 0:
                results.append(DocumentResult(doc.id, None, None, docs[keeper].id,
                                              float(plan.similarity[index]), cluster))
                continue
            assert cleaned is not None
            results.append(DocumentResult(doc.id, cleaned.text, cleaned, None, None, cluster))
        return CorpusResult(tuple(results), plan.clusters, plan.boilerplate_threshold, len(plan.boilerplate))

    def stream(self, documents: Iterable[Document | str]) -> Iterator[DocumentResult]:
        """One pass: yield each document's outcome as soon as it is decided.

        Each document is cleaned (boilerplate being a unit already seen in K kept documents) and
        compared on its cleaned text with the documents kept so far, by the rule of :meth:`run`:
        a candidate from LSH is the document's copy when their exact Jaccard similarity is at
        least ``threshold`` and at least ``min_containment`` of the document's words are in it
        (a near duplicate that adds text stays). Holds each kept document's signature and
        shingles (4 bytes per distinct word 5-gram).
        """
        if self.against:
            from dedup.errors import ConfigError

            raise ConfigError("Deduplicator(against=...) works with run(), not stream()")
        from datasketch import MinHashLSH

        from dedup.corpus.cluster import containment
        from dedup.fingerprint import Signature
        from dedup.index import lsh_for
        from dedup.pipeline import explain_text, prepare

        config = self.config
        fp, match = config.fingerprint, config.match
        bands, rows = lsh_for(match.threshold, fp.num_perm, match.bands, match.rows)
        lsh = MinHashLSH(num_perm=fp.num_perm, params=(bands, rows))
        kept: dict[int, tuple[str, int, np.ndarray, np.ndarray]] = {}  # id, hash, shingle set, in-order set
        exact: dict[int, int] = {}
        unit_counts: dict[int, tuple[int, int]] = {}  # unit hash -> (documents, first document)
        threshold = config.policy.boilerplate_threshold(0)
        for position, item in enumerate(documents):
            doc = _as_document(item, position)
            prepared = prepare(doc.text, config)
            units = boilerplate_units(prepared.text, prepared.paragraphs, config)
            seen = {u: unit_counts[u] for u in units if u in unit_counts and unit_counts[u][0] + 1 >= threshold}
            cleaned = explain_text(doc.text, config, Boilerplate(seen, position), prepared)
            keyed = keyed_texts([cleaned.text], fp)
            keeper, similarity = None, 0.0
            compared = config.policy.dedup_documents and bool(keyed.words[0])
            if compared:
                doc_hash = int(keyed.exact[0])
                shingled = keyed.shingles()
                signature = signatures(shingled, fp.num_perm, fp.seed)[0]
                own = sorted_unique(shingled[0])
                ordered = keyed.shingles(fp.shingle_size)[0]  # (in reading order, for containment)
                candidates = set(lsh.query(Signature(signature, fp.seed)))
                if doc_hash in exact:
                    candidates.add(exact[doc_hash])
                for candidate in sorted(candidates):
                    _, hashed, shingle_set, in_order = kept[candidate]
                    sim = 1.0 if hashed == doc_hash else jaccard(own, shingle_set)
                    if (sim >= match.threshold and sim > similarity
                            and containment(ordered, in_order, fp.shingle_size) >= match.min_containment):
                        keeper, similarity = candidate, sim
            if keeper is not None:
                yield DocumentResult(doc.id, None, None, kept[keeper][0], round(similarity, 4))
                continue
            for unit in units:
                count, first = unit_counts.get(unit, (0, position))
                unit_counts[unit] = (count + 1, first)
            if compared:
                exact.setdefault(doc_hash, position)
                lsh.insert(position, Signature(signature, fp.seed), check_duplication=False)
                in_order = sorted_unique(ordered)
                kept[position] = (doc.id, doc_hash, own, own if np.array_equal(in_order, own) else in_order)
            yield DocumentResult(doc.id, cleaned.text, cleaned)
