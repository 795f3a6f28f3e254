"""``generate()``: write a folder of export files that look like the real ones (the ETL loads them through its
normal path; nothing here touches the database), and the ground truth beside it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from etl.demo.activity import Network, build_network
from etl.demo.chos import Roster, build_roster, ddmmyyyy
from etl.demo.consultations import FAULT_KINDS, generate_day
from etl.demo.csvio import write_csv
from etl.demo.facilities import Master, build_master
from etl.demo.formats import day_format, render, write_day
from etl.demo.geography import load_districts
from etl.demo.plan import IST, DemoPlan, make_plan, now_ist
from etl.demo.schemes import SchemeModel, months_covered
from etl.demo.status import plan_outages, status_events, write_status
from etl.demo.truth import DemoManifest, truth_path
from etl.demo.xlsx import Column, write_xlsx

Progress = Callable[[str, int, int], None]
FACILITY_HEADERS = {
    "facility_id": "Facility ID", "name": "Facility Name", "facility_type": "Facility Type", "role": "Role",
    "district_lgd": "District LGD Code", "block_lgd": "Block LGD Code", "block_name": "Block Name",
    "block_name_hi": "Block Name (Hindi)", "lat": "Latitude", "lon": "Longitude", "hub_id": "Assigned Hub",
    "operational_since": "Operational Since", "service_start": "Service Start", "service_end": "Service End",
    "service_days": "Service Days",
}  # fmt: skip
SCHEME_CSV_HEADERS = ("Facility ID", "Indicator Code", "Month", "Value", "Target")
SCHEME_XLSX_HEADERS = ("HWC ID", "Indicator", "Reporting Month", "Achievement", "Target")
DATASET_PREFIXES = ("facilities_", "chos_", "schemes_", "status_", "consultations_")


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def _facility_frame(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows[list(FACILITY_HEADERS)].copy()
    out["lat"] = out["lat"].map(lambda v: f"{v:.5f}")
    out["lon"] = out["lon"].map(lambda v: f"{v:.5f}")
    out["role"] = out["role"].map(lambda r: r.title() if r in ("hub", "spoke") else r)
    out["operational_since"] = out["operational_since"].map(lambda d: d.isoformat())
    return out.rename(columns=FACILITY_HEADERS)


def _write_facilities(master: Master, out_dir: Path) -> tuple[Path, Path]:
    f = master.frame
    main = f[~f.late].sort_values(["district_lgd", "role", "facility_id"], kind="stable")
    late = f[f.late]
    p1 = out_dir / "facilities_bihar.csv"
    _facility_frame(main).to_csv(p1, index=False, encoding="utf-8", lineterminator="\n")
    p2 = out_dir / "facilities_late_additions.csv"
    _facility_frame(late).to_csv(p2, index=False, encoding="utf-8", lineterminator="\n")
    return p1, p2


def _write_chos(roster: Roster, out_dir: Path) -> Path:
    r = roster.frame
    return write_xlsx(out_dir / "chos_bihar.xlsx", [
        Column("CHO ID", r.cho_id.tolist()),
        Column("CHO Name", r.name.tolist()),
        Column("HWC ID", r.facility_id.tolist()),
        Column("Date of Joining", ddmmyyyy(r.joined_on.tolist())),
        Column("Laptop Issue Date", ddmmyyyy(r.laptop_issued_on.tolist())),
        Column("Modules Completed", r.training_modules.to_numpy(), "number"),
        Column("In Service", np.where(r.active, "Yes", "No").tolist()),
    ], sheet="CHO List")  # fmt: skip


def _facility_truth(master: Master, districts) -> dict:
    f = master.frame
    ok = f[~f.broken & ~f.late]
    spokes = ok[ok.role == "spoke"]
    hubs = ok[ok.role == "hub"]
    per_block = spokes.groupby("block_lgd").size()
    all_blocks = [b.block_lgd for d in districts for b in d.blocks]
    per_block = per_block.reindex(all_blocks, fill_value=0)
    per_district = {}
    for d in districts:
        s = spokes[spokes.district_lgd == d.district_lgd]
        h = hubs[hubs.district_lgd == d.district_lgd]
        late = f[f.late & (f.district_lgd == d.district_lgd)]
        per_district[str(d.district_lgd)] = {
            "name": d.name_en, "blocks": d.n_blocks, "hubs": len(h), "spokes": len(s), "facilities": len(h) + len(s),
            "late_hubs": int((late.role == "hub").sum()), "late_spokes": int((late.role == "spoke").sum()),
            "hub_types": {k: int(v) for k, v in h.facility_type.value_counts().sort_index().items()},
        }  # fmt: skip
    return {
        "districts": len(districts),
        "blocks": len(all_blocks),
        "hubs": len(hubs),
        "spokes": len(spokes),
        "hub_types": {k: int(v) for k, v in hubs.facility_type.value_counts().sort_index().items()},
        "spoke_types": {k: int(v) for k, v in spokes.facility_type.value_counts().sort_index().items()},
        "late_additions": f[f.late].facility_id.tolist(),
        "broken_rows": master.broken,
        "blocks_below_two_spokes": [int(b) for b in per_block[per_block < 2].index],
        "cross_district_spokes": master.cross_district,
        "per_district": per_district,
    }


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
             seed: int = 20250801, progress: Progress | None = None) -> list[Path]:
    """Write the demo export files into ``out_dir`` and return them in load order (facility master, CHO master,
    schemes, consultations day by day, status events, and last the late facility additions). The ground truth
    goes to ``out_dir.parent / "demo_truth.json"``."""
    t0 = time.perf_counter()
    plan = make_plan(scale, days, end_date, seed)
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

    report("facilities", 0, 1)
    districts = load_districts(_rng(seed, 1))
    master = build_master(districts, _rng(seed, 2), plan.start_date, plan.end_date)
    main_path, late_path = _write_facilities(master, out_dir)
    add(main_path, "facilities", "csv", int((~master.frame.late).sum()))
    truth.facilities = _facility_truth(master, districts)
    report("facilities", 1, 1)

    report("chos", 0, 1)
    spokes = master.spokes
    roster = build_roster(spokes[~spokes.late].facility_id.tolist(), _rng(seed, 3), plan.start_date, plan.end_date)
    add(_write_chos(roster, out_dir), "chos", "xlsx", len(roster.frame))
    r = roster.frame
    truth.chos = {
        "chos": len(r), "vacant_spokes": len(roster.vacant), "with_laptop": int(r.laptop_issued_on.notna().sum()),
        "inactive": r[~r.active].cho_id.tolist(),
        "absent_for_weeks": r[r.gap_start.notna()][["cho_id", "facility_id", "gap_start", "gap_end"]].astype(str)
        .to_dict("records"),
        "training_modules_mean": round(float(r.training_modules.mean()), 2),
    }  # fmt: skip
    report("chos", 1, 1)

    net = build_network(master, roster, plan.end_date, plan.weekday_target, _rng(seed, 4))
    _write_schemes(net, plan, out_dir, seed, add, truth, report)

    hub_ids = [h for h, late in zip(net.hub_ids, net.hub_late, strict=True) if not late]
    status_days = plan.dates[-2:]
    outages = plan_outages(hub_ids, status_days, _rng(seed, 6))
    _write_consultations(net, plan, out_dir, seed, outages, cutoff, add, truth, report)

    report("status", 0, 1)
    events = status_events(hub_ids, status_days, outages, _rng(seed, 6, 1), cutoff)
    name = f"status_{status_days[0]:%Y-%m-%d}_{status_days[-1]:%Y-%m-%d}.jsonl"
    add(write_status(out_dir / name, events), "status", "jsonl", len(events))
    truth.status = {
        "events": len(events), "days": [d.isoformat() for d in status_days],
        "outages": [{"hub_id": o.hub_id, "start": o.start.isoformat(), "end": o.end.isoformat() if o.end else None}
                    for o in outages],
        "kinds": {k: int(v) for k, v in sorted(Counter(e["kind"] for e in events).items())},
    }  # fmt: skip
    report("status", 1, 1)

    add(late_path, "facilities", "csv", int(master.frame.late.sum()), late_additions=True)
    truth.seconds = round(time.perf_counter() - t0, 2)
    truth.write(truth_path(out_dir))
    return files


def _cutoff(plan: DemoPlan) -> datetime | None:
    """When the data ends today, today's file runs only up to the current hour (IST, naive)."""
    now = now_ist()
    if plan.end_date != now.date():
        return None
    return now.replace(minute=0, second=0, microsecond=0, tzinfo=None)


