"""``generate()``: write a folder of export files that look like the real ones (the ETL loads them through its
normal path; nothing here touches the database), and the ground truth beside it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np

from etl.demo.activity import Network, build_network
from etl.demo.chos import build_roster
from etl.demo.consultations import generate_day
from etl.demo.facilities import Master, build_master
from etl.demo.formats import day_format, render, write_day
from etl.demo.geography import load_districts
from etl.demo.plan import IST, DemoPlan, make_plan, now_ist
from etl.demo.schemes import LAGGING_DISTRICTS, SchemeModel, months_covered
from etl.demo.status import Outage, plan_outages, status_events, write_status
from etl.demo.tally import ConsultationTally, cho_truth, facility_truth
from etl.demo.truth import DemoManifest, truth_path
from etl.demo.writers import write_chos_xlsx, write_facilities_csv, write_scheme_month

Progress = Callable[[str, int, int], None]
DATASET_PREFIXES = ("facilities_", "chos_", "schemes_", "status_", "consultations_")


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


_rng = rng_for


def _write_facilities(master: Master, out_dir: Path) -> tuple[Path, Path]:
    f = master.frame
    p1 = write_facilities_csv(f[~f.late], out_dir / "facilities_bihar.csv")
    p2 = write_facilities_csv(f[f.late], out_dir / "facilities_late_additions.csv")
    return p1, p2


def _clear_previous(out_dir: Path) -> None:
    """Remove the files a previous demo run wrote into this folder (as its truth file lists), so that a new run
    with other dates leaves no stale days behind. Nothing else is touched."""
    path = truth_path(out_dir)
    if not path.exists():
        return
    try:
        previous = DemoManifest.load(path)
    except (ValueError, TypeError, OSError):
        return
    if Path(previous.plan.get("out_dir", "")).resolve() != out_dir.resolve():
        return
    for f in previous.files:
        name = str(f.get("name", ""))
        if name.startswith(DATASET_PREFIXES) and "/" not in name:
            (out_dir / name).unlink(missing_ok=True)


def generate(out_dir: Path, *, scale: str = "small", days: int | None = None, end_date: date | None = None,
             seed: int = 20250801, progress: Progress | None = None, spokes: int | None = None) -> list[Path]:
    """Write the demo export files into ``out_dir`` and return them in load order (facility master, CHO master,
    schemes, consultations day by day, status events, and last the late facility additions). The ground truth
    goes to ``out_dir.parent / "demo_truth.json"``. ``spokes`` (national scale only) shrinks the country for
    fast tests."""
    t0 = time.perf_counter()
    plan = make_plan(scale, days, end_date, seed, spokes)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)
    report = progress or (lambda stage, done, total: None)
    cutoff = _cutoff(plan)
    truth = DemoManifest(plan={"scale": plan.scale, "days": plan.days, "start_date": plan.start_date.isoformat(),
                               "end_date": plan.end_date.isoformat(), "seed": plan.seed, "out_dir": str(out_dir),
                               "cutoff": cutoff.isoformat() if cutoff else None})
    files: list[Path] = []

    def add(path: Path, dataset: str, fmt: str, rows: int, **extra: object) -> None:
        files.append(path)
        truth.files.append({"name": path.name, "dataset": dataset, "format": fmt, "rows": rows, **extra})

    if plan.national:
        from etl.demo.national_export import generate_national

        truth.plan["spokes"] = plan.spoke_target
        generate_national(plan, out_dir, cutoff, add, truth, report)
        truth.seconds = round(time.perf_counter() - t0, 2)
        truth.write(truth_path(out_dir))
        return files

    report("facilities", 0, 1)
    districts = load_districts(_rng(seed, 1))
    master = build_master(districts, _rng(seed, 2), plan.start_date, plan.end_date)
    main_path, late_path = _write_facilities(master, out_dir)
    add(main_path, "facilities", "csv", int((~master.frame.late).sum()))
    truth.facilities = facility_truth(master, districts)
    report("facilities", 1, 1)

    report("chos", 0, 1)
    spokes_frame = master.spokes
    roster = build_roster(spokes_frame[~spokes_frame.late].facility_id.tolist(), _rng(seed, 3), plan.start_date,
                          plan.end_date)
    add(write_chos_xlsx(roster, out_dir / "chos_bihar.xlsx"), "chos", "xlsx", len(roster.frame))
    truth.chos = cho_truth(roster)
    report("chos", 1, 1)

    net = build_network(master, roster, plan.end_date, plan.weekday_target, _rng(seed, 4))
    write_schemes(net, plan, out_dir, seed, add, truth, report)

    hub_ids = [h for h, late in zip(net.hub_ids, net.hub_late, strict=True) if not late]
    status_days = plan.dates[-2:]
    outages = plan_outages(hub_ids, status_days, _rng(seed, 6))
    _write_consultations(net, plan, out_dir, seed, outages, cutoff, add, truth, report)
    write_status_file(hub_ids, status_days, outages, _rng(seed, 6, 1), cutoff, out_dir, add, truth, report)

    add(late_path, "facilities", "csv", int(master.frame.late.sum()), late_additions=True)
    truth.seconds = round(time.perf_counter() - t0, 2)
    truth.write(truth_path(out_dir))
    return files


def write_status_file(hub_ids: list[str], days: list[date], outages: list[Outage], rng: np.random.Generator,
                      cutoff: datetime | None, out_dir: Path, add, truth: DemoManifest, report: Progress) -> None:
    report("status", 0, 1)
    events = status_events(hub_ids, days, outages, rng, cutoff)
    name = f"status_{days[0]:%Y-%m-%d}_{days[-1]:%Y-%m-%d}.jsonl"
    add(write_status(out_dir / name, events), "status", "jsonl", len(events))
    truth.status = {
        "events": len(events), "days": [d.isoformat() for d in days],
        "outages": [{"hub_id": o.hub_id, "start": o.start.isoformat(), "end": o.end.isoformat() if o.end else None}
                    for o in outages],
        "kinds": {k: int(v) for k, v in sorted(Counter(e["kind"] for e in events).items())},
    }  # fmt: skip
    report("status", 1, 1)


def _cutoff(plan: DemoPlan) -> datetime | None:
    """When the data ends today, today's file runs only up to the current hour (IST, naive)."""
    now = now_ist()
    if plan.end_date != now.date():
        return None
    return now.replace(minute=0, second=0, microsecond=0, tzinfo=None)


