"""The map seam: how the per-series function is applied to every series.

An *engine* is any callable ``engine(fn, items) -> list`` that returns ``[fn(x) for x in items]`` in
order. ``fn`` is a top-level function and each item a picklable ``(frame, settings)`` pair, so a
process pool, Dask, Ray or Spark can map it unchanged. :func:`serial_map` runs in this process;
:func:`process_map` spreads the items over worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["Engine", "process_map", "serial_map"]

T = TypeVar("T")
R = TypeVar("R")
Engine = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


def serial_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Return ``[fn(x) for x in items]``, in this process."""
    return [fn(x) for x in items]


def _run_chunk(args: tuple[Callable[[Any], Any], list[Any]]) -> list[Any]:
    fn, chunk = args
    return [fn(x) for x in chunk]


def process_map(n_jobs: int = -1, chunks_per_worker: int = 4, min_items_per_worker: int = 100) -> Engine:
    """Return an engine that maps over ``n_jobs`` worker processes (-1: one per CPU), in chunks.

    Workers are spawned (polars is not fork-safe) and cost a few seconds each to start (imports), so fewer
    workers are used when there are fewer than ``min_items_per_worker`` items per worker, and none
    (this process) below two workers' worth.
    """

    def engine(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        workers = (os.cpu_count() or 1) if n_jobs in (-1, 0, None) else max(1, n_jobs)
        workers = min(workers, len(items) // min_items_per_worker)
        if workers <= 1:
            return serial_map(fn, items)
        size = max(1, -(-len(items) // (workers * chunks_per_worker)))
        chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_run_chunk, [(fn, c) for c in chunks]))
        return [r for part in parts for r in part]

    return engine
