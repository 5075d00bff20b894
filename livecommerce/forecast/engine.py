"""The map seam: how the per-series function is applied to every series.

An *engine* is any callable ``engine(fn, items) -> list`` that returns ``[fn(x) for x in items]`` in
order. ``fn`` is a top-level function and each item a picklable ``(frame, settings)`` pair, so a
process pool, Dask, Ray or Spark can map it unchanged. :func:`serial_map` runs in this process;
:func:`process_map` spreads the items over worker processes; :func:`dask_map` over the workers of a
Dask cluster (the optional extra ``livecommerce[distributed]``).

Every engine batches the items into chunks and maps :func:`run_chunk` over them: one task per chunk
amortises the scheduling and serialisation overhead over many small series. A Spark engine would
follow the same shape: ``sc.parallelize(chunks, len(chunks)).map(lambda c: run_chunk((fn, c))).collect()``
(``collect`` keeps the partition order), flattened in order. :func:`named_engine` builds an engine from
a name (``local``, ``process``, ``dask``) for the CLI.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = [
    "ENGINES",
    "Engine",
    "chunked",
    "dask_client",
    "dask_map",
    "named_engine",
    "process_map",
    "run_chunk",
    "serial_map",
]

T = TypeVar("T")
R = TypeVar("R")
Engine = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]
#: engine names accepted by :func:`named_engine` (and ``livecommerce forecast run --engine``)
ENGINES = ("local", "process", "dask")


def serial_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Return ``[fn(x) for x in items]``, in this process."""
    return [fn(x) for x in items]


def run_chunk(args: tuple[Callable[[Any], Any], list[Any]]) -> list[Any]:
    """Return ``[fn(x) for x in chunk]`` for an ``(fn, chunk)`` pair: the task every parallel engine runs."""
    fn, chunk = args
    return [fn(x) for x in chunk]


def chunked(items: Sequence[T], n_chunks: int) -> list[list[T]]:
    """Return ``items`` split in order into at most ``n_chunks`` consecutive chunks of near-equal size."""
    if not items:
        return []
    size = max(1, -(-len(items) // max(1, n_chunks)))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


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
        chunks = chunked(items, workers * chunks_per_worker)
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(run_chunk, [(fn, c) for c in chunks]))
        return [r for part in parts for r in part]

    return engine


def dask_map(client: Any, chunks_per_worker: int = 4, max_chunk: int = 200) -> Engine:
    """Return an engine that maps over the workers of a ``distributed.Client``, in chunks, results in order.

    The items are split into about ``chunks_per_worker`` chunks per worker thread (at most ``max_chunk``
    items each, so a large run streams through the cluster and a lost worker costs little); each chunk
    is one task running :func:`run_chunk`. Tasks are submitted with ``pure=False`` (every call runs) and
    the results gathered in submission order, so the output equals :func:`serial_map`'s. The workers
    need ``livecommerce`` installed (the same version) since ``fn`` is pickled by reference.
    """

    def engine(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        threads = max(1, sum(client.nthreads().values()))
        n_chunks = max(threads * chunks_per_worker, -(-len(items) // max_chunk))
        futures = [client.submit(run_chunk, (fn, c), pure=False) for c in chunked(items, n_chunks)]
        try:
            parts = client.gather(futures)
        finally:
            client.cancel(futures)
        return [r for part in parts for r in part]

    return engine


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[Any]:
    """Yield a ``distributed.Client``: connected to ``scheduler`` (``tcp://host:8786``), or to a new
    ``LocalCluster`` of ``n_workers`` worker processes with one thread each, closed on exit.

    Raises ``ImportError`` with the install hint when Dask is missing.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "the Dask engine needs the distributed extra: pip install 'livecommerce[distributed]' "
            "/ 需要安装 Dask：pip install 'livecommerce[distributed]'"
        ) from exc
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def named_engine(name: str = "process", *, n_jobs: int = -1, scheduler: str | None = None) -> Iterator[Engine]:
    """Yield the engine called ``name``: ``local`` (this process), ``process`` (a process pool of ``n_jobs``,
    -1: one per CPU) or ``dask`` (the cluster at ``scheduler``, else a ``LocalCluster`` of ``n_jobs`` worker
    processes, 2 when ``n_jobs`` < 1). Cluster resources are released on exit.
    """
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: one of {', '.join(ENGINES)}")
    if scheduler and name != "dask":
        raise ValueError("--scheduler needs --engine dask / --scheduler 需要 --engine dask")
    if name == "local":
        yield serial_map
    elif name == "process":
        yield serial_map if n_jobs == 1 else process_map(n_jobs)
    else:
        with dask_client(scheduler, n_jobs if n_jobs >= 1 else 2) as client:
            yield dask_map(client)
