"""Reading and transforming files ahead of the writer, in a second process.

A file's load has two halves of about equal cost: reading, validating and transforming its rows (pandas), and
writing them (the database). One process does them one after the other; with the first half of the next file done
in a child process while this process writes, a load of many files (the initial load, a backlog) takes about half
the time on two cores. Only the child reads files and only this process touches the warehouse, so every batch is
still committed here, in order, in one transaction, with the ledger exactly as for a file read in-process.

The child is forked with the run's transform context as it stands (the facility master of the files loaded before);
a segment of files is only handed to it when no file of the segment can change that context (``PREFETCHED``).
Each chunk comes back with the specialties it saw for the first time, for this process to register. A file the
child rejects or fails on comes back as that error, raised here at the same point as in-process. The queue between
them is short, so at most a few chunks wait in memory.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from etl.contracts import CONTRACTS, map_headers
from etl.contracts.base import Contract, HeaderMap
from etl.load.writers import PreparedConsultations, prepare_consultations
from etl.sources.files import FileRejected, LandingFile, read_file
from etl.transform.context import TransformContext
from etl.transform.datasets import TRANSFORMS
from etl.transform.validate import FileState, Validated, canonical_frame

log = logging.getLogger("arogya.etl")

# Datasets whose files may be read ahead: loading them changes nothing another file's transform reads.
PREFETCHED = frozenset({"consultations"})
_QUEUE_CHUNKS = 2
_POLL_S = 1.0


@dataclass
class PreparedChunk:
    header_map: HeaderMap
    validated: Validated
    new_specialties: dict[str, str] = field(default_factory=dict)
    writes: PreparedConsultations | None = None  # the batch converted for the driver ahead of time


class PrefetchFailed(RuntimeError):
    """The child could not read a file for a reason that is not the file's fault (a bug, a lost process)."""


def check_headers(contract: Contract, header_map: HeaderMap) -> None:
    if header_map.missing_required:
        accepted = "; ".join(
            f"{name}: {', '.join((name, *contract.field(name).aliases)[:4])}" for name in header_map.missing_required)
        raise FileRejected(
            f"missing required columns for {contract.dataset}: {', '.join(header_map.missing_required)} "
            f"(accepted headers — {accepted})")
    if header_map.duplicates:
        raise FileRejected(f"more than one column maps to: {', '.join(header_map.duplicates)}")


def prepare_chunks(ctx: TransformContext, landing: LandingFile, contract: Contract, chunk_rows: int,
                   dialect: str | None = None) -> Iterator[PreparedChunk]:
    """Read, validate and transform one file, chunk by chunk (raises ``FileRejected`` for a file-level problem).
    With ``dialect``, consultations also come converted for that database's driver, facts and rollups, so the
    writer only has to execute them."""
    state = FileState()
    header_map = None
    for chunk in read_file(landing.path, sheet=landing.sheet, chunk_rows=chunk_rows):
        if header_map is None:
            header_map = map_headers(contract, list(chunk.frame.columns))
            check_headers(contract, header_map)
        frame = canonical_frame(chunk.frame, header_map, contract)
        validated = TRANSFORMS[contract.dataset](frame, chunk.row_numbers, chunk.problems, ctx, state)
        new = dict(ctx.new_specialties)
        ctx.new_specialties.clear()
        writes = None
        if dialect is not None and contract.dataset == "consultations" and not validated.rows.empty:
            writes = prepare_consultations(validated.rows, dialect)
        yield PreparedChunk(header_map, validated, new, writes)


def _child(ctx: TransformContext, files: list[LandingFile], chunk_rows: int, dialect: str,
           out: multiprocessing.Queue, parent: int) -> None:
    def send(message: tuple) -> None:
        while True:
            try:
                out.put(message, timeout=_POLL_S)
                return
            except queue.Full:
                if os.getppid() != parent:  # the loader is gone (killed): nobody will read this
                    os._exit(0)

    for index, landing in enumerate(files):
        try:
            for prepared in prepare_chunks(ctx, landing, CONTRACTS[str(landing.dataset)], chunk_rows, dialect):
                send(("chunk", index, prepared))
            send(("end", index, None))
        except FileRejected as exc:
            send(("rejected", index, str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the loader, which records it in the ledger
            send(("failed", index, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))


class Prefetcher:
    """Files of one segment read and transformed by a forked child, handed out in order by ``chunks(i)``."""

    def __init__(self, ctx: TransformContext, files: list[LandingFile], chunk_rows: int, dialect: str) -> None:
        forking = multiprocessing.get_context("fork")
        self._queue: multiprocessing.Queue = forking.Queue(maxsize=_QUEUE_CHUNKS)
        self._process = forking.Process(target=_child, args=(ctx, files, chunk_rows, dialect, self._queue, os.getpid()),
                                        name="arogya-etl-reader", daemon=True)
        self._process.start()
        self._pending: tuple | None = None  # a message read ahead that belongs to a later file
        self._files = files

    def _next(self) -> tuple:
        if self._pending is not None:
            message, self._pending = self._pending, None
            return message
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if not self._process.is_alive():
                    raise PrefetchFailed(f"the reader process ended unexpectedly (exit code "
                                         f"{self._process.exitcode})") from None

    @property
    def alive(self) -> bool:
        """False when the child has died before sending everything (the rest of the segment loads in-process)."""
        return self._process.is_alive() or self._process.exitcode == 0 or not self._queue.empty()

    def chunks(self, index: int) -> Iterator[PreparedChunk]:
        """The chunks of file ``index``; raises ``FileRejected`` as reading it in-process would.
        Messages of files skipped before ``index`` are discarded."""
        while True:
            kind, at, payload = self._next()
            if at < index:
                continue
            if at > index:  # pragma: no cover - files are asked for in order
                self._pending = (kind, at, payload)
                return
            if kind == "chunk":
                yield payload
            elif kind == "end":
                return
            elif kind == "rejected":
                raise FileRejected(payload)
            else:
                raise PrefetchFailed(payload)

    def skip(self, index: int) -> None:
        """Discard what is left of file ``index`` (already loaded, or its load stopped early)."""
        try:
            for _ in self.chunks(index):
                pass
        except (FileRejected, PrefetchFailed):
            pass

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._queue.close()
        self._queue.join_thread()


def segments(files: list[LandingFile], min_files: int) -> list[tuple[list[LandingFile], bool]]:
    """``files`` cut into runs of consecutive files, each marked True when it is worth reading ahead (at least
    ``min_files`` files of a ``PREFETCHED`` dataset in a row)."""
    out: list[tuple[list[LandingFile], bool]] = []
    for landing in files:
        ahead = landing.dataset in PREFETCHED
        if out and out[-1][1] == ahead:
            out[-1][0].append(landing)
        else:
            out.append(([landing], ahead))
    return [(group, ahead and len(group) >= min_files) for group, ahead in out]


def total_bytes(files: list[LandingFile]) -> int:
    return sum(Path(f.path).stat().st_size for f in files if Path(f.path).exists())
