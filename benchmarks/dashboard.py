"""Dashboard benchmark (issue 3): callback latency with a cold and a warm cache, each as a ratio to a no-op Dash
callback on the same server in the same run; bytes of a map update; bytes of the first page load with gzip on.
Writes benchmarks/results/dashboard.json and prints the figures.

    .venv/bin/python benchmarks/dashboard.py                              # the state demo (built once if missing)
    .venv/bin/python benchmarks/dashboard.py --data-dir /tmp/bench-small --calls 50 --rounds 3
    .venv/bin/python benchmarks/dashboard.py --add-indexes                # with the recommended warehouse indexes

The app runs in this process behind werkzeug's threaded server on 127.0.0.1 (HTTP/1.1, keep-alive); requests are
real ``POST /_dash-update-component`` calls built from ``app.callback_map``, signed in as a state-wide user through
the sign-in form (the app has no switch that turns sign-in off). A hidden no-op callback is registered on the app
before serving. Cold: the result cache is cleared (and the data version forgotten) before every call.
Each callback call is preceded by a no-op call, so both see the same machine noise; every round gives a ratio and
the report gives the median over rounds. Timings on a shared machine are noisy: compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "dashboard.json"
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "bench-state"
DEMO_KEY = "benchkey0123456789012345678901234567"
NOOP_OUTPUT = "bench-noop-out.children"
GOALS = {"warm_p95_ratio": 3.0, "cold_p95_ratio": 30.0, "map_update_bytes": 20_000}


# ---------------------------------------------------------------- warehouse and app


def ensure_demo(data_dir: Path, days: int) -> None:
    """Build the `state` demo into ``data_dir`` unless a warehouse is already there."""
    if (data_dir / "arogya.sqlite").is_file():
        return
    print(f"building the state demo ({days} days) into {data_dir}: several minutes …", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
    env.update({"AROGYA_DATA_DIR": str(data_dir), "AROGYA_PSEUDONYM_KEY": DEMO_KEY, "PYTHONPATH": str(ROOT)})
    subprocess.run([sys.executable, str(ROOT / "arogya_cli.py"), "demo", "--scale", "state", "--days", str(days),
                    "--quiet"], env=env, check=True)


@dataclass
class Target:
    """The app under test and what the benchmark needs to drive it."""

    app: Any
    today: date
    district_lgd: int
    district_name: str
    compare_lgds: list[int]
    facility_id: str
    counts: dict[str, int] = field(default_factory=dict)


def bench_settings(data_dir: Path) -> Any:
    """Settings for the warehouse in ``data_dir`` (the rest from the environment), with the in-process cache."""
    from etl.settings import Settings

    return Settings.from_env().with_(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'arogya.sqlite'}",
                                     landing_dir=data_dir / "landing", cache_url="")


def build_target(settings: Any) -> Target:
    """The app over ``settings``' warehouse with "today" pinned to its last day, the no-op callback registered, and
    the district, districts and facility the cases use (Kishanganj if present, else the largest district)."""
    from dash import Input, Output
    from sqlalchemy import text

    from dashboard.app_factory import create_app
    from etl.warehouse.engine import make_engine

    engine_probe = make_engine(settings, read_only=True)
    with engine_probe.connect() as conn:
        last = conn.execute(text("SELECT max(day) FROM rollup_district_day")).scalar()
        by_size = conn.execute(text(
            "SELECT d.district_lgd, d.name_en, count(*) AS n FROM dim_facility f JOIN dim_district d "
            "ON d.district_lgd = f.district_lgd GROUP BY d.district_lgd, d.name_en ORDER BY n DESC")).all()
        counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() or 0)
                  for name in ("fact_consultation", "rollup_facility_day", "rollup_district_day", "rollup_cho_day",
                               "dim_facility", "dim_cho")}
    engine_probe.dispose()
    if last is None:
        raise SystemExit(f"no consultations in {settings.database_url}")
    today = date.fromisoformat(str(last)[:10])
    chosen = next((r for r in by_size if str(r.name_en).lower().startswith("kishanganj")), by_size[0])
    app = create_app(settings.with_(today=today.isoformat()))
    with app.server.app_context(), app.server.extensions["arogya"].data.engine.connect() as conn:
        since = str(today - timedelta(days=30))
        facility = conn.execute(text(
            "SELECT spoke_id FROM rollup_facility_day WHERE district_lgd = :d AND day > :s GROUP BY spoke_id "
            "ORDER BY sum(consultations) DESC LIMIT 1"), {"d": chosen.district_lgd, "s": since}).scalar()

    @app.callback(Output("bench-noop-out", "children"), Input("bench-noop-in", "data"))
    def bench_noop(value: Any) -> Any:  # the yardstick: Dash's own cost of one callback round trip
        return value

    # As `arogya serve` and each gunicorn worker do once the app is up: what it holds leaves the cyclic GC's walks.
    from dashboard.runtime import settle_process

    settle_process(app.server)

    return Target(app=app, today=today, district_lgd=int(chosen.district_lgd), district_name=str(chosen.name_en),
                  compare_lgds=[int(r.district_lgd) for r in by_size[:3]], facility_id=str(facility), counts=counts)


def add_recommended_indexes(settings: Any) -> None:
    from sqlalchemy import text

    from dashboard.data.activity import recommended_index_ddl
    from etl.warehouse.engine import make_engine

    engine = make_engine(settings)
    with engine.begin() as conn:
        for ddl in recommended_index_ddl():
            print(ddl, flush=True)
            conn.execute(text(ddl))
    engine.dispose()


def present_indexes(app: Any) -> list[str]:
    from dashboard.data.activity import RECOMMENDED_INDEXES

    data = app.server.extensions["arogya"].data
    return [name for name, (table, columns) in RECOMMENDED_INDEXES.items() if data.has_index(table, columns)]


class Server:
    """werkzeug's threaded server on 127.0.0.1 in a background thread."""

    def __init__(self, wsgi_app: Any) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class KeepAlive(WSGIRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self._server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=KeepAlive)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()


