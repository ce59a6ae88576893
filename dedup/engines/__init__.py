"""Engines: what runs the corpus stages. One protocol (:class:`Engine`), three classes: this
process (:class:`InProcessEngine`), a local process pool (:class:`PoolEngine`) and Ray
(:class:`dedup.engines.ray.RayEngine`, imported only when asked for).
"""

from __future__ import annotations

from dedup.engines.base import Engine, Stage
from dedup.engines.local import InProcessEngine, PoolEngine
from dedup.errors import DedupError

__all__ = ["Engine", "Stage", "InProcessEngine", "PoolEngine", "make_engine"]


def make_engine(name: str, jobs: int, address: str | None = None) -> Engine:
    """The engine called ``name`` (``local`` or ``ray``) with ``jobs`` workers (0: all cores).

    >>> make_engine("local", 1).jobs
    1
    """
    if name not in ("local", "ray"):
        raise DedupError(f"engine must be 'local' or 'ray', got {name!r}")
    if address and name != "ray":
        raise DedupError("--ray-address needs --engine ray")
    if name == "ray":
        from dedup.engines.ray import RayEngine

        return RayEngine(jobs, address)
    pool = PoolEngine(jobs)
    return pool if pool.jobs > 1 else InProcessEngine()
