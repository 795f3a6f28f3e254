"""National-scale benchmark (issue 7): the `national` demo — every district of the boundary file, about 175,000
spokes and 500,000 consultations a day — loaded into PostgreSQL by the real ETL, then the dashboard's callback
latency for the national overview and one district. Writes benchmarks/results/national.json.

    .venv/bin/python benchmarks/national.py load --database-url postgresql+psycopg://postgres@127.0.0.1/arogya_national
    .venv/bin/python benchmarks/national.py dashboard --database-url postgresql+psycopg://postgres@127.0.0.1/arogya_national

``load`` writes the demo files into ``--work/landing`` (unless a previous run wrote them), brings the warehouse to
the newest revision with India's reference data, then loads the files as ``arogya demo`` does (the late facility
additions on a second pass) with ``EtlRunner.run_landing`` — a reader process ahead of the writer, the indexes set
aside and rebuilt at the end — logging progress and every file to ``--work/load.log``.
``dashboard`` times the overview's and one district's callbacks (``benchmarks/dashboard.py``'s machinery: real
``POST /_dash-update-component`` calls, signed in, cold and warm cache) on the loaded warehouse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import dashboard as bench  # noqa: E402 - after the path is set

RESULTS = ROOT / "benchmarks" / "results" / "national.json"
DEFAULT_WORK = Path("/tmp/national")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/arogya_national"
KEY = "benchmark-pseudonym-key-0123456789abcdef0123456789"
DAYS = 30
DASHBOARD_PAGES = ("overview", "district")


def _settings(work: Path, database_url: str) -> Any:
    from etl.settings import Settings

    return Settings.from_env().with_(data_dir=work / "data", database_url=database_url,
                                     landing_dir=work / "landing", pseudonym_key=KEY, cache_url="", quiet=True)


def _read_results(path: Path) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"benchmark": "national"}


def _write_results(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


def _log(log_path: Path, **fields: Any) -> None:
    fields = {"at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **fields}
    with log_path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(fields, default=str) + "\n")
    print(json.dumps(fields, default=str), flush=True)


# ---------------------------------------------------------------- generate and load


def generate_files(landing: Path, days: int, log_path: Path) -> float:
    """Write the national demo into ``landing`` unless its ground truth shows a previous run did; returns seconds."""
    from etl.demo.generator import generate
    from etl.demo.truth import truth_path

    if truth_path(landing).is_file() and any(landing.glob("consultations_*")):
        _log(log_path, stage="generate", skipped="files already there")
        return 0.0
    started = time.perf_counter()
    files = generate(landing, scale="national", days=days)
    seconds = time.perf_counter() - started
    _log(log_path, stage="generate", files=len(files), seconds=round(seconds, 1))
    return seconds


def _warehouse_counts(engine: Any) -> dict[str, Any]:
    from sqlalchemy import text

    with engine.connect() as conn:
        counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() or 0)
                  for name in ("fact_consultation", "rollup_facility_day", "rollup_district_day", "dim_facility",
                               "dim_cho", "dim_district")}
        days = conn.execute(text("SELECT min(day), max(day), count(DISTINCT day) FROM rollup_district_day")).one()
        partitions = conn.execute(text(
            "SELECT child.relname, child.reltuples::bigint FROM pg_inherits i "
            "JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid "
            "WHERE parent.relname = 'fact_consultation' ORDER BY 1")).all()
    counts["days"] = {"first": days[0], "last": days[1], "distinct": int(days[2] or 0)}
    counts["fact_consultation_partitions"] = {name: int(n) for name, n in partitions}
    return counts


def load(args: argparse.Namespace) -> int:
    from etl.load.ledger import close_interrupted_runs
    from etl.load.lock import etl_lock
    from etl.load.runner import EtlRunner
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade

    work: Path = args.work
    landing = work / "landing"
    log_path = work / "load.log"
    work.mkdir(parents=True, exist_ok=True)
    settings = _settings(work, args.database_url)
    generate_seconds = generate_files(landing, args.days, log_path)
    engine = make_engine(settings)
    result = _read_results(args.out)
    etl: dict[str, Any] = {"database": engine.url.render_as_string(hide_password=True), "days_generated": args.days,
                           "generate_seconds": round(generate_seconds, 1), "complete": False,
                           "started": datetime.now(UTC).isoformat(timespec="seconds")}
    result["etl"] = etl
    started = time.perf_counter()
    # As `arogya demo` does: the late facility additions arrive on a second pass and release the quarantined rows.
    late = sorted(landing.glob("facilities_late*"))
    holding = work / "late-additions"
    holding.mkdir(exist_ok=True)
    for f in late:
        f.replace(holding / f.name)
    rows = {"consultations": 0, "all": 0}
    last_logged = [0.0]

    def progress(what: str, n: int) -> None:
        rows["all"] += n
        now = time.perf_counter()
        if now - last_logged[0] >= 30:
            last_logged[0] = now
            _log(log_path, progress=what, rows_total=rows["all"], elapsed=round(now - started, 1))

    outcomes: list[Any] = []
    with etl_lock(engine, settings.data_dir, wait=True):
        upgrade(engine, national=True)
        close_interrupted_runs(engine)
        runner = EtlRunner(settings, engine, progress=progress)
        # The first pass is the bulk load (a reader process transforms the next files while this one writes; the
        # fact and rollup indexes are set aside and rebuilt at the end); the second brings the late facilities
        # and releases the rows quarantined for them.
        first = runner.run_landing(landing)
        first_seconds = time.perf_counter() - started
        for f in late:
            (holding / f.name).replace(landing / f.name)
        outcomes = first + runner.run_landing(landing)
    elapsed = time.perf_counter() - started
    for outcome in outcomes:
        _log(log_path, file=outcome.name, status=outcome.status, rows=outcome.counts.read,
             loaded=outcome.counts.loaded, seconds=round(outcome.seconds, 2))
        if outcome.status == "failed":
            _log(log_path, failed=outcome.name, message=outcome.message)
    rows["consultations"] = sum(o.counts.read for o in first if o.dataset == "consultations")
    # The consultation files' time: the first pass less its master, scheme and status files (it includes the
    # index rebuild after the bulk load).
    consultation_seconds = first_seconds - sum(o.seconds for o in first if o.dataset not in ("consultations", None))
    etl.update({"seconds": round(elapsed, 1), "consultation_rows_read": rows["consultations"],
                "all_rows_read": sum(o.counts.read for o in outcomes),
                "consultation_seconds": round(consultation_seconds, 1),
                "consultations_per_s": round(rows["consultations"] / consultation_seconds)
                if consultation_seconds else None,
                "all_rows_per_s": round(sum(o.counts.read for o in outcomes) / elapsed) if elapsed else None,
                "failed_files": [o.name for o in outcomes if o.status == "failed"]})
    etl.update({"complete": not etl["failed_files"],
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "warehouse": _warehouse_counts(engine)})
    etl["days_loaded"] = etl["warehouse"]["days"]["distinct"]
    _write_results(args.out, result)
    _log(log_path, stage="done", complete=etl["complete"], days_loaded=etl["days_loaded"])
    engine.dispose()
    return 0


# ---------------------------------------------------------------- dashboard


def time_cases(target: Any, client: Any, chosen: list[Any], calls: int, rounds: int) -> dict[str, Any]:
    """``benchmarks/dashboard.py``'s timing (``measure``: each call after a no-op call; cold = cache cleared and the
    data version forgotten before every call) for the ``chosen`` cases only."""
    data = target.app.server.extensions["arogya"].data

    def clear() -> None:
        with target.app.server.app_context():
            data.cache.clear()
        data.forget_version()

    noop = bench.payload(target.app, bench.NOOP_OUTPUT, {"bench-noop-in.data": 1})
    results: dict[str, Any] = {}
    for case in chosen:
        body = bench.payload(target.app, case.output, case.values)
        cold, warm = [], []
        for _ in range(rounds):
            cold.append(bench.measure(client, body, noop, calls, clear, case.name))
            client.request("POST", "/_dash-update-component", body)  # prime the cache
            warm.append(bench.measure(client, body, noop, calls, lambda: None, case.name))
        results[case.name] = {"page": case.page, "output": case.output, "cold": bench._median_of(cold),
                              "warm": bench._median_of(warm)}
        c, w = results[case.name]["cold"], results[case.name]["warm"]
        print(f"  {case.name:26s} cold p50 {c['p50_ms']:8.1f} p95 {c['p95_ms']:8.1f} ms | "
              f"warm p50 {w['p50_ms']:6.1f} p95 {w['p95_ms']:6.1f} ms", flush=True)
    return results


def _days_complete(settings: Any, work: Path) -> dict[str, Any]:
    """Days whose every consultation file (one per state) the ledger shows as loaded, and days loaded in part."""
    from collections import Counter

    from sqlalchemy import select

    from etl.warehouse.engine import make_engine
    from etl.warehouse.schema import etl_run

    def day_of(name: str) -> str:
        return name.split("_")[1]

    folders = (settings.landing_dir, settings.archive_dir, settings.rejected_dir)  # archive/ may lie in landing/
    files = {p.resolve() for folder in folders if folder.is_dir() for p in folder.rglob("consultations_*")
             if p.is_file() and not p.name.endswith(".reason.txt")}
    expected = Counter(day_of(p.name) for p in files)
    engine = make_engine(settings, read_only=True)
    with engine.connect() as conn:
        names = set(conn.execute(select(etl_run.c.file_name).where(
            etl_run.c.dataset == "consultations", etl_run.c.status == "loaded")).scalars())
    engine.dispose()
    loaded = Counter(day_of(n) for n in names if n and n.startswith("consultations_"))
    complete = sorted(d for d, n in loaded.items() if n >= expected[d])
    partial = {d: f"{n} of {expected[d]} files" for d, n in sorted(loaded.items()) if n < expected[d]}
    return {"days_complete": len(complete), "complete": complete, "partial": partial,
            "days_in_files": len(expected)}


def _schema_facts(settings: Any) -> dict[str, Any]:
    """Which tables are partitioned and how big each month of the facts is (what the timings ran against)."""
    from sqlalchemy import text

    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import current_revision
    from etl.warehouse.partitions import PARTITIONED_TABLES, existing_partitions

    engine = make_engine(settings, read_only=True)
    with engine.connect() as conn:
        partitions = existing_partitions(conn)
        sizes = dict(conn.execute(text(
            "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relname LIKE 'fact_consultation%' AND c.relkind = 'r' ORDER BY 1")).all())
    facts = {"revision": current_revision(engine),
             "partitions": {t: sorted(partitions[t]) for t in PARTITIONED_TABLES},
             "fact_consultation_partition_sizes": sizes}
    engine.dispose()
    return facts


def analyze(settings: Any) -> float:
    """VACUUM (ANALYZE) the warehouse, as the README says to after a bulk load: autovacuum analyzes the partitions in
    its own time but never a partitioned parent, whose statistics the planner uses for joins across partitions; and
    until a table is vacuumed, its index-only scans (the dashboard's per-spoke probes) still visit the heap for every
    row. Returns seconds."""
    from sqlalchemy import text

    from etl.warehouse.engine import make_engine

    started = time.perf_counter()
    engine = make_engine(settings)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    return time.perf_counter() - started


def dashboard(args: argparse.Namespace) -> int:
    os.environ.setdefault("AROGYA_QUIET", "1")
    settings = _settings(args.work, args.database_url)
    analyze_seconds = analyze(settings) if not args.no_analyze else None
    target = bench.build_target(settings)
    chosen = [c for c in bench.cases(target) if c.page in DASHBOARD_PAGES]
    print(f"warehouse {args.database_url}: {target.counts}; today {target.today}; district "
          f"{target.district_name} ({target.district_lgd})", flush=True)
    started = time.time()
    with bench.Server(target.app.server) as server:
        client = bench.Client(server.port)
        bench.sign_in(target.app, client)
        noop = bench.payload(target.app, bench.NOOP_OUTPUT, {"bench-noop-in.data": 1})
        for _ in range(10):
            client.request("POST", "/_dash-update-component", noop)
        latency = time_cases(target, client, chosen, args.calls, args.rounds)
        client.close()
    result = _read_results(args.out)
    result["dashboard"] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
        "warehouse_rows": target.counts,
        "view": {"period": "last30", "today": target.today.isoformat(), "district_lgd": target.district_lgd,
                 "district": target.district_name, "facility": target.facility_id,
                 "user": "state-wide (every state)"},
        "calls": args.calls, "rounds": args.rounds, "analyze_seconds_before": analyze_seconds,
        "p95_ms": {name: {"cold": r["cold"]["p95_ms"], "warm": r["warm"]["p95_ms"]} for name, r in latency.items()},
        "latency": latency,
    }
    result["schema"] = _schema_facts(settings)
    result.setdefault("etl", {})["days"] = _days_complete(settings, args.work)
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                         "note": "2 cores shared with other work; timings are noisy"}
    _write_results(args.out, result)
    for name, r in latency.items():
        print(f"  {name:26s} cold p95 {r['cold']['p95_ms']:9.1f} ms   warm p95 {r['warm']['p95_ms']:7.1f} ms")
    print(f"written {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["load", "dashboard"])
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"PostgreSQL warehouse (default {DEFAULT_URL})")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="folder for the files and the log")
    parser.add_argument("--days", type=int, default=DAYS, help="days of consultations to generate (default 30)")
    parser.add_argument("--calls", type=int, default=10, help="timed calls per callback, cache state and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-analyze", action="store_true",
                        help="time without running VACUUM (ANALYZE) first (dashboard)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the national benchmark runs on PostgreSQL: pass --database-url postgresql+psycopg://...")
    return load(args) if args.stage == "load" else dashboard(args)


if __name__ == "__main__":
    raise SystemExit(main())
