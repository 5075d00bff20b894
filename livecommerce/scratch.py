"""Scratch folders: temporary directories that a killed process does not leave behind for ever.

A load parks order lines and rollup spans in Arrow files under the system's temporary folder, and an
upload writes the files it was sent there. ``tempfile.TemporaryDirectory`` removes them when the work
ends, even on an error, but not when the process is killed (``kill -9``, a closed terminal window's
hang-up, a power cut on a county office laptop): the folder stays, and a large load's parked lines are
gigabytes. Each folder of :func:`new_scratch` (a ``TemporaryDirectory``: ``with new_scratch(kind) as
path``) carries its process id in its name (``livecommerce-<kind>-<pid>-<random>``), and making one first
removes the folders of processes that no longer run and that nothing has written to for an hour
(:func:`sweep`; the hour keeps a folder whose process id this process cannot see, another container's
sharing the folder, safe while it works).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

__all__ = ["new_scratch", "sweep"]

#: a scratch folder's name: ``livecommerce-<kind>-<pid>-<random suffix of tempfile>``
_NAME = re.compile(r"^livecommerce-[a-z]+-(\d+)-[^/]+$")
#: seconds since its last change before a dead process's folder is removed
IDLE_SECONDS = 3600.0


def _running(pid: int) -> bool:
    """True when a process with this id runs (one of another user counts: it cannot be signalled, but it runs)."""
    if pid <= 0:
        return True  # not a process id we wrote: leave the folder alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs as another user
        pass
    return True


def sweep(base: str | os.PathLike[str] | None = None, idle_seconds: float = IDLE_SECONDS) -> list[Path]:
    """Remove the scratch folders under ``base`` (the system's temporary folder by default) whose process no
    longer runs and that have not changed for ``idle_seconds``; return the folders removed. Folders of running
    processes, recent ones, other names and anything that cannot be removed (another user's) are left."""
    root = Path(base if base is not None else tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        found = _NAME.match(entry.name)
        if found is None or not entry.is_dir(follow_symlinks=False) or _running(int(found.group(1))):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat(follow_symlinks=False).st_mtime < idle_seconds:
                continue
            shutil.rmtree(entry.path)
            removed.append(Path(entry.path))
    return removed


def new_scratch(kind: str, base: str | os.PathLike[str] | None = None) -> tempfile.TemporaryDirectory[str]:
    """Return a new ``tempfile.TemporaryDirectory`` named ``livecommerce-<kind>-<pid>-…`` under ``base`` (the
    system's temporary folder by default), after removing what killed processes left there (:func:`sweep`); as a
    context manager it yields the path and removes the folder when the block ends, even on an error. ``kind``:
    lower-case letters (``upload``, ``rollup``, …)."""
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"a scratch folder's kind is lower-case letters, not {kind!r}")
    sweep(base)
    return tempfile.TemporaryDirectory(prefix=f"livecommerce-{kind}-{os.getpid()}-", dir=base)
