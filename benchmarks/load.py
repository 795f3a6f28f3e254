"""Load test (issue 7): 50 concurrent users on the `state` demo against gunicorn (`arogya serve --prod`, i.e.
gunicorn.conf.py), once on SQLite with the in-process cache and once on PostgreSQL with Redis. Writes
benchmarks/results/load.json and prints requests/s, p50/p95/p99 and errors per backend and per request type.

    .venv/bin/pip install -e '.[bench]'                          # locust
    .venv/bin/python benchmarks/load.py                          # both backends, 50 users, 150 s each
    .venv/bin/python benchmarks/load.py --backend sqlite --duration 60 --users 20
    .venv/bin/python benchmarks/load.py --backend postgres --pg-url postgresql+psycopg://postgres@127.0.0.1/arogya

Users are simulated by locust (headless, benchmarks/load_users.py) on 127.0.0.1 only, for a bounded time, with a
ramp-up of ``--spawn-rate`` users a second. They mix the main pages (overview, district, compare, hubs, CHOs, schemes,
live), each opened through Dash's router callback followed by every callback the page fires on load, with real
``POST /_dash-update-component`` bodies built from the app's callback map (benchmarks/dashboard.py's ``payload``),
and CSV exports; signed in as a state-wide user through the real sign-in form (benchmarks/dashboard.py's
``sign_in``). Views vary (periods, metrics, districts) so that caches see a realistic mix, not one URL.

SQLite: the warehouse (default /tmp/bench-state) is copied first (the app writes users and the audit log) with
SQLite's backup API. PostgreSQL: the warehouse must already be loaded, e.g.
``AROGYA_DATABASE_URL=... arogya demo --scale state --days 30``. Percentiles are exact (every request is recorded),
for the whole run and for the steady state after the ramp-up. Goal: p95 <= 500 ms and no errors on both backends.
The machine is shared (locust runs on the same cores as the server): compare runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "load.json"
USERS_FILE = ROOT / "benchmarks" / "load_users.py"
DEFAULT_SQLITE_DIR = Path(tempfile.gettempdir()) / "bench-state"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/arogya_prod"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/9"
GOAL_P95_MS = 500.0
IST = timezone(timedelta(hours=5, minutes=30))


def _bench() -> Any:
    """benchmarks/dashboard.py: the app target, the HTTP client, the sign-in and the callback bodies."""
    import importlib

    return importlib.import_module("benchmarks.dashboard")


# ---------------------------------------------------------------- the plan: what users request


@dataclass(frozen=True)
class View:
    page: str
    path: str
    search: str
    callbacks: list[tuple[str, str, dict[str, Any]]]  # (name, output, input values)


def top_districts(settings: Any, n: int) -> list[int]:
    from sqlalchemy import text

    from etl.warehouse.engine import make_engine

    engine = make_engine(settings, read_only=True)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT district_lgd, count(*) AS n FROM dim_facility GROUP BY district_lgd "
                                 "ORDER BY n DESC, district_lgd LIMIT :n"), {"n": n}).all()
    engine.dispose()
    return [int(r.district_lgd) for r in rows]


def views(districts: list[int], live_today: str) -> list[View]:
    """Every page in a few views: the default (last 30 days) and other periods, metrics and districts."""
    d0, d1, d2 = districts[0], districts[1], districts[2]
    out: list[View] = []
    for search in ("?metric=consultations", "?period=last7", "?metric=median_wait",
                   "?period=last90&metric=referral_rate"):
        v = {"url.search": search, "overview-ready.data": "overview"}
        out.append(View("overview", "/", search, [
            ("overview.kpis", "overview-kpis.children", v), ("overview.map", "overview-map.figure", v),
            ("overview.trend", "overview-trend.figure", v), ("overview.ranking", "overview-grid.rowData", v),
            ("overview.links", "overview-export.href", v)]))
    for lgd, search in [(d, "") for d in districts] + [(d0, "?period=last7")]:
        path = f"/district/{lgd}"
        v = {"url.search": search, "url.pathname": path, "district-ready.data": lgd,
             "district-boundary-version.data": None}
        out.append(View("district", path, search, [
            ("district.kpis", "district-kpis.children", v), ("district.map", "district-map.figure", v),
            ("district.tables", "district-blocks.rowData", v), ("district.links", "district-blocks-export.href", v)]))
    for search in (f"?cmp={d0},{d1},{d2}", f"?cmp={districts[3]},{districts[4]}&period=last7"):
        v = {"url.search": search, "compare-ready.data": "compare"}
        out.append(View("compare", "/compare", search, [
            ("compare.charts", "compare-panels.figure", v), ("compare.links", "compare-export.href", v)]))
    for search in ("", "?period=last7", f"?district={d0}", f"?district={d1}"):
        v = {"url.search": search, "hubs-ready.data": "hubs"}
        out.append(View("hubs", "/hubs", search, [
            ("hubs.kpis_and_load", "hubs-kpis.children", v), ("hubs.specialty", "hubs-specialty.figure", v),
            ("hubs.heatmap", "hubs-heatmap.figure", v), ("hubs.spokes", "hubs-spokes.rowData", v),
            ("hubs.network", "hubs-network-map.figure", v), ("hubs.links", "hubs-load-export.href", v)]))
    for search in ("", "?period=last7", f"?district={d0}"):
        v = {"url.search": search, "chos-ready.data": "chos"}
        out.append(View("chos", "/chos", search, [
            ("chos.summary", "chos-kpis.children", v), ("chos.lists", "chos-roster.rowData", v),
            ("chos.map", "chos-map.figure", v),
            ("chos.links", "chos-roster-export.href", v)]))
    for search in ("", f"?district={d0}", "?period=last_month"):
        v = {"url.search": search, "schemes-ready.data": "schemes"}
        out.append(View("schemes", "/schemes", search, [
            ("schemes.kpis", "schemes-kpis.children", v),
            ("schemes.achievement", "schemes-achievement-title.children", v),
            ("schemes.laggards", "schemes-laggards.rowData", v),
            ("schemes.map", "schemes-map.figure", v), ("schemes.trend", "schemes-trend.figure", v),
            ("schemes.packages", "schemes-packages-figure.figure", v),
            ("schemes.package_centres", "schemes-packages.rowData", v),
            ("schemes.links", "schemes-catalogue-export.href", v)]))
    for lgd in (d0, d1):
        v = {"live-ready.data": lgd, "live-interval.n_intervals": None, "url.search": "",
             "live-history-day.value": live_today, "live-history-interval.n_intervals": None}
        out.append(View("live", f"/live/{lgd}", "", [
            ("live.board", "live-map.figure", v), ("live.history", "live-timeline.figure", v)]))
    out.append(View("live", "/live", "", [
        ("live.districts", "live-districts.children", {"live-districts-interval.n_intervals": None})]))
    return out


def exports(districts: list[int]) -> list[dict[str, str]]:
    d0, d1, d2 = districts[0], districts[1], districts[2]
    items = [("overview-districts", ""), ("overview-districts", "?period=last7"),
             ("district-facilities", f"?lgd={d0}"), ("district-facilities", f"?lgd={d1}"),
             ("compare-districts", f"?cmp={d0},{d1},{d2}"), ("hubs-load", ""), ("chos-roster", f"?district={d0}"),
             ("schemes-achievement", "")]
    return [{"name": f"export.{name}", "path": f"/api/export/{name}.csv{search}"} for name, search in items]


def build_plan(app: Any, districts: list[int], cookie: str) -> dict[str, Any]:
    bench = _bench()
    app.server.test_client().get("/login")  # Dash registers the pages router on its first request
    live_today = datetime.now(IST).date().isoformat()
    pages: dict[str, list[dict[str, Any]]] = {}
    for view in views(districts, live_today):
        router = bench.payload(app, "_pages_content.children",
                               {"_pages_location.pathname": view.path, "_pages_location.search": view.search})
        pages.setdefault(view.page, []).append({
            "path": view.path + view.search,
            "router": json.loads(router),
            "callbacks": [{"name": name, "body": json.loads(bench.payload(app, output, values))}
                          for name, output, values in view.callbacks],
        })
    return {"cookie": cookie, "shell": ["/", "/_dash-layout", "/_dash-dependencies"], "pages": pages,
            "exports": exports(districts)}


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`arogya serve --prod` (gunicorn with gunicorn.conf.py) on 127.0.0.1, configured through AROGYA_* only."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
        self.env = {**clean, **env}
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        import requests

        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).with_name("arogya")), "serve", "--prod", "--host", "127.0.0.1",
                 "--port", str(self.port)], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=5).status_code == 200 and \
                        len(self.worker_pids()) >= self.workers():
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"the server did not start: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def workers(self) -> int:
        from etl.settings import Settings

        return Settings(workers=int(self.env.get("AROGYA_WORKERS") or 0)).worker_count

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) so far of the master and each worker, by process id; the master's includes the
        workers it has reaped (a worker recycled by ``max_requests`` during the run still counts)."""
        assert self.proc is not None
        out = {}
        for pid in {self.proc.pid, *self.worker_pids()}:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = int(fields[11]) + int(fields[12])
            if pid == self.proc.pid:
                used += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped workers
            out[pid] = used / os.sysconf("SC_CLK_TCK")
        return out

    def worker_pids(self) -> set[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(p) for p in children.read_text().split()} if children.exists() else set()


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    return _bench().percentile(values, q)


