"""`arogya`: the command line of the warehouse, the ETL, the demo and the dashboard server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

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
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import current_revision, upgrade

    settings = _settings(args)
    engine = make_engine(settings)
    upgrade(engine)
    _say(settings, f"warehouse at revision {current_revision(engine)} ({engine.url.render_as_string()})")
    return EXIT_OK


# ---------------------------------------------------------------------------- etl


def run_etl(settings: Settings, *, wait: bool = False, api_file: Path | None = None) -> int:
    """One ETL run over the landing folder and the configured APIs. Returns the exit code."""
    from etl.load.ledger import close_interrupted_runs
    from etl.load.lock import EtlBusy, etl_lock
    from etl.load.runner import EtlRunner
    from etl.sources.http_api import load_api_sources
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade

    engine = make_engine(settings)
    try:
        with etl_lock(engine, settings.data_dir, wait=wait):
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
    except EtlBusy as exc:
        print(f"arogya etl: {exc}", file=sys.stderr)
        return EXIT_BUSY
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
    from etl.load.ledger import bump_data_version
    from etl.load.rollups import rebuild_all
    from etl.warehouse.engine import make_engine

    settings = _settings(args)
    engine = make_engine(settings)
    with engine.begin() as conn:
        rebuild_all(conn)
        bump_data_version(conn)
    _say(settings, "rollups rebuilt from fact_consultation")
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
    if args.if_missing and _warehouse_has_data(settings):
        _say(settings, "warehouse already has data; skipping the demo (drop --if-missing to add it again)")
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
    # The demo's faulty rows are deliberate: rejected rows are expected, so only a failed run is a failure.
    return EXIT_OK if code in (EXIT_OK, EXIT_PROBLEMS) else code


# ---------------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
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
    up.add_argument("--quiet", action="store_true")
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
    rebuild = etl.add_parser("rebuild-rollups", help="recompute every rollup from the consultation facts")
    rebuild.add_argument("--quiet", action="store_true")
    rebuild.set_defaults(func=cmd_etl_rebuild)

    demo = sub.add_parser("demo", help="write demo exports for Bihar into the landing folder and load them")
    demo.add_argument("--scale", choices=["small", "state", "national"], default="small")
    demo.add_argument("--days", type=int, help="days of consultations (default: 30 small, 365 state)")
    demo.add_argument("--seed", type=int, default=20250801)
    demo.add_argument("--end-date", help="last day of the demo, YYYY-MM-DD (default: today in IST)")
    demo.add_argument("--out", help="folder to write to (default: the landing folder)")
    demo.add_argument("--if-missing", action="store_true", help="do nothing if the warehouse already has data")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the dashboard")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--prod", action="store_true", help="run under gunicorn with gunicorn.conf.py")
    serve.add_argument("--debug", action="store_true")
    serve.set_defaults(func=cmd_serve)

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