# ---------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int
    body: bytes
    encoding: str
    seconds: float


class Client:
    """One keep-alive connection with a cookie jar, like a browser tab's; bodies are returned exactly as sent (not
    decoded)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                content_type: str = "application/json") -> Reply:
        head = {"Accept-Encoding": "identity", **(headers or {})}
        if body is not None:
            head["Content-Type"] = content_type
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=head)
                response = self.conn.getresponse()
                data = response.read()
                seconds = time.perf_counter() - started
                for raw in response.headers.get_all("Set-Cookie") or []:
                    jar = SimpleCookie()
                    jar.load(raw)
                    self.cookies.update({k: m.value for k, m in jar.items()})
                return Reply(response.status, data, response.getheader("Content-Encoding") or "", seconds)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(app: Any, client: Client, role: str = "state") -> str | None:
    """Sign the client in as a state-wide user (of ``role``), through the real sign-in form, when the app requires
    sign-in. Returns the session cookie's "name=value" (for the browser), or None when the app has no sign-in."""
    if "arogya_auth.login" not in app.server.view_functions:
        return None
    from dashboard.auth import users
    from dashboard.auth.session import EXTENSION as AUTH

    name = f"bench-{uuid.uuid4().hex[:10]}"
    _, password = users.add_user(app.server.extensions[AUTH].engine, name, role, states=["*"])
    form = client.request("GET", "/login").body.decode()
    token = FORM_TOKEN.search(form)
    if token is None:
        raise SystemExit("no form token on /login")
    body = urlencode({"username": name, "password": password, "csrf_token": token.group(1), "next": "/"}).encode()
    reply = client.request("POST", "/login", body, content_type="application/x-www-form-urlencoded")
    if reply.status != 302:
        raise SystemExit(f"sign-in failed: HTTP {reply.status}")
    cookie = app.server.config.get("SESSION_COOKIE_NAME", "session")
    return f"{cookie}={client.cookies[cookie]}"


# ---------------------------------------------------------------- callback payloads


