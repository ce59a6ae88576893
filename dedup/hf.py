"""Hugging Face ``datasets`` integration: dedup as a preprocessing step.

* :func:`clean_batch` plugs into ``Dataset.map(batched=True)`` for within-document cleaning.
* :func:`deduplicate` runs the full corpus job on a ``Dataset``: pass 1 as a batched ``map``
  computing compact fingerprints, clustering and boilerplate in the driver, pass 2 as a batched
  ``map`` (cleaning, with ``num_proc`` workers if you like) and a ``filter`` dropping
  duplicates, or with ``annotate=True`` keeping every row and adding dedup columns.

The decisions and texts are the same as ``dedup clean`` on the same documents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dedup.config import DedupConfig, make_config

__all__ = ["clean_batch", "deduplicate"]


def clean_batch(batch: dict[str, list[Any]], text_column: str = "text",
                config: DedupConfig | None = None) -> dict[str, list[Any]]:
    """Clean the texts of a batch (for ``Dataset.map(clean_batch, batched=True)``).

    Adds ``dedup_changes``: the number of changes made to each text.

    >>> clean_batch({"text": ["It rained.The roads flooded."]})["text"]
    ['It rained. The roads flooded.']
    """
    from dedup.pipeline import explain_text

    config = config if config is not None else DedupConfig()
    results = [explain_text(text, config) for text in batch[text_column]]
    return {**batch, text_column: [r.text for r in results],
            "dedup_changes": [len(r.changes) for r in results]}


def _fingerprint(batch: dict[str, list[Any]], text_column: str, config: DedupConfig) -> dict[str, list[Any]]:
    import numpy as np

    from dedup.corpus import fingerprint_batch

    texts = batch[text_column]
    fingerprints = fingerprint_batch(texts, config)
    signatures = fingerprints.signatures
    assert isinstance(signatures, np.ndarray)  # a batch's signatures are always in memory
    units: list[list[int]] = [[] for _ in texts]
    for unit, doc in zip(fingerprints.unit_hashes.tolist(), fingerprints.unit_docs.tolist()):
        units[doc].append(unit)
    return {
        "_dedup_signature": [row.tolist() for row in signatures],
        "_dedup_hash": [str(h) for h in fingerprints.doc_hashes.tolist()],
        "_dedup_length": fingerprints.lengths.tolist(),
        "_dedup_units": [[str(u) for u in row] for row in units],
    }


def deduplicate(dataset: Any, text_column: str = "text", config: DedupConfig | None = None,
                annotate: bool = False, num_proc: int | None = None, batch_size: int = 256,
                **overrides: Any) -> Any:
    """Deduplicate a ``datasets.Dataset`` and return the cleaned dataset.

    With ``annotate=True`` every row stays and gains ``dedup_cluster``, ``dedup_duplicate_of``
    (row index of the kept copy, -1 if none) and ``dedup_similarity``.
    """
    from dedup.corpus import Fingerprints, plan_corpus
    from dedup.pipeline import explain_text
    from dedup.policy import Boilerplate

    config = make_config(config, **overrides)
    prints = dataset.map(_fingerprint, batched=True, batch_size=batch_size, num_proc=num_proc,
                         fn_kwargs={"text_column": text_column, "config": config},
                         remove_columns=dataset.column_names)
    units = [np.array([int(u) for u in row], dtype=np.uint64) for row in prints["_dedup_units"]]
    fingerprints = Fingerprints(
        np.array(prints["_dedup_signature"], dtype=np.uint32).reshape(len(prints), config.fingerprint.num_perm),
        np.array([int(h) for h in prints["_dedup_hash"]], dtype=np.uint64),
        np.array(prints["_dedup_length"], dtype=np.int64),
        np.concatenate(units) if units else np.empty(0, np.uint64),
        (np.concatenate([np.full(len(u), i, dtype=np.int64) for i, u in enumerate(units)])
         if units else np.empty(0, np.int64)),
    )
    def exact(pairs: np.ndarray) -> np.ndarray:
        from dedup.corpus import exact_jaccard

        wanted = sorted(set(pairs.ravel().tolist()))
        rows = dataset.select(wanted)[text_column]
        return exact_jaccard(pairs, zip(wanted, rows), config)

    plan = plan_corpus(fingerprints, config, exact)
    duplicate_of = plan.duplicate_of.tolist()
    similarity = plan.similarity.tolist()
    cluster = plan.cluster.tolist()
    boilerplate = plan.boilerplate

    def finish(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        texts = []
        for text, index in zip(batch[text_column], indices):
            if duplicate_of[index] >= 0 and not annotate:
                texts.append(text)
            else:
                texts.append(explain_text(text, config, Boilerplate(boilerplate, index)).text)
        out = {**batch, text_column: texts}
        if annotate:
            out["dedup_cluster"] = [cluster[i] for i in indices]
            out["dedup_duplicate_of"] = [duplicate_of[i] for i in indices]
            out["dedup_similarity"] = [similarity[i] for i in indices]
        return out

    cleaned = dataset.map(finish, batched=True, batch_size=batch_size, with_indices=True, num_proc=num_proc)
    if annotate:
        return cleaned
    return cleaned.filter(lambda _, index: duplicate_of[index] < 0, with_indices=True)
