"""Show that the repairer runs in linear time on adversarial input (issue 5).

Each pattern below is built to stress one of the repairer's regular expressions or its
bounded-window context checks: long runs of dots, digits, dashes, quotes and newlines, and
repeated near-matches (``aa.aa.aa``, ``Ab.Cd.Ef``, ``x-\\nx-\\n``). For each pattern the script
times ``fix_encoding`` + ``repair`` (the stage that owns the regexes) at 0.25, 0.5 and 1 MB and
prints the ratio of the largest to the smallest time: about 4 (the size ratio) means linear, 16
quadratic. Timings are best-of-``--repeat``; run on a quiet machine.
``--full`` also times the whole ``clean_and_explain`` pipeline.

Usage::

    python scripts/bench_regex.py [--sizes 0.25,0.5,1] [--repeat 3] [--full]

Exit code 1 if any pattern's time grows more than ``--max-excess`` (default 1.5) times faster than
its size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PATTERNS: dict[str, str] = {
    "dots": ".",
    "digits": "7",
    "digits_and_dots": "1.2",
    "dashes": "-",
    "em_dashes": "—",
    "straight_quotes": '"',
    "curly_quotes": "“”’",
    "newlines": "\n",
    "blank_lines": "\n \n",
    "lowercase_run": "a",
    "glued_boundaries": "Ab.Cd",
    "splices": "aa.aa ",
    "splice_near_miss": "aa.aa",
    "abbreviations": "U.S.",
    "hyphen_wraps": "x-\n",
    "wrapped_words": "word word word\n",
    "quote_glued": 'a"b',
    "list_markers": "1) - ",
    "ellipses": "...a",
    "url_like": "www.a.b/",
    "mojibake": "â€™",
}


def _payload(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _time(function, text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0.25,0.5,1", help="sizes in MB (characters / 1e6)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--max-excess", type=float, default=1.5,
                        help="fail when time grows this many times faster than size (1.0 = exactly linear)")
    parser.add_argument("--full", action="store_true", help="also time the whole clean_and_explain")
    parser.add_argument("--only", default="", help="comma-separated pattern names")
    args = parser.parse_args(argv)

    import dedup
    from dedup.config import DedupConfig
    from dedup.repair import fix_encoding, get_lexicon, repair
    from dedup.segment import segmenter_for

    config = DedupConfig()
    abbreviations = segmenter_for(config.segment).abbreviations
    lexicon = get_lexicon()

    def repairer(text: str) -> None:
        fixed, _ = fix_encoding(text)
        repair(fixed, config.repair, abbreviations, lexicon)

    repairer("Warm up.The lexicon loads once: explo-\nsion “quoted” â€™\n")
    dedup.clean_and_explain("Warm up.The segmenter loads once.")
    stages = [("repair", repairer)]
    if args.full:
        stages.append(("clean_and_explain", dedup.clean_and_explain))

    sizes = [int(float(s) * 1_000_000) for s in args.sizes.split(",")]
    names = [n for n in PATTERNS if not args.only or n in args.only.split(",")]
    header = f"{'stage':18} {'pattern':18} " + " ".join(f"{s / 1e6:>7.2f}MB" for s in sizes) + "   ratio"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for stage, function in stages:
        for name in names:
            times = [_time(function, _payload(PATTERNS[name], size), args.repeat) for size in sizes]
            ratio = times[-1] / times[0] if times[0] > 0 else float("nan")
            expected = sizes[-1] / sizes[0]
            worst = max(worst, ratio / expected)
            print(f"{stage:18} {name:18} " + " ".join(f"{t:>8.3f}s" for t in times)
                  + f"   {ratio:5.2f} (linear: {expected:.0f})", flush=True)
    print(f"worst growth relative to linear: {worst:.2f}x (limit {args.max_excess}x; quadratic would be "
          f"{sizes[-1] / sizes[0]:.0f}x)")
    return 1 if worst > args.max_excess else 0


if __name__ == "__main__":
    sys.exit(main())