def summarise(samples: list[tuple[float, str, float, int]], seconds: float) -> dict[str, Any]:
    times = [s[2] for s in samples]
    errors = sum(s[3] for s in samples)
    if not samples:
        return {"requests": 0, "errors": 0}
    return {"requests": len(samples), "errors": errors, "requests_per_s": round(len(samples) / seconds, 2),
            "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "p99_ms": round(percentile(times, 99), 1), "max_ms": round(max(times), 1),
            "mean_ms": round(statistics.fmean(times), 1)}


def category(name: str) -> str:
    if name.startswith("export."):
        return "export"
    if name.startswith("shell"):
        return "shell"
    if name.endswith(".layout"):
        return "page layout"
    return "callback"


def analyse(path: Path, started: float, ramp_s: float, ended: float) -> dict[str, Any]:
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        at, name, ms, failed = line.split("\t")
        samples.append((float(at), name, float(ms), int(failed)))
    steady_from = started + ramp_s
    steady = [s for s in samples if s[0] >= steady_from]
    by_name: dict[str, list[tuple[float, str, float, int]]] = {}
    by_category: dict[str, list[tuple[float, str, float, int]]] = {}
    for s in samples:
        by_name.setdefault(s[1], []).append(s)
        by_category.setdefault(category(s[1]), []).append(s)
    total_s = max(ended - started, 1e-9)
    return {
        "all": summarise(samples, total_s),
        "steady": summarise(steady, max(ended - steady_from, 1e-9)),
        "by_category": {k: summarise(v, total_s) for k, v in sorted(by_category.items())},
        "by_request": {k: summarise(v, total_s) for k, v in sorted(by_name.items())},
    }


