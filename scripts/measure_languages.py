#!/usr/bin/env python3
"""Dedup beyond English on the Debian Reference in five languages (see scripts/evaluation/languages.py).

Prints the per-language table of ``scripts/evaluate.py`` (all documents of a part, not the slice)
and, with ``--shingles``, the exact Jaccard of each document and its near-duplicate copy for each
shingle size, per language: how a threshold of 0.8 compares across languages.

Examples:
    python scripts/measure_languages.py                         # held-out part: the figures
    python scripts/measure_languages.py --split tune --shingles 5 6 7 8 9 10 11 12 --raw
    python scripts/measure_languages.py --shingles 3 5          # sizes as dedup scales them
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluation import languages  # noqa: E402
from evaluation.sources import default_cache  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the measurement; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--split", choices=("test", "tune"), default="test")
    parser.add_argument("--per-language", type=int, default=None)
    parser.add_argument("--edit-every", type=int, default=languages.EDIT_EVERY,
                        help="one word in this many replaced in a near-duplicate copy")
    parser.add_argument("--shingles", type=int, nargs="*", default=None,
                        help="print mean Jaccard per shingle size instead of the table")
    parser.add_argument("--raw", action="store_true",
                        help="with --shingles: the sizes as given for every script (no scaling)")
    args = parser.parse_args(argv)
    languages.EDIT_EVERY = args.edit_every
    if args.shingles is not None:
        table = languages.shingle_jaccards(args.cache, args.shingles, args.seed, args.per_language,
                                           scaled=not args.raw, split=args.split)
        print(f"mean Jaccard (share >= 0.8) of a document and its copy with one word in {args.edit_every} "
              f"replaced; {args.split} part; sizes {'as given' if args.raw else 'as dedup scales them'}")
        for language, row in table.items():
            print(f"  {language:<9}", "  ".join(f"n={n}: {v['mean']:.3f} ({v['at_least_0.8']:.2f})"
                                               for n, v in row.items()))
        return 0
    if args.split != "test":
        print("the table is made on the held-out part only", file=sys.stderr)
        return 2
    results = languages.evaluate_languages(args.cache, args.per_language, args.seed,
                                           lambda m: print(m, file=sys.stderr))
    print(languages.language_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
