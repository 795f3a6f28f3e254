"""One ETL at a time: a second run waits for the first or exits with a clear message.

On SQLite the lock is a file lock beside the database; on PostgreSQL an advisory lock held on its own connection,
so ETL processes on different hosts exclude each other too.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select

ADVISORY_KEY = 0x4172_6F67_7961  # "Arogya"


class EtlBusy(RuntimeError):
    pass


def _lock_path(engine: Engine, data_dir: Path) -> Path:
    database = engine.url.database or ""
    if database and database != ":memory:":
        return Path(database).with_suffix(".etl.lock")
    return data_dir / "etl.lock"


@contextmanager
def etl_lock(engine: Engine, data_dir: Path, *, wait: bool = False) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if wait:
                conn.execute(select(func.pg_advisory_lock(ADVISORY_KEY)))
            elif not conn.execute(select(func.pg_try_advisory_lock(ADVISORY_KEY))).scalar():
                raise EtlBusy("another ETL run holds the warehouse lock; try again later or pass --wait")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(select(func.pg_advisory_unlock(ADVISORY_KEY)))
                conn.commit()
        return
    path = _lock_path(engine, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise EtlBusy(f"another ETL run holds {path}; try again later or pass --wait") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)