def server_problems(log: Path) -> dict[str, int]:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    status = [line.rsplit('" ', 1)[-1].split() for line in text.splitlines() if '"POST /' in line or '"GET /' in line]
    return {"worker_timeouts": text.count("WORKER TIMEOUT"), "tracebacks": text.count("Traceback"),
            "http_5xx": sum(1 for parts in status if parts and parts[0].startswith("5")),
            "database_unavailable_503": text.count("database unavailable"),
            "cache_unavailable": text.count("cache unavailable")}


# ---------------------------------------------------------------- where the time goes


def profile_requests(target: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """CPU milliseconds of each request type of the plan's first view of every page, with an empty cache (cold)
    and right after (warm), served one at a time in this process (werkzeug, like one gunicorn thread). CPU time,
    not wall time, so other work on the machine does not count; includes the HTTP client's small share."""
    bench = _bench()
    data = target.app.server.extensions["arogya"].data

    def clear() -> None:
        with target.app.server.app_context():
            data.cache.clear()
        data.forget_version()

    out: dict[str, Any] = {}
    with bench.Server(target.app.server) as server:
        client = bench.Client(server.port)
        bench.sign_in(target.app, client, role="analyst")
        requests = [(f"{page}.layout", "POST", views_[0]["router"]) for page, views_ in plan["pages"].items()]
        requests += [(c["name"], "POST", c["body"]) for views_ in plan["pages"].values()
                     for c in views_[0]["callbacks"]]
        requests += [(e["name"], "GET", e["path"]) for e in plan["exports"]]
        for name, method, what in requests:
            if name in out:
                continue
            timings = []
            for cold in (True, False):
                if cold:
                    clear()
                started = time.process_time()
                if method == "POST":
                    reply = client.request("POST", "/_dash-update-component", json.dumps(what).encode())
                else:
                    reply = client.request("GET", what)
                timings.append((time.process_time() - started) * 1000)
            out[name] = {"cold_cpu_ms": round(timings[0], 1), "warm_cpu_ms": round(timings[1], 1),
                         "status": reply.status, "bytes": len(reply.body)}
        client.close()
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["cold_cpu_ms"]))


