"""Shared helpers for ``scripts/bench.py`` and ``scripts/bench_peers.py``.

Benchmark-only code: nothing in the ``dedup`` package imports it, and nothing here is a runtime
dependency of dedup. ``corpus`` builds the real-text corpus in the user's cache, ``measure`` runs
and times work in fresh processes (wall time, CPU time, peak RSS), ``table`` prints the results.
"""