def _outputs_of(key: str) -> list[dict[str, Any]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        out.append({"id": json.loads(component) if component.startswith("{") else component, "property": prop})
    return out


def payload(app: Any, output: str, values: dict[str, Any]) -> bytes:
    """The body the browser posts for the callback that has ``output``; inputs and state take their value from
    ``values`` (keyed "id.property"); the first input is the one that changed."""
    key = next(k for k in app.callback_map if output in _keys_of(k))
    spec = app.callback_map[key]

    def entries(declared: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                for d in declared]

    outputs = _outputs_of(key)
    first = spec["inputs"][0]
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": entries(spec["inputs"]), "state": entries(spec["state"]),
            "changedPropIds": [f"{first['id']}.{first['property']}"]}
    return json.dumps(body).encode()


def _keys_of(key: str) -> list[str]:
    return [f"{o['id']}.{o['property']}" for o in _outputs_of(key)]


@dataclass(frozen=True)
class Case:
    name: str
    page: str
    output: str
    values: dict[str, Any]


def cases(t: Target) -> list[Case]:
    """The main callbacks of every analysis page, in the view a user opens first (the default period, last 30 days,
    ending on the demo's last day)."""
    search = "?metric=consultations"
    district_path = f"/district/{t.district_lgd}"
    overview = {"url.search": search, "overview-ready.data": "overview"}
    district = {"url.search": "", "url.pathname": district_path, "district-ready.data": t.district_lgd}
    compare = {"url.search": "?cmp=" + ",".join(str(x) for x in t.compare_lgds), "compare-ready.data": "compare"}
    def page(name: str, query: str = "") -> dict[str, Any]:
        return {"url.search": query, f"{name}-ready.data": name}

    click = {"url.search": "", "url.pathname": district_path,
             "district-map.clickData": {"points": [{"customdata": t.facility_id}]}}
    return [
        Case("overview.map", "overview", "overview-map.figure", overview),
        Case("overview.kpis", "overview", "overview-kpis.children", overview),
        Case("overview.ranking", "overview", "overview-grid.rowData", overview),
        Case("overview.trend", "overview", "overview-trend.figure", overview),
        Case("district.kpis", "district", "district-kpis.children", district),
        Case("district.map", "district", "district-map.figure", district),
        Case("district.tables", "district", "district-blocks.rowData", district),
        Case("district.facility_detail", "district", "district-detail.children", click),
        Case("compare.charts", "compare", "compare-panels.figure", compare),
        # Issue 4's pages (hubs and spokes, CHOs, schemes): every callback, each by its first output.
        Case("hubs.kpis_and_load", "hubs", "hubs-kpis.children", page("hubs")),
        Case("hubs.specialty", "hubs", "hubs-specialty.figure", page("hubs")),
        Case("hubs.heatmap", "hubs", "hubs-heatmap.figure", page("hubs")),
        Case("hubs.spokes", "hubs", "hubs-spokes.rowData", page("hubs")),
        Case("hubs.network", "hubs", "hubs-network-map.figure", page("hubs", f"?district={t.district_lgd}")),
        Case("hubs.links", "hubs", "hubs-load-export.href", page("hubs")),
        Case("chos.summary", "chos", "chos-kpis.children", page("chos")),
        Case("chos.lists", "chos", "chos-roster.rowData", page("chos")),
        Case("chos.map", "chos", "chos-map.figure", page("chos")),
        Case("chos.links", "chos", "chos-roster-export.href", page("chos")),
        Case("schemes.kpis", "schemes", "schemes-kpis.children", page("schemes")),
        Case("schemes.achievement", "schemes", "schemes-achievement-title.children", page("schemes")),
        Case("schemes.laggards", "schemes", "schemes-laggards.rowData", page("schemes")),
        Case("schemes.map", "schemes", "schemes-map.figure", page("schemes")),
        Case("schemes.trend", "schemes", "schemes-trend.figure", page("schemes")),
        Case("schemes.packages", "schemes", "schemes-packages-figure.figure", page("schemes")),
        Case("schemes.package_centres", "schemes", "schemes-packages.rowData", page("schemes")),
        Case("schemes.links", "schemes", "schemes-catalogue-export.href", page("schemes")),
    ]


