"""Reading and transforming files ahead of the writer, in reader processes.

A file's load has two halves: reading, validating and transforming its rows (pandas), and writing them (the
database); the first costs more. One process does them one after the other; with the first half of the next files
done in child processes (two, taking alternate files) while this process writes, a load of many files (the initial
load, a backlog) keeps two cores busy. Only the children read files and only this process touches the warehouse, so
every batch is still committed here, in order, in one transaction, with the ledger exactly as for a file read
in-process.

Each child is forked with the run's transform context as it stands (the facility master of the files loaded before);
a segment of files is only handed to it when no file of the segment can change that context (``PREFETCHED``).
Each chunk comes back with the specialties its reader saw for the first time, for this process to register (the
first file in order that holds one registers its spelling, as in-process). A file a child rejects or fails on comes
back as that error, raised here at the same point as in-process. The queue from each child is short, so at most a
few chunks wait (in a spool folder, so that a child killed at any moment cannot leave a half-sent chunk behind).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from etl.contracts import CONTRACTS, map_headers
from etl.contracts.base import Contract, HeaderMap
from etl.load.children import die_with_parent, receive, spool, spool_folder, stop, wait_for_slot
from etl.load.writers import PreparedConsultations, prepare_consultations
from etl.sources.files import FileRejected, LandingFile, read_file
from etl.transform.context import TransformContext
from etl.transform.datasets import TRANSFORMS
from etl.transform.validate import FileState, Validated, canonical_frame

log = logging.getLogger("arogya.etl")

# Datasets whose files may be read ahead: loading them changes nothing another file's transform reads.
PREFETCHED = frozenset({"consultations"})
_QUEUE_CHUNKS = 2
# Messages stay far below the pipe's atomic write size (4 KiB), so a child killed while sending cannot leave half a
# message that would block the loader; the chunks themselves travel as files in a spool folder.
_TEXT_LIMIT = 1500


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


def _child(ctx: TransformContext, files: list[LandingFile], share: tuple[int, int], chunk_rows: int, dialect: str,
           out: Connection, slots: Any, parent: int, folder: Path) -> None:
    """Read the files whose index is ``share[0]`` modulo ``share[1]`` (this reader's share), in order."""
    die_with_parent(parent)

    def send(message: tuple) -> None:
        out.send(message)  # synchronous and small: the message is whole in the pipe when this returns

    first, step = share
    for index in range(first, len(files), step):
        landing = files[index]
        try:
            contract = CONTRACTS[str(landing.dataset)]
            for n, prepared in enumerate(prepare_chunks(ctx, landing, contract, chunk_rows, dialect)):
                wait_for_slot(slots, parent)
                send(("chunk", index, spool(folder / f"{index}-{n}.pickle", prepared)))
            send(("end", index, None))
        except FileRejected as exc:
            send(("rejected", index, str(exc)[:_TEXT_LIMIT]))
        except Exception as exc:  # noqa: BLE001 - reported to the loader, which records it in the ledger
            send(("failed", index, (f"{type(exc).__name__}: {exc}"[:_TEXT_LIMIT],
                                    traceback.format_exc(limit=8)[-_TEXT_LIMIT:])))


class _Reader:
    """One forked child reading its share of a segment's files; ``chunks(i)`` hands out file ``i``'s chunks."""

    def __init__(self, ctx: TransformContext, files: list[LandingFile], share: tuple[int, int], chunk_rows: int,
                 dialect: str, folder: Path) -> None:
        forking = multiprocessing.get_context("fork")
        self._inbox, outbox = forking.Pipe(duplex=False)
        self._slots = forking.Semaphore(_QUEUE_CHUNKS)  # chunks the child may have ahead of this process
        self._process = forking.Process(target=_child, name=f"arogya-etl-reader-{share[0]}", daemon=True,
                                        args=(ctx, files, share, chunk_rows, dialect, outbox, self._slots,
                                              os.getpid(), folder))
        self._process.start()
        outbox.close()  # the child's end; when the child is gone, reading says so instead of waiting
        self._pending: tuple | None = None  # a message read ahead that belongs to a later file
        self._finished: set[int] = set()  # files whose last message has been read
        self._names = [f.path.name for f in files]
        self.broken = False

    def _next(self) -> tuple:
        if self._pending is not None:
            message, self._pending = self._pending, None
            return message
        message = receive(self._inbox, self._process)
        if message is None:
            self.broken = True
            raise PrefetchFailed(f"the reader process ended unexpectedly (exit code {self._process.exitcode})")
        return message

    def chunks(self, index: int) -> Iterator[PreparedChunk]:
        while True:
            kind, at, payload = self._next()
            if at < index:
                continue
            if at > index:  # pragma: no cover - files are asked for in order
                self._pending = (kind, at, payload)
                return
            if kind == "chunk":
                spooled = Path(payload)
                with open(spooled, "rb") as handle:
                    prepared = pickle.load(handle)
                spooled.unlink()
                self._slots.release()
                yield prepared
                continue
            self._finished.add(index)
            if kind == "end":
                return
            if kind == "rejected":
                raise FileRejected(payload)
            summary, trace = payload
            log.error("the reader process failed on %s:\n%s", self._names[index], trace)
            raise PrefetchFailed(summary)

    def skip(self, index: int) -> None:
        if index in self._finished or self.broken:
            return
        try:
            for _ in self.chunks(index):
                pass
        except (FileRejected, PrefetchFailed):
            pass

    def close(self) -> None:
        stop(self._process, self._inbox)


# A reader's half of a file's work (pandas) costs more than the writer's half (the database): with one reader the
# writer waits for it about a third of the time; with two, both cores stay busy.
READERS = 2


def reader_processes() -> int:
    """Reader processes for a segment: ``READERS`` wherever there are two cores or more."""
    return READERS if (os.cpu_count() or 1) >= 2 else 1


class Prefetcher:
    """Files of one segment read and transformed by forked children (file ``i`` by reader ``i`` modulo their
    number), handed out in order by ``chunks(i)``."""

    def __init__(self, ctx: TransformContext, files: list[LandingFile], chunk_rows: int, dialect: str,
                 readers: int | None = None) -> None:
        self._spool = spool_folder("reader")
        count = max(1, min(readers or reader_processes(), len(files)))
        self._readers: list[_Reader] = []
        try:
            for first in range(count):
                self._readers.append(_Reader(ctx, files, (first, count), chunk_rows, dialect, self._spool))
        except BaseException:
            self.close()  # the readers already started, and the spool folder
            raise

    def _reader(self, index: int) -> _Reader:
        return self._readers[index % len(self._readers)]

    @property
    def broken(self) -> bool:
        """True once a child was found dead before it sent everything: the file it was reading has failed with
        that reason, and the rest of the segment is read in-process."""
        return any(reader.broken for reader in self._readers)

    def chunks(self, index: int) -> Iterator[PreparedChunk]:
        """The chunks of file ``index``; raises ``FileRejected`` as reading it in-process would.
        Messages of files skipped before ``index`` are discarded."""
        return self._reader(index).chunks(index)

    def skip(self, index: int) -> None:
        """Discard what is left of file ``index`` (already loaded, or its load stopped early)."""
        self._reader(index).skip(index)

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
        shutil.rmtree(self._spool, ignore_errors=True)


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
