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
                id_column: str | None = None, against: Sequence[str] = (), report: str | None = None,
                **overrides: Any) -> Any:
    """Deduplicate a ``datasets.Dataset`` and return the cleaned dataset, with the decisions and
    texts of ``dedup clean`` on the same documents (the same driver, :mod:`dedup.run`).

    A document's id is its ``id_column`` value, or its row index (as text). With
    ``annotate=True`` every row stays and gains ``dedup_cluster``, ``dedup_duplicate_of`` (the id
    of the kept copy) and ``dedup_similarity``, null where they do not apply, as
    ``dedup clean --annotate`` writes them. ``num_proc`` workers run the passes (a local process
    pool). ``against`` names saved indexes (``dedup index build``) to deduplicate against, as
    ``dedup clean --against`` does; their settings are used. ``report`` writes the report of
    every change and removed document there, as ``dedup clean --report`` (``.json``, ``.jsonl``,
    ``.jsonl.gz``, ``.jsonl.zst``), written whole or not at all.

    Raises:
        InputError: a missing column, a text that is not a string, or a dedup column the dataset
            already has (with ``annotate``).
    """
    import contextlib

    from dedup.corpus.passes import Tally, decision_fields
    from dedup.document import Document
    from dedup.engines import make_engine
    from dedup.errors import InputError
    from dedup.io import atomic_writer
    from dedup.report import ReportWriter, document_record, run_metadata
    from dedup.run import run_documents

    if against:
        from dedup.saved_index import config_against

        config = config_against(against, config, **overrides)
    else:
        config = make_config(config, **overrides)
    for column in (text_column, *([id_column] if id_column else [])):
        if column not in dataset.column_names:
            raise InputError(f"no column {column!r} (columns: {', '.join(dataset.column_names)})")
    if annotate:
        taken = [name for name in ("dedup_cluster", "dedup_duplicate_of", "dedup_similarity")
                 if name in dataset.column_names]
        if taken:
            raise InputError(f"the dataset already has a column {taken[0]!r}; annotate never overwrites one")
    texts = dataset[text_column]
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"row {row}: column {text_column!r} is {type(text).__name__}, not text")
    ids = [str(value) for value in dataset[id_column]] if id_column else [str(k) for k in range(len(texts))]

    def stream() -> Any:
        return (Document(ident, text) for ident, text in zip(ids, texts))

    engine = make_engine("local", num_proc or 1)
    try:
        with contextlib.ExitStack() as stack:  # a failed run leaves no report
            writer = (ReportWriter(stack.enter_context(atomic_writer(report)), report, run_metadata(config))
                      if report is not None else None)
            tally = Tally()
            decisions, written = run_documents(stream, config, engine, annotate=annotate, batch_size=batch_size,
                                               against=tuple(str(path) for path in against))
            plan = decisions.plan
            assert plan is not None
            cleaned: list[str] = []
            columns: dict[str, list[Any]] = {"dedup_cluster": [], "dedup_duplicate_of": [], "dedup_similarity": []}
            for index, document, result in written:
                cleaned.append(result.text if result is not None else document.text)
                fields, annotation = decision_fields(plan, index, decisions.ids, annotate, tally)
                if annotate:
                    for name in columns:
                        columns[name].append(annotation.get(name))
                if writer is not None:
                    record: dict[str, Any] = {"id": document.id, **fields}
                    if result is not None:
                        tally.add(result)
                        record.update(document_record(document.id, result))
                    else:
                        record.update(changes=[], flags=[])
                    writer.document(record)
            if writer is not None:
                writer.close({"documents_in": len(texts),
                              "documents_out": len(texts) if annotate else int((plan.duplicate_of < 0).sum()),
                              "duplicate_documents": int((plan.duplicate_of >= 0).sum()),
                              "changes": dict(sorted(tally.counts.items()))})
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
