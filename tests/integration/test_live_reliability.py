"""Ingest under pressure: an ETL load writing at the same time, a lock held by another writer, several processes
posting at once (with overlapping duplicates). No client ever sees "database is locked"; no event is lost."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text

from dashboard.api.status import ApiProblem, StatusIngest
from etl.settings import Settings
from etl.warehouse.engine import make_engine
from etl.warehouse.schema import current_status, fact_consultation, fact_status_event
from tests.conftest import TEST_KEY
from tests.fixtures.live import auth, event, live_app, live_warehouse, serve, token
from tests.fixtures.warehouse_factory import use_schema
from tests.integration.etl_files import CONSULTATION_HEADER, consultation_rows, write_csv

PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres,
                         pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL not set")])]


def count(engine, table=fact_status_event, where=None) -> int:  # type: ignore[no-untyped-def]
    stmt = select(func.count()).select_from(table)
    if where is not None:
        stmt = stmt.where(where)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar())


def _etl_process(settings: Settings, done: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from etl.load.runner import EtlRunner

    engine = make_engine(settings)
    started = time.time()
    outcomes = EtlRunner(settings, engine).run_landing()
    done.put((started, time.time(), [(o.status, o.counts.loaded, o.message) for o in outcomes]))


@pytest.mark.slow
def test_live201_ingest_keeps_working_while_an_etl_load_writes(tmp_path):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path)
    settings = wh.settings.with_(landing_dir=tmp_path / "landing", pseudonym_key=TEST_KEY, batch_rows=10_000)
    write_csv(settings.landing_dir / "consultations_big.csv", CONSULTATION_HEADER,
              consultation_rows(120_000, day="2025-08-20", prefix="BIG"))
    secret = token(wh)
    replies: list[tuple[int, str, float]] = []
    spawn = multiprocessing.get_context("spawn")
    done = spawn.Queue()
    with serve(app) as base:
        session = requests.Session()
        etl = spawn.Process(target=_etl_process, args=(settings, done))
        etl.start()
        posted = 0
        deadline = time.monotonic() + 120
        while etl.is_alive() and time.monotonic() < deadline:
            batch = [event(("H1", "H2", "S1", "S2", "S3")[i % 5], queue=i % 9) for i in range(100)]
            started = time.perf_counter()
            reply = session.post(base + "/api/v1/status", json=batch, headers=auth(secret), timeout=120)
            replies.append((reply.status_code, reply.text, time.perf_counter() - started))
            posted += len(batch)
        etl.join(60)
        etl_started, etl_finished, outcomes = done.get(timeout=10)
    assert [o[0] for o in outcomes] == ["loaded"], outcomes
    assert count(wh.engine, fact_consultation, fact_consultation.c.consultation_id.like("BIG%")) == 120_000
    assert len(replies) >= 3, "the load finished before ingest could overlap it"
    assert all(code == 200 for code, _, _ in replies), [r for r in replies if r[0] != 200][:3]
    assert not any("locked" in body.lower() for _, body, _ in replies)
    assert count(wh.engine) == posted


def test_live202_a_lock_held_by_another_writer_is_waited_out(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    settings = wh.settings.with_(sqlite_busy_timeout_ms=300)
    ingest = StatusIngest(settings, make_engine(settings))
    secret = token(wh)
    blocker = make_engine(settings)
    release = threading.Event()
    holding = threading.Event()

    def hold(seconds: float) -> None:
        with blocker.begin():  # the engine begins with BEGIN IMMEDIATE: the write lock, held until the end
            holding.set()
            release.wait(seconds)

    # Held for ~1 s: the ingest waits (busy timeout, then retries with backoff) and stores the event.
    holder = threading.Thread(target=hold, args=(1.0,))
    holder.start()
    assert holding.wait(10)  # the lock is held before the ingest starts, however loaded the machine
    result = ingest.handle(auth(secret)["Authorization"], b'[' + _json(event()) + b']', "application/json")
    holder.join()
    assert result.accepted == 1
    # Held beyond every retry: a 503 with Retry-After, never the driver's "database is locked".
    release.clear()
    holding.clear()
    holder = threading.Thread(target=hold, args=(30.0,))
    holder.start()
    assert holding.wait(10)
    with pytest.raises(ApiProblem) as caught:
        ingest.handle(auth(secret)["Authorization"], _json(event()), "application/json")
    release.set()
    holder.join()
    assert caught.value.status == 503 and caught.value.headers["Retry-After"]
    assert "locked" not in caught.value.message


def test_live205_a_deadlock_is_retried_and_an_integrity_error_is_not(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A rolled-back transaction (deadlock, serialisation failure) is written again, and ends as a 503 "busy" when
    it keeps failing; an error that retrying cannot mend is not retried."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    import dashboard.api.status as status_api

    wh = live_warehouse(tmp_path)
    naps: list[float] = []
    ingest = StatusIngest(wh.settings, make_engine(wh.settings), sleep=naps.append)
    secret = token(wh)
    real = status_api.write_status
    failures = {"left": 2}

    def deadlocking(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("INSERT", {}, Exception("deadlock detected"))
        return real(*args, **kwargs)

    monkeypatch.setattr(status_api, "write_status", deadlocking)
    assert ingest.handle(auth(secret)["Authorization"], _json([event()]), "application/json").accepted == 1
    assert len(naps) == 2 and 0.1 <= naps[0] <= 0.3 and 0.2 <= naps[1] <= 0.6  # 0.2 s, doubled, with jitter
    failures["left"] = 99
    with pytest.raises(ApiProblem) as caught:
        ingest.handle(auth(secret)["Authorization"], _json([event()]), "application/json")
    assert caught.value.status == 503 and "busy" in caught.value.message
    assert len(naps) == 2 + status_api.WRITE_ATTEMPTS - 1
    naps.clear()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT", {}, Exception("NOT NULL constraint failed"))

    monkeypatch.setattr(status_api, "write_status", broken)
    with pytest.raises(IntegrityError):
        ingest.handle(auth(secret)["Authorization"], _json([event()]), "application/json")
    assert naps == []


def _json(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


def _writer_process(url: str, schema: str | None, secret: str, ids: list[str], batch: int,
                    results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A separate process running the ingest directly against the warehouse, as a second web worker does."""
    settings = Settings(database_url=url, cache_url="")
    engine = make_engine(settings)
    if schema:
        use_schema(engine, schema)
    retries: list[float] = []

    def sleep(seconds: float) -> None:
        retries.append(seconds)
        time.sleep(seconds)

    ingest = StatusIngest(settings, engine, sleep=sleep)
    accepted = duplicates = 0
    facilities = ("H1", "H2", "H3", "H4", "S1", "S2", "S3", "S5", "S9")
    for start in range(0, len(ids), batch):
        events = [event(facilities[hash(i) % len(facilities)], event_id=i, queue=len(i) % 7)
                  for i in ids[start:start + batch]]
        result = ingest.handle(f"Bearer {secret}", _json(events), "application/json")
        accepted += result.accepted
        duplicates += result.duplicates
    results.put((accepted, duplicates, len(retries)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_live203_concurrent_writer_processes_lose_no_event(tmp_path: Path, backend: str):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path, PG_URL if backend == "postgres" else None)
    secret = token(wh)
    workers, per_worker, overlap = 4, 1_000, 200
    # Every worker posts 1,000 events; 200 of each are also posted by its neighbour (a retried batch).
    own = [[f"P{w}-{uuid.uuid4().hex[:12]}" for _ in range(per_worker)] for w in range(workers)]
    plans = [own[w] + own[(w + 1) % workers][:overlap] for w in range(workers)]
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    procs = [spawn.Process(target=_writer_process, args=(wh.settings.database_url, wh.schema, secret, plan, 100,
                                                         results)) for plan in plans]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    unique = workers * per_worker
    assert sum(a for a, _, _ in outcomes) == unique
    assert sum(d for _, d, _ in outcomes) == workers * overlap
    if backend == "postgres":
        # Rows are written in key order, so overlapping batches wait for each other and never deadlock (a deadlock
        # is retried, and would show here as a retry).
        assert sum(r for _, _, r in outcomes) == 0
    assert count(wh.engine) == unique
    # The current status of every facility is its newest event.
    with wh.engine.connect() as conn:
        newest = dict(conn.execute(select(fact_status_event.c.facility_id, func.max(fact_status_event.c.event_time))
                                   .group_by(fact_status_event.c.facility_id)).all())
        current = dict(conn.execute(select(current_status.c.facility_id, current_status.c.event_time)).all())
    assert current == newest
    wh.drop()


def _http_client_process(base: str, secret: str, prefix: str, batches: int,
                         results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    session = requests.Session()
    codes = []
    for b in range(batches):
        events = [event(("H1", "S1", "S2")[i % 3], event_id=f"{prefix}-{b}-{i}") for i in range(100)]
        codes.append(session.post(base + "/api/v1/status", json=events, headers=auth(secret), timeout=60).status_code)
    results.put(codes)


def test_live204_several_client_processes_through_http(tmp_path):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path)
    secret = token(wh)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    with serve(app) as base:
        procs = [spawn.Process(target=_http_client_process, args=(base, secret, f"C{n}", 10, results))
                 for n in range(3)]
        for p in procs:
            p.start()
        codes = [c for _ in procs for c in results.get(timeout=120)]
        for p in procs:
            p.join(30)
    assert codes == [200] * 30
    assert count(wh.engine) == 3_000
    with wh.engine.connect() as conn:
        assert conn.execute(text("select count(distinct event_id) from fact_status_event")).scalar() == 3_000



@pytest.mark.parametrize("backend", BACKENDS)
def test_live312_accepted_counts_the_events_the_database_stored(tmp_path: Path, backend: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``written`` is what the insert stored, not what the look-up before it found new: an event another writer
    committed between this writer's look-up and its insert is a duplicate (test_live203's race, made certain by a
    look-up that finds nothing)."""
    import pandas as pd

    from etl.load import writers

    wh = live_warehouse(tmp_path, PG_URL if backend == "postgres" else None)

    def rows(*ids: str) -> pd.DataFrame:
        return pd.DataFrame({"event_id": list(ids), "facility_id": ["H1"] * len(ids),
                             "event_time": [pd.Timestamp("2025-08-20 10:00")] * len(ids),
                             "kind": ["heartbeat"] * len(ids),
                             "doctors_online": [2] * len(ids), "queue_length": [1] * len(ids),
                             "connectivity": ["good"] * len(ids)})

    with wh.engine.begin() as conn:
        assert writers.write_status(conn, rows("E1")).written == 1
    staged = writers._staged_ids
    monkeypatch.setattr(writers, "_staged_ids", lambda conn, ids: staged(conn, []))  # the look-up sees no event
    with wh.engine.begin() as conn:
        result = writers.write_status(conn, rows("E1", "E2"))
    assert (result.written, result.ignored) == (1, 1)
    with wh.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_status_event)).scalar() == 2
