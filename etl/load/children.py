"""What the ETL's forked helpers (reader processes, the running-totals child) share: they die with the loader,
and their spool folders carry the loader's process id so that a later run can remove those a killed run left.

A child inherits the loader's open files: the ETL lock (a file lock on SQLite, an advisory-lock connection on
PostgreSQL) and its database connections. A child that outlived a killed loader would keep the lock, and the next
run would wait for it; so each child asks the kernel to kill it when its parent dies (Linux), and also checks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import pickle
import re
import shutil
import signal
import tempfile
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

log = logging.getLogger("arogya.etl")

_PREFIX = "arogya-etl-"
_SPOOL = re.compile(r"arogya-etl-[a-z]+-(\d+)-")
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """In a forked child: be killed when ``parent`` dies (Linux), and exit now if it already has."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the children also check getppid
        pass
    if parent_gone(parent):
        os._exit(0)


def parent_gone(parent: int) -> bool:
    return os.getppid() != parent


POLL_S = 1.0


def wait_for_slot(slots: Any, parent: int) -> None:
    """In a child: take one of the places in the loader's queue (a semaphore), waiting for one; exit if the loader
    is gone meanwhile (nobody would read what the child sends)."""
    while not slots.acquire(timeout=POLL_S):
        if parent_gone(parent):
            os._exit(0)


def spool(path: Path, item: object) -> str:
    """Write ``item`` (pickled) to ``path`` whole or not at all: a child killed while writing leaves only a
    ``.part`` file, which nobody reads. Returns the path, for the message that announces it."""
    part = path.with_suffix(".part")
    with open(part, "wb") as handle:
        pickle.dump(item, handle, protocol=pickle.HIGHEST_PROTOCOL)
    part.replace(path)
    return str(path)


def receive(inbox: Connection, process: BaseProcess) -> tuple | None:
    """The next message from a helper process, waiting for it; None once the helper has ended without one."""
    while True:
        try:
            if inbox.poll(POLL_S):
                return inbox.recv()
        except EOFError:
            pass
        if not process.is_alive():
            return None


def stop(process: BaseProcess, inbox: Connection) -> None:
    """End a helper (if it still runs) and close its pipe."""
    if process.is_alive():
        process.terminate()
    process.join(timeout=10)
    inbox.close()


def spool_folder(kind: str) -> Path:
    """A new spool folder for this process's children of ``kind`` (``reader``, ``running``)."""
    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{kind}-{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_spool_folders(root: Path | None = None) -> list[Path]:
    """Remove the spool folders of ETL processes that are no longer running (a run killed before it could clean
    up); returns them."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        match = _SPOOL.match(folder.name)
        if match and folder.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d spool folders left by killed ETL runs", len(removed))
    return removed
