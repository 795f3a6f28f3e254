"""Status ingest benchmark: events per second accepted by ``POST /api/v1/status`` with batches of 100, on SQLite and
on PostgreSQL, and the latency from an event's POST to its appearance in the live page's refresh callback output.
Writes benchmarks/results/ingest.json.

    .venv/bin/python benchmarks/ingest.py                       # SQLite, and PostgreSQL at the URL below if up
    .venv/bin/python benchmarks/ingest.py --seconds 10 --skip-pg
    .venv/bin/python benchmarks/ingest.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

Set-up per backend: a fresh warehouse with ``--facilities`` synthetic facilities (default 10,000: a state the size of
Bihar with its spokes; 4% hubs) spread over Bihar's districts, one token, and the dashboard served by gunicorn
(gthread) in its own processes — the real app, with sign-in, alerts after ingest and everything else installed.
Clients: ``--clients`` threads in this process post pre-encoded batches (new event ids every time) for ``--seconds``.
Each configuration (workers × threads) is run in turn; the server's CPU seconds are read from /proc so that a busy
machine can be told apart from a slow server (events per server CPU-second).

Latency: a signed-in client renders the live board of one district, then repeatedly posts one event with a new
queue length for one of its facilities and calls the board's refresh callback (as its 10-second interval does) until
the new value is in the callback's output. Event-to-screen in a browser is that latency plus up to one refresh
interval (10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "ingest.json"
KEY = "benchmark-pseudonym-key-0123456789abcdef0123456789"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------- warehouse


def build(database_url: str, facilities: int, seed: int = 7) -> tuple[str, str, str, dict[str, int]]:
    """Migrate and fill a warehouse; returns (token, username, password, {facility: district}) for the run."""
    import numpy as np
    from sqlalchemy import insert, select

    from dashboard.api.tokens import create_token
    from dashboard.auth import users
    from etl.settings import Settings
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade
    from etl.warehouse.schema import dim_district, dim_facility

    engine = make_engine(Settings(database_url=database_url))
    upgrade(engine)
    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        districts = sorted(conn.execute(select(dim_district.c.district_lgd).where(
            dim_district.c.state_lgd == 10)).scalars())  # Bihar
        hubs_per_district: dict[int, list[str]] = {d: [] for d in districts}
        rows = []
        for i in range(facilities):
            district = districts[i % len(districts)]
            is_hub = i % 25 == 0 or not hubs_per_district[district]
            fid = f"B{district}{'H' if is_hub else 'S'}{i:06d}"
            if is_hub:
                hubs_per_district[district].append(fid)
            rows.append({"facility_id": fid, "name": f"{'PHC' if is_hub else 'HSC'} {i}",
                         "facility_type": "PHC" if is_hub else "SC", "role": "hub" if is_hub else "spoke",
                         "district_lgd": district, "lat": float(24.5 + rng.random() * 2.8),
                         "lon": float(83.5 + rng.random() * 4.5),
                         "hub_id": None if is_hub else hubs_per_district[district][-1],
                         "service_start": "00:00", "service_end": "24:00", "service_days": "1111111"})
        conn.execute(insert(dim_facility), rows)
    token = create_token(engine, "benchmark", rate_limit_per_minute=10_000_000)[1]
    username = f"bench-{uuid.uuid4().hex[:8]}"
    _, password = users.add_user(engine, username, "admin", states=["*"])
    engine.dispose()
    return token, username, password, {r["facility_id"]: r["district_lgd"] for r in rows}


# ---------------------------------------------------------------------------- server


class Server:
    """The app under gunicorn (gthread) in its own process group."""

    def __init__(self, env: dict[str, str], workers: int, threads: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [str(gunicorn), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", str(threads),
             "--worker-class", "gthread", "--timeout", "120", "--log-level", "warning", "app:server"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        import requests

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the server did not start: {Path(self.log.name).read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the gunicorn master and its workers."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        pids = [self.proc.pid]
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            pids += [int(p) for p in children]
        except OSError:
            pass
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                continue
        return total

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def server_env(database_url: str, data_dir: Path, cache_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
    env.update({"AROGYA_DATABASE_URL": database_url, "AROGYA_DATA_DIR": str(data_dir), "AROGYA_PSEUDONYM_KEY": KEY,
                "AROGYA_SECRET_KEY": secrets.token_hex(32), "AROGYA_QUIET": "1", "AROGYA_CACHE_URL": cache_url,
                "PYTHONPATH": str(ROOT)})
    return env


# ---------------------------------------------------------------------------- load


def bodies(facility_ids: list[str], count: int) -> list[bytes]:
    from etl.transform.context import now_ist

    now = now_ist().replace(microsecond=0)
    out = []
    run = uuid.uuid4().hex[:8]
    for b in range(count):
        events = []
        for i in range(BATCH):
            fid = facility_ids[(b * BATCH + i) % len(facility_ids)]
            when = now - timedelta(seconds=(b * BATCH + i) % 600)
            events.append({"event_id": f"BEN-{run}-{b}-{i}", "facility_id": fid,
                           "event_time": when.strftime("%Y-%m-%dT%H:%M:%S") + "+05:30", "kind": "heartbeat",
                           "doctors_online": i % 4, "queue_length": i % 9, "connectivity": "4G"})
        out.append(json.dumps(events).encode())
    return out


def throughput(server: Server, token: str, payloads: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    import requests

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    accepted = [0] * clients
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    next_body = iter(range(len(payloads)))
    stop_at = [0.0]

    def client(n: int) -> None:
        session = requests.Session()
        while time.perf_counter() < stop_at[0]:
            with lock:
                index = next(next_body, None)
            if index is None:
                return
            started = time.perf_counter()
            reply = session.post(server.url + "/api/v1/status", data=payloads[index], headers=headers, timeout=120)
            took = time.perf_counter() - started
            with lock:
                statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
                latencies.append(took)
            if reply.status_code == 200:
                accepted[n] += int(reply.json()["accepted"])

    # Warm-up: the first requests open pools and load the facility master.
    warm = requests.Session()
    for body in payloads[-3:]:
        warm.post(server.url + "/api/v1/status", data=body, headers=headers, timeout=120)
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    total = sum(accepted)
    latencies.sort()
    return {
        "events_accepted": total, "seconds": round(elapsed, 2), "events_per_s": round(total / elapsed, 1),
        "requests": sum(statuses.values()), "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_cpu_s": round(cpu, 2), "events_per_server_cpu_s": round(total / cpu, 1) if cpu else None,
        "request_ms_p50": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "request_ms_p95": round(1000 * latencies[int(len(latencies) * 0.95)], 1) if latencies else None,
    }


# ---------------------------------------------------------------------------- event → live page


def sign_in(session: Any, base: str, username: str, password: str) -> None:
    page = session.get(base + "/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no sign-in form"
    reply = session.post(base + "/login", data={"username": username, "password": password,
                                                "csrf_token": match.group(1), "next": "/"}, allow_redirects=False)
    assert reply.status_code == 302, reply.text[:300]


def refresh_spec(session: Any, base: str) -> dict[str, Any]:
    for spec in session.get(base + "/_dash-dependencies").json():
        if "live-map.figure" in spec["output"] and "@" not in spec["output"]:
            return spec
    raise RuntimeError("the live page's refresh callback is not registered")


def call_refresh(session: Any, base: str, spec: dict[str, Any], lgd: int, ticks: int | None,
                 snapshot: Any) -> dict[str, Any]:
    outputs = []
    for part in spec["output"][2:-2].split("..."):
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    inputs = [{"id": "live-ready", "property": "data", "value": lgd},
              {"id": "live-interval", "property": "n_intervals", "value": ticks}]
    state = [{"id": "live-snapshot", "property": "data", "value": snapshot},
             {"id": "url", "property": "search", "value": ""}]
    body = {"output": spec["output"], "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": ["live-interval.n_intervals" if ticks else "live-ready.data"]}
    reply = session.post(base + "/_dash-update-component", json=body, timeout=60)
    if reply.status_code == 204:
        return {}
    reply.raise_for_status()
    return reply.json()["response"]


def latency(server: Server, token: str, username: str, password: str, facility: str, lgd: int,
            probes: int) -> dict[str, Any]:
    import requests

    from etl.transform.context import now_ist

    session = requests.Session()
    sign_in(session, server.url, username, password)
    spec = refresh_spec(session, server.url)
    snapshot = call_refresh(session, server.url, spec, lgd, None, None)["live-snapshot"]["data"]
    headers = {"Authorization": f"Bearer {token}"}
    samples, callback_ms, polls_per_probe = [], [], []
    for n in range(probes):
        queue = 1000 + n
        event = {"event_id": f"LAT-{uuid.uuid4().hex}", "facility_id": facility,
                 "event_time": now_ist().strftime("%Y-%m-%dT%H:%M:%S") + "+05:30", "kind": "heartbeat",
                 "doctors_online": 3, "queue_length": queue}
        started = time.perf_counter()
        reply = session.post(server.url + "/api/v1/status", json=event, headers=headers, timeout=60)
        assert reply.status_code == 200, reply.text
        polls = 0
        while True:
            polls += 1
            before = time.perf_counter()
            out = call_refresh(session, server.url, spec, lgd, n + 1, snapshot)
            callback_ms.append(1000 * (time.perf_counter() - before))
            rows = (out.get("live-table") or {}).get("rowTransaction", {}).get("update", [])
            if any(r["facility_id"] == facility and r["queue_length"] == queue for r in rows):
                break
            if time.perf_counter() - started > 30:
                raise RuntimeError("the event did not appear within 30 s")
        samples.append(1000 * (time.perf_counter() - started))
        polls_per_probe.append(polls)
        time.sleep(0.2)
    samples.sort()
    return {
        "probes": probes, "post_to_callback_output_ms_p50": round(statistics.median(samples), 1),
        "post_to_callback_output_ms_p95": round(samples[int(len(samples) * 0.95) - 1], 1),
        "post_to_callback_output_ms_max": round(samples[-1], 1),
        "refresh_callback_ms_median": round(statistics.median(callback_ms), 1),
        "callbacks_needed_max": max(polls_per_probe),
        "event_to_screen_worst_s": round(10 + samples[-1] / 1000, 2),
        "note": "a browser polls every 10 s: event to screen = up to one interval + the latency above",
    }


# ---------------------------------------------------------------------------- runs


def run_backend(name: str, database_url: str, data_dir: Path, args: argparse.Namespace,
                cache_url: str = "") -> dict[str, Any]:
    token, username, password, where = build(database_url, args.facilities)
    ids = list(where)
    needed = int(args.seconds * 6000 / BATCH) + 10  # enough bodies for 6,000 events/s
    payloads = bodies(ids, needed)
    out: dict[str, Any] = {"database": name, "facilities": len(ids), "batch": BATCH, "clients": args.clients,
                           "cache_url": bool(cache_url), "configurations": []}
    for workers, threads in args.configs:
        print(f"[{name}] gunicorn {workers} worker(s) x {threads} thread(s), {args.clients} clients, "
              f"{args.seconds:g} s ...", flush=True)
        server = Server(server_env(database_url, data_dir, cache_url), workers, threads)
        try:
            load = load_average()
            result = throughput(server, token, payloads, args.clients, args.seconds)
            payloads = payloads[result["requests"] + 3:] + bodies(ids, result["requests"] + 3)
            result.update({"workers": workers, "threads": threads, "load_average_before": load,
                           "load_average_after": load_average()})
            print(f"    {result['events_per_s']:,.0f} events/s ({result['events_per_server_cpu_s'] or 0:,.0f} per "
                  f"server CPU-s), statuses {result['statuses']}", flush=True)
            out["configurations"].append(result)
        finally:
            server.stop()
    best = max(out["configurations"], key=lambda r: r["events_per_s"])
    out["best_events_per_s"] = best["events_per_s"]
    server = Server(server_env(database_url, data_dir, cache_url), *args.configs[0])
    try:
        facility = next(f for f in ids if "H" in f)
        out["latency"] = latency(server, token, username, password, facility, where[facility], args.probes)
        print(f"    POST → live callback output: p50 {out['latency']['post_to_callback_output_ms_p50']} ms, "
              f"max {out['latency']['post_to_callback_output_ms_max']} ms", flush=True)
    finally:
        server.stop()
    return out


def postgres_database(url: str) -> tuple[str, str] | None:
    """A fresh database on the server at ``url``: (its URL, its name), or None when the server is not reachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"arogya_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL at {url} not usable ({type(exc).__name__}: {exc}); skipped", file=sys.stderr)
        return None
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def parse_configs(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        workers, _, threads = part.partition("x")
        out.append((int(workers), int(threads or 1)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facilities", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load per configuration")
    parser.add_argument("--clients", type=int, default=4, help="client threads posting at once")
    parser.add_argument("--configs", type=parse_configs, default=parse_configs("1x4,2x4"),
                        help="gunicorn workers x threads to try, e.g. 1x4,2x4")
    parser.add_argument("--probes", type=int, default=20, help="latency samples")
    parser.add_argument("--pg", default=os.environ.get("AROGYA_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--redis", default=os.environ.get("AROGYA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()

    results: dict[str, Any] = {"benchmark": "status ingest", "cpus": os.cpu_count(),
                               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "goal_events_per_s": 1000,
                               "runs": []}
    workdir = Path(tempfile.mkdtemp(prefix="arogya-ingest-"))
    try:
        sqlite_url = f"sqlite:///{workdir / 'warehouse.sqlite'}"
        results["runs"].append(run_backend("sqlite", sqlite_url, workdir, args))
        if not args.skip_pg:
            created = postgres_database(args.pg)
            if created is not None:
                url, name = created
                try:
                    results["runs"].append(run_backend("postgresql", url, workdir, args, cache_url=args.redis))
                finally:
                    drop_postgres_database(args.pg, name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    sqlite = results["runs"][0]
    results["meets_goal_on_sqlite"] = sqlite["best_events_per_s"] >= results["goal_events_per_s"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
