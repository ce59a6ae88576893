"""Ray engine: the corpus passes as Ray Core tasks, with the same output bytes as the local engine.

Each pass-1 batch (document texts) is fingerprinted in its own task and each pass-2 batch
(``(index, text, drop)`` items) is cleaned in its own task; results come back to the driver in
submission order, so outputs and the report are written exactly as the local engine writes them.
The plan between the passes (LSH bucketing, clusters, boilerplate) runs in the driver;
:func:`sharded_candidate_pairs` is the band-sharded form of that shuffle as Ray tasks.

What it leaves alone: what is decided. The task bodies are the local engine's own pass functions
(:func:`dedup.run._pass1` and :func:`dedup.run._pass2`) over the same batches and the same config.

Ray is imported here only, lazily: ``import dedup`` and the local engine never need it.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dedup.config import DedupConfig
from dedup.errors import DedupError

__all__ = ["RayEngine", "sharded_candidate_pairs"]

RAY_MISSING = "--engine ray needs Ray: pip install 'dedup-text[ray]'"


def import_ray() -> Any:
    """Import Ray, or raise a one-line :class:`DedupError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise DedupError(RAY_MISSING) from None
    return ray


def _run_batch(fn: Callable[[Any], Any], config: DedupConfig, boilerplate: list[Any],
               items: Any) -> Any:
    """Task body: set the worker state the local pool initializer would set, then run ``fn``.

    ``boilerplate`` is ``[]`` or ``[ObjectRef]`` (wrapped so Ray does not resolve it per task): the
    dict is fetched once per worker process and kept while the same run uses it.
    """
    from dedup.run import _WORKER

    units: dict[int, tuple[int, int]] = {}
    if boilerplate:
        ref = boilerplate[0]
        key = ref.hex()
        if _WORKER.get("boilerplate_ref") != key:
            import ray

            _WORKER["boilerplate_ref"] = key
            _WORKER["boilerplate_units"] = ray.get(ref)
        units = _WORKER["boilerplate_units"]
    _WORKER["config"] = config
    _WORKER["boilerplate"] = units
    return fn(items)


class RayEngine:
    """Runs the two corpus passes as Ray tasks; same ``_mapper`` interface as ``CorpusEngine``.

    With no ``address`` a local Ray instance is started with ``jobs`` CPUs (all cores for 0); with
    an address (``auto``, ``ray://host:10001``, ``host:6379``) the existing cluster is used. A Ray
    session that is already initialised (a notebook, a test fixture) is reused and left running.
    """

    def __init__(self, config: DedupConfig, jobs: int, address: str | None = None) -> None:
        self._ray = import_ray()
        self.config = config
        self.address = address
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)

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
        if self.address or not self.jobs:
            self.jobs = int(ray.cluster_resources().get("CPU", self.jobs or 1))
        return ray

    def candidates(self, sigs: Any, bands: int, rows: int) -> Any:
        """LSH candidate pairs from a band-sharded reduce: one Ray task per band shard."""
        self._start()
        return sharded_candidate_pairs(sigs, bands, rows, shards=max(1, self.jobs))

    def _ordered(self, submit: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Submit a task per item and yield results in order, with at most ``2 × workers`` in
        flight (this bounds the driver's memory); pending tasks are cancelled on the way out."""
        ray = self._ray
        window = max(2, 2 * self.jobs)
        pending: deque[Any] = deque()
        try:
            for item in items:
                pending.append(submit(item))
                if len(pending) >= window:
                    yield _get(ray, pending.popleft())
            while pending:
                yield _get(ray, pending.popleft())
        finally:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)

    def map_sources(self, fn: Callable[..., Any], items: Iterable[Any], shared: Any = None,
                    boilerplate: dict[int, tuple[int, int]] | None = None,
                    spill: str | None = None) -> Iterator[Any]:
        """Run ``fn`` once per shard as a Ray task, where the data is read and written; results
        come back in order. ``spill`` (the driver's directory) is not used: tasks may run on
        other machines, so pass 2 segments again."""
        ray = self._start()
        task = ray.remote(num_cpus=1, max_retries=2)(_run_source)
        config_ref = ray.put(self.config)
        boilerplate_arg = [ray.put(boilerplate)] if boilerplate else []
        shared_arg = [ray.put(shared)] if shared is not None else []
        yield from self._ordered(lambda item: task.remote(fn, config_ref, boilerplate_arg, shared_arg, item), items)

    @contextlib.contextmanager
    def _mapper(self, boilerplate: dict[int, tuple[int, int]] | None,
                spill: str | None = None) -> Iterator[Callable[..., Iterable[Any]]]:
        # ``spill`` is a directory of the driver's machine; Ray workers may be elsewhere, so
        # they segment again in pass 2 instead of reading pass 1's segments from it.
        ray = self._start()
        task = ray.remote(num_cpus=1, max_retries=2)(_run_batch)
        config_ref = ray.put(self.config)
        boilerplate_arg = [ray.put(boilerplate)] if boilerplate else []

        def mapper(fn: Callable[..., Any], items: Iterable[Any]) -> Iterator[Any]:
            return self._ordered(lambda item: task.remote(fn, config_ref, boilerplate_arg, item), items)

        yield mapper


def _run_source(fn: Callable[..., Any], config: DedupConfig, boilerplate: list[Any], shared: list[Any],
                item: Any) -> Any:
    """Task body for a whole shard: like :func:`_run_batch`, plus run-wide ``shared`` data
    (fetched from the object store once per worker process)."""
    from dedup.run import _WORKER

    if not shared:
        return _run_batch(fn, config, boilerplate, item)
    key = shared[0].hex()
    if _WORKER.get("shared_ref") != key:
        import ray

        _WORKER["shared_ref"] = key
        _WORKER["shared"] = ray.get(shared[0])
    data = _WORKER["shared"]
    return _run_batch(lambda value: fn(value, data), config, boilerplate, item)


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


def _band_shard_pairs(sigs: Any, band_range: tuple[int, int], rows: int) -> Any:
    """Reducer for one band shard: band keys of its bands, then star edges per bucket."""
    import numpy as np

    from dedup.corpus import band_keys, band_shard_pairs

    first, last = band_range
    # band_keys seeds each band by its global position, so a shard's keys (and any 64-bit
    # collision) are exactly those of the single-process plan. The reduce is the one the
    # out-of-core path runs per spilled partition.
    return band_shard_pairs(band_keys(sigs, last, rows, first), np.arange(len(sigs), dtype=np.int64))


def sharded_candidate_pairs(sigs: Any, bands: int, rows: int, shards: int) -> Any:
    """:func:`dedup.corpus.candidate_pairs` over ``band_keys(sigs, bands, rows)``, with the bands
    split into ``shards`` contiguous shards, one Ray task each; the union of the shards' star edges.

    Each reducer computes its own band keys from the shared signature array (one object-store
    copy, read zero-copy by every task) instead of shuffling keys between tasks; the result equals
    the single-process ``candidate_pairs`` exactly (a test checks it).
    """
    import numpy as np

    ray = import_ray()
    task = ray.remote(num_cpus=1)(_band_shard_pairs)
    sigs_ref = ray.put(sigs)
    shards = max(1, min(shards, bands))
    edges = np.linspace(0, bands, shards + 1).astype(int)
    ranges = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    refs = [task.remote(sigs_ref, band_range, rows) for band_range in ranges]
    from dedup.corpus import unique_pairs

    return unique_pairs(ray.get(refs))
