"""Running totals computed ahead, in a child process, while this one rebuilds indexes or writes earlier tables.

After a bulk load, most of a running-total rewrite in arrays (``etl.load.cumulative.array_chunks``) is reading the
daily sums, computing the running sums and converting the rows for the driver; only the insert needs the write
transaction. A forked child does the first three for every rewrite the refresh is about to do, in its order, from
the committed rollups (a read-only connection), and hands the rows over through a spool folder; this process
inserts them in its own transaction. The child writes nothing: the refresh takes its rows only for a rewrite that is
exactly the one the child computed, and computes in-process whatever the child did not (a plan that changed, a child
that could not start, failed or died), so a failed child costs time, never rows.

The child reads what the refresh would read because nothing else writes the rollups meanwhile: every command that
does holds the ETL lock (``etl.load.lock``) for its whole run, as this one does. It reads each rewrite's inputs in a
short transaction of their own and computes outside it, so that on SQLite it does not hold back the checkpoints of
the index rebuild while it works.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import shutil
from collections.abc import Iterator
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from etl.load.bulk import DriverRows
from etl.load.children import die_with_parent, receive, spool, spool_folder, stop, wait_for_slot
from etl.load.cumulative import ArrayRewrite, RowsAheadFailed, array_chunks, array_inputs, array_rewrites
from etl.settings import Settings
from etl.warehouse.engine import make_engine

log = logging.getLogger("arogya.etl")

# Driver chunks (50,000 rows each) the child may have ready ahead of this process: enough for the state demo's year
# (about 330 chunks) to be mostly computed while the indexes are rebuilt, when this process reads none. They wait as
# files of 20 to 60 bytes a row: at most about 750 MB in the temporary folder.
_QUEUE_CHUNKS = 256
_TEXT_LIMIT = 1500  # messages stay far below the pipe's atomic write size (see etl.load.prefetch)


def _child(settings: Settings, rewrites: list[ArrayRewrite], out: Pipe, slots: Any, parent: int,
           folder: Path) -> None:
    die_with_parent(parent)
    # The inherited objects (the loader's heap) are left out of garbage collection: a collection that walked them
    # would copy every page it touched.
    gc.freeze()

    try:
        # Read-only, and no statement timeout: a year's daily sums take longer than a dashboard query may.
        engine = make_engine(settings.with_(db_statement_timeout_s=0), read_only=True, create=False)
        dialect = engine.dialect.name
        for index, rewrite in enumerate(rewrites):
            with engine.connect() as conn:
                inputs = array_inputs(conn, rewrite)
            chunks = array_chunks(inputs, rewrite, dialect)
            del inputs  # the daily sums are let go once in arrays (a few hundred MB for the state demo's widest)
            for n, rows in enumerate(chunks):
                path = spool(folder / f"{index}-{n}.pickle", rows)
                wait_for_slot(slots, parent)
                out.send(("rows", index, path))
            out.send(("end", index, None))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - reported to the loader, which computes the rest itself
        out.send(("failed", -1, f"{type(exc).__name__}: {exc}"[:_TEXT_LIMIT]))


class RunningAhead:
    """A forked child computing ``rewrites`` (``etl.load.cumulative.ArrayRewrite``) in order; ``chunks`` hands
    out the rows of one of them (``etl.load.cumulative.RowsAhead``)."""

    def __init__(self, settings: Settings, rewrites: list[ArrayRewrite]) -> None:
        self._rewrites = list(rewrites)
        self._spool = spool_folder("running")
        forking = multiprocessing.get_context("fork")
        self._inbox, outbox = forking.Pipe(duplex=False)
        self._slots = forking.Semaphore(_QUEUE_CHUNKS)
        self._process = forking.Process(target=_child, name="arogya-etl-running-totals", daemon=True,
                                        args=(settings, self._rewrites, outbox, self._slots, os.getpid(),
                                              self._spool))
        try:
            self._process.start()
        except BaseException:
            shutil.rmtree(self._spool, ignore_errors=True)
            raise
        outbox.close()  # the child's end: when the child is gone, reading says so instead of waiting
        self._next_index = 0  # the first rewrite whose messages have not been read
        self._failed: str | None = None

    def _receive(self) -> tuple:
        message = receive(self._inbox, self._process)
        if message is None:
            raise RowsAheadFailed(f"the running-totals process ended unexpectedly (exit code "
                                  f"{self._process.exitcode})")
        return message

    def _take(self, path: str, *, keep: bool = True) -> DriverRows | None:
        spooled = Path(path)
        try:
            if keep:
                with open(spooled, "rb") as handle:
                    return pickle.load(handle)
            return None
        except Exception as exc:  # a spool file removed or damaged meanwhile (a cleaner of the temporary folder)
            raise RowsAheadFailed(f"cannot read {spooled.name} from the running-totals process: {exc}") from exc
        finally:
            spooled.unlink(missing_ok=True)
            self._slots.release()

    def chunks(self, rewrite: ArrayRewrite) -> Iterator[DriverRows] | None:
        """The driver rows of ``rewrite``, or None if the child was not asked for exactly it, has already handed
        it out or has failed. Raises ``RowsAheadFailed`` while handing them out if the child fails or dies."""
        if self._failed is not None or rewrite not in self._rewrites[self._next_index:]:
            return None
        return self._chunks(self._rewrites.index(rewrite, self._next_index))

    def _chunks(self, index: int) -> Iterator[DriverRows]:
        try:
            while True:
                kind, at, payload = self._receive()
                if kind == "failed":
                    raise RowsAheadFailed(payload)
                if at < index:  # a rewrite the refresh did not ask for: discarded
                    if kind == "rows":
                        self._take(payload, keep=False)
                    continue
                if kind == "end":
                    self._next_index = index + 1
                    return
                rows = self._take(payload)
                assert rows is not None
                yield rows
        except RowsAheadFailed as exc:
            self._failed = str(exc)
            raise

    def close(self) -> None:
        stop(self._process, self._inbox)
        shutil.rmtree(self._spool, ignore_errors=True)


def start_running_ahead(engine: Engine, settings: Settings) -> RunningAhead | None:
    """A child computing the array rewrites the next refresh of the running totals will do, or None when there is
    none (or one core, or reading ahead is turned off)."""
    if not settings.etl_prefetch or (os.cpu_count() or 1) < 2:
        return None
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None  # a child cannot open this process's in-memory database
    try:
        with engine.connect() as conn:
            rewrites = array_rewrites(conn)
        return RunningAhead(settings, rewrites) if rewrites else None
    except Exception as exc:  # noqa: BLE001 - e.g. no memory left to fork: the refresh computes in-process
        log.warning("running totals will be computed in this process: the child could not start (%s)", exc)
        return None
