"""Run the evaluation: load sources, corrupt, run every system, score, measure the LSH curve."""

from __future__ import annotations

import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import scoring, systems
from .corrupt import FAULT_KINDS, CorruptedDoc, Fault, FaultRates, build_corpus
from .lshcurve import Signer, datasketch_signer, dedup_signer, measure_curve
from .realfaults import RealOptions, evaluate_real
from .sources import SOURCES, SourceDoc, load_source
from .textutil import line_view


@dataclass(frozen=True, kw_only=True)
class EvalOptions:
    """Settings of one evaluation run.

    Attributes:
        cache: download cache (outside the repository).
        repo: repository root that ``dedup`` is imported from.
        seed: seed of the corruption generator and the LSH experiment.
        per_source: documents taken from each source (None: all).
        threshold: document-level Jaccard threshold.
        num_perm: MinHash permutations for document-level systems.
        curve_pairs: synthetic pairs per Jaccard bin for the LSH curve (0 skips it).
        skip: names of systems not to run.
        generator: fault generator version, ``"v2"`` (widened from real examples) or ``"v1"``
            (the original, to reproduce older figures).
        real: sizes of the real-fault sources and the clean-text run (None skips them).
    """

    cache: Path
    repo: Path
    seed: int = 1234
    per_source: int | None = 100
    threshold: float = 0.8
    num_perm: int = 128
    curve_pairs: int = 200
    skip: tuple[str, ...] = ()
    generator: str = "v2"
    real: RealOptions | None = None


def load_documents(options: EvalOptions) -> tuple[list[SourceDoc], list[dict[str, Any]]]:
    """Fetch every source and return clean documents plus a provenance record per source."""
    docs: list[SourceDoc] = []
    provenance = []
    for spec in SOURCES:
        loaded = load_source(spec, options.cache, options.per_source)
        docs.extend(loaded)
        meta = loaded[0].meta if loaded else {}
        provenance.append({"source": spec.name, "genre": spec.genre, "package": spec.package,
                           "version": spec.version, "archive": meta.get("archive", ""),
                           "file": spec.member, "licence": spec.licence, "documents": len(loaded)})
    return docs, provenance


def text_systems(adapter: systems.DedupAdapter, threshold: float) -> dict[str, systems.TextSystem]:
    """The text systems, in table order."""
    return {
        "nothing": systems.nothing,
        "line-dedup": systems.exact_line_dedup,
        "pysbd-clean": systems.pysbd_cleaner,
        "dedup": systems.dedup_text_system(adapter),
        "dedup-corpus": systems.dedup_corpus_text_system(adapter, threshold),
    }


def doc_systems(adapter: systems.DedupAdapter) -> dict[str, systems.DocSystem]:
    """The document systems, in table order."""
    return {
        "nothing": lambda texts, threshold: [],
        "exact-hash": systems.exact_hash_clusters,
        "datasketch-lsh": systems.datasketch_lsh(adapter),
        "datatrove-minhash": systems.datatrove_minhash(adapter),
        "dedup": adapter.corpus_clusters,
    }


