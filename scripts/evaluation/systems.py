"""The systems under test: dedup (through one adapter) and the baselines.

Two kinds of system:

* a **text system** maps the corpus's texts to cleaned texts (same length, same order; a
  dropped document becomes ``""``). Used for the fault, retention, integrity and similarity
  scores. Baselines: doing nothing, exact line dedup, pySBD's cleaner.
* a **document system** maps texts and a Jaccard threshold to clusters of near-duplicate
  documents (lists of indices). Baselines: exact hash, a plain datasketch ``MinHashLSH`` with the
  bands/rows dedup chooses, datatrove's four-stage MinHash.

Every call to ``dedup`` goes through :class:`DedupAdapter`, so an API change is fixed in one place.
A system that cannot run raises :class:`Unavailable`; the table then says "not available"
with the reason, rather than showing a number that was not measured.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .textutil import match_key, shingles

TextSystem = Callable[[Sequence[str]], list[str]]
DocSystem = Callable[[Sequence[str], float], list[list[int]]]


class Unavailable(RuntimeError):
    """A system could not run here (tool missing, API not there yet); the message says why."""


# --------------------------------------------------------------------------- dedup adapter


@dataclass(frozen=True)
class DedupAdapter:
    """The one place that knows dedup's API.

    Attributes:
        repo: the repository root to import ``dedup`` from (put first on ``sys.path``).
        num_perm: permutations for document-level MinHash.
    """

    repo: Path
    num_perm: int = 128

    def module(self) -> object:
        """Import ``dedup`` from the repository, or raise :class:`Unavailable`."""
        if str(self.repo) not in sys.path:
            sys.path.insert(0, str(self.repo))
        try:
            return importlib.import_module("dedup")
        except Exception as error:  # noqa: BLE001 - any import failure means "not available"
            raise Unavailable(f"import dedup failed: {error}") from error

    def version(self) -> str:
        """dedup's ``__version__`` or ``"unknown"``."""
        try:
            return str(getattr(self.module(), "__version__", "unknown"))
        except Unavailable:
            return "not importable"

    def revision(self) -> str:
        """The repository's commit, with ``+dirty`` when ``dedup/`` has uncommitted changes."""
        def git(*args: str) -> str:
            proc = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True,
                                  text=True, check=False)
            return proc.stdout.strip() if proc.returncode == 0 else ""

        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        return commit + ("+dirty" if git("status", "--porcelain", "--", "dedup") else "")

    def clean(self, text: str) -> str:
        """Within-document repair and dedup: ``dedup.clean(text)``."""
        return str(self.module().clean(text))  # type: ignore[attr-defined]

    def explain(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """``dedup.clean_and_explain(text)``: the cleaned text and its changes as dicts."""
        result = self.module().clean_and_explain(text)  # type: ignore[attr-defined]
        return str(result.text), [change.to_dict() for change in result.changes]

    def lsh_params(self, threshold: float) -> tuple[int, int, str]:
        """Bands and rows dedup uses for a threshold, and where they came from.

        Uses ``dedup.index.lsh_for`` (what a corpus run uses) when dedup exposes it, else
        ``dedup.index.lsh_params``, else datasketch's optimiser with the same weights.
        """
        try:
            self.module()
            index = importlib.import_module("dedup.index")
            if hasattr(index, "lsh_for"):
                bands, rows = index.lsh_for(threshold, self.num_perm, None, None)
                return int(bands), int(rows), "dedup.index.lsh_for"
            bands, rows = index.lsh_params(threshold, self.num_perm)
            return int(bands), int(rows), "dedup.index.lsh_params"
        except (Unavailable, ImportError, AttributeError):
            from datasketch.lsh import _optimal_param

            bands, rows = _optimal_param(threshold, self.num_perm, 0.5, 0.5)
            return int(bands), int(rows), "datasketch.lsh._optimal_param"

    def corpus_run(self, texts: Sequence[str], threshold: float) -> CorpusRun:
        """Corpus mode: ``dedup clean in.jsonl -o out.jsonl --report r.jsonl`` over all texts.

        Documents go in as JSONL records with ids ``0..n-1``; removed documents come back as
        ``""`` and as members of the report's document clusters.

        Raises:
            Unavailable: the CLI failed (for instance corpus mode is not there yet).
        """
        with tempfile.TemporaryDirectory(prefix="dedup-eval-") as tmp:
            source, output = Path(tmp, "in.jsonl"), Path(tmp, "out.jsonl")
            report = Path(tmp, "report.jsonl")
            source.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                                      for i, t in enumerate(texts)), encoding="utf-8")
            cmd = [sys.executable, "-m", "dedup", "clean", str(source), "-o", str(output),
                   "--report", str(report), "--id-field", "id", "--threshold", str(threshold),
                   "--num-perm", str(self.num_perm), "--jobs", "1"]
            env = dict(os.environ, PYTHONPATH=str(self.repo))
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if proc.returncode != 0 or not report.exists() or not output.exists():
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise Unavailable(f"`dedup clean` corpus mode failed: {last[:160]}")
            cleaned = [""] * len(texts)
            for line in output.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    cleaned[int(record["id"])] = record["text"]
            return CorpusRun(cleaned, _clusters_from_report(report),
                             _changes_from_report(report, len(texts)))

    def corpus_clusters(self, texts: Sequence[str], threshold: float) -> list[list[int]]:
        """Document clusters from :meth:`corpus_run`."""
        return self.corpus_run(texts, threshold).clusters