# ---------------------------------------------------------------- one backend


def sqlite_copy(source_dir: Path, work: Path, fresh: bool) -> Path:
    """A consistent copy of the warehouse (WAL included) made with SQLite's backup API; an earlier copy in ``work``
    is reused unless ``fresh``."""
    source = source_dir / "arogya.sqlite"
    if not source.is_file():
        raise SystemExit(f"no warehouse at {source}: build it with `AROGYA_DATA_DIR={source_dir} arogya demo "
                         "--scale state --days 120`")
    work.mkdir(parents=True, exist_ok=True)
    target = work / "arogya.sqlite"
    if target.exists() and not fresh:
        return target
    target.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    src.backup(dst)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.close()
    src.close()
    return target


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from etl.settings import Settings

    bench = _bench()
    work.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        print(f"[{backend}] copying {args.sqlite_dir} …", flush=True)
        copy = sqlite_copy(args.sqlite_dir, args.work_dir / "sqlite-warehouse", args.fresh_copy)
        database_url = f"sqlite:///{copy}"
        cache_url = args.sqlite_cache_url.replace("{work}", str(work))
    else:
        database_url, cache_url = args.pg_url, args.cache_url
        if cache_url.startswith("redis"):
            import redis

            store = redis.Redis.from_url(cache_url)
            stale = list(store.scan_iter("arogya:*"))
            if stale:
                store.delete(*stale)  # start cold, like the SQLite run
    base_settings = Settings.from_env().with_(data_dir=work, database_url=database_url, cache_url=cache_url,
                                              landing_dir=work / "landing", quiet=True)
    target = bench.build_target(base_settings)
    districts = top_districts(base_settings, 6)
    print(f"[{backend}] warehouse {target.counts}; today {target.today}; districts {districts}", flush=True)
    env = {"AROGYA_DATA_DIR": str(work), "AROGYA_DATABASE_URL": database_url, "AROGYA_CACHE_URL": cache_url,
           "AROGYA_TODAY": target.today.isoformat(), "AROGYA_SECRET_KEY": secrets.token_hex(32),
           "AROGYA_QUIET": "1", "AROGYA_ACCESS_LOG": "-"}
    for name in ("workers", "threads"):
        if getattr(args, name):
            env[f"AROGYA_{name.upper()}"] = str(getattr(args, name))
    log = work / "server.log"
    with Server(env, log) as server:
        client = bench.Client(server.port)
        cookie = bench.sign_in(target.app, client, role="analyst")  # views every page and may export
        client.close()
        if cookie is None:
            raise SystemExit("the app has no sign-in: nothing to sign in to")
        plan = build_plan(target.app, districts, cookie)
        plan_file, samples_file = work / "plan.json", work / "samples.tsv"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        ramp_s = args.users / args.spawn_rate
        print(f"[{backend}] {server.workers()} workers on {server.base}; {args.users} users "
              f"(+{args.spawn_rate}/s, ramp-up {ramp_s:.0f} s) for {args.duration} s …", flush=True)
        load_before = os.getloadavg()
        cpu_before = server.cpu_seconds()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        locust = subprocess.run(
            [str(Path(sys.executable).with_name("locust")), "-f", str(USERS_FILE), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
             "--host", server.base, "--plan", str(plan_file), "--samples", str(samples_file), "--only-summary",
             "--stop-timeout", "60", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT, capture_output=True, text=True, timeout=args.duration + 180)
        ended = time.time()
        load_after = os.getloadavg()
        cpu_after = server.cpu_seconds()
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        (work / "locust.log").write_text(locust.stdout + locust.stderr, encoding="utf-8")
        if locust.returncode != 0:
            raise SystemExit(f"locust failed ({locust.returncode}): {locust.stderr[-2000:]}")
        workers = server.workers()
        threads = Settings(threads=int(env.get("AROGYA_THREADS") or Settings().threads)).threads
    result = analyse(samples_file, started, ramp_s, ended)
    if args.profile:
        print(f"[{backend}] profiling each request type (cold and warm CPU) …", flush=True)
        result["profile"] = profile_requests(target, plan)
    server_cpu = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after)
    locust_cpu = (children_after.ru_utime + children_after.ru_stime
                  - children_before.ru_utime - children_before.ru_stime)
    served = Settings(data_dir=work, cache_url=cache_url).served_cache_url
    result.update({
        "database": "sqlite" if backend == "sqlite" else "postgresql",
        "cache": ("redis" if served.startswith("redis") else "files (FileSystemCache shared by the workers)"
                  if served.startswith("file://") else "in-process (SimpleCache per worker)"),
        "cpu": {"server_s": round(server_cpu, 1), "locust_s": round(locust_cpu, 1),
                "server_ms_per_request": round(1000 * server_cpu / max(1, result["all"]["requests"]), 1),
                "note": "CPU the server spent per request, whatever else ran on the machine: the number of "
                        "requests a second two idle cores could serve is about 2000 / server_ms_per_request"},
        "warehouse_rows": target.counts,
        "demo_days": _demo_days(target),
        "today": target.today.isoformat(),
        "gunicorn": {"workers": workers, "threads": threads, "worker_class": "gthread"},
        "users": args.users, "spawn_rate_per_s": args.spawn_rate, "duration_s": args.duration,
        "ramp_up_s": ramp_s, "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "server_log": server_problems(log),
        "goal_met": None,
    })
    steady = result["steady"]
    result["goal_met"] = bool(steady.get("p95_ms", 1e9) <= GOAL_P95_MS and result["all"]["errors"] == 0
                              and result["server_log"]["worker_timeouts"] == 0)
    return result


