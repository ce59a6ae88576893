"""Time the whole cleaning pipeline (``dedup.clean``) on hostile text: every pattern must grow at
most like n·log n.

Each pattern repeats one unit built to stress a part of the pipeline: repeated splices
(``morning.took``: sentence splitting against forced breaks), a repeated caption-like sentence
(captions against sentence boundaries), glued boundaries, straight and curly quotes, runs of
dots, hyphens at line ends, hard-wrapped lines, entities, and one long word. For each pattern
the script times ``dedup.clean`` at 10 K, 100 K and 1 M characters (up to ``--max-chars``) and
prints the growth exponent: the slope of log(time) against log(size) between the two largest
sizes. Linear is 1.0, n·log n about 1.05-1.1 here, quadratic 2.0. Timings are best of
``--repeat``; on a shared machine single timings are noisy, so re-run a pattern that fails with
``--only NAME``.

Usage::

    python scripts/bench_hostile.py [--max-chars 1000000] [--repeat 1] [--only splices,dots]

Exit code 1 if any pattern's exponent exceeds ``--max-exponent`` (default 1.25).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # PYTHONPATH (another tree) wins

PATTERNS: dict[str, str] = {
    "splices_no_space": "morning.took",
    "captions": "Smoke rises over the harbor in Westhaven, Maine, on Sept. 25, 2023. ",
    "captions_glued": "Smoke rises over the harbor in Westhaven, Maine, on Sept. 25, 2023.",
    "glued_boundaries": "blast.The ",
    "glued_no_space": "Ab.Cd",
    "straight_quotes": 'said"very good" ',
    "lone_quotes": 'a"b ',
    "curly_quotes": "said“very good”and ",
    "dots": ".",
    "dotted_words": "os.path.",
    "ellipses": "wait... ",
    "hyphens": "-",
    "line_hyphens": "explo-\nsion ",
    "wrapped_lines": "The council met on Tuesday night to discuss the budget for the\n",
    "short_lines": "word word\n",
    "paragraphs": "It went on\n\nand on\n\n",
    "entities": "&lt;Company> &amp; &#3;",
    "repeated_sentence": "The fire spread quickly through the old warehouse district. ",
    "one_long_word": "a",
    "repeated_lines": "The fire spread quickly through the old warehouse district.\n",
    "glued_paragraphs": "It ended.Then it went on\n\n",
}


def _numbered_paragraphs(size: int) -> str:
    """Paragraphs of a unique sentence and a repeated one: many paragraphs, each losing a sentence."""
    parts, total, k = [], 0, 0
    while total < size:
        k += 1
        part = f"Paragraph {k} opened here. The fire spread quickly through the old warehouse district.\n\n"
        parts.append(part)
        total += len(part)
    return "".join(parts)[:size]


def _numbered_reports(size: int) -> str:
    """Paragraphs of one sentence that share most of their words (Jaccard about 0.6, under the
    threshold): every paragraph is kept, and every one shares shingles with all kept before it."""
    parts, total, k = [], 0, 0
    while total < size:
        k += 1
        part = f"Report {k} said the fire spread quickly through the old warehouse district near the river.\n\n"
        parts.append(part)
        total += len(part)
    return "".join(parts)[:size]


def _numbered_lines(size: int) -> str:
    """One paragraph of lines, every other one a repeat: many lines of one paragraph removed."""
    parts, total, k = [], 0, 0
    while total < size:
        k += 1
        part = f"Line {k} opened here.\nThe fire spread quickly through the old warehouse district.\n"
        parts.append(part)
        total += len(part)
    return "".join(parts)[:size]


def _duplicated_glued_paragraph(size: int) -> str:
    """One paragraph of glued boundaries, then a copy of it: the copy's removal absorbs every
    boundary repair inside it."""
    half = payload("blast.The ", size // 2 - 1)
    return half + "\n\n" + half


def _splices(size: int) -> str:
    """``morning.took place`` repeated in whole units: one context, so every one is a splice
    (a token written again in another context would be taken for a name)."""
    unit = "morning.took place "
    return unit * max(1, size // len(unit))


GENERATED: dict[str, Callable[[int], str]] = {
    "splices": _splices,
    "numbered_paragraphs": _numbered_paragraphs,
    "numbered_reports": _numbered_reports,
    "numbered_lines": _numbered_lines,
    "duplicated_glued_paragraph": _duplicated_glued_paragraph,
}


def payload(unit: str, size: int) -> str:
    """``unit`` repeated to exactly ``size`` characters."""
    return (unit * (size // len(unit) + 1))[:size]


def hostile_text(name: str, size: int) -> str:
    """The text of pattern ``name`` at ``size`` characters."""
    if name in GENERATED:
        return GENERATED[name](size)
    return payload(PATTERNS[name], size)


def best_time(function: Callable[[str], object], text: str, repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


def exponent(sizes: list[int], times: list[float]) -> float:
    """Slope of log(time) against log(size) between the two largest sizes."""
    if len(sizes) < 2 or min(times[-2:]) <= 0:
        return math.nan
    return math.log(times[-1] / times[-2]) / math.log(sizes[-1] / sizes[-2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--max-chars", type=int, default=1_000_000,
                        help="largest size timed (sizes are 10 K, 100 K, 1 M up to this)")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument("--max-exponent", type=float, default=1.25,
                        help="fail when a pattern's growth exponent is above this")
    parser.add_argument("--only", default="", help="comma-separated pattern names")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="skip larger sizes of a pattern once one run takes this many seconds")
    args = parser.parse_args(argv)

    import dedup

    dedup.clean("Warm up.The segmenter and lexicon load once: explo-\nsion “quoted” &lt;X>")
    sizes = [s for s in (10_000, 100_000, 1_000_000) if s <= args.max_chars]
    if args.max_chars not in sizes and args.max_chars > 10_000:
        sizes.append(args.max_chars)
    names = [n for n in [*PATTERNS, *GENERATED] if not args.only or n in args.only.split(",")]
    header = f"{'pattern':28}" + "".join(f"{s:>12,}" for s in sizes) + "   exponent"
    print(header)
    print("-" * len(header))
    failed = []
    for name in names:
        times: list[float] = []
        for size in sizes:
            if times and times[-1] > args.timeout:
                break
            times.append(best_time(dedup.clean, hostile_text(name, size), args.repeat))
        slope = exponent(sizes[: len(times)], times)
        if len(times) < len(sizes) or slope > args.max_exponent:
            failed.append(name)
        cells = "".join(f"{t:>11.3f}s" for t in times) + " " * 12 * (len(sizes) - len(times))
        print(f"{name:28}{cells}   {slope:8.2f}", flush=True)
    if failed:
        print(f"growing faster than n^{args.max_exponent}: {', '.join(failed)}")
        return 1
    print(f"every pattern grows at most like n^{args.max_exponent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
