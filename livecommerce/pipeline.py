"""Overlap producing and consuming: a thread computes the next items while the caller uses the current one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items`` in order while a thread produces up to ``depth`` of them ahead.

    The ETL reads and validates the next batch of a file, and the rollup refresh aggregates the next
    quarter, while the database writes the current one (polars and the database drivers release the
    GIL, and the machine has a core for each). An exception of the producer is raised here, at the
    item where it happened; when the consumer stops early, the producer stops at its next item.
    The producer must not share a database connection with the consumer."""
    pending: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        pending.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            pending.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            pending.put((_DONE, exc))

    worker = threading.Thread(target=produce, name="etl-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = pending.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                pending.get_nowait()
            except queue.Empty:
                worker.join(0.05)
