"""Out-of-core LSH candidates alone: time and peak RSS of ``dedup.corpus.spilled_candidates`` on a
file of random signatures with planted near duplicates, as ``dedup clean --memory`` runs it.

This isolates the stage that ``--memory`` bounds from the rest of a run (reading, fingerprinting,
the exact verification of pass 1), so it can be measured at 10⁷ documents in a few minutes. The
signature file (``docs × num_perm × 4`` bytes) is written to ``--work`` and removed afterwards.
With ``--check`` the pairs are compared with the in-memory ``local_candidates`` (which holds all
signatures: use it on smaller corpora).

Usage: ``python scripts/bench_spill.py --docs 10000000 --memory 256M [--check]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedup.cli import _bytes  # noqa: E402
from dedup.corpus.lsh import SignatureFile, local_candidates, spilled_candidates  # noqa: E402
from dedup.index import lsh_for  # noqa: E402


def write_signatures(path: Path, docs: int, num_perm: int, seed: int, chunk: int = 1 << 15) -> None:
    """Random signatures; 5% of the documents copy an earlier one with 10% of the values changed."""
    rng = np.random.default_rng(seed)
    with path.open("wb") as handle:
        for start in range(0, docs, chunk):
            block = rng.integers(0, 1 << 32, size=(min(chunk, docs - start), num_perm), dtype=np.uint32)
            copies = np.flatnonzero(rng.random(len(block)) < 0.05)
            copies = copies[copies > 0]
            block[copies] = block[rng.integers(0, copies)]
            changed = rng.random((len(copies), num_perm)) < 0.1
            block[copies] = np.where(changed, rng.integers(0, 1 << 32, size=changed.shape, dtype=np.uint32),
                                     block[copies])
            block.tofile(handle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000_000)
    parser.add_argument("--memory", default="256M")
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="compare with local_candidates (holds all)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    memory = _bytes(args.memory)
    assert memory is not None
    bands, rows = lsh_for(args.threshold, args.num_perm, None, None)
    with tempfile.TemporaryDirectory(prefix="bench-spill-", dir=args.work) as work:
        path = Path(work) / "signatures.u32"
        started = time.perf_counter()
        write_signatures(path, args.docs, args.num_perm, args.seed)
        written = time.perf_counter() - started
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        pairs = spilled_candidates(SignatureFile(str(path), args.docs, args.num_perm, memory), bands, rows)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"documents: {args.docs:,}  signatures: {path.stat().st_size / 1e9:.2f} GB on disk "
              f"(written in {written:.0f} s)  bands×rows: {bands}×{rows}  memory: {args.memory}")
        print(f"spilled_candidates: {seconds:.1f} s  {len(pairs):,} candidate pairs")
        print(f"peak RSS: {peak / 1024:.0f} MB (before the stage: {before / 1024:.0f} MB)  "
              f"= {peak * 1024 / args.docs:.0f} B/document")
        if args.check:
            sigs = np.fromfile(path, dtype=np.uint32).reshape(args.docs, args.num_perm)
            same = np.array_equal(local_candidates(sigs, bands, rows), pairs)
            print(f"equal to local_candidates: {same}")
            if not same:
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