def write_schemes(net: Network, plan: DemoPlan, out_dir: Path, seed: int, add, truth: DemoManifest,
                  report: Progress, groups: list[tuple[str, np.ndarray]] | None = None, months_minimum: int = 3,
                  lagging: int = LAGGING_DISTRICTS) -> None:
    """Monthly scheme returns. ``groups``: (file-name suffix, spoke indices) per state at national scale; the
    first group (Bihar) keeps the state's XLSX workbook for the last complete month, the others are CSV."""
    months = months_covered(plan.start_date, plan.end_date, months_minimum)
    main = ~net.spoke_late
    quiet = (net.silent_from < plan.end_date.toordinal()) | (net.spoke_cho == "")
    model = SchemeModel(net.spoke_ids[main], net.spoke_district[main], quiet[main], _rng(seed, 5), lagging)
    main_pos = np.cumsum(main) - 1  # index of each main spoke among the model's spokes
    if groups is None:
        groups = [("", np.flatnonzero(main))]
    # The last complete month comes as the state's XLSX workbook; earlier months and the month so far as CSV.
    xlsx_month = months[-2] if len(months) > 1 else months[-1]
    rows_total = 0
    for i, month in enumerate(months):
        report("schemes", i, len(months))
        for g, (suffix, idx) in enumerate(groups):
            idx = idx[main[idx]]
            stream = (5, month.toordinal()) if g == 0 else (5, month.toordinal(), g)
            frame = model.month_frame(month, i, len(months), plan.end_date, _rng(seed, *stream),
                                      rows=None if len(groups) == 1 else main_pos[idx])
            rows_total += len(frame)
            xlsx = month == xlsx_month and g == 0
            path = write_scheme_month(frame, month, out_dir / f"schemes_{month:%Y-%m}{suffix}", xlsx)
            add(path, "schemes", "xlsx" if xlsx else "csv", len(frame), month=f"{month:%Y-%m}")
    report("schemes", len(months), len(months))
    truth.schemes = {
        "months": [f"{m:%Y-%m}" for m in months], "rows": rows_total, "spokes": int(main.sum()),
        "indicators": len(model.codes), "xlsx_month": f"{xlsx_month:%Y-%m}",
        "district_performance": {str(k): round(v, 3) for k, v in sorted(model.district_perf.items())},
    }  # fmt: skip


def _write_consultations(net: Network, plan: DemoPlan, out_dir: Path, seed: int, outages, cutoff, add,
                         truth: DemoManifest, report: Progress) -> None:
    tally = ConsultationTally(len(net.spoke_ids))
    dates = plan.dates
    for i, day in enumerate(dates):
        report("consultations", i, len(dates))
        offset = (plan.end_date - day).days
        batch = generate_day(net, day, plan.end_date, _rng(seed, 7, day.toordinal()), salt=seed,
                             outages=outages, cutoff=cutoff if day == plan.end_date else None)
        fmt = day_format(offset)
        frame = render(batch, fmt, _rng(seed, 8, day.toordinal()))
        if frame.empty:
            continue  # early on the last day nothing has happened yet: a real export would not be written either
        path = write_day(frame, fmt, out_dir / f"consultations_{day:%Y-%m-%d}{fmt.extension}")
        counts = tally.add(batch, len(frame), net)
        tally.by_day.append({"date": day.isoformat(), "file": path.name, "format": fmt.label, **counts})
        add(path, "consultations", fmt.label, len(frame), date=day.isoformat())
    report("consultations", len(dates), len(dates))
    truth.consultations = tally.truth(net, plan.end_date)


def today_ist() -> date:
    return datetime.now(IST).date()
