"""Hugging Face ``datasets`` integration: dedup as a preprocessing step.

* :func:`clean_batch` plugs into ``Dataset.map(batched=True)`` for within-document cleaning.
* :func:`deduplicate` runs the full corpus job on a ``Dataset`` with the driver ``dedup clean``
  uses (:mod:`dedup.run`): duplicates dropped, or with ``annotate=True`` every row kept with
  dedup columns.

The decisions and texts are the same as ``dedup clean`` on the same documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def deduplicate(dataset: Any, text_column: str = "text", config: DedupConfig | None = None,
                annotate: bool = False, num_proc: int | None = None, batch_size: int = 256,
                id_column: str | None = None, against: Sequence[str] = (), **overrides: Any) -> Any:
    """Deduplicate a ``datasets.Dataset`` and return the cleaned dataset, with the decisions and
    texts of ``dedup clean`` on the same documents (the same driver, :mod:`dedup.run`).

    A document's id is its ``id_column`` value, or its row index (as text). With
    ``annotate=True`` every row stays and gains ``dedup_cluster``, ``dedup_duplicate_of`` (the id
    of the kept copy) and ``dedup_similarity``, null where they do not apply, as
    ``dedup clean --annotate`` writes them. ``num_proc`` workers run the passes (a local process
    pool). ``against`` names saved indexes (``dedup index build``) to deduplicate against, as
    ``dedup clean --against`` does; their settings are used.
    """
    from dedup.corpus.passes import Tally, decision_fields
    from dedup.document import Document
    from dedup.engines import make_engine
    from dedup.run import run_documents

    if against:
        from dedup.saved_index import config_against

        config = config_against(against, config, **overrides)
    else:
        config = make_config(config, **overrides)
    texts = dataset[text_column]
    ids = [str(value) for value in dataset[id_column]] if id_column else [str(k) for k in range(len(texts))]

    def stream() -> Any:
        return (Document(ident, text) for ident, text in zip(ids, texts))

    engine = make_engine("local", num_proc or 1)
    try:
        decisions, written = run_documents(stream, config, engine, annotate=annotate, batch_size=batch_size,
                                           against=tuple(str(path) for path in against))
        plan = decisions.plan
        assert plan is not None
        cleaned: list[str] = []
        columns: dict[str, list[Any]] = {"dedup_cluster": [], "dedup_duplicate_of": [], "dedup_similarity": []}
        for index, document, result in written:
            cleaned.append(result.text if result is not None else document.text)
            if annotate:
                _, annotation = decision_fields(plan, index, decisions.ids, True, Tally())
                for name in columns:
                    columns[name].append(annotation.get(name))
    finally:
        engine.close()
    out = dataset.map(lambda batch, indices: {text_column: [cleaned[k] for k in indices]}, batched=True,
                      with_indices=True, batch_size=batch_size)
    if annotate:
        for name, values in columns.items():
            out = out.add_column(name, values)
        return out
    keep = (plan.duplicate_of < 0).tolist()
    return out.select([k for k, kept in enumerate(keep) if kept])
