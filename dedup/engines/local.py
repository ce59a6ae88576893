"""Local engines: this process, or a pool of worker processes on this machine.

A :class:`PoolEngine` starts its workers for one context: each worker process receives the
context once, when it starts (forked on Linux, so a large plan is inherited, never pickled), and
keeps it in a local variable of its loop. No module-level state is read or written. Tasks and
results travel through queues; results come back in task order with at most ``2 × jobs`` tasks
in flight, so reading never runs ahead of the workers.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

import numpy as np

from dedup.errors import DedupError
from dedup.lifecycle import die_with_parent

__all__ = ["InProcessEngine", "PoolEngine"]

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")

WORKER_DIED = "a worker process died (out of memory or killed); no output was written"


class InProcessEngine:
    """Runs every stage in this process, one task after another."""

    jobs = 1
    shares_files = True

    def map(self, stage: Callable[[T, C], R], tasks: Iterable[T], context: C) -> Iterator[R]:
        """``stage(task, context)`` of each task, in order.

        >>> list(InProcessEngine().map(lambda task, context: task * context, [1, 2], 10))
        [10, 20]
        """
        return (stage(task, context) for task in tasks)

    def candidates(self, sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
        """All bands in this process (:func:`dedup.corpus.lsh.local_candidates`)."""
        from dedup.corpus.lsh import local_candidates

        return local_candidates(sigs, bands, rows)

    def close(self) -> None:
        """Nothing to stop."""


class PoolEngine:
    """Runs stages in ``jobs`` worker processes (0: one per core).

    Workers are started for a context and kept while :meth:`map` is called with that same
    context object (prepare and the plan's exact checks share them); a new context starts new
    workers. :meth:`candidates` computes bands in workers when there are at least
    ``min_band_docs`` signatures (below that, forking costs more than the bands).
    """

    shares_files = True

    def __init__(self, jobs: int, *, min_band_docs: int = 1 << 16) -> None:
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.min_band_docs = min_band_docs
        self._workers: _Workers | None = None
        self._context: object = None

    def map(self, stage: Callable[[T, C], R], tasks: Iterable[T], context: C) -> Iterator[R]:
        """``stage(task, context)`` of each task in the workers, results in task order."""
        if self._workers is None or self._context is not context:
            self.close()
            self._workers, self._context = _Workers(self.jobs, context), context
        return self._workers.map(stage, tasks)

    def candidates(self, sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
        """The star edges of each band computed in a worker (the workers share the signatures,
        forked after them), or all bands in this process for few signatures; the same pairs."""
        from dedup.corpus.arrays import unique_pairs
        from dedup.corpus.lsh import band_candidates, local_candidates

        if bands < 2 or len(sigs) < self.min_band_docs or sys.platform != "linux":
            return local_candidates(sigs, bands, rows)
        return unique_pairs(list(self.map(_band_edges, range(bands), (band_candidates, sigs, rows))))

    def close(self) -> None:
        """Stop the workers."""
        if self._workers is not None:
            self._workers.close()
        self._workers = self._context = None


def _band_edges(band: int, context: tuple[Callable[..., np.ndarray], np.ndarray, int]) -> np.ndarray:
    candidates, sigs, rows = context
    return candidates(sigs, band, rows)


def _worker_loop(context: Any, tasks: Any, results: Any) -> None:
    """A worker's life: run ``(number, stage, task)`` items with ``context`` until ``None``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles an interruption
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (not the command line's handler, which raises)
    die_with_parent()  # a worker never outlives the run (SIGKILL of the parent)
    while True:
        item = tasks.get()
        if item is None:
            return
        number, stage, task = item
        # Serialised here (as the queue would), so that a result that cannot be sent becomes an
        # error the parent raises instead of a result that never arrives.
        try:
            payload = bytes(ForkingPickler.dumps((True, stage(task, context))))
        except BaseException as error:  # sent to the parent, which raises it
            try:
                payload = bytes(ForkingPickler.dumps((False, error)))
            except Exception:
                payload = bytes(ForkingPickler.dumps((False, RuntimeError(f"{type(error).__name__}: {error}"))))
        results.put((number, payload))


class _Workers:
    """``jobs`` worker processes sharing one context, fed from one task queue."""

    def __init__(self, jobs: int, context: Any) -> None:
        import multiprocessing

        mp: Any = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        self._tasks = mp.Queue()
        self._results = mp.Queue()
        self._processes = [mp.Process(target=_worker_loop, args=(context, self._tasks, self._results), daemon=True)
                           for _ in range(jobs)]
        for process in self._processes:
            process.start()
        self._limit = 2 * jobs
        self._busy = 0  # tasks submitted whose results were not taken

    def map(self, stage: Callable[[T, Any], R], tasks: Iterable[T]) -> Iterator[R]:
        submitted = taken = 0
        done: dict[int, bytes] = {}
        try:
            for task in tasks:
                self._tasks.put((submitted, stage, task))
                submitted += 1
                self._busy += 1
                while submitted - taken >= self._limit:
                    yield self._take(taken, done)
                    taken += 1
            while taken < submitted:
                yield self._take(taken, done)
                taken += 1
        finally:
            if taken < submitted:  # stopped early (an error, an interruption): start nothing more
                self.close()

    def _take(self, number: int, done: dict[int, bytes]) -> Any:
        while number not in done:
            try:
                got, payload = self._results.get(timeout=0.2)
            except queue.Empty:
                if any(process.exitcode is not None for process in self._processes):
                    self.close()
                    raise DedupError(WORKER_DIED) from None
                continue
            done[got] = payload
        self._busy -= 1
        ok, value = ForkingPickler.loads(done.pop(number))
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the workers: when idle, each after its last task; else at once."""
        if not self._processes:
            return
        if self._busy:
            for process in self._processes:
                process.terminate()
        else:
            for _ in self._processes:
                self._tasks.put(None)
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        self._processes = []
        self._tasks.close()
        self._results.close()