# ---------------------------------------------------------------- timing


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _check(reply: Reply, name: str) -> None:
    if reply.status != 200:
        raise SystemExit(f"{name}: HTTP {reply.status}: {reply.body[:500]!r}")
    if b"error-state" in reply.body:
        raise SystemExit(f"{name}: the callback answered with an error component (see the log)")


def measure(client: Client, body: bytes, noop: bytes, calls: int, before: Callable[[], None], name: str,
            ) -> dict[str, float]:
    """``calls`` timed calls of ``body``, each preceded by ``before()`` (untimed) and a timed no-op call."""
    cb: list[float] = []
    base: list[float] = []
    for _ in range(calls):
        before()
        n = client.request("POST", "/_dash-update-component", noop)
        _check(n, "noop")
        before()
        r = client.request("POST", "/_dash-update-component", body)
        _check(r, name)
        base.append(n.seconds)
        cb.append(r.seconds)
    p50, p95 = percentile(cb, 50), percentile(cb, 95)
    n50, n95 = percentile(base, 50), percentile(base, 95)
    return {"p50_ms": p50 * 1000, "p95_ms": p95 * 1000, "noop_p50_ms": n50 * 1000, "noop_p95_ms": n95 * 1000,
            "p50_ratio": p50 / n50, "p95_ratio": p95 / n95}


def _median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in rounds), 3) for k in rounds[0]}


def run_latency(t: Target, client: Client, calls: int, rounds: int, only: tuple[str, ...] = ()) -> dict[str, Any]:
    data = t.app.server.extensions["arogya"].data

    def clear() -> None:
        with t.app.server.app_context():
            data.cache.clear()
        data.forget_version()

    noop = payload(t.app, NOOP_OUTPUT, {"bench-noop-in.data": 1})
    results: dict[str, Any] = {}
    for case in cases(t):
        if only and not any(case.name == o or case.name.startswith(o.rstrip(".") + ".") for o in only):
            continue
        body = payload(t.app, case.output, case.values)
        cold, warm = [], []
        for _ in range(rounds):
            cold.append(measure(client, body, noop, calls, clear, case.name))
            client.request("POST", "/_dash-update-component", body)  # prime
            warm.append(measure(client, body, noop, calls, lambda: None, case.name))
        results[case.name] = {"page": case.page, "output": case.output, "cold": _median_of(cold),
                              "warm": _median_of(warm), "rounds": {"cold": cold, "warm": warm}}
        c, w = results[case.name]["cold"], results[case.name]["warm"]
        print(f"  {case.name:26s} cold p50 {c['p50_ms']:8.1f} ms p95 {c['p95_ms']:8.1f} ms ({c['p95_ratio']:6.1f}x) "
              f"| warm p50 {w['p50_ms']:6.1f} ms p95 {w['p95_ms']:6.1f} ms ({w['p95_ratio']:4.1f}x)", flush=True)
    return results


# ---------------------------------------------------------------- bytes


def map_update_bytes(t: Target, client: Client) -> dict[str, Any]:
    """The overview choropleth after a metric change and after a filter change: bytes on the wire."""
    out: dict[str, Any] = {}
    changes = (("metric_change", "?metric=median_wait"), ("filter_change", "?mode=ABHWC&metric=median_wait"))
    for label, search in changes:
        body = payload(t.app, "overview-map.figure", {"url.search": search, "overview-ready.data": "overview"})
        plain = client.request("POST", "/_dash-update-component", body)
        packed = client.request("POST", "/_dash-update-component", body, {"Accept-Encoding": "gzip"})
        _check(plain, "overview.map")
        text = plain.body.decode()
        out[label] = {"search": search, "bytes": len(plain.body),
                      "bytes_gzip": len(packed.body) if packed.encoding == "gzip" else None,
                      "is_patch": "__dash_patch_update" in text,
                      "geometry_resent": '"coordinates"' in text or "FeatureCollection" in text}
    return out


