"""An ETL run: the drop folder and the partner APIs, file by file and page by page, each batch in one transaction.

For every file the ledger gets a run row; a file loaded before (same dataset and SHA-256) is skipped as "already
loaded"; a file-level problem sends the file to ``rejected/`` with a ``.reason.txt`` beside it; a loaded file moves to
``archive/``. Rows that break their contract go to the quarantine; rows that only lacked a facility are loaded on a
later run once the facility arrives.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select, update

from etl.contracts import CONTRACTS, map_headers
from etl.contracts.base import Contract, normalise_choice
from etl.load import ledger
from etl.load.children import sweep_spool_folders
from etl.load.cumulative import refresh_cumulatives
from etl.load.ledger import RunCounts
from etl.load.prefetch import Prefetcher, check_headers, prepare_chunks, segments, total_bytes
from etl.load.running_ahead import RunningAhead, start_running_ahead
from etl.load.scheme_rollups import refresh_scheme_rollups
from etl.load.writers import WRITERS, PreparedConsultations, register_specialties, write_consultations
from etl.settings import Settings
from etl.sources.files import FileRejected, LandingFile, file_sha256, list_landing_files
from etl.sources.http_api import ApiError, ApiSourceConfig, fetch_pages
from etl.sources.jsonrecords import records_chunk
from etl.transform.context import FACILITY_INDEX_COLUMNS, TransformContext
from etl.transform.datasets import TRANSFORMS, missing_facility_ids
from etl.transform.pseudonym import Pseudonymiser, load_key
from etl.transform.validate import FileState, Validated, canonical_frame
from etl.warehouse import bulk_indexes
from etl.warehouse.engine import truncate_wal
from etl.warehouse.schema import (
    dim_district,
    dim_facility,
    dim_scheme_indicator,
    dim_specialty,
    quarantine,
    source_watermark,
)
from etl.warehouse.upsert import upsert

log = logging.getLogger("arogya.etl")
# A bulk load sets the indexes aside when its consultation files hold at least this many rows (estimated from their
# size) and at least as many as the warehouse stores.
BULK_MIN_ROWS = 200_000
# A bulk load commits whole files of this many rows or fewer in one batch: a later batch of the same file would share
# its places and days with the first, and its rollups would be refreshed from the facts, which have no indexes then.
BULK_BATCH_ROWS = 250_000
BYTES_PER_ROW_ESTIMATE = 160
Progress = Callable[[str, int], None]  # (what, rows just processed)


@dataclass
class FileOutcome:
    name: str
    dataset: str | None
    status: str  # loaded | already_loaded | rejected | failed
    run_id: int | None
    counts: RunCounts = field(default_factory=RunCounts)
    message: str = ""
    seconds: float = 0.0


def build_context(engine: Engine, settings: Settings) -> TransformContext:
    with engine.connect() as conn:
        facilities = pd.DataFrame(conn.execute(select(dim_facility.c.facility_id, *[
            dim_facility.c[name] for name in FACILITY_INDEX_COLUMNS])).all(),
            columns=["facility_id", *FACILITY_INDEX_COLUMNS]).set_index("facility_id")
        districts = set(conn.execute(select(dim_district.c.district_lgd)).scalars())
        indicators = set(conn.execute(select(dim_scheme_indicator.c.indicator_code)).scalars())
        specialties: dict[str, str] = {}
        for code, name_en, name_hi in conn.execute(select(dim_specialty.c.specialty_code, dim_specialty.c.name_en,
                                                          dim_specialty.c.name_hi)):
            for spelling in (code, name_en, name_hi):
                if spelling:
                    specialties[normalise_choice(spelling)] = code
    return TransformContext(Pseudonymiser(load_key(settings)), facilities, districts, indicators, specialties)


class EtlRunner:
    def __init__(self, settings: Settings, engine: Engine, progress: Progress | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.progress = progress or (lambda what, rows: None)
        self.ctx = build_context(engine, settings)
        self.index_seconds = 0.0
        self.cumulative_seconds = 0.0
        self._chunk_rows = settings.batch_rows

    # ------------------------------------------------------------------ batches

    def _apply(self, contract: Contract, frame: pd.DataFrame, rows: np.ndarray, problems: list[str],
               state: FileState) -> Validated:
        return TRANSFORMS[contract.dataset](frame, rows, problems, self.ctx, state)

    def _commit_batch(self, run_id: int, dataset: str, file_name: str | None, validated: Validated,
                      extra: Callable[..., None] | None = None,
                      writes: PreparedConsultations | None = None) -> RunCounts:
        counts = RunCounts(read=validated.read, rejected=len(validated.rejects))
        with self.engine.begin() as conn:
            if dataset == "consultations":
                register_specialties(conn, self.ctx.new_specialties)
            rows = validated.rows.drop(columns=["_row"], errors="ignore")
            if writes is not None:
                result = write_consultations(conn, rows, run_id, prepared=writes)
            else:
                result = WRITERS[dataset](conn, rows, run_id)
            counts.loaded = result.written + result.ignored
            ledger.quarantine_rows(conn, run_id, dataset, file_name, validated.rejects)
            ledger.add_counts(conn, run_id, counts)
            if extra is not None:
                extra(conn)
            if result.written:
                ledger.bump_data_version(conn)
        self.ctx.new_specialties.clear()
        if dataset == "facilities" and not validated.rows.empty:
            self.ctx.add_facilities(validated.rows)
        return counts

    # ------------------------------------------------------------------ files

    def run_landing(self, folder: Path | None = None) -> list[FileOutcome]:
        folder = folder or self.settings.landing_dir
        files = list_landing_files(folder) if folder.exists() else []
        bulk_indexes.restore_indexes(self.engine)  # a bulk load killed before it could put them back
        sweep_spool_folders()  # and the spool folders of its helper processes
        bulk = self._is_bulk_load(files)
        self._chunk_rows = max(self.settings.batch_rows, BULK_BATCH_ROWS) if bulk else self.settings.batch_rows
        if bulk:
            dropped = bulk_indexes.drop_indexes(self.engine)
            log.info("bulk load: %d indexes set aside until the end of the run", len(dropped))
        outcomes: list[FileOutcome] = []
        ahead: RunningAhead | None = None
        try:
            try:
                for group, reading_ahead in segments(files, self._prefetch_min_files()):
                    prefetcher = Prefetcher(self.ctx, group, self._chunk_rows,
                                            self.engine.dialect.name) if reading_ahead else None
                    try:
                        for index, landing in enumerate(group):
                            started = time.perf_counter()
                            if prefetcher is not None and prefetcher.broken:
                                prefetcher.close()
                                prefetcher = None
                            outcome = self.load_file(landing, (prefetcher, index) if prefetcher else None)
                            outcome.seconds = time.perf_counter() - started
                            outcomes.append(outcome)
                    finally:
                        if prefetcher is not None:
                            prefetcher.close()
                released = self.release_pending()
                if released is not None:
                    outcomes.append(released)
                if bulk:
                    # The running totals the refresh will build are computed by a child while the indexes are
                    # rebuilt.
                    ahead = start_running_ahead(self.engine, self.settings)
            finally:
                if bulk:
                    started = time.perf_counter()
                    rebuilt = bulk_indexes.restore_indexes(self.engine)
                    self.index_seconds = time.perf_counter() - started
                    if rebuilt:
                        outcomes.append(FileOutcome("indexes", None, "loaded", None, seconds=self.index_seconds,
                                                    message=f"{len(rebuilt)} indexes rebuilt after the bulk load"))
            self.refresh_running_totals(ahead)
        finally:
            if ahead is not None:
                ahead.close()
        if bulk:
            try:
                truncate_wal(self.engine)
            except Exception as exc:  # noqa: BLE001 - housekeeping: the load itself has committed
                log.warning("could not truncate the write-ahead log after the bulk load: %s", exc)
        return outcomes

    def refresh_running_totals(self, ahead: RunningAhead | None = None) -> float:
        """Bring the running totals (etl.load.cumulative) and the scheme rollups (etl.load.scheme_rollups) up to
        date with what this run loaded, with the rows ``ahead`` computed (its caller closes it); returns seconds."""
        started = time.perf_counter()
        with self.engine.begin() as conn:
            rewritten = refresh_cumulatives(conn, ahead)
        with self.engine.begin() as conn:
            rewritten += refresh_scheme_rollups(conn)
        self.cumulative_seconds = time.perf_counter() - started
        if rewritten:
            log.info("running totals refreshed in %.1f s: %s", self.cumulative_seconds, ", ".join(rewritten))
        return self.cumulative_seconds

    def _prefetch_min_files(self) -> int:
        """Files in a row worth a reader process; a very large number turns reading ahead off."""
        if not self.settings.etl_prefetch or (os.cpu_count() or 1) < 2:
            return 1 << 30
        return 2

    def _is_bulk_load(self, files: list[LandingFile]) -> bool:
        """Whether to set the fact and rollup indexes aside for this run: the consultation files bring at least
        as many rows as are stored (and enough to matter), or the setting says always."""
        mode = self.settings.etl_bulk_indexes
        consultation_files = [f for f in files if f.dataset == "consultations"]
        if mode == "never" or not consultation_files:
            return False
        if mode == "always":
            return True
        incoming = total_bytes(consultation_files) / BYTES_PER_ROW_ESTIMATE
        if incoming < BULK_MIN_ROWS:
            return False
        return incoming >= bulk_indexes.stored_consultations(self.engine)

    def load_file(self, landing: LandingFile, prefetched: tuple[Prefetcher, int] | None = None) -> FileOutcome:
        """Load one file. With ``prefetched`` its chunks come from the reader process (file ``index`` of it)."""
        try:
            return self._load_file(landing, prefetched)
        finally:
            if prefetched is not None:
                prefetched[0].skip(prefetched[1])  # whatever of it was not used (already loaded, failed)

    def _load_file(self, landing: LandingFile, prefetched: tuple[Prefetcher, int] | None) -> FileOutcome:
        path = landing.path
        name = path.name
        digest = file_sha256(path)
        if landing.sheet:
            # The same workbook read from another sheet is another load.
            digest = hashlib.sha256(f"{digest}|sheet={landing.sheet}".encode()).hexdigest()
        if landing.dataset is None:
            reason = ("cannot tell which dataset this file holds: name it consultations_..., facilities_..., "
                      "chos_..., schemes_... or status_..., or list it in manifest.json")
            return self._reject(path, None, digest, reason)
        earlier = ledger.already_loaded(self.engine, landing.dataset, digest)
        if earlier is not None:
            run_id = ledger.start_run(self.engine, "landing", landing.dataset, name, digest)
            message = f"already loaded by run {earlier}; nothing changed"
            ledger.finish_run(self.engine, run_id, "already_loaded", message)
            self._move(path, self.settings.archive_dir)
            return FileOutcome(name, landing.dataset, "already_loaded", run_id, message=message)
        contract = CONTRACTS[landing.dataset]
        run_id = ledger.start_run(self.engine, "landing", landing.dataset, name, digest)
        with self.engine.begin() as conn:
            ledger.supersede_quarantine_of_interrupted(conn, digest, run_id)
        counts = RunCounts()
        try:
            header_map = None
            chunks = (prefetched[0].chunks(prefetched[1]) if prefetched is not None
                      else prepare_chunks(self.ctx, landing, contract, self._chunk_rows))
            for prepared in chunks:
                header_map = prepared.header_map
                self.ctx.new_specialties.update(prepared.new_specialties)
                validated = prepared.validated
                counts.add(self._commit_batch(run_id, contract.dataset, name, validated, writes=prepared.writes))
                self.progress(name, validated.read)
        except FileRejected as exc:
            reason = str(exc)
            if counts.loaded:
                reason += f" ({counts.loaded} rows of this file were loaded before the problem was found)"
            ledger.finish_run(self.engine, run_id, "rejected", reason)
            self._write_rejected(path, reason)
            return FileOutcome(name, landing.dataset, "rejected", run_id, counts, reason)
        except Exception as exc:  # a bug or an outage: record it, keep the file for the next run, go on
            log.exception("loading %s failed", name)
            message = f"{type(exc).__name__}: {exc}"[:2000]
            ledger.finish_run(self.engine, run_id, "failed", message)
            return FileOutcome(name, landing.dataset, "failed", run_id, counts, message)
        message = f"{counts.loaded} rows loaded, {counts.rejected} quarantined"
        if header_map is not None and header_map.unknown:
            message += f"; ignored columns: {', '.join(header_map.unknown[:10])}"
        ledger.finish_run(self.engine, run_id, "loaded", message)
        self._move(path, self.settings.archive_dir)
        return FileOutcome(name, landing.dataset, "loaded", run_id, counts, message)

    def _reject(self, path: Path, dataset: str | None, digest: str, reason: str) -> FileOutcome:
        run_id = ledger.start_run(self.engine, "landing", dataset, path.name, digest)
        ledger.finish_run(self.engine, run_id, "rejected", reason)
        self._write_rejected(path, reason)
        return FileOutcome(path.name, dataset, "rejected", run_id, message=reason)

    def _write_rejected(self, path: Path, reason: str) -> None:
        target = self._move(path, self.settings.rejected_dir)
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")

    @staticmethod
    def _move(path: Path, folder: Path) -> Path:
        folder = folder / date.today().isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        n = 1
        while target.exists():
            target = folder / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.move(str(path), target)
        return target

    # ------------------------------------------------------------------ quarantine release

    def release_pending(self) -> FileOutcome | None:
        """Load quarantined rows whose only fault was an unknown facility, where the facility has since arrived.

        The pending rows' reasons name the missing facilities; only when one of them is now in the master are the
        rows read back and validated again (every run would otherwise re-validate every pending row)."""
        with self.engine.connect() as conn:
            reasons = list(conn.execute(select(quarantine.c.reason).where(
                quarantine.c.reason_code == "unknown_facility", quarantine.c.released_run_id.is_(None)).distinct())
                .scalars())
        if not reasons:
            return None
        named = [missing_facility_ids(reason) for reason in reasons]
        if all(ids is not None for ids in named) and not any(
                self.ctx.facilities.index.isin([i for ids in named if ids for i in ids])):
            return None
        return self._release_pending()

    def _release_pending(self) -> FileOutcome | None:
        with self.engine.connect() as conn:
            pending = pd.DataFrame(conn.execute(
                select(quarantine.c.quarantine_id, quarantine.c.dataset, quarantine.c.row_number, quarantine.c.raw)
                .where(quarantine.c.reason_code == "unknown_facility", quarantine.c.released_run_id.is_(None))
                .order_by(quarantine.c.quarantine_id)).all(), columns=["quarantine_id", "dataset", "row_number", "raw"])
        if pending.empty:
            return None
        ready: list[tuple[str, Validated, list[int], pd.DataFrame]] = []
        for dataset, group in pending.groupby("dataset", sort=False):
            contract = CONTRACTS[str(dataset)]
            raw = pd.DataFrame(list(group["raw"]), index=range(len(group))).fillna("").astype(object)
            for f in contract.fields:
                if f.name not in raw.columns:
                    raw[f.name] = ""
            rows = group["quarantine_id"].to_numpy(dtype=np.int64)
            validated = self._apply(contract, raw, rows, [""] * len(raw), FileState())
            if validated.rows.empty:
                continue
            released_ids = [int(i) for i in validated.rows["_row"]]
            # Rows that now fail for another reason keep their record, with the new reason.
            changed = validated.rejects[validated.rejects["reason_code"] != "unknown_facility"]
            validated.rows = validated.rows.drop(columns=["_row"])
            ready.append((str(dataset), validated, released_ids, changed))
        if not ready:
            return None
        run_id = ledger.start_run(self.engine, "quarantine", None, "released rows", None)
        total = RunCounts()
        for dataset, validated, released_ids, changed in ready:

            def mark(conn, released_ids=released_ids, changed=changed):  # type: ignore[no-untyped-def]
                conn.execute(update(quarantine).where(quarantine.c.quarantine_id.in_(released_ids))
                             .values(released_run_id=run_id))
                for r in changed.itertuples(index=False):
                    conn.execute(update(quarantine).where(quarantine.c.quarantine_id == int(r.row_number))
                                 .values(reason_code=r.reason_code, reason=r.reason))

            counts = self._commit_released(run_id, dataset, validated, mark)
            counts.released = len(released_ids)
            total.add(counts)
        message = f"{total.released} quarantined rows loaded now that their facility is known"
        with self.engine.begin() as conn:
            ledger.add_counts(conn, run_id, RunCounts(loaded=total.loaded, released=total.released))
        ledger.finish_run(self.engine, run_id, "loaded", message)
        return FileOutcome("quarantine", None, "loaded", run_id, total, message)

    def _commit_released(self, run_id: int, dataset: str, validated: Validated,
                         mark: Callable[..., None]) -> RunCounts:
        counts = RunCounts(read=0)
        with self.engine.begin() as conn:
            if dataset == "consultations":
                register_specialties(conn, self.ctx.new_specialties)
                result = WRITERS[dataset](conn, validated.rows, run_id, keep_existing=True)
            else:
                result = WRITERS[dataset](conn, validated.rows, run_id)
            counts.loaded = result.written
            mark(conn)
            if result.written:
                ledger.bump_data_version(conn)
        self.ctx.new_specialties.clear()
        return counts

    # ------------------------------------------------------------------ APIs

    def run_api(self, config: ApiSourceConfig, token: str | None = None) -> FileOutcome:
        contract = CONTRACTS[config.dataset]
        with self.engine.connect() as conn:
            row = conn.execute(select(source_watermark.c.watermark).where(
                source_watermark.c.source == config.name)).first()
        since = row[0] if row else None
        run_id = ledger.start_run(self.engine, config.name, config.dataset, config.url, None)
        counts = RunCounts()
        state = FileState()
        watermark = since
        try:
            for page in fetch_pages(config, since, token=token, timeout_s=self.settings.http_timeout_s,
                                    retries=self.settings.http_retries):
                if not page.records:
                    continue
                chunk = records_chunk(page.records, first_row=counts.read + 1)
                header_map = map_headers(contract, list(chunk.frame.columns))
                check_headers(contract, header_map)
                canonical = canonical_frame(chunk.frame, header_map, contract)
                validated = self._apply(contract, canonical, chunk.row_numbers, chunk.problems, state)
                # The safe watermark is the newest timestamp certainly complete: records sharing the page's last
                # timestamp may continue on the next page, so resuming re-reads them (the upsert absorbs that).
                if page.safe_watermark and (watermark is None or page.safe_watermark > watermark):
                    watermark = page.safe_watermark

                def save_watermark(conn, value=watermark, cursor=page.cursor):  # type: ignore[no-untyped-def]
                    if value is not None:
                        upsert(conn, source_watermark, [{"source": config.name, "watermark": value,
                                                         "cursor": cursor, "updated_at": ledger.utcnow()}])

                counts.add(self._commit_batch(run_id, contract.dataset, f"{config.name} page {page.number}",
                                              validated, extra=save_watermark))
                self.progress(config.name, validated.read)
        except (ApiError, FileRejected) as exc:
            message = f"{exc} (watermark stays at {watermark!r}; {counts.loaded} rows loaded before the error)"
            ledger.finish_run(self.engine, run_id, "failed", message)
            self.refresh_running_totals()
            return FileOutcome(config.name, config.dataset, "failed", run_id, counts, message)
        message = f"{counts.loaded} rows loaded, {counts.rejected} quarantined; watermark {watermark!r}"
        ledger.finish_run(self.engine, run_id, "loaded", message)
        self.refresh_running_totals()
        return FileOutcome(config.name, config.dataset, "loaded", run_id, counts, message)