def score_text_system(system: systems.TextSystem, corpus: Sequence[CorruptedDoc]) -> dict[str, Any]:
    """Run one text system on the corrupted corpus and on the clean originals, and score it."""
    started = time.perf_counter()
    outputs = system([d.text for d in corpus])
    seconds = time.perf_counter() - started
    originals = [(d, out) for d, out in zip(corpus, outputs, strict=True) if d.reprint_of is None]
    fixed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    kept = sentences = mangled = checked = 0
    mangled_by: Counter[str] = Counter()
    similarity = 0.0
    misses: dict[str, list[dict[str, Any]]] = {}
    by_source: dict[str, dict[str, Counter[str]]] = {}
    families_fixed: Counter[str] = Counter()
    families_total: Counter[str] = Counter()
    for doc, output in originals:
        counts = by_source.setdefault(doc.source, {"fixed": Counter(), "total": Counter()})
        for fault in doc.faults:
            total[fault.kind] += 1
            counts["total"][fault.kind] += 1
            family = fault.detail.get("family")
            if family:
                families_total[family] += 1
            if scoring.fault_fixed(fault, output):
                fixed[fault.kind] += 1
                counts["fixed"][fault.kind] += 1
                if family:
                    families_fixed[family] += 1
            elif len(misses.setdefault(fault.kind, [])) < MISSES_PER_KIND:
                misses[fault.kind].append(_miss(doc, fault, output))
        k, n = scoring.retention(doc.clean, output)
        kept, sentences = kept + k, sentences + n
        counts["total"]["_sentences"] += n
        counts["fixed"]["_sentences"] += k
        for span in scoring.protected_spans(doc.clean):
            if scoring.mangled_spans([span], doc.text) != (0, 1):
                continue  # only spans the corruption left intact in the input are the system's
            m, c = scoring.mangled_spans([span], output)
            mangled, checked = mangled + m, checked + c
            mangled_by[span.category] += m
        similarity += scoring.edit_similarity(output, doc.clean)
    clean_out = system([d.clean for d, _ in originals])
    pairs = list(zip(originals, clean_out, strict=True))
    untouched = sum(line_view(o) == line_view(d.clean) for (d, _), o in pairs)
    clean_similarity = sum(scoring.edit_similarity(o, d.clean) for (d, _), o in pairs)
    count = max(1, len(originals))
    return {
        "fix_rate": {k: fixed[k] / total[k] for k in FAULT_KINDS if total[k]},
        "faults": {k: total[k] for k in FAULT_KINDS if total[k]},
        "retention": kept / max(1, sentences),
        "sentences": sentences,
        "protected_mangled": mangled,
        "protected_checked": checked,
        "mangled_by_category": dict(mangled_by),
        "similarity": similarity / count,
        "clean_untouched": untouched / count,
        "clean_similarity": clean_similarity / count,
        "seconds": round(seconds, 2),
        "by_source": {
            source: {
                "fix_rate": {k: c["fixed"][k] / c["total"][k] for k in FAULT_KINDS
                             if c["total"][k]},
                "faults": {k: c["total"][k] for k in FAULT_KINDS if c["total"][k]},
                "retention": c["fixed"]["_sentences"] / max(1, c["total"]["_sentences"]),
            }
            for source, c in by_source.items()
        },
        "misses": misses,
        "caption_families": {family: {"fixed": families_fixed[family], "total": n}
                             for family, n in sorted(families_total.items())},
    }


MISSES_PER_KIND = 10
_ANCHORS = ("left", "caption", "context", "paragraph", "variant", "block")


def _miss(doc: CorruptedDoc, fault: Fault, output: str) -> dict[str, Any]:
    """An unfixed fault with the input around it and the output near the same place."""
    anchor = next((fault.detail[k] for k in _ANCHORS if k in fault.detail), "")
    at = output.find(anchor[:30]) if anchor else -1
    return {
        "doc_id": doc.doc_id,
        "input": doc.text[max(0, fault.start - 80) : fault.end + 80],
        "output": output[max(0, at - 80) : at + len(anchor) + 80] if at >= 0 else None,
        "detail": fault.detail,
    }


def score_doc_system(system: systems.DocSystem, texts: Sequence[str], threshold: float,
                     truth: set[tuple[int, int]],
                     reprints: set[tuple[int, int]]) -> dict[str, Any]:
    """Run one document system; score its pairs against brute-force exact Jaccard, and count
    how many of the generated reprint pairs (whatever their Jaccard) it found."""
    started = time.perf_counter()
    clusters = system(texts, threshold)
    seconds = time.perf_counter() - started
    predicted = scoring.cluster_pairs(clusters)
    precision, recall = scoring.pair_precision_recall(predicted, truth)
    return {"precision": precision, "recall": recall, "predicted_pairs": len(predicted),
            "true_pairs": len(truth), "reprints_found": len(predicted & reprints),
            "reprints": len(reprints), "seconds": round(seconds, 2)}