SCRIPT_RE = re.compile(r"<script[^>]+src=\"([^\"]+)\"")
CSS_RE = re.compile(r"<link[^>]+rel=\"stylesheet\"[^>]*href=\"([^\"]+)\"|<link[^>]+href=\"([^\"]+)\"[^>]*"
                    r"rel=\"stylesheet\"")


def first_load_bytes(t: Target, client: Client) -> dict[str, Any]:
    """What a browser fetches to show the overview: the HTML, its scripts and stylesheets, the layout and
    callback graph, the first callbacks and the district GeoJSON; with ``Accept-Encoding: gzip``. Bytes are the
    bodies as sent (compressed where the server compressed); ``identity`` gives the uncompressed size."""
    from dashboard.ui.geo import DISTRICTS_GEOJSON

    def get(path: str) -> dict[str, Any]:
        packed = client.request("GET", path, headers={"Accept-Encoding": "gzip"})
        size = len(gzip.decompress(packed.body)) if packed.encoding == "gzip" else len(packed.body)
        if packed.status != 200:
            raise SystemExit(f"GET {path}: HTTP {packed.status}")
        return {"path": path, "bytes": len(packed.body), "bytes_uncompressed": size, "encoding": packed.encoding}

    html = client.request("GET", "/").body.decode()
    paths = ["/"] + SCRIPT_RE.findall(html) + [a or b for a, b in CSS_RE.findall(html)]
    paths += ["/_dash-layout", "/_dash-dependencies", f"/geo/{DISTRICTS_GEOJSON}"]
    files = [get(p) for p in dict.fromkeys(paths) if p.startswith("/")]
    extra = [p for p in dict.fromkeys(paths) if not p.startswith("/")]
    total = sum(f["bytes"] for f in files)
    raw = sum(f["bytes_uncompressed"] for f in files)
    return {"files": files, "not_fetched": extra, "bytes": total, "bytes_uncompressed": raw,
            "note": "async chunks a component loads later (e.g. the plotly bundle) are listed in browser_files when "
                    "a headless Chromium was available"}


