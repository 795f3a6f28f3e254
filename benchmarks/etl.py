"""ETL benchmark: load the `state` demo (5+ million consultations) into SQLite and compare, in the same run, with
the raw rate of Python's sqlite3 ``executemany`` inserting the same rows into a bare table; then time an
incremental day into the full warehouse. Writes benchmarks/results/etl.json.

The write floor (``--no-floor`` skips it) copies, with the same plain ``executemany``, the facts and the three
rollups DESIGN.md names (per facility and day, per district and day, per CHO and day) from the loaded warehouse into
a new file with their real keys, then builds their indexes: what any load into this warehouse must write, without
reading, validating or aggregating anything. Its rate's share of the raw rate bounds the ETL's share as long as
the ETL writes through ``executemany`` and keeps these indexes.

    .venv/bin/python benchmarks/etl.py                 # full state demo (365 days), ~10-20 minutes here
    .venv/bin/python benchmarks/etl.py --days 30       # a quicker look
    git worktree add /tmp/base REV && ln -s "$PWD/.venv" /tmp/base/.venv
    .venv/bin/python benchmarks/etl.py --baseline /tmp/base --rounds 2   # side by side with REV's code

Each load runs in a child process so its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "etl.json"
KEY = "benchmark-pseudonym-key-0123456789abcdef0123456789"


def _env(data: Path, landing: Path, code: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
    env.update({"AROGYA_DATA_DIR": str(data), "AROGYA_LANDING_DIR": str(landing), "AROGYA_PSEUDONYM_KEY": KEY,
                "AROGYA_QUIET": "1", "PYTHONPATH": str(code)})
    return env


def _peak_rss_mb() -> float:
    """This process's peak resident size since it started its program (``VmHWM``). Not ``ru_maxrss``: Linux carries
    that over an exec from the process that spawned it, so a load started by this script after the write floor
    reported the script's 700 MB, not its own 290 MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_load(data: Path, landing: Path) -> None:
    """Child process: one ETL run; prints rows, seconds and peak memory as JSON."""
    from sqlalchemy import func, select

    from etl.load.runner import EtlRunner
    from etl.settings import Settings
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade
    from etl.warehouse.schema import fact_consultation

    settings = Settings.from_env()
    engine = make_engine(settings)
    upgrade(engine)
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(fact_consultation)).scalar() or 0
    started = time.perf_counter()
    runner = EtlRunner(settings, engine)
    outcomes = runner.run_landing()
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(fact_consultation)).scalar() or 0
    read = sum(o.counts.read for o in outcomes if o.dataset == "consultations")
    # Everything but the master, scheme and status files: the consultation files, the release of pending rows and
    # the index rebuild after a bulk load.
    consultation_seconds = seconds - sum(o.seconds for o in outcomes if o.dataset not in ("consultations", None))
    print(json.dumps({"seconds": seconds, "consultations_loaded": after - before, "consultation_rows_read": read,
                      "consultation_seconds": consultation_seconds,
                      "all_rows_read": sum(o.counts.read for o in outcomes),
                      "running_totals_seconds": runner.cumulative_seconds,
                      "files": len(outcomes), "failed": [o.name for o in outcomes if o.status == "failed"],
                      "peak_rss_mb": _peak_rss_mb(),
                      # the reader processes (etl.load.prefetch), each its own peak; the largest of them
                      "peak_rss_mb_reader": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                pass
    return out


def _pss_mb(pids: list[int]) -> float:
    """The processes' summed proportional set size: each page shared by n of them counts 1/n, so the sum is the
    memory they hold together (a forked child's pages shared with its parent are not counted twice)."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            pass
    return total_kb / 1024


def run_worker(data: Path, landing: Path, code: Path = ROOT) -> dict[str, object]:
    """One load in a child process, by the code checked out at ``code`` (its own copy of this script); adds
    ``peak_pss_mb_all``: the greatest memory its process tree (the loader, its reader processes and the
    running-totals child) held together, sampled every quarter second."""
    worker = subprocess.Popen([sys.executable, str(code / "benchmarks" / "etl.py"), "--worker", str(data),
                               str(landing)],
                              env=_env(data, landing, code), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _pss_mb(_tree(worker.pid)))
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = worker.communicate()
    done.set()
    sampler.join()
    if worker.returncode:
        raise subprocess.CalledProcessError(worker.returncode, worker.args, stdout, stderr)
    return {**json.loads(stdout.strip().splitlines()[-1]), "peak_pss_mb_all": peak}


def _commit(code: Path) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


_LOAD_FIGURES = ("seconds", "consultation_seconds", "running_totals_seconds", "peak_rss_mb", "peak_rss_mb_reader",
                 "peak_pss_mb_all")


def compare_full_loads(full_load: Callable[[str, Path], tuple[Path, dict[str, object]]], baseline: Path,
                       rounds: int) -> tuple[Path, dict[str, object], dict[str, object]]:
    """Full loads by ``baseline``'s code and this code, alternating (AB BA AB ...: a machine that slows down or
    speeds up over the run weighs on both alike). Returns a warehouse this code loaded, this code's figures with
    the medians of its loads for times and memory, and the comparison: every load's figures, each code's medians
    and their ratios (this code's over the baseline's; below 1 is faster or smaller)."""
    loads: list[dict[str, object]] = []
    by_code: dict[str, list[dict[str, object]]] = {"baseline": [], "current": []}
    kept: Path | None = None
    for round_number in range(rounds):
        order = ["baseline", "current"] if round_number % 2 == 0 else ["current", "baseline"]
        for which in order:
            data, load = full_load(f"{which}-{round_number + 1}", baseline if which == "baseline" else ROOT)
            by_code[which].append(load)
            loads.append({"code": which, "round": round_number + 1,
                          **{k: round(float(load[k]), 1) for k in _LOAD_FIGURES if k in load}})
            if which == "current":  # one warehouse (3 GB) is kept for the raw rate and the incremental day
                data, kept = kept, data
            if data is not None:
                shutil.rmtree(data, ignore_errors=True)
    medians = {which: {k: statistics.median(float(load[k]) for load in runs) for k in _LOAD_FIGURES
                       if all(k in load for load in runs)} for which, runs in by_code.items()}
    ratios = {k: round(medians["current"][k] / medians["baseline"][k], 3) for k in medians["current"]
              if medians["baseline"].get(k)}
    assert kept is not None
    comparison = {
        "baseline": str(baseline), "baseline_commit": _commit(baseline), "current_commit": _commit(ROOT),
        "rounds": rounds, "loads": loads,
        "median": {which: {k: round(v, 1) for k, v in figures.items()} for which, figures in medians.items()},
        "ratio_current_to_baseline": ratios,
    }
    return kept, {**by_code["current"][-1], **medians["current"]}, comparison


def raw_executemany_rate(warehouse: Path, scratch: Path) -> dict[str, float]:
    """The same consultation rows, inserted with plain sqlite3 executemany into a bare table (no index, no key)."""
    from etl.transform.datasets import FACT_CONSULTATION_COLUMNS

    columns = ", ".join(FACT_CONSULTATION_COLUMNS)
    source = sqlite3.connect(warehouse)
    target_path = scratch / "raw.sqlite"
    target = sqlite3.connect(target_path)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    target.execute(f"CREATE TABLE raw_consultation ({columns})")
    insert = f"INSERT INTO raw_consultation VALUES ({', '.join('?' * len(FACT_CONSULTATION_COLUMNS))})"
    rows_total, seconds = _timed_copy(source.execute(f"SELECT {columns} FROM fact_consultation"), target, insert)
    return {"rows": rows_total, "seconds": seconds, "rows_per_s": rows_total / seconds if seconds else 0.0}


def _timed_copy(rows: sqlite3.Cursor, target: sqlite3.Connection, insert: str) -> tuple[int, float]:
    """Insert what ``rows`` yields with plain ``executemany``, committing every 50,000 rows; returns the rows and
    the seconds the inserts and commits took (not the reading)."""
    total, seconds = 0, 0.0
    while batch := rows.fetchmany(50_000):
        started = time.perf_counter()
        target.executemany(insert, batch)
        target.commit()
        seconds += time.perf_counter() - started
        total += len(batch)
    return total, seconds


# The tables DESIGN.md requires of every load (the facts and its three named rollups), for the write floor.
FLOOR_TABLES = ("fact_consultation", "rollup_facility_day", "rollup_district_day", "rollup_cho_day")


def write_floor(warehouse: Path, scratch: Path) -> dict[str, object]:
    """Seconds to write what any load of this warehouse must: the rows of ``FLOOR_TABLES``, taken from the loaded
    ``warehouse`` and inserted with plain sqlite3 executemany (as the raw rate, a commit every 50,000 rows) into a
    new file holding the tables with their real primary keys, then each table's secondary indexes built once (as a
    bulk load does). Only the inserts and index builds are timed; the engine's pragmas are the ETL's."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from etl.warehouse.schema import metadata

    dialect = sqlite_dialect.dialect()
    source = sqlite3.connect(warehouse)
    target_path = scratch / "floor.sqlite"
    target = sqlite3.connect(target_path)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-65536"):
        target.execute(f"PRAGMA {pragma}")
    tables: dict[str, dict[str, float]] = {}
    for name in FLOOR_TABLES:
        table = metadata.tables[name]
        target.execute(str(CreateTable(table).compile(dialect=dialect)))
        columns = [column.name for column in table.columns]
        insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        rows, insert_s = _timed_copy(source.execute(f"SELECT {', '.join(columns)} FROM {name}"), target, insert)
        started = time.perf_counter()
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            target.execute(str(CreateIndex(index).compile(dialect=dialect)))
        tables[name] = {"rows": rows, "insert_seconds": round(insert_s, 1),
                        "index_seconds": round(time.perf_counter() - started, 1)}
        print(f"  {name}: {tables[name]}", flush=True)
    source.close()
    target.close()
    target_path.unlink()
    return {"seconds": round(sum(t["insert_seconds"] + t["index_seconds"] for t in tables.values()), 1),
            "tables": tables}


def warehouse_rows(warehouse: Path) -> dict[str, int]:
    """Rows per fact, rollup and running-total table after the full load: what the ETL writes besides the facts
    (the raw rate above inserts the facts alone)."""
    connection = sqlite3.connect(warehouse)
    names = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND (name = 'fact_consultation' "
        "OR name LIKE 'rollup_%' OR name LIKE 'cumulative_%') ORDER BY name")]
    counts = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    connection.close()
    return counts


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def incremental_day(files: Path) -> tuple[Path, list[Path]]:
    """The day file the incremental run loads, and the consultation files after it (left out of the full load, so
    that the incremental day is the warehouse's next day): the busiest of the last week's full days (CSV files, by
    their lines), so a quiet Sunday does not stand for a day's load. The last file is skipped (it may be today's
    partial day)."""
    consultation_files = sorted(files.glob("consultations_*.csv"))
    # A short demo keeps most of its days for the full load: only its last full day is held out.
    last_week = consultation_files[-8:-1] if len(consultation_files) >= 30 else consultation_files[-2:-1]
    held_out = max(last_week, key=_lines)
    later = [path for path in sorted(files.glob("consultations_*")) if path.stem > held_out.stem]
    return held_out, later


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--files", help="reuse demo files already generated in this folder")
    parser.add_argument("--incremental-runs", type=int, default=3, help="incremental-day runs (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (warehouse, files)")
    parser.add_argument("--baseline", type=Path,
                        help="a checkout of other code (e.g. `git worktree add /tmp/base REV` sharing this .venv): "
                             "its full loads alternate with this code's and the report adds the median of each and "
                             "their ratio (side_by_side)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="with --baseline: full loads of each code, in the order AB BA AB ... (default 2)")
    parser.add_argument("--no-floor", action="store_true", help="skip the write floor (see above)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_load(Path(args.worker[0]), Path(args.worker[1]))
        return

    from etl.demo import generate

    scratch = Path(tempfile.mkdtemp(prefix="arogya-bench-"))
    files = Path(args.files) if args.files else scratch / "files"
    started = time.perf_counter()
    if not args.files:
        print(f"generating the state demo ({args.days} days) in {files} ...", flush=True)
        generate(files, scale="state", days=args.days)
    generate_s = time.perf_counter() - started
    held_out, later = incremental_day(files)

    def full_load(name: str, code: Path) -> tuple[Path, dict[str, object]]:
        landing = scratch / f"landing-{name}"
        shutil.copytree(files, landing)
        for path in (held_out, *later):
            (landing / path.name).unlink()
        os.sync()  # the copy's writeback is not the load's
        data = scratch / f"data-{name}"
        print(f"full load ({name}) ...", flush=True)
        load = run_worker(data, landing, code)
        print(json.dumps(load), flush=True)
        shutil.rmtree(landing, ignore_errors=True)
        return data, load

    if args.baseline is None:
        data, full = full_load("current", ROOT)
        side_by_side = None
    else:
        data, full, side_by_side = compare_full_loads(full_load, args.baseline.resolve(), max(1, args.rounds))
    print("raw sqlite3 executemany of the same rows ...", flush=True)
    raw = raw_executemany_rate(data / "arogya.sqlite", scratch)
    written = warehouse_rows(data / "arogya.sqlite")
    floor = None
    if not args.no_floor:
        print("write floor: the required tables' rows and indexes, copied ...", flush=True)
        floor = write_floor(data / "arogya.sqlite", scratch)
    # The incremental day, three times, each into its own copy of the full warehouse: the median is reported.
    days = []
    for attempt in range(args.incremental_runs):
        print(f"incremental day {attempt + 1}/{args.incremental_runs} ...", flush=True)
        copy, incremental = scratch / f"data-{attempt}", scratch / f"incremental-{attempt}"
        shutil.copytree(data, copy)
        incremental.mkdir()
        shutil.copy(held_out, incremental / held_out.name)
        # Without it the load's first checkpoint (an fsync of the warehouse file) would write back the gigabytes
        # the copy left in the page cache: 8.0 to 10.0 s instead of 4.4 to 5.4 s for the same day on a slow disk.
        os.sync()
        days.append(run_worker(copy, incremental))
        shutil.rmtree(copy, ignore_errors=True)
    day = sorted(days, key=lambda d: d["seconds"])[len(days) // 2]

    # End-to-end rate of the consultation files (read, validate, transform, upsert, rollups); the masters and
    # scheme files are timed apart.
    etl_rate = full["consultation_rows_read"] / full["consultation_seconds"]
    result = {
        "scale": "state", "days": args.days, "generate_seconds": round(generate_s, 1),
        "consultations": full["consultations_loaded"], "consultation_rows_read": full["consultation_rows_read"],
        "all_rows_read": full["all_rows_read"],
        "etl_seconds": round(full["seconds"], 1), "etl_consultation_seconds": round(full["consultation_seconds"], 1),
        "etl_consultations_per_s": round(etl_rate),
        "etl_all_rows_per_s": round(full["all_rows_read"] / full["seconds"]),
        "raw_executemany_rows_per_s": round(raw["rows_per_s"]),
        "etl_share_of_raw": round(etl_rate / raw["rows_per_s"], 3),
        # Included in the seconds above: the running totals' refresh at the end of each run.
        "running_totals_seconds_full_load": round(full["running_totals_seconds"], 1),
        "etl_consultations_per_s_without_running_totals": round(
            full["consultation_rows_read"] / (full["consultation_seconds"] - full["running_totals_seconds"])),
        "running_totals_seconds_incremental": round(day["running_totals_seconds"], 2),
        "incremental_day_file": held_out.name, "incremental_day_rows": day["consultations_loaded"],
        "incremental_day_seconds": round(day["seconds"], 2),
        "incremental_day_seconds_each": [round(d["seconds"], 2) for d in days],
        "peak_rss_mb_full_load": round(full["peak_rss_mb"]),
        # The largest of the loader's children: a reader process, or the running-totals child (forked from the
        # loader late in the run, so its resident size includes the loader's pages it shares).
        "peak_rss_mb_full_load_reader": round(full["peak_rss_mb_reader"]),
        "peak_pss_mb_full_load_all_processes": round(full["peak_pss_mb_all"]),
        "peak_rss_mb_incremental": round(max(d["peak_rss_mb"] for d in days)),
        "warehouse_rows_after_full_load": written,
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "goals": {"etl_share_of_raw": ">= 0.30", "incremental_day_seconds": "< 5", "peak_rss_mb": "< 2048",
                  "peak_pss_mb_full_load_all_processes": "< 2048"},
        "machine": {"cpus": os.cpu_count()},
    }
    if floor is not None:
        # Counted as the ETL's rate is (the consultation rows read), so the shares compare: a load that only wrote
        # these tables would take at least the floor's seconds.
        floor_rate = full["consultation_rows_read"] / floor["seconds"]
        rollup_inserts = sum(t["insert_seconds"] for name, t in floor["tables"].items() if name != "fact_consultation")
        result["write_floor"] = {
            **floor, "consultations_per_s": round(floor_rate),
            "share_of_raw": round(floor_rate / raw["rows_per_s"], 3),
            # Without the rollups' rows: the facts and every index, which no way of writing the rollups avoids.
            "share_of_raw_without_rollup_inserts": round(
                full["consultation_rows_read"] / (floor["seconds"] - rollup_inserts) / raw["rows_per_s"], 3),
        }
    if side_by_side is not None:
        result["side_by_side"] = side_by_side
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if args.keep:
        print(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
