"""Scratch folders: a process killed with SIGKILL leaves its folder; the next scratch folder made removes it
once it has been idle an hour, and leaves running processes' folders, recent ones and other names alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livecommerce.scratch import IDLE_SECONDS, new_scratch, sweep

_KILLED_CHILD = """
import sys, time
from livecommerce.scratch import new_scratch
with new_scratch("rollup", sys.argv[1]) as folder:
    open(folder + "/parked.arrow", "wb").write(b"x" * 4096)
    print(folder, flush=True)
    time.sleep(600)  # killed here: the with block never ends
"""


def _aged(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_process_folder_is_removed_by_the_next_one_once_idle(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert (left / "parked.arrow").exists()  # what kill -9 leaves behind
    assert left.name.startswith(f"livecommerce-rollup-{child.pid}-")

    with new_scratch("upload", tmp_path) as mine:  # recent: kept (its process id may be another container's)
        assert Path(mine).name.startswith(f"livecommerce-upload-{os.getpid()}-")
        assert left.exists()
    assert not Path(mine).exists()  # removed when the block ends

    _aged(left, IDLE_SECONDS + 60)
    with new_scratch("upload", tmp_path) as mine:
        assert not left.exists()  # dead and idle: removed
        assert Path(mine).is_dir()


def test_sweep_leaves_running_recent_and_foreign_folders(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    gone = tmp_path / f"livecommerce-written-{dead_pid}-abc"
    running = tmp_path / f"livecommerce-written-{os.getpid()}-abc"
    other = tmp_path / f"someone-else-{dead_pid}-abc"
    a_file = tmp_path / f"livecommerce-upload-{dead_pid}-file"
    recent = tmp_path / f"livecommerce-upload-{dead_pid}-new"
    for folder in (gone, running, other, recent):
        folder.mkdir()
        (folder / "data").write_text("x")
    a_file.write_text("not a folder")
    for path in (gone, running, other, a_file):
        _aged(path, IDLE_SECONDS * 3)

    assert sweep(tmp_path) == [gone]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (running, other, a_file, recent))
    assert sweep(tmp_path, idle_seconds=0) == [recent]  # idle long enough by the caller's measure
    assert sweep(tmp_path / "missing") == []


def test_a_scratch_folder_kind_is_lower_case_letters(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lower-case letters"):
        new_scratch("../etc", tmp_path)
    folder = new_scratch("written", tmp_path)
    assert Path(folder.name).parent == tmp_path and Path(folder.name).is_dir()
    folder.cleanup()
    assert not Path(folder.name).exists()
