"""`arogya`: the command line of the warehouse, the ETL, the demo and the dashboard server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from etl.settings import SETTINGS_DOC, Settings, settings_markdown

EXIT_OK, EXIT_PROBLEMS, EXIT_BUSY, EXIT_USAGE = 0, 1, 3, 2


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "quiet", False):
        settings = settings.with_(quiet=True)
    if getattr(args, "landing", None):
        settings = settings.with_(landing_dir=Path(args.landing))
    return settings


def _say(settings: Settings, text: str) -> None:
    if not settings.quiet:
        print(text)


class _Bar:
    """A tqdm bar of rows processed, with the current file as its description (silent with --quiet)."""

    def __init__(self, settings: Settings, unit: str = "rows", total: int | None = None) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit=unit, unit_scale=True, disable=settings.quiet, dynamic_ncols=True,
                         file=sys.stderr)

    def __call__(self, what: str, n: int) -> None:
        self._bar.set_description_str(what[:40], refresh=False)
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


# ---------------------------------------------------------------------------- db


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from etl.load.cumulative import refresh_cumulatives
    from etl.load.scheme_rollups import refresh_scheme_rollups
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import current_revision, upgrade

    settings = _settings(args)
    engine = make_engine(settings)
    # A migration and the refreshes write what an ETL run writes: one at a time (etl.load.lock).
    with _warehouse_lock(engine, settings, args.wait, "db upgrade") as held:
        if not held:
            return EXIT_BUSY
        upgrade(engine, national=args.india)
        with engine.begin() as conn:  # running totals a new revision added, or a killed run left stale
            refresh_cumulatives(conn)
        with engine.begin() as conn:  # the same for the scheme rollups
            refresh_scheme_rollups(conn)
    _say(settings, f"warehouse at revision {current_revision(engine)} ({engine.url.render_as_string()})")
    return EXIT_OK


@contextmanager
def _warehouse_lock(engine: Any, settings: Settings, wait: bool, command: str) -> Iterator[bool]:
    """The ETL lock, for a command that writes the warehouse: yields False (after saying why, as ``arogya
    <command>``) when another run holds it and ``wait`` is off."""
    from etl.load.lock import EtlBusy, etl_lock

    with ExitStack() as held:
        try:
            held.enter_context(etl_lock(engine, settings.data_dir, wait=wait))
        except EtlBusy as exc:
            print(f"arogya {command}: {exc}", file=sys.stderr)
            yield False
            return
        yield True


# ---------------------------------------------------------------------------- etl


def run_etl(settings: Settings, *, wait: bool = False, api_file: Path | None = None) -> int:
    """One ETL run over the landing folder and the configured APIs. Returns the exit code."""
    from etl.load.ledger import close_interrupted_runs
    from etl.load.runner import EtlRunner
    from etl.sources.http_api import load_api_sources
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade

    engine = make_engine(settings)
    with _warehouse_lock(engine, settings, wait, "etl") as held:
        if not held:
            return EXIT_BUSY
        upgrade(engine)
        close_interrupted_runs(engine)
        bar = _Bar(settings)
        try:
            runner = EtlRunner(settings, engine, progress=bar)
            outcomes = runner.run_landing()
            api_path = api_file or (Path(settings.api_sources) if settings.api_sources else None)
            if api_path is not None:
                for config in load_api_sources(api_path):
                    outcomes.append(runner.run_api(config, token=settings.api_token(config.token_env)))
        finally:
            bar.close()
    problems = 0
    for o in outcomes:
        mark = {"loaded": "ok", "already_loaded": "skip", "rejected": "REJECTED", "failed": "FAILED"}[o.status]
        line = f"{mark:>8}  {o.dataset or '?':<13} {o.name}: {o.message}"
        if o.status in ("rejected", "failed"):
            problems += 1
            print(line, file=sys.stderr)
        else:
            _say(settings, line)
    if not outcomes:
        _say(settings, f"nothing to load in {settings.landing_dir}")
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_etl_run(args: argparse.Namespace) -> int:
    return run_etl(_settings(args), wait=args.wait, api_file=Path(args.api) if args.api else None)


def cmd_etl_watch(args: argparse.Namespace) -> int:
    settings = _settings(args)
    interval = args.interval or settings.watch_interval_s
    _say(settings, f"watching {settings.landing_dir} every {interval} s (Ctrl+C to stop)")
    try:
        while True:
            run_etl(settings, wait=True, api_file=Path(args.api) if args.api else None)
            if args.once:
                return EXIT_OK
            time.sleep(interval)
    except KeyboardInterrupt:
        return EXIT_OK


def cmd_etl_report(args: argparse.Namespace) -> int:
    from etl.load.ledger import recent_runs, top_rejection_reasons
    from etl.warehouse.engine import make_engine

    settings = _settings(args)
    engine = make_engine(settings)
    runs = recent_runs(engine, args.runs)
    reasons = top_rejection_reasons(engine, 10)
    if args.json:
        print(json.dumps({"runs": runs.to_dict(orient="records"), "top_rejection_reasons":
                          reasons.to_dict(orient="records")}, default=str, ensure_ascii=False, indent=2))
        return EXIT_OK
    print("Recent runs")
    if runs.empty:
        print("  (none)")
    for r in runs.itertuples(index=False):
        print(f"  #{r.run_id:<5} {str(r.started_at):19} {r.status:<14} {r.dataset or '-':<13} "
              f"read {r.rows_read:>8}  loaded {r.rows_loaded:>8}  rejected {r.rows_rejected:>6}  "
              f"{r.file_name or ''}")
        if r.message and r.status not in ("loaded",):
            print(f"         {r.message}")
    print("\nTop rejection reasons (rows still in quarantine)")
    if reasons.empty:
        print("  (none)")
    for r in reasons.itertuples(index=False):
        print(f"  {r.rows:>7}  {r.dataset:<13} {r.reason_code:<20} e.g. {str(r.example)[:90]}")
    return EXIT_OK


def cmd_etl_rebuild(args: argparse.Namespace) -> int:
    from etl.load.cumulative import refresh_cumulatives
    from etl.load.ledger import bump_data_version
    from etl.load.rollups import rebuild_all
    from etl.load.scheme_rollups import mark_schemes_stale, refresh_scheme_rollups
    from etl.warehouse.engine import make_engine

    settings = _settings(args)
    engine = make_engine(settings)
    with _warehouse_lock(engine, settings, args.wait, "etl rebuild-rollups") as held:
        if not held:
            return EXIT_BUSY
        with engine.begin() as conn:
            rebuild_all(conn)
            refresh_cumulatives(conn)
            mark_schemes_stale(conn, None, rebuild=True)
            refresh_scheme_rollups(conn)
            bump_data_version(conn)
    _say(settings, "rollups and running totals rebuilt from fact_consultation, scheme rollups from fact_scheme_value")
    return EXIT_OK


# ---------------------------------------------------------------------------- demo


def _warehouse_has_data(settings: Settings) -> bool:
    from sqlalchemy import func, inspect, select

    from etl.warehouse.engine import make_engine
    from etl.warehouse.schema import fact_consultation

    if settings.is_sqlite:
        path = Path(settings.database_url.split("///", 1)[-1])
        if not path.exists():
            return False
    engine = make_engine(settings)
    if not inspect(engine).has_table("fact_consultation"):
        return False
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(fact_consultation)).scalar())


def cmd_demo(args: argparse.Namespace) -> int:
    from etl.demo import generate

    settings = _settings(args)
    if args.live:
        if not _warehouse_has_data(settings):
            args.if_missing, args.live = True, False
            code = cmd_demo(args)
            if code != EXIT_OK:
                return code
        return run_live_demo(settings, args)
    if args.if_missing and _warehouse_has_data(settings):
        _say(settings, "warehouse already has data; skipping the demo (drop --if-missing to add it again)")
        _demo_users(settings, only_if_none=True)
        return EXIT_OK
    out = Path(args.out) if args.out else settings.landing_dir
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bars: dict[str, object] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if settings.quiet:
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"demo {stage}"[:40], file=sys.stderr, dynamic_ncols=True)
        bar.n = done  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]

    from datetime import date

    end_date = date.fromisoformat(args.end_date) if args.end_date else None
    files = generate(out, scale=args.scale, days=args.days, end_date=end_date, seed=args.seed, progress=progress)
    for bar in bars.values():
        bar.close()  # type: ignore[attr-defined]
    _say(settings, f"wrote {len(files)} export files to {out} in {time.perf_counter() - started:.1f} s")
    if args.no_load:
        return EXIT_OK
    # The demo's late facility additions arrive on a later run, as they would in the field: the first run
    # quarantines the consultations of facilities not yet in the master, the second loads them.
    if args.scale == "national":
        from etl.warehouse.engine import make_engine
        from etl.warehouse.migrate import upgrade

        upgrade(make_engine(settings), national=True)
    late = [f for f in files if f.name.startswith("facilities_late")]
    holding = out.parent / "late-additions"
    holding.mkdir(parents=True, exist_ok=True)
    for f in late:
        f.replace(holding / f.name)
    code = run_etl(settings.with_(landing_dir=out), wait=True)
    for f in late:
        (holding / f.name).replace(out / f.name)
    code = max(code, run_etl(settings.with_(landing_dir=out), wait=True))
    _say(settings, f"demo ready in {time.perf_counter() - started:.1f} s")
    _demo_users(settings)
    # The demo's faulty rows are deliberate: rejected rows are expected, so only a failed run is a failure.
    return EXIT_OK if code in (EXIT_OK, EXIT_PROBLEMS) else code


# ---------------------------------------------------------------------------- live status: tokens, alerts, replay


def _writer_engine(settings: Settings):  # type: ignore[no-untyped-def]
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade

    engine = make_engine(settings)
    upgrade(engine)
    return engine


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from dashboard.api.tokens import TokenError, create_token

    settings = _settings(args)
    try:
        info, token = create_token(_writer_engine(settings), args.name, args.facility, args.rate_limit)
    except TokenError as exc:
        print(f"arogya tokens: {exc}", file=sys.stderr)
        return EXIT_USAGE
    scope = f"facility {info.facility_id} only" if info.facility_id else "any facility"
    print(f"token #{info.token_id} '{info.name}' ({scope}, {info.rate_limit_per_minute} requests/minute). "
          "Store it now: it is shown only this once (the warehouse keeps its SHA-256 hash).", file=sys.stderr)
    print(token)
    return EXIT_OK


def cmd_tokens_list(args: argparse.Namespace) -> int:
    from dashboard.api.tokens import list_tokens

    rows = list_tokens(_writer_engine(_settings(args)))
    if args.json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print("no tokens (create one with `arogya tokens create --name NAME [--facility ID]`)")
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "active"
        used = f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "never"
        print(f"  #{r['token_id']:<4} {r['name'][:30]:<30} {r['facility_id'] or '(any facility)':<16} "
              f"{r['rate_limit_per_minute']:>6}/min  created {r['created_at']:%Y-%m-%d %H:%M}  last used {used}  "
              f"{state}")
    return EXIT_OK


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from dashboard.api.tokens import TokenError, revoke_token

    try:
        revoked = revoke_token(_writer_engine(_settings(args)), args.token)
    except TokenError as exc:
        print(f"arogya tokens: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if not revoked:
        print(f"token {args.token!r} was already revoked")
    for info in revoked:
        print(f"revoked token #{info.token_id} '{info.name}'")
    return EXIT_OK


def cmd_alerts_run(args: argparse.Namespace) -> int:
    from dashboard.alerts.service import AlertService

    settings = _settings(args)
    from etl.warehouse.engine import make_engine

    engine = _writer_engine(settings)
    reader = make_engine(settings, read_only=True)
    service = AlertService(settings, lambda: engine, reader_fn=lambda: reader)
    interval = max(10, args.interval)
    try:
        while True:
            result = service.evaluate()
            _say(settings, f"alerts: {result.open} open, {len(result.raised)} raised, {len(result.cleared)} cleared, "
                           f"{len(result.delivered)} delivered, {len(result.failed)} delivery failures")
            if not args.watch:
                return EXIT_PROBLEMS if result.failed else EXIT_OK
            time.sleep(interval)
    except KeyboardInterrupt:
        return EXIT_OK


def run_live_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Post live heartbeats for the demo facilities through the HTTP API at ``--url``; when nothing answers there,
    serve the dashboard in this process first."""
    import threading

    import requests

    from dashboard.api.tokens import create_token, revoke_token
    from dashboard.data.live import LiveConfig
    from etl.demo.live import Replayer, demo_facilities

    engine = _writer_engine(settings)
    url = args.url.rstrip("/")
    server = None
    try:
        requests.get(url + "/healthz", timeout=3)
    except requests.RequestException:
        from urllib.parse import urlsplit

        from werkzeug.serving import make_server

        from dashboard.app_factory import create_app

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per POST
        where = urlsplit(url)
        server = make_server(where.hostname or "127.0.0.1", where.port or 80, create_app(settings).server,
                             threaded=True)
        threading.Thread(target=server.serve_forever, name="arogya-serve", daemon=True).start()
        _say(settings, f"Arogya dashboard on {url}/ (started for the live demo)")
    facilities = demo_facilities(engine, args.district or None)
    if facilities.empty:
        print("arogya demo --live: no facilities in the warehouse; run `arogya demo` first", file=sys.stderr)
        return EXIT_PROBLEMS
    info, token = create_token(engine, f"demo-live-{time.strftime('%Y%m%d-%H%M%S')}", rate_limit_per_minute=100_000)
    config = LiveConfig.from_settings(settings)
    replayer = Replayer(url, token, facilities, heartbeat_s=args.heartbeat, tick_s=min(args.heartbeat, 5.0),
                        offline_minutes=config.offline_minutes, queue_threshold=config.queue_threshold)
    _say(settings, f"posting live status for {len(facilities):,} facilities to {url}/api/v1/status every "
                   f"{args.heartbeat:g} s (token #{info.token_id}); live board: {url}/live — Ctrl+C to stop")
    for fault in replayer.faults:
        _say(settings, f"  at +{fault.start_s / 60:g} min: {fault.kind} {fault.target} "
                       f"(until +{fault.end_s / 60:g} min)")

    def report(number: int, stats) -> None:  # type: ignore[no-untyped-def]
        if number % 12 == 0:
            _say(settings, f"  {stats.accepted:,} events accepted in {stats.requests:,} requests"
                           + (f"; last error: {stats.errors[-1]}" if stats.errors else ""))

    try:
        stats = replayer.run(args.minutes * 60 if args.minutes else None, on_tick=report)
    finally:
        revoke_token(engine, info.token_id)
        if server is not None:
            server.shutdown()
    _say(settings, f"live demo stopped: {stats.accepted:,} events accepted; token #{info.token_id} revoked")
    return EXIT_OK if not stats.errors or stats.accepted else EXIT_PROBLEMS