def reprint_pairs(corpus: Sequence[CorruptedDoc]) -> set[tuple[int, int]]:
    """Index pairs (original, reprint) the generator made."""
    position = {d.doc_id: i for i, d in enumerate(corpus)}
    pairs = set()
    for index, doc in enumerate(corpus):
        if doc.reprint_of is not None:
            original = position[doc.reprint_of]
            pairs.add((min(original, index), max(original, index)))
    return pairs


def _guarded(name: str, skip: Sequence[str], call: Any, *args: Any) -> dict[str, Any]:
    if name in skip:
        return {"available": False, "reason": "skipped with --skip"}
    try:
        return {"available": True, **call(*args)}
    except systems.Unavailable as error:
        return {"available": False, "reason": str(error)}


def evaluate(options: EvalOptions, log: Any = print) -> dict[str, Any]:
    """Run everything and return the results as a JSON-ready dict."""
    adapter = systems.DedupAdapter(options.repo, options.num_perm)
    docs, provenance = load_documents(options)
    corpus = build_corpus(docs, options.seed, FaultRates(), generator=options.generator)
    reprint_count = sum(d.reprint_of is not None for d in corpus)
    log(f"corpus: {len(corpus)} documents ({reprint_count} reprints), "
        f"{sum(len(d.faults) for d in corpus)} recorded faults")
    input_similarity = sum(scoring.edit_similarity(d.text, d.clean) for d in corpus
                           if d.reprint_of is None) / max(1, len(docs))
    text_results = {}
    for name, system in text_systems(adapter, options.threshold).items():
        log(f"text system: {name}")
        text_results[name] = _guarded(name, options.skip, score_text_system, system, corpus)
    texts = [d.text for d in corpus]
    truth = scoring.true_pairs(texts, options.threshold)
    reprints = reprint_pairs(corpus)
    doc_results = {}
    for name, doc_system in doc_systems(adapter).items():
        log(f"document system: {name}")
        doc_results[name] = _guarded(name, options.skip, score_doc_system, doc_system, texts,
                                     options.threshold, truth, reprints)
    bands, rows, origin = adapter.lsh_params(options.threshold)
    curve: list[dict[str, Any]] = []
    if options.curve_pairs:
        log(f"LSH curve: bands={bands} rows={rows} ({origin})")
        signers: dict[str, Signer] = {"datasketch": datasketch_signer}
        own = dedup_signer()
        if own is not None:
            signers = {"dedup": own, **signers}
        curve = [asdict(row) for row in measure_curve(bands, rows, options.num_perm, signers,
                                                      options.curve_pairs, seed=options.seed)]
    real: dict[str, Any] = {}
    if options.real is not None:
        real = evaluate_real(options.cache, adapter, options.threshold, options.real, log)
    return {
        "real": real,
        "meta": {
            "generator": options.generator,
            "seed": options.seed,
            "per_source": options.per_source,
            "threshold": options.threshold,
            "num_perm": options.num_perm,
            "bands": bands,
            "rows": rows,
            "lsh_params_from": origin,
            "shingles": "word 5-grams of the matching key",
            "similarity_metric": scoring.similarity_metric(),
            "dedup_version": adapter.version(),
            "dedup_revision": adapter.revision(),
            "python": platform.python_version(),
            "interpreter": sys.executable,
            "documents": len(corpus),
            "reprints": sum(d.reprint_of is not None for d in corpus),
            "faults": dict(Counter(f.kind for d in corpus for f in d.faults)),
            "sources": provenance,
        },
        "input_similarity": input_similarity,
        "text_systems": text_results,
        "doc_systems": doc_results,
        "lsh_curve": curve,
    }
