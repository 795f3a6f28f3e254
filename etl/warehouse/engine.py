"""Engine creation: one function for SQLite (WAL, busy timeout) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from etl.settings import Settings


def make_engine(settings: Settings, *, read_only: bool = False, create: bool = True) -> Engine:
    """An engine for the warehouse at ``settings.database_url``.

    On SQLite the file's folder is created (unless ``read_only`` or not ``create``: then a missing file is an
    error), WAL journaling lets readers go on while the ETL writes, and a busy
    timeout makes a second writer wait instead of failing with "database is locked".
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        on_disk = bool(database) and database != ":memory:" and not database.startswith("file:")
        if on_disk and create and not read_only:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        elif on_disk:
            # The dashboard opens the warehouse only if it is there: a missing file (a volume not mounted, a wrong
            # path) is an error it shows as "unavailable", not a new empty warehouse that looks like no data. Only
            # the ETL, `arogya db upgrade` and the demo create it.
            url = url.set(database=f"file:{Path(database).absolute()}?mode=rw", query={**url.query, "uri": "true"})
        engine = create_engine(
            url,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
            pool_pre_ping=False,
        )
        busy_ms = int(settings.sqlite_busy_timeout_ms)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not the driver, open transactions so BEGIN IMMEDIATE can be used for writers.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.execute("PRAGMA cache_size=-65536")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
            # A writer takes the write lock up front, so two writers queue on busy_timeout instead of deadlocking
            # on a lock upgrade (which SQLite reports at once as "database is locked").
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # A database that does not answer costs at most the connect timeout; a dashboard query at most the statement
    # timeout (the ETL's long loads have none). Both stay below gunicorn's worker timeout, so the page answers 503
    # instead of its worker being killed. pool_pre_ping replaces connections a database restart has cut.
    connect_args: dict[str, object] = {"connect_timeout": max(1, settings.db_connect_timeout_s)}
    if read_only:
        options = ["-c default_transaction_read_only=on"]
        if settings.db_statement_timeout_s > 0:
            options.append(f"-c statement_timeout={int(settings.db_statement_timeout_s) * 1000}")
        connect_args["options"] = " ".join(options)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=max(1, settings.db_connect_timeout_s),
        connect_args=connect_args,
    )


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def truncate_wal(engine: Engine) -> tuple[int, int, int] | None:
    """On SQLite, copy the write-ahead log into the database and truncate it (after a bulk load the log has grown
    to the size of its largest transaction, and stays that size on disk otherwise). Returns SQLite's (busy, log
    pages, pages copied): busy when a reader still needs the log, which is then left as it is. None elsewhere."""
    if not is_sqlite(engine):
        return None
    raw = engine.raw_connection()
    try:
        # On the driver's connection, outside any transaction: a checkpoint cannot run inside one.
        row = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        raw.close()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None