def _demo_users(settings: Settings, only_if_none: bool = False) -> None:
    """The demo's dashboard accounts, one per role, with random passwords printed once (never a default one)."""
    from dashboard.auth.cli import print_demo_users
    from dashboard.auth.users import count_users, create_demo_users
    from etl.warehouse.engine import make_engine

    engine = make_engine(settings)
    if only_if_none and count_users(engine):
        return
    print_demo_users(create_demo_users(engine))


# ---------------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.security import secret_key_problem

    settings = _settings(args)
    if settings.environment == "production" or args.prod:
        # Production, and gunicorn's several workers (which must share one key for sessions to work).
        problem = secret_key_problem(settings.secret_key)
        if problem:
            print(f"arogya serve: {problem}; production (and --prod) needs a random key of at least 32 characters "
                  "(python -c 'import secrets; print(secrets.token_hex(32))')", file=sys.stderr)
            return EXIT_USAGE
        if args.debug:
            print("arogya serve: --debug is not allowed with AROGYA_ENV=production (it shows tracebacks)",
                  file=sys.stderr)
            return EXIT_USAGE
    if settings.is_sqlite:
        from sqlalchemy.engine import make_url

        warehouse = make_url(settings.database_url).database or ""
        if warehouse and warehouse != ":memory:" and not Path(warehouse).exists():
            print(f"arogya serve: warning: no warehouse at {warehouse}; pages answer \"unavailable\" until one is "
                  "there (`arogya demo`, or `arogya db upgrade` and `arogya etl run`)", file=sys.stderr)
    if args.prod:
        import os

        gunicorn = Path(sys.executable).with_name("gunicorn")
        conf = Path(__file__).resolve().parent / "gunicorn.conf.py"
        argv = [str(gunicorn), "--bind", f"{args.host}:{args.port}"]
        if conf.exists():
            argv += ["-c", str(conf)]
        os.execv(argv[0], [*argv, "app:server"])
    from dashboard.app_factory import create_app

    app = create_app(settings)
    if not args.debug:  # the reloader's child builds its own app
        from dashboard.runtime import settle_process

        settle_process(app.server)  # after a first request: Dash sets itself up on it
    _say(settings, f"Arogya dashboard on http://{args.host}:{args.port}/")
    app.run(host=args.host, port=args.port, debug=args.debug)
    return EXIT_OK