def _write_schemes(net: Network, plan: DemoPlan, out_dir: Path, seed: int, add, truth: DemoManifest,
                   report: Progress) -> None:
    months = months_covered(plan.start_date, plan.end_date)
    main = ~net.spoke_late
    quiet = (net.silent_from < plan.end_date.toordinal()) | (net.spoke_cho == "")
    model = SchemeModel(net.spoke_ids[main], net.spoke_district[main], quiet[main], _rng(seed, 5))
    # The last complete month comes as the state's XLSX workbook; earlier months and the month so far as CSV.
    xlsx_month = months[-2] if len(months) > 1 else months[-1]
    rows_total = 0
    for i, month in enumerate(months):
        report("schemes", i, len(months))
        frame = model.month_frame(month, i, len(months), plan.end_date, _rng(seed, 5, month.toordinal()))
        rows_total += len(frame)
        if month == xlsx_month:
            path = write_xlsx(out_dir / f"schemes_{month:%Y-%m}.xlsx", [
                Column(SCHEME_XLSX_HEADERS[0], frame.facility_id.to_numpy()),
                Column(SCHEME_XLSX_HEADERS[1], frame.indicator_code.to_numpy()),
                Column(SCHEME_XLSX_HEADERS[2], np.full(len(frame), np.datetime64(month.isoformat(), "s")), "datetime"),
                Column(SCHEME_XLSX_HEADERS[3], frame.value.to_numpy(), "number"),
                Column(SCHEME_XLSX_HEADERS[4], frame.target.to_numpy(), "number"),
            ])  # fmt: skip
            add(path, "schemes", "xlsx", len(frame), month=f"{month:%Y-%m}")
        else:
            path = out_dir / f"schemes_{month:%Y-%m}.csv"
            write_csv(frame.set_axis(list(SCHEME_CSV_HEADERS), axis=1), path)
            add(path, "schemes", "csv", len(frame), month=f"{month:%Y-%m}")
    report("schemes", len(months), len(months))
    truth.schemes = {
        "months": [f"{m:%Y-%m}" for m in months], "rows": rows_total, "spokes": int(main.sum()),
        "indicators": len(model.codes), "xlsx_month": f"{xlsx_month:%Y-%m}",
        "district_performance": {str(k): round(v, 3) for k, v in sorted(model.district_perf.items())},
    }  # fmt: skip