def _demo_days(target: Any) -> int | None:
    from sqlalchemy import text

    data = target.app.server.extensions["arogya"].data
    with data.engine.connect() as conn:
        first, last = conn.execute(text("SELECT min(day), max(day) FROM rollup_district_day")).one()
    if first is None:
        return None
    return (date.fromisoformat(str(last)[:10]) - date.fromisoformat(str(first)[:10])).days + 1


# ---------------------------------------------------------------- report


def print_report(result: dict[str, Any]) -> None:
    for backend, r in result["backends"].items():
        print(f"\n== {backend}: {r['database']} + {r['cache']}; {r['gunicorn']['workers']} workers x "
              f"{r['gunicorn']['threads']} threads; {r['users']} users, {r['duration_s']} s "
              f"(load average {r['load_average_before_after']})")
        print(f"   {'':34s} {'req':>6s} {'err':>4s} {'req/s':>7s} {'p50':>7s} {'p95':>7s} {'p99':>7s}")
        rows = [("ALL (whole run)", r["all"]), ("ALL (steady state)", r["steady"])]
        rows += [(f"[{k}]", v) for k, v in r["by_category"].items()]
        rows += list(r["by_request"].items())
        for name, s in rows:
            if not s.get("requests"):
                continue
            print(f"   {name:34s} {s['requests']:6d} {s['errors']:4d} {s['requests_per_s']:7.2f} "
                  f"{s['p50_ms']:7.0f} {s['p95_ms']:7.0f} {s['p99_ms']:7.0f}")
        for name, prof in list(r.get("profile", {}).items())[:12]:
            print(f"   profile {name:30s} cold {prof['cold_cpu_ms']:7.0f} ms CPU, warm {prof['warm_cpu_ms']:6.0f} ms")
        cpu = r["cpu"]
        print(f"   server CPU {cpu['server_s']} s ({cpu['server_ms_per_request']} ms a request); locust CPU "
              f"{cpu['locust_s']} s")
        print(f"   server log: {r['server_log']}; goal (steady p95 <= {GOAL_P95_MS:.0f} ms, no errors): "
              f"{'met' if r['goal_met'] else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sqlite-dir", type=Path, default=DEFAULT_SQLITE_DIR,
                        help=f"folder of the SQLite state demo (default {DEFAULT_SQLITE_DIR}; copied, never changed)")
    parser.add_argument("--sqlite-cache-url", default="",
                        help="AROGYA_CACHE_URL of the SQLite run (default: empty, the in-process cache; "
                             "file://{work}/cache for a folder shared by the workers)")
    parser.add_argument("--fresh-copy", action="store_true", help="copy the SQLite warehouse again")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"the loaded PostgreSQL warehouse ({DEFAULT_PG_URL})")
    parser.add_argument("--cache-url", default=DEFAULT_CACHE_URL, help=f"Redis of the PostgreSQL run "
                                                                       f"({DEFAULT_CACHE_URL}; its arogya:* keys are "
                                                                       "deleted first)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=1.0, help="users started per second (ramp-up)")
    parser.add_argument("--duration", type=int, default=150, help="seconds per backend, ramp-up included")
    parser.add_argument("--workers", type=int, default=0, help="AROGYA_WORKERS (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=0, help="AROGYA_THREADS (default: gunicorn.conf.py's)")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "arogya-load")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--profile", action="store_true",
                        help="after the load, time each request type's CPU alone, cold and warm (in this process)")
    parser.add_argument("--note", default="", help="a remark stored with the results")
    parser.add_argument("--label", default="", help="name of the run in the results (default: the backend); "
                                                     "runs under other names are kept")
    args = parser.parse_args(argv)
    if args.users < 1 or args.spawn_rate <= 0 or args.duration < 10:
        parser.error("--users >= 1, --spawn-rate > 0 and --duration >= 10 are required")
    if shutil.which("locust", path=str(Path(sys.executable).parent)) is None:
        raise SystemExit("locust is not installed: .venv/bin/pip install -e '.[bench]'")
    os.environ.setdefault("AROGYA_QUIET", "1")
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    result = {"benchmark": "load", "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "goal": {"p95_ms": GOAL_P95_MS, "errors": 0, "measured_on": "steady state (after the ramp-up)"},
              "note": args.note, "backends": dict(previous.get("backends", {}))}
    if args.label and len(backends) > 1:
        parser.error("--label names one run: give --backend too")
    for backend in backends:
        work = args.work_dir / backend
        shutil.rmtree(work, ignore_errors=True)
        run = run_backend(backend, args, work)
        run["note"] = args.note
        result["backends"][args.label or backend] = run
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_report(result)
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