def cmd_contracts(args: argparse.Namespace) -> int:
    from etl.contracts.docs import contracts_markdown

    print(contracts_markdown())
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_markdown())
        return EXIT_OK
    for name, text in SETTINGS_DOC.items():
        print(f"{name:<32} {text}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arogya", description="Arogya: telemedicine monitoring for Ayushman "
                                     "Arogya Mandirs. Settings come from AROGYA_* variables (`arogya settings`).")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="create or migrate the warehouse").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="create the tables or migrate them to the newest revision")
    up.add_argument("--india", action="store_true", help="seed every state and district of India, not only Bihar's")
    up.add_argument("--quiet", action="store_true")
    up.add_argument("--wait", action="store_true", help="wait for a running ETL instead of exiting")
    up.set_defaults(func=cmd_db_upgrade)

    etl = sub.add_parser("etl", help="load exports and API feeds").add_subparsers(dest="etl_command", required=True)
    run = etl.add_parser("run", help="load every file in the landing folder and poll the configured APIs once")
    run.add_argument("--landing", help="landing folder (default: AROGYA_LANDING_DIR)")
    run.add_argument("--api", help="JSON file of partner API sources (default: AROGYA_API_SOURCES)")
    run.add_argument("--wait", action="store_true", help="wait for a running ETL instead of exiting")
    run.add_argument("--quiet", action="store_true", help="no progress bars; print only problems")
    run.set_defaults(func=cmd_etl_run)
    watch = etl.add_parser("watch", help="run the ETL every few minutes")
    watch.add_argument("--landing")
    watch.add_argument("--api")
    watch.add_argument("--interval", type=int, help="seconds between runs (default: AROGYA_WATCH_INTERVAL)")
    watch.add_argument("--once", action="store_true", help="run once and exit (for cron or a systemd timer)")
    watch.add_argument("--quiet", action="store_true")
    watch.set_defaults(func=cmd_etl_watch)
    report = etl.add_parser("report", help="recent runs and the top rejection reasons")
    report.add_argument("--runs", type=int, default=20)
    report.add_argument("--json", action="store_true")
    report.set_defaults(func=cmd_etl_report)
    rebuild = etl.add_parser("rebuild-rollups", help="recompute every rollup from the facts")
    rebuild.add_argument("--quiet", action="store_true")
    rebuild.add_argument("--wait", action="store_true", help="wait for a running ETL instead of exiting")
    rebuild.set_defaults(func=cmd_etl_rebuild)

    demo = sub.add_parser("demo", help="write demo exports (Bihar, or all of India at national scale) into the "
                                       "landing folder and load them")
    demo.add_argument("--scale", choices=["small", "state", "national"], default="small")
    demo.add_argument("--days", type=int, help="days of consultations (default: 30 small, 365 state, 30 national)")
    demo.add_argument("--seed", type=int, default=20250801)
    demo.add_argument("--end-date", help="last day of the demo, YYYY-MM-DD (default: today in IST)")
    demo.add_argument("--out", help="folder to write to (default: the landing folder)")
    demo.add_argument("--if-missing", action="store_true", help="do nothing if the warehouse already has data")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--live", action="store_true", help="post live status heartbeats (with outages) for the demo "
                      "facilities through the HTTP API, so the live board moves (loads the demo first if missing)")
    demo.add_argument("--url", default="http://127.0.0.1:8050", help="with --live: the dashboard to post to; "
                      "started here if nothing answers (default http://127.0.0.1:8050)")
    demo.add_argument("--district", type=int, action="append", help="with --live: only this district (LGD code; "
                      "repeatable)")
    demo.add_argument("--minutes", type=float, help="with --live: stop after this many minutes (default: Ctrl+C)")
    demo.add_argument("--heartbeat", type=float, default=60.0, help="with --live: seconds between a facility's "
                      "heartbeats (default 60)")
    demo.set_defaults(func=cmd_demo)

    tokens = sub.add_parser("tokens", help="bearer tokens for the status API").add_subparsers(
        dest="tokens_command", required=True)
    create = tokens.add_parser("create", help="issue a token and print it (once)")
    create.add_argument("--name", required=True, help="the integration or facility the token is for")
    create.add_argument("--facility", help="bind the token to this facility id: it may post only its events")
    create.add_argument("--rate-limit", type=int, default=600, help="requests per minute (default 600)")
    create.set_defaults(func=cmd_tokens_create)
    listing = tokens.add_parser("list", help="list tokens (never the tokens themselves)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke a token by id, or every token with a name")
    revoke.add_argument("token", help="token id or name")
    revoke.set_defaults(func=cmd_tokens_revoke)

    alerts = sub.add_parser("alerts", help="live-status alerts").add_subparsers(dest="alerts_command", required=True)
    alerts_run = alerts.add_parser("run", help="evaluate the alert rules and deliver new alerts (for cron or a timer)")
    alerts_run.add_argument("--watch", action="store_true", help="keep evaluating every --interval seconds")
    alerts_run.add_argument("--interval", type=int, default=60, help="seconds between evaluations (default 60)")
    alerts_run.add_argument("--quiet", action="store_true")
    alerts_run.set_defaults(func=cmd_alerts_run)

    serve = sub.add_parser("serve", help="run the dashboard")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--prod", action="store_true", help="run under gunicorn with gunicorn.conf.py")
    serve.add_argument("--debug", action="store_true")
    serve.set_defaults(func=cmd_serve)

    from dashboard.auth.cli import add_commands as add_access_commands

    add_access_commands(sub)  # users add|list|disable|enable|reset|scope, audit purge
    contracts = sub.add_parser("contracts", help="print the data contracts as Markdown")
    contracts.set_defaults(func=cmd_contracts)
    settings = sub.add_parser("settings", help="list the AROGYA_* settings")
    settings.add_argument("--markdown", action="store_true", help="as the README's table")
    settings.set_defaults(func=cmd_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
