"""LSH accuracy: measured probability that a pair becomes a candidate, against the S-curve.

For a threshold, dedup picks ``bands`` × ``rows``. Two sets whose Jaccard similarity is ``s`` share
one band with probability ``s**rows``, so they become candidates with probability
``1 - (1 - s**rows)**bands`` (the S-curve). This module builds pairs of synthetic sets with a
controlled exact Jaccard, signs them with real MinHash (dedup's own signatures when dedup exposes
them, and datasketch's ``MinHash``), applies the banding, and counts candidates per 0.1-wide bin.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Signer = Callable[[list[np.ndarray], int, int], np.ndarray]


@dataclass(frozen=True)
class CurveRow:
    """One Jaccard bin of the LSH accuracy table.

    Attributes:
        low: bin start (inclusive).
        high: bin end (exclusive, except the last bin).
        pairs: pairs sampled in the bin.
        theory: mean S-curve probability over the sampled pairs' exact Jaccard.
        measured: fraction found as candidates, per signer name.
    """

    low: float
    high: float
    pairs: int
    theory: float
    measured: dict[str, float]


def s_curve(similarity: float, bands: int, rows: int) -> float:
    """Theoretical candidate probability ``1 - (1 - s**rows)**bands``.

    >>> round(s_curve(0.8, 9, 13), 3)
    0.399
    """
    return 1.0 - (1.0 - similarity**rows) ** bands


def pair_with_jaccard(target: float, union: int,
                      rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of distinct 32-bit values whose exact Jaccard is as close to ``target`` as ``union``
    allows.

    >>> a, b = pair_with_jaccard(0.5, 100, random.Random(0))
    >>> len(set(a) & set(b)) / len(set(a) | set(b))
    0.5
    """
    shared = round(target * union)
    each = (union - shared) // 2
    values = rng.sample(range(1, 2**32 - 1), shared + 2 * each)
    common = values[:shared]
    a = np.array(common + values[shared : shared + each], dtype=np.uint32)
    b = np.array(common + values[shared + each :], dtype=np.uint32)
    return a, b


def datasketch_signer(sets: list[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    """datasketch ``MinHash`` signatures of uint32 sets, as an array (one row per set)."""
    from datasketch import MinHash

    rows = []
    for values in sets:
        minhash = MinHash(num_perm=num_perm, seed=seed)
        minhash.update_batch([int(v).to_bytes(4, "little") for v in values])
        rows.append(minhash.hashvalues)
    return np.array(rows)


def dedup_signer() -> Signer | None:
    """dedup's batched signature function, if dedup exposes one."""
    try:
        module = importlib.import_module("dedup.fingerprint")
    except ImportError:
        return None
    function = getattr(module, "signatures", None)
    return function if callable(function) else None


def candidate(sig_a: np.ndarray, sig_b: np.ndarray, bands: int, rows: int) -> bool:
    """True when the two signatures agree on every row of at least one band.

    >>> candidate(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0]), 2, 2)
    True
    """
    a = sig_a[: bands * rows].reshape(bands, rows)
    b = sig_b[: bands * rows].reshape(bands, rows)
    return bool(np.any(np.all(a == b, axis=1)))


def measure_curve(bands: int, rows: int, num_perm: int, signers: dict[str, Signer],
                  pairs_per_bin: int = 200, union: int = 200, seed: int = 0) -> list[CurveRow]:
    """Measure candidate probability per Jaccard bin for each signer.

    Args:
        bands: LSH bands.
        rows: rows per band.
        num_perm: signature length.
        signers: name → function signing a list of sets.
        pairs_per_bin: pairs sampled in each 0.1-wide bin.
        union: size of each pair's union (controls the Jaccard resolution).
        seed: seed for the sets and MinHash permutations.
    """
    rng = random.Random(seed)
    table = []
    for step in range(10):
        low, high = step / 10, (step + 1) / 10
        sets: list[np.ndarray] = []
        truths = []
        for _ in range(pairs_per_bin):
            a, b = pair_with_jaccard(rng.uniform(low, high), union, rng)
            sets += [a, b]
            truths.append(len(np.intersect1d(a, b)) / len(np.union1d(a, b)))
        measured = {}
        for name, signer in signers.items():
            signatures = signer(sets, num_perm, seed + 1)
            found = sum(candidate(signatures[2 * i], signatures[2 * i + 1], bands, rows)
                        for i in range(pairs_per_bin))
            measured[name] = found / pairs_per_bin
        theory = float(np.mean([s_curve(s, bands, rows) for s in truths]))
        table.append(CurveRow(low, high, pairs_per_bin, theory, measured))
    return table
