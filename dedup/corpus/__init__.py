"""Corpus mode: near-duplicate documents and cross-document boilerplate, in three stages
(prepare, plan, write; see :mod:`dedup.run`).

* :mod:`dedup.corpus.passes`: the stages (prepare, clean, write, and the exact checks), plain
  functions of a task and an explicit context, which any engine runs.
* :mod:`dedup.corpus.store`: what the stages keep: signatures (in memory or on disk under a
  ``--memory`` budget), fingerprints, ids, the prepared and cleaned documents (on disk).
* :mod:`dedup.corpus.lsh`: band keys and candidate pairs, in memory or out of core.
* :mod:`dedup.corpus.cluster`: the plan: verified clusters with a chain guard, keepers, the
  boilerplate set.
The driver that runs them is :mod:`dedup.run` (used by :class:`dedup.Deduplicator`, in
:mod:`dedup.deduplicator`); the engines are :mod:`dedup.engines`.
"""

from __future__ import annotations

from dedup.corpus.cluster import Decisions, DocumentPlan, plan_corpus
from dedup.corpus.lsh import band_keys, candidate_pairs
from dedup.corpus.passes import prepare_batch
from dedup.corpus.store import Fingerprints, SignatureFile

__all__ = [
    "DocumentPlan",
    "Decisions",
    "plan_corpus",
    "Fingerprints",
    "SignatureFile",
    "prepare_batch",
    "band_keys",
    "candidate_pairs",
]
