"""Ray engine: the corpus stages as Ray actors, with the same output bytes as the local engines.

For each context a set of ``jobs`` actors is started, each holding the context (fetched once
from the object store); tasks go to them in turn and results come back to the driver in task
order, with at most ``2 × jobs`` in flight. The band-key reduce runs as one Ray task per band
shard (:func:`sharded_candidate_pairs`). Tasks may run on other machines, so they do not see the
driver's temporary directory (``shares_files`` is false).

Ray is imported here only, lazily: ``import dedup`` and the local engines never need it.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import numpy as np

from dedup.errors import DedupError

__all__ = ["RayEngine", "sharded_candidate_pairs", "import_ray"]

RAY_MISSING = "--engine ray needs Ray: pip install 'dedup-text[ray]'"

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")


def import_ray() -> Any:
    """Import Ray, or raise a one-line :class:`DedupError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise DedupError(RAY_MISSING) from None
    return ray


class StageHost:
    """An actor's state: the context of the stages it runs."""

    def __init__(self, context: Any) -> None:
        self.context = context

    def run(self, stage: Callable[[Any, Any], Any], task: Any) -> Any:
        """``stage(task, context)``."""
        return stage(task, self.context)


class RayEngine:
    """Runs the corpus stages on Ray.

    With no ``address`` a local Ray instance is started with ``jobs`` CPUs (all cores for 0); with
    an address (``auto``, ``ray://host:10001``, ``host:6379``) the existing cluster is used. A Ray
    session that is already initialised (a notebook, a test fixture) is reused and left running.
    """

    shares_files = False

    def __init__(self, jobs: int, address: str | None = None) -> None:
        self._ray = import_ray()
        self.address = address
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self._actors: list[Any] = []
        self._context: object = None

    def _start(self) -> Any:
        ray = self._ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.jobs
            try:
                ray.init(**kwargs)
            except Exception as error:  # connection refused, bad address, ...
                where = self.address or "a local instance"
                first_line = (str(error).splitlines() or [type(error).__name__])[0]
                raise DedupError(f"could not start or reach Ray at {where}: {first_line}") from None
        if self.address:
            self.jobs = int(ray.cluster_resources().get("CPU", self.jobs or 1))
        return ray

    def map(self, stage: Callable[[T, C], R], tasks: Iterable[T], context: C) -> Iterator[R]:
        """``stage(task, context)`` of each task on the actors of ``context``, in task order."""
        ray = self._start()
        if not self._actors or self._context is not context:
            self.close()
            # Actors hold no CPU while alive (Ray's default for actors), so that the band-key
            # reduce's tasks can run beside them.
            host = ray.remote(max_restarts=2, max_task_retries=2)(StageHost)
            context_ref = ray.put(context)
            self._actors = [host.remote(context_ref) for _ in range(max(1, self.jobs))]
            self._context = context
        actors = self._actors
        return self._ordered(lambda k, task: actors[k % len(actors)].run.remote(stage, task), tasks)

    def _ordered(self, submit: Callable[[int, Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        ray = self._ray
        window = max(2, 2 * self.jobs)
        pending: deque[Any] = deque()
        try:
            for k, item in enumerate(items):
                pending.append(submit(k, item))
                if len(pending) >= window:
                    yield _get(ray, pending.popleft())
            while pending:
                yield _get(ray, pending.popleft())
        finally:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)

    def candidates(self, sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
        """LSH candidate pairs from a band-sharded reduce: one Ray task per band shard."""
        self._start()
        return sharded_candidate_pairs(sigs, bands, rows, shards=max(1, self.jobs))

    def close(self) -> None:
        """Stop the actors (the Ray session stays up)."""
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self._actors, self._context = [], None


def _get(ray: Any, ref: Any) -> Any:
    """``ray.get`` that re-raises our own errors as they are and a dead worker as one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, Exception):
            raise cause from None
        raise
    except ray.exceptions.RayError as error:
        kind = type(error).__name__
        raise DedupError(f"a Ray worker failed ({kind}); no output was written") from None


def _band_shard_pairs(sigs: np.ndarray, band_range: tuple[int, int], rows: int) -> np.ndarray:
    """Reducer for one band shard: band keys of its bands, then star edges per bucket."""
    from dedup.corpus.lsh import band_keys, band_shard_pairs

    first, last = band_range
    # band_keys seeds each band by its global position, so a shard's keys (and any 64-bit
    # collision) are exactly those of the single-process plan. The reduce is the one the
    # out-of-core path runs per spilled partition.
    return band_shard_pairs(band_keys(sigs, last, rows, first), np.arange(len(sigs), dtype=np.int64))


def sharded_candidate_pairs(sigs: np.ndarray, bands: int, rows: int, shards: int) -> np.ndarray:
    """:func:`dedup.corpus.lsh.candidate_pairs` over ``band_keys(sigs, bands, rows)``, with the
    bands split into ``shards`` contiguous shards, one Ray task each; the union of the shards'
    star edges, equal to the single-process pairs (a test checks it)."""
    from dedup.corpus.arrays import unique_pairs

    ray = import_ray()
    task = ray.remote(num_cpus=1)(_band_shard_pairs)
    sigs_ref = ray.put(sigs)
    shards = max(1, min(shards, bands))
    edges = np.linspace(0, bands, shards + 1).astype(int)
    ranges = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    return unique_pairs(ray.get([task.remote(sigs_ref, band_range, rows) for band_range in ranges]))
