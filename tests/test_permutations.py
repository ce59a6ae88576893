"""dedup draws datasketch's permutations itself (so a run need not import datasketch): they must
be datasketch's, for every size and seed."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from dedup.fingerprint import permutations


@pytest.mark.parametrize("num_perm", [1, 16, 128, 256])
@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 - 1])
def test_permutations_are_datasketchs(num_perm, seed):
    a, b = permutations(num_perm, seed)
    reference = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert a.dtype == b.dtype == np.uint32
    assert np.array_equal(a, reference[0]) and np.array_equal(b, reference[1])