def _write_consultations(net: Network, plan: DemoPlan, out_dir: Path, seed: int, outages, cutoff, add,
                         truth: DemoManifest, report: Progress) -> None:
    by_day: list[dict] = []
    totals = dict.fromkeys(FAULT_KINDS, 0)
    last_seen = np.zeros(len(net.spoke_ids), dtype=np.int64)
    per_district: dict[int, int] = {}
    women = seniors = outside = valid_total = 0
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
        c = batch.cols
        fault = c["fault"]
        clean = (fault == "") | (fault == "duplicate")
        faults = {k: int((fault == k).sum()) for k in FAULT_KINDS}
        for k, v in faults.items():
            totals[k] += v
        late = int((clean & c["late"]).sum())
        valid = int(clean.sum())
        by_day.append({"date": day.isoformat(), "file": path.name, "format": fmt.label, "rows": len(frame),
                       "valid": valid, "valid_first_pass": valid - late, "late_facility": late, "faults": faults,
                       "outside_hours": int((clean & c["outside_hours"]).sum())})
        add(path, "consultations", fmt.label, len(frame), date=day.isoformat())
        last_seen[c["spoke_idx"][clean]] = day.toordinal()
        for d, k in zip(*np.unique(c["district_lgd"][clean], return_counts=True), strict=True):
            per_district[int(d)] = per_district.get(int(d), 0) + int(k)
        women += int((clean & (c["sex"] == "F")).sum())
        seniors += int((clean & (c["age"] >= 60)).sum())
        outside += int((clean & c["outside_hours"]).sum())
        valid_total += valid
    report("consultations", len(dates), len(dates))
    end_o = plan.end_date.toordinal()
    main = ~net.spoke_late
    live = net.live_from <= end_o - 7
    truth.consultations = {
        "rows": sum(d["rows"] for d in by_day),
        "valid": valid_total,
        "valid_first_pass": valid_total - sum(d["late_facility"] for d in by_day),
        "late_facility": sum(d["late_facility"] for d in by_day),
        "faults": totals,
        "share_women": round(women / max(1, valid_total), 4),
        "share_60_plus": round(seniors / max(1, valid_total), 4),
        "share_outside_hours": round(outside / max(1, valid_total), 4),
        "per_district_valid": {str(k): v for k, v in sorted(per_district.items())},
        "spokes_silent_last_7_days": int((main & live & (last_seen <= end_o - 7)).sum()),
        "spokes_silent_whole_period": int((main & (last_seen == 0)).sum()),
        "idle_designed": net.idle_designed,
        "by_day": by_day,
    }


def today_ist() -> date:
    return datetime.now(IST).date()