def browser_load_bytes(port: int, cookie: str | None) -> dict[str, Any] | None:
    """Every response a headless Chromium fetches to render the overview (Playwright), asking for gzip only."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    seen: list[dict[str, Any]] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium) if chromium else pw.chromium.launch()
            context = browser.new_context(extra_http_headers={"Accept-Encoding": "gzip"})
            if cookie:
                name, value = cookie.split("=", 1)
                context.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{port}"}])
            page = context.new_page()

            def done(request: Any) -> None:
                sizes = request.sizes()
                response = request.response()
                if sizes["responseBodySize"] < 0:  # not an HTTP response (e.g. a blob URL)
                    return
                seen.append({"path": request.url.split(f":{port}", 1)[-1],
                             "bytes": sizes["responseBodySize"],
                             "encoding": (response.header_value("content-encoding") or "") if response else ""})

            page.on("requestfinished", done)
            page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle", timeout=120_000)
            page.wait_for_selector("#overview-map .js-plotly-plot", timeout=120_000)
            page.wait_for_load_state("networkidle")
            browser.close()
    except Exception as exc:  # noqa: BLE001 - the browser figure is optional
        return {"error": str(exc)[:300]}
    return {"files": seen, "bytes": sum(f["bytes"] for f in seen), "requests": len(seen)}


# ---------------------------------------------------------------- report


def verdicts(latency: dict[str, Any], maps: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, r in latency.items():
        out[name] = {"warm_p95_ok": r["warm"]["p95_ratio"] <= GOALS["warm_p95_ratio"],
                     "cold_p95_ok": r["cold"]["p95_ratio"] <= GOALS["cold_p95_ratio"]}
    out["map_update_bytes_ok"] = all(m["bytes"] <= GOALS["map_update_bytes"] and not m["geometry_resent"]
                                     for m in maps.values())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"warehouse folder (default {DEFAULT_DATA_DIR}; the state demo is built there if missing)")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per callback, cache state and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; ratios are reported as the median over rounds")
    parser.add_argument("--days", type=int, default=120, help="days of the state demo when it has to be built")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless-Chromium first load")
    parser.add_argument("--add-indexes", action="store_true",
                        help="first create the indexes the dashboard recommends for the warehouse (written into "
                             "--data-dir's warehouse; see dashboard/data/activity.py RECOMMENDED_INDEXES)")
    parser.add_argument("--only", default="",
                        help="comma-separated case names or prefixes (e.g. hubs,overview.map) to time only those; "
                             "for quick checks while working (the results file is then not a full run)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")

    ensure_demo(args.data_dir, args.days)
    os.environ.setdefault("AROGYA_QUIET", "1")
    settings = bench_settings(args.data_dir)
    if args.add_indexes:
        add_recommended_indexes(settings)
    target = build_target(settings)
    print(f"warehouse {args.data_dir}: {target.counts}; today pinned to {target.today}; district "
          f"{target.district_name} ({target.district_lgd}); facility {target.facility_id}", flush=True)
    started = time.time()
    with Server(target.app.server) as server:
        client = Client(server.port)
        cookie = sign_in(target.app, client)
        for _ in range(20):  # warm up the server, imports and the connection
            client.request("POST", "/_dash-update-component", payload(target.app, NOOP_OUTPUT,
                                                                      {"bench-noop-in.data": 1}))
        print(f"latency: {args.calls} calls x {args.rounds} rounds per callback and cache state", flush=True)
        only = tuple(x.strip() for x in args.only.split(",") if x.strip())
        latency = run_latency(target, client, args.calls, args.rounds, only)
        maps = map_update_bytes(target, client)
        first = first_load_bytes(target, client)
        browser = None if args.no_browser else browser_load_bytes(server.port, cookie)
        client.close()
    result = {
        "benchmark": "dashboard",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "data_dir": str(args.data_dir),
        "warehouse_rows": target.counts,
        "recommended_indexes_present": present_indexes(target.app),
        "view": {"period": "last30", "today": target.today.isoformat(), "district_lgd": target.district_lgd,
                 "district": target.district_name, "compare": target.compare_lgds, "facility": target.facility_id},
        "calls": args.calls,
        "rounds": args.rounds,
        "goals": GOALS,
        "latency": latency,
        "map_update": maps,
        "first_load_gzip": first,
        "first_load_browser": browser,
        "verdict": verdicts(latency, maps),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print_summary(result)
    print(f"written {args.out}")
    return 0


def print_summary(result: dict[str, Any]) -> None:
    print("\ncallback                    cold p95 ratio  warm p95 ratio   (goal cold <= 30x, warm <= 3x)")
    for name, r in result["latency"].items():
        c, w = r["cold"], r["warm"]
        ok = ("ok" if c["p95_ratio"] <= GOALS["cold_p95_ratio"] else "MISS",
              "ok" if w["p95_ratio"] <= GOALS["warm_p95_ratio"] else "MISS")
        print(f"  {name:26s} {c['p95_ratio']:8.1f}x {ok[0]:4s}  {w['p95_ratio']:8.1f}x {ok[1]:4s}"
              f"   (p50 {c['p50_ratio']:.1f}x / {w['p50_ratio']:.1f}x; no-op p95 {w['noop_p95_ms']:.2f} ms)")
    for label, m in result["map_update"].items():
        print(f"map update ({label}): {m['bytes']:,} bytes ({m['bytes_gzip']} gzip), patch={m['is_patch']}, "
              f"geometry resent={m['geometry_resent']}")
    first = result["first_load_gzip"]
    print(f"first load (gzip): {first['bytes']:,} bytes on the wire, {first['bytes_uncompressed']:,} uncompressed, "
          f"{len(first['files'])} files")
    browser = result.get("first_load_browser")
    if browser and "bytes" in browser:
        print(f"first load in headless Chromium: {browser['bytes']:,} bytes in {browser['requests']} requests")


if __name__ == "__main__":
    raise SystemExit(main())
