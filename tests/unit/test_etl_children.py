"""The ETL's helper processes die with a killed loader, and a later run removes the spool folders it left."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from etl.load.children import die_with_parent, spool_folder, sweep_spool_folders


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_etl072_a_helper_dies_when_its_loader_is_killed() -> None:
    """A helper inherits the loader's ETL lock: outliving a killed loader, it would keep the next run waiting."""
    read_end, write_end = os.pipe()
    loader = os.fork()
    if loader == 0:  # the loader: starts a helper that would otherwise sleep for a minute, then waits
        os.close(read_end)
        parent = os.getpid()
        if os.fork() == 0:
            die_with_parent(parent)
            os.write(write_end, str(os.getpid()).encode())  # set up: the loader is killed only now
            time.sleep(60)
            os._exit(0)
        time.sleep(60)
        os._exit(0)
    os.close(write_end)
    helper = int(os.read(read_end, 32).decode())
    os.close(read_end)
    try:
        assert _running(helper)
        os.kill(loader, signal.SIGKILL)
        os.waitpid(loader, 0)
        deadline = time.monotonic() + 10
        while _running(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(helper)
    finally:
        if _running(helper):
            os.kill(helper, signal.SIGKILL)


def test_etl072_spool_folders_of_finished_processes_are_swept(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    mine = spool_folder("running")
    assert mine.name.startswith(f"arogya-etl-running-{os.getpid()}-")
    finished = os.fork()
    if finished == 0:
        os._exit(0)
    os.waitpid(finished, 0)  # reaped: that process id is free
    left = tmp_path / f"arogya-etl-reader-{finished}-abc"
    left.mkdir()
    (left / "0-0.pickle").write_bytes(b"x")
    other = tmp_path / "arogya-etl-notes"  # not a spool folder
    other.mkdir()
    assert sweep_spool_folders() == [left]
    assert mine.exists() and other.exists() and not left.exists()