@dataclass(frozen=True)
class CorpusRun:
    """What one corpus-mode run of dedup returned.

    Attributes:
        texts: cleaned text per input document (``""`` when the document was removed).
        clusters: near-duplicate document clusters (indices), each of two or more.
        changes: per input document, the report's change records (``kind``, ``before``,
            ``after``, ...); a removed duplicate document gets one ``document_removed`` record.
    """

    texts: list[str]
    clusters: list[list[int]]
    changes: list[list[dict[str, Any]]]


def _clusters_from_report(report: Path) -> list[list[int]]:
    """Group the report's ``document`` records (removed document, ``duplicate_of`` its keeper)."""
    groups: dict[str, set[int]] = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("type") != "document" or record.get("duplicate_of") is None:
            continue
        key = str(record.get("cluster", record["duplicate_of"]))
        groups.setdefault(key, set()).update({_index(record["id"]), _index(record["duplicate_of"])})
    return [sorted(g) for g in groups.values() if len(g) > 1]


def _changes_from_report(report: Path, count: int) -> list[list[dict[str, Any]]]:
    """The report's ``change`` records grouped by document index (removed documents included)."""
    changes: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for line in report.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("type") == "change":
            changes[_index(record["document"])].append(record)
        elif record.get("type") == "document" and record.get("duplicate_of") is not None:
            changes[_index(record["id"])].append({"kind": "document_removed"})
    return changes


def _index(doc_id: object) -> int:
    return int(str(doc_id).rsplit(":", 1)[-1])


# --------------------------------------------------------------------------- text systems


def nothing(texts: Sequence[str]) -> list[str]:
    """Return the input unchanged (the floor every system must beat).

    >>> nothing(["a"])
    ['a']
    """
    return list(texts)


def exact_line_dedup(texts: Sequence[str]) -> list[str]:
    """Drop every non-blank line already seen anywhere earlier in the corpus (whitespace-trimmed).

    >>> exact_line_dedup(["a\\n\\nb\\n\\na", "b\\nc"])
    ['a\\n\\nb', 'c']
    """
    seen: set[str] = set()
    out = []
    for text in texts:
        kept = []
        for line in text.split("\n"):
            key = line.strip()
            if key and key in seen:
                continue
            seen.add(key)
            kept.append(line)
        out.append("\n".join(kept).strip("\n").replace("\n\n\n\n", "\n\n"))
    return [_squeeze_blank_lines(t) for t in out]


def _squeeze_blank_lines(text: str) -> str:
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def pysbd_cleaner(texts: Sequence[str]) -> list[str]:
    """pySBD with ``clean=True``: each blank-line block re-joined from its cleaned sentences.

    Raises:
        Unavailable: pysbd is not installed (it lives in the evaluation venv).
    """
    try:
        import pysbd
    except ImportError as error:
        raise Unavailable("pysbd not installed (run without --no-venv)") from error
    segmenter = pysbd.Segmenter(language="en", clean=True)
    out = []
    for text in texts:
        blocks = [b for b in text.split("\n\n") if b.strip()]
        out.append("\n\n".join(" ".join(s.strip() for s in segmenter.segment(b)) for b in blocks))
    return out


def dedup_text_system(adapter: DedupAdapter) -> TextSystem:
    """``dedup.clean`` applied to each document on its own."""

    def run(texts: Sequence[str]) -> list[str]:
        adapter.module()
        return [adapter.clean(t) for t in texts]

    return run


