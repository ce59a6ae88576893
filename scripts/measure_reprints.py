#!/usr/bin/env python3
"""Document removals of ``dedup clean`` scored against the planted reprints of the benchmark corpus.

The corpus (``scripts/benchkit/corpus.py``) records, in ``manifest.json``, which real articles
each document holds and which earlier document each reprint copies. A removal is *right* when
the removed document and its keeper hold the same articles (a reprint chain is followed to its
original); otherwise it is wrong (in practice: BBC articles the source set itself holds twice).
Also counted: near duplicates kept beside their twin (``near_duplicate_of`` in the report), and
what a second run over the output removes (0: idempotent).

Usage::

    python scripts/measure_reprints.py [--mb 6] [--jobs 2] [--modes full,documents]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchkit import corpus as corpus_mod  # noqa: E402


def stories(manifest: dict) -> dict[str, tuple[str, ...]]:
    """Each document's articles, reprints resolved to the document they copy."""
    docs = {d["id"]: d for d in manifest["docs"]}

    def story(doc_id: str) -> tuple[str, ...]:
        doc = docs[doc_id]
        while doc["kind"] == "reprint":
            doc = docs[doc["source_id"]]
        return tuple(doc["parts"])

    return {doc_id: story(doc_id) for doc_id in docs}


def clean(source: Path, out: Path, report: Path, mode: str, jobs: int) -> list[dict]:
    subprocess.run([sys.executable, "-m", "dedup", "clean", str(source), "-o", str(out), "--report", str(report),
                    "--id-field", "id", "--mode", mode, "--jobs", str(jobs), "--force"], check=True)
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    return [r for r in records if r.get("type") == "document"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=6.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--modes", default="full,documents")
    args = parser.parse_args()
    corpus = corpus_mod.build(args.mb, 0)
    story = stories(json.loads(corpus.manifest.read_text(encoding="utf-8")))
    print(f"{corpus.jsonl}: {corpus.n_docs} documents, {corpus.kinds}")
    print("| mode | removed | right | kept near duplicates | second run removes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix="dedup-reprints-") as tmp:
            out, again = Path(tmp) / "out.jsonl", Path(tmp) / "again.jsonl"
            records = clean(corpus.jsonl, out, Path(tmp) / "report.jsonl", mode, args.jobs)
            removed = [r for r in records if r.get("removed")]
            right = sum(story[r["id"]] == story[r["duplicate_of"]] for r in removed if r.get("duplicate_of"))
            kept = sum(r.get("near_duplicate_of") is not None for r in records)
            second = clean(out, again, Path(tmp) / "again-report.jsonl", mode, args.jobs)
            print(f"| {mode} | {len(removed)} | {right} | {kept} | {sum(bool(r.get('removed')) for r in second)} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
