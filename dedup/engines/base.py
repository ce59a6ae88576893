"""The engine protocol: how the corpus stages are run, whatever runs them.

An engine does two things for the driver (:mod:`dedup.run`):

* :meth:`Engine.map` runs a *stage* (a plain function ``stage(task, context)``) over tasks, in
  worker processes or elsewhere, and yields the results in task order. The ``context`` is an
  explicit, picklable object that every task of the call shares (the config, the plan between
  the passes, ...); the engine delivers it to each worker once, not once per task. Consecutive
  calls with the same context object may reuse the same workers.
* :meth:`Engine.candidates` is the LSH band-key reduce: candidate pairs from signatures.

``shares_files`` says whether tasks run on this machine and see its temporary directory (then
byte ranges of one file are written side by side into parts of one output, joined in order).
Output bytes are the same whichever engine runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

import numpy as np

__all__ = ["Engine", "Stage"]

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")

Stage = Callable[[T, C], R]
"""A stage: a plain function of one task and the shared context."""


class Engine(Protocol):
    """What the driver needs of an engine (see the module docstring)."""

    #: How many tasks run at once.
    jobs: int
    #: Whether tasks see this machine's files (the run's temporary directory).
    shares_files: bool

    def map(self, stage: Callable[[T, C], R], tasks: Iterable[T], context: C) -> Iterator[R]:
        """``stage(task, context)`` of every task, in task order, with a bounded number in flight."""
        ...

    def candidates(self, sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
        """LSH candidate pairs (see :func:`dedup.corpus.lsh.local_candidates`), same pairs."""
        ...

    def close(self) -> None:
        """Stop the engine's workers (the engine may not be used afterwards)."""
        ...