def dedup_corpus_text_system(adapter: DedupAdapter, threshold: float) -> TextSystem:
    """dedup's corpus mode (the ``dedup clean`` CLI over all documents at once)."""

    def run(texts: Sequence[str]) -> list[str]:
        adapter.module()
        return adapter.corpus_run(texts, threshold).texts

    return run


# --------------------------------------------------------------------------- document systems


def exact_hash_clusters(texts: Sequence[str], threshold: float) -> list[list[int]]:
    """Group documents whose matching keys are identical (ignores the threshold).

    >>> exact_hash_clusters(["A  b", "a b", "c"], 0.8)
    [[0, 1]]
    """
    groups: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        digest = hashlib.sha1(match_key(text).encode("utf-8")).hexdigest()
        groups.setdefault(digest, []).append(index)
    return [g for g in groups.values() if len(g) > 1]


def datasketch_lsh(adapter: DedupAdapter, ngram: int = 5) -> DocSystem:
    """A plain datasketch ``MinHashLSH`` with dedup's bands/rows, candidates kept as found."""

    def run(texts: Sequence[str], threshold: float) -> list[list[int]]:
        from datasketch import MinHash, MinHashLSH

        bands, rows, _ = adapter.lsh_params(threshold)
        lsh = MinHashLSH(num_perm=adapter.num_perm, params=(bands, rows))
        hashes = []
        for index, text in enumerate(texts):
            minhash = MinHash(num_perm=adapter.num_perm, seed=1)
            minhash.update_batch([s.encode("utf-8") for s in shingles(text, ngram)])
            hashes.append(minhash)
            lsh.insert(index, minhash)
        pairs = {(min(i, j), max(i, j))
                 for i, m in enumerate(hashes) for j in lsh.query(m) if i != j}
        return _components(len(texts), pairs)

    return run


def datatrove_minhash(adapter: DedupAdapter, ngram: int = 5) -> DocSystem:
    """datatrove's MinHash pipeline (signatures, buckets, clusters) with dedup's bands/rows.

    Raises:
        Unavailable: datatrove is not installed (it lives in the evaluation venv).
    """

    def run(texts: Sequence[str], threshold: float) -> list[list[int]]:
        try:
            from datatrove.data import Document
            from datatrove.executor import LocalPipelineExecutor
            from datatrove.pipeline.dedup.minhash import (
                MinhashConfig,
                MinhashDedupBuckets,
                MinhashDedupCluster,
                MinhashDedupSignature,
            )
            from datatrove.utils.hashing import HashConfig
        except ImportError as error:
            raise Unavailable("datatrove not installed (run without --no-venv)") from error
        bands, rows, _ = adapter.lsh_params(threshold)
        config = MinhashConfig(n_grams=ngram, num_buckets=bands, hashes_per_bucket=rows,
                               hash_config=HashConfig(precision=64, hash_fc="sha1"))
        from loguru import logger

        documents = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        logger.disable("datatrove")  # its per-stage logs would bury the report
        try:
            return _run_datatrove(documents, config, bands, LocalPipelineExecutor,
                                  MinhashDedupSignature, MinhashDedupBuckets, MinhashDedupCluster)
        finally:
            logger.enable("datatrove")

    return run


def _run_datatrove(documents: list[Any], config: Any, bands: int, executor: Any, signature: Any,
                   buckets: Any, cluster: Any) -> list[list[int]]:
    with tempfile.TemporaryDirectory(prefix="dedup-eval-dt-") as work:
        stages = [
            ([documents, signature(output_folder=f"{work}/sigs", config=config)], 1),
            ([buckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets",
                      config=config)], bands),
            ([cluster(input_folder=f"{work}/buckets", output_folder=f"{work}/ids",
                      config=config, save_cluster_id=True)], 1),
        ]
        for number, (pipeline, tasks) in enumerate(stages):
            executor(pipeline=pipeline, tasks=tasks, workers=1,
                     logging_dir=f"{work}/logs/{number}", skip_completed=False).run()
        return _datatrove_clusters(Path(work, "ids", "000000.clusters"))


def _datatrove_clusters(path: Path) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    if path.exists():
        data = path.read_bytes()
        for offset in range(0, len(data), 8):
            doc, cluster = struct.unpack("<II", data[offset : offset + 8])
            groups.setdefault(cluster, []).append(doc)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def _components(count: int, pairs: set[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(count))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for index in range(count):
        groups.setdefault(find(index), []).append(index)
    return [g for g in groups.values() if len(g) > 1]
