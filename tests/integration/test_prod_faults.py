"""Production faults (issue 7), against the real serving stack: gunicorn with gunicorn.conf.py, a private Redis, and
PostgreSQL behind a TCP proxy that the test cuts and restores.

- Redis stopped mid-run: pages still answer (the cache is bypassed, a warning is logged) and Redis is used again
  once it is back.
- Database unreachable: pages answer a friendly 503 (HTML; JSON for the API and Dash callbacks) within the
  connect timeout, no worker hangs or is killed, and the same workers answer normally once the database is back.
- Two gunicorn instances sharing PostgreSQL and Redis give identical answers and both see a load's invalidation.

The PostgreSQL tests run in the PostgreSQL pass (`make test-postgres`); the cache-sharing one also needs
``AROGYA_TEST_CACHE_URL``. No timing assertions: every request has a client timeout below gunicorn's worker timeout,
so a hung request fails the test instead of slowing it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from dashboard.app_factory import create_app
from dashboard.auth import users
from dashboard.unavailable import is_database_unavailable
from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from tests.auth_helpers import logged_in_client
from tests.fixtures.live import free_port
from tests.fixtures.warehouse_factory import (
    CONSULTATIONS,
    TODAY,
    build_warehouse,
    fill,
    reader_engine,
    write_square_geojson,
)
from tests.integration.etl_files import CONSULTATION_HEADER, consultation_rows, write_csv
from tests.integration.test_dash_callbacks import AUGUST, call, texts

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
CACHE_URL = os.environ.get("AROGYA_TEST_CACHE_URL", "")
KEY = "test-pseudonym-key-0123456789abcdef0123456789abcdef"
KPIS = "overview-kpis.children"
CONNECT_TIMEOUT_S = 2
WORKER_TIMEOUT_S = 30
CLIENT_TIMEOUT_S = 15  # below the worker timeout: a request that hangs fails the test, gunicorn never reaps it


# ---------------------------------------------------------------- helpers


class TcpProxy:
    """127.0.0.1:<port> → target, in threads. ``cut()`` closes every open connection and holds new ones unanswered
    (a database host that went away: clients wait for their connect timeout); ``restore()`` forwards again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.forwarding = True
        self.stopped = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                self.sockets.append(client)
                if not self.forwarding:
                    continue  # held: never answered until cut off or restored
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close_all(self) -> None:
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def cut(self) -> None:
        with self.lock:
            self.forwarding = False
        self._close_all()

    def restore(self) -> None:
        with self.lock:
            self.forwarding = True
        self._close_all()  # the held, never-answered attempts

    def close(self) -> None:
        self.stopped = True
        self.listener.close()
        self._close_all()


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py app:server` on a free port, configured only through ``AROGYA_*`` variables."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = int(env["AROGYA_WORKERS"])
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
        self.env = {**clean, **env}
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{self.port}",
                 "app:server"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.wait_for_workers()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def worker_pids(self) -> set[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(p) for p in children.read_text().split()} if children.exists() else set()

    def wait_for_workers(self, not_these: set[int] = frozenset()) -> set[int]:  # type: ignore[assignment]
        """Wait until ``workers`` workers (none of ``not_these``) run and the server answers the sign-in page."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log_text()[-3000:]
            pids = self.worker_pids()
            if len(pids) == self.workers and not pids & not_these:
                try:
                    if requests.get(self.base + "/login", timeout=5).status_code == 200:
                        return pids
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start: " + self.log_text()[-3000:])

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def server_env(tmp_path: Path, database_url: str, cache_url: str = "", workers: int = 2) -> dict[str, str]:
    geo = tmp_path / "geo"
    if not geo.exists():
        write_square_geojson(geo)
    return {
        "AROGYA_DATA_DIR": str(tmp_path), "AROGYA_DATABASE_URL": database_url, "AROGYA_CACHE_URL": cache_url,
        "AROGYA_SECRET_KEY": secrets.token_hex(32), "AROGYA_TODAY": TODAY.isoformat(), "AROGYA_GEO_DIR": str(geo),
        "AROGYA_PSEUDONYM_KEY": KEY, "AROGYA_QUIET": "1", "AROGYA_WORKERS": str(workers), "AROGYA_THREADS": "2",
        "AROGYA_WORKER_TIMEOUT": str(WORKER_TIMEOUT_S), "AROGYA_DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S),
        # Every request reads the user again, so every request needs the database.
        "AROGYA_AUTH_RECHECK_S": "0",
    }


_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(base: str, username: str, password: str) -> requests.Session:
    """A browser-like session signed in through the real form."""
    session = requests.Session()
    form = session.get(base + "/login", timeout=CLIENT_TIMEOUT_S).text
    token = _FORM_TOKEN.search(form)
    assert token, form[:500]
    reply = session.post(base + "/login", data={"username": username, "password": password,
                                                "csrf_token": token.group(1), "next": "/"},
                         allow_redirects=False, timeout=CLIENT_TIMEOUT_S)
    assert reply.status_code == 302, reply.text[:500]
    return session


class _Capture:
    """Stands in for a test client: keeps the body ``call`` would post, so real HTTP clients can send it."""

    body: dict[str, Any] = {}

    def post(self, _path: str, json: dict[str, Any]) -> Any:
        self.body = json
        return type("NoContent", (), {"status_code": 204})()


@pytest.fixture(scope="module")
def kpi_body(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The overview KPI callback's request body for August, as the browser posts it (from an app's callback_map)."""
    wh = build_warehouse(tmp_path_factory.mktemp("callback-map"))
    app = create_app(wh.settings, engine=wh.engine, auth_engine=wh.engine)
    capture = _Capture()
    call(app, capture, KPIS, [AUGUST])
    wh.engine.dispose()
    return capture.body


def post_callback(session: requests.Session, base: str, body: dict[str, Any]) -> requests.Response:
    return session.post(base + "/_dash-update-component", json=body, timeout=CLIENT_TIMEOUT_S)


def kpi_text(reply: requests.Response) -> str:
    assert reply.status_code == 200, reply.text[:500]
    return texts(reply.json()["response"]["overview-kpis"]["children"])


def eventually(check: Callable[[], Any], seconds: float = 20) -> Any:
    """``check()``'s first truthy result, polling; fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"condition not met within {seconds} s (last: {last!r})")


def assert_unavailable(session: requests.Session, base: str, body: dict[str, Any]) -> None:
    """Pages answer a 503 page, the API and callbacks a 503 JSON, each with Retry-After."""
    page = session.get(base + "/overview", timeout=CLIENT_TIMEOUT_S)
    assert page.status_code == 503, page.text[:300]
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in page.text and "Traceback" not in page.text
    assert page.headers.get("Retry-After")
    hindi = session.get(base + "/overview?lang=hi", timeout=CLIENT_TIMEOUT_S)
    assert hindi.status_code == 503 and "अस्थायी रूप से उपलब्ध नहीं" in hindi.text
    for reply in (post_callback(session, base, body),
                  session.get(base + "/api/export/overview-districts.csv" + AUGUST, timeout=CLIENT_TIMEOUT_S)):
        assert reply.status_code == 503, reply.text[:300]
        assert reply.json()["status"] == 503 and reply.json()["message"]
        assert reply.headers.get("Retry-After")
    health = session.get(base + "/healthz", timeout=CLIENT_TIMEOUT_S)
    assert health.status_code == 503 and health.json()["database"] == "unreachable"


def assert_no_worker_was_lost(server: Gunicorn, workers: set[int]) -> None:
    assert server.worker_pids() == workers, "a worker was replaced during the outage"
    assert "WORKER TIMEOUT" not in server.log_text()


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A private, throw-away Redis on 127.0.0.1:``port`` (never the machine's shared one)."""
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port, socket_timeout=1)
    try:
        eventually(lambda: _pings(client), 10)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of its own on the test server (gunicorn's workers cannot be pointed at a test schema)."""
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"{make_url(PG_URL).database}_prod_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill_warehouse(tmp_path: Path, database_url: str) -> tuple[Settings, tuple[str, str]]:
    """The factory warehouse at ``database_url`` and a state-wide user: (settings, (username, password))."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, landing_dir=tmp_path / "landing",
                        geo_dir=tmp_path / "geo", today=TODAY.isoformat(), pseudonym_key=KEY, quiet=True)
    engine = make_engine(settings)
    upgrade(engine)
    fill(engine, CONSULTATIONS)
    name = f"prod-{uuid.uuid4().hex[:8]}"
    _, password = users.add_user(engine, name, "analyst", states=["*"])
    engine.dispose()
    return settings, (name, password)


# ---------------------------------------------------------------- tests


def test_prod001_database_errors_that_mean_unavailable() -> None:
    assert is_database_unavailable(sqlite3.OperationalError("unable to open database file"))
    assert is_database_unavailable(sqlite3.OperationalError("database is locked"))
    assert not is_database_unavailable(sqlite3.OperationalError("no such table: dim_facility"))
    assert not is_database_unavailable(sqlite3.OperationalError('near "SELEC": syntax error'))
    assert is_database_unavailable(psycopg.OperationalError("connection timeout expired"))
    assert is_database_unavailable(psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
    assert is_database_unavailable(psycopg.errors.AdminShutdown("terminating connection"))
    assert not is_database_unavailable(psycopg.errors.UndefinedTable("relation does not exist"))
    assert not is_database_unavailable(psycopg.errors.DivisionByZero("division by zero"))
    assert is_database_unavailable(sa_exc.TimeoutError("QueuePool limit reached"))
    wrapped = sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))
    assert is_database_unavailable(wrapped)
    assert not is_database_unavailable(sa_exc.ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("x")))
    assert not is_database_unavailable(ValueError("not a database error"))


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_prod002_redis_stopped_mid_run_pages_answer_then_redis_is_used_again(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    import redis

    port = free_port()
    wh = build_warehouse(tmp_path)
    app = create_app(wh.settings.with_(cache_url=f"redis://127.0.0.1:{port}/0"), engine=reader_engine(wh),
                     auth_engine=wh.engine)
    data = app.server.extensions["arogya"].data
    data.cache_retry_s = 0.5  # after a failure the cache is skipped this long (30 s in production)
    client = logged_in_client(app)
    store = redis.Redis(port=port, socket_timeout=1)
    engines = (data.engine, wh.engine)
    with redis_server(port):
        expected = texts(call(app, client, KPIS, [AUGUST])["overview-kpis"]["children"])
        assert "7 of 9 spokes" in expected
        assert store.keys("arogya:*"), "nothing was cached in Redis"
    # Redis is gone mid-run: the page still answers, from the database, and says so in the log.
    caplog.clear()
    assert texts(call(app, client, KPIS, [AUGUST])["overview-kpis"]["children"]) == expected
    export = client.get("/api/export/overview-districts.csv" + AUGUST)
    export.close()
    assert export.status_code == 200
    assert "cache unavailable" in caplog.text
    with redis_server(port):  # back, empty
        assert not store.keys("arogya:*")

        def cached_again() -> bool:
            assert texts(call(app, client, KPIS, [AUGUST])["overview-kpis"]["children"]) == expected
            return bool(store.keys("arogya:*"))

        eventually(cached_again, 10)
    for engine in engines:
        engine.dispose()


def test_prod003_sqlite_unreachable_answers_503_then_recovers(tmp_path: Path, kpi_body: dict[str, Any]) -> None:
    # The warehouse path is a link, so the test can take the file away from the server and give it back.
    store = tmp_path / "volume"
    store.mkdir()
    settings, (user, password) = fill_warehouse(store, f"sqlite:///{store / 'arogya.sqlite'}")
    link = tmp_path / "arogya.sqlite"
    link.symlink_to(store / "arogya.sqlite")
    env = server_env(tmp_path, f"sqlite:///{link}", workers=1)
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        session = signed_in(server.base, user, password)
        before = kpi_text(post_callback(session, server.base, kpi_body))
        assert "7 of 9 spokes" in before
        # The volume goes away, and the workers restart (a deploy, or max_requests recycling) while it is away.
        link.unlink()
        link.symlink_to(tmp_path / "unmounted" / "arogya.sqlite")
        old = server.worker_pids()
        server.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        workers = server.wait_for_workers(not_these=old)
        assert_unavailable(session, server.base, kpi_body)
        assert_no_worker_was_lost(server, workers)
        link.unlink()
        link.symlink_to(store / "arogya.sqlite")
        after = eventually(lambda: (r := post_callback(session, server.base, kpi_body)).status_code == 200
                           and kpi_text(r))
        assert after == before
        assert_no_worker_was_lost(server, workers)
    assert "database unavailable" in server.log_text()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_prod004_postgres_unreachable_answers_503_within_the_connect_timeout_then_recovers(
        tmp_path: Path, kpi_body: dict[str, Any], pg_database: str) -> None:
    database_url = pg_database
    settings, (user, password) = fill_warehouse(tmp_path, database_url)
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        with Gunicorn(server_env(tmp_path, proxied), tmp_path / "gunicorn.log") as server:
            workers = server.worker_pids()
            session = signed_in(server.base, user, password)
            before = kpi_text(post_callback(session, server.base, kpi_body))
            assert "7 of 9 spokes" in before
            proxy.cut()  # open connections drop; new ones are never answered (connect timeout)
            assert_unavailable(session, server.base, kpi_body)
            assert_no_worker_was_lost(server, workers)
            proxy.restore()
            after = eventually(lambda: (r := post_callback(session, server.base, kpi_body)).status_code == 200
                               and kpi_text(r))
            assert after == before
            assert session.get(server.base + "/healthz", timeout=CLIENT_TIMEOUT_S).status_code == 200
            assert_no_worker_was_lost(server, workers)
    finally:
        proxy.close()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_prod005_postgres_engines_have_timeouts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, db_connect_timeout_s=3, db_statement_timeout_s=7)
    reader, writer = make_engine(settings, read_only=True), make_engine(settings)
    try:
        with reader.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
        with writer.connect() as conn:  # the ETL's long loads are not cut off
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
        for engine in (reader, writer):
            assert engine.pool._pre_ping  # type: ignore[attr-defined]
            with engine.connect() as conn:
                assert conn.connection.dbapi_connection.info.get_parameters().get("connect_timeout") == "3"  # type: ignore[union-attr]
    finally:
        reader.dispose()
        writer.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
@pytest.mark.skipif(not CACHE_URL, reason="AROGYA_TEST_CACHE_URL (Redis) is not set")
def test_prod006_two_instances_share_postgres_and_redis_and_see_a_load(
        tmp_path: Path, kpi_body: dict[str, Any], pg_database: str) -> None:
    import redis

    database_url = pg_database
    settings, (user, password) = fill_warehouse(tmp_path, database_url)
    store = redis.Redis.from_url(CACHE_URL)
    for key in store.scan_iter("arogya:*"):
        store.delete(key)
    env = server_env(tmp_path, database_url, CACHE_URL, workers=1)
    with Gunicorn(env, tmp_path / "a.log") as a, Gunicorn(env, tmp_path / "b.log") as b:
        first, second = signed_in(a.base, user, password), signed_in(b.base, user, password)
        answer_a = post_callback(first, a.base, kpi_body)
        keys = set(store.scan_iter("arogya:*"))
        assert keys, "instance A cached nothing in Redis"
        answer_b = post_callback(second, b.base, kpi_body)
        assert answer_b.status_code == answer_a.status_code == 200
        assert answer_b.json() == answer_a.json()
        assert set(store.scan_iter("arogya:*")) == keys  # B answered from A's entries
        before = kpi_text(answer_a)

        # A small ETL load between: two new consultations in Kishanganj on 30-08-2025.
        write_csv(settings.landing_dir / "consultations_2025-08-30.csv", CONSULTATION_HEADER,
                  consultation_rows(2, day="2025-08-30", spokes=("S1", "S2"), prefix="LOAD"))
        engine = make_engine(settings)
        results = EtlRunner(settings, engine).run_landing()
        engine.dispose()
        assert sum(r.counts.loaded for r in results) == 2, results

        # B sees the load (the data version moved, so the old entries are never read again) ...
        after_b = eventually(lambda: (t := kpi_text(post_callback(second, b.base, kpi_body))) != before and t)
        keys = set(store.scan_iter("arogya:*"))
        # ... and A answers the same from the entries B stored for the new version.
        after_a = eventually(lambda: (t := kpi_text(post_callback(first, a.base, kpi_body))) != before and t)
        assert after_a == after_b
        assert set(store.scan_iter("arogya:*")) == keys


def test_prod007_gunicorn_conf_reads_the_settings_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    for name in [k for k in os.environ if k.startswith("AROGYA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AROGYA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AROGYA_WORKERS", "3")
    monkeypatch.setenv("AROGYA_THREADS", "5")
    monkeypatch.setenv("AROGYA_WORKER_TIMEOUT", "45")
    monkeypatch.setenv("AROGYA_ACCESS_LOG", "")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["accesslog"]) == (3, 5, 45, None)
    # Without a cache URL the workers share a folder of files under the data folder, emptied at start.
    assert conf["raw_env"] == [f"AROGYA_CACHE_URL=file://{tmp_path / 'cache'}"]
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "stale").write_text("x")
    conf["on_starting"](None)
    assert not (tmp_path / "cache").exists()
    monkeypatch.setenv("AROGYA_CACHE_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.delenv("AROGYA_WORKERS")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["raw_env"] == ["AROGYA_CACHE_URL=redis://127.0.0.1:6379/3"]
    assert conf["workers"] == max(2, os.cpu_count() or 1)
    monkeypatch.setenv("AROGYA_WORKERS", "many")
    with pytest.raises(ValueError, match="AROGYA_WORKERS must be a whole number"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))
