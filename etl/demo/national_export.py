"""The national demo's files, written state by state and day by day so that memory stays bounded:

- ``facilities_<state>.csv`` per state (Bihar's ``facilities_bihar.csv`` and its late additions as at state scale);
- ``chos_bihar.xlsx`` (as at state scale) and ``chos_<state>.csv`` for the others (a workbook of 30,000 rows is
  slow to read);
- ``schemes_<yyyy-mm>_<state>.csv`` for the months the period touches (Bihar's last complete month as XLSX);
- ``consultations_<yyyy-mm-dd>_<state>.<ext>`` for every day and state, in the same export dialects as the state
  scale (the dialect rotates across states each day; XLSX only for files of at most ``XLSX_MAX_ROWS`` rows);
- ``status_<day>_<day>.jsonl``: hub heartbeats on the last day.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import numpy as np

from etl.demo.activity import NATIONAL_WEEKDAY_FACTOR, build_network
from etl.demo.consultations import generate_day
from etl.demo.formats import DayFormat, day_format, render, write_day
from etl.demo.generator import Progress, rng_for, write_schemes
from etl.demo.india import district_infos, state_slug
from etl.demo.national import build_national_master, build_national_roster
from etl.demo.plan import SCALES, DemoPlan
from etl.demo.status import plan_outages
from etl.demo.status_bulk import bulk_status, kinds, write_bulk_status
from etl.demo.tally import ConsultationTally, cho_truth, facility_truth
from etl.demo.truth import DemoManifest
from etl.demo.writers import write_chos_csv, write_chos_xlsx, write_facilities_csv
from etl.warehouse.reference import BIHAR_STATE_LGD

XLSX_MAX_ROWS = 5_000
LAGGING_SHARE = 0.05  # districts far behind on scheme targets
BIHAR_WEEKDAY_TARGET = SCALES["state"]["weekday_target"]


def national_format(offset: int, k: int, rows: int) -> DayFormat:
    """The format of state ``k``'s file ``offset`` days before the last day (k = 0 is Bihar, whose files follow
    the state scale's rotation); a big file never as XLSX."""
    fmt = day_format(offset if k == 0 else (offset + k) % 9)
    if fmt.kind == "xlsx" and rows > XLSX_MAX_ROWS:
        return DayFormat(fmt.dialect, "iso_space", "csv")
    return fmt


def _slug(state: int) -> str:
    return state_slug(state)


def generate_national(plan: DemoPlan, out_dir: Path, cutoff: datetime | None, add, truth: DemoManifest,
                      report: Progress) -> None:
    seed, start, end = plan.seed, plan.start_date, plan.end_date
    steps = len({i.state_lgd for i in district_infos()}) + 1
    report("facilities", 0, steps)
    nat = build_national_master(seed, start, end, plan.spoke_target,
                                progress=lambda done, total: report("facilities", done, steps))
    master, states = nat.master, nat.states
    f = master.frame
    for state in states:
        rows = f[(f.state_lgd == state) & ~f.late]
        add(write_facilities_csv(rows, out_dir / f"facilities_{_slug(state)}.csv"), "facilities", "csv", len(rows))
    late_path = write_facilities_csv(f[f.late], out_dir / "facilities_late_additions.csv")
    truth.facilities = facility_truth(master, nat.districts)
    truth.facilities["states"] = _state_summary(master, nat.districts, states)
    report("facilities", steps, steps)

    report("chos", 0, 1)
    roster, by_state = build_national_roster(master, states, seed, start, end)
    for state, r in by_state.items():
        if state == BIHAR_STATE_LGD:
            add(write_chos_xlsx(r, out_dir / "chos_bihar.xlsx"), "chos", "xlsx", len(r.frame))
        else:
            add(write_chos_csv(r, out_dir / f"chos_{_slug(state)}.csv"), "chos", "csv", len(r.frame))
    truth.chos = cho_truth(roster)
    report("chos", 1, 1)

    prefixes = {d.district_lgd: d.prefix for d in nat.districts if d.state_lgd != BIHAR_STATE_LGD}
    net = build_network(master, roster, end, _weekday_targets(plan, master, states), rng_for(seed, 4),
                        profile=NATIONAL_WEEKDAY_FACTOR, district_prefix=prefixes)
    groups = [(f"_{_slug(s)}", np.flatnonzero(net.spoke_state == s)) for s in states]
    write_schemes(net, plan, out_dir, seed, add, truth, report, groups=groups, months_minimum=1,
                  lagging=max(5, round(LAGGING_SHARE * len(nat.districts))))

    hub_ids = [h for h, late in zip(net.hub_ids, net.hub_late, strict=True) if not late]
    status_days = plan.dates[-1:]
    outages = plan_outages(hub_ids, status_days, rng_for(seed, 6))
    tally = ConsultationTally(len(net.spoke_ids))
    subsets = [(s, net.subset(idx)) for s, (_, idx) in zip(states, groups, strict=True)]
    for i, day in enumerate(plan.dates):
        report("consultations", i, plan.days)
        _write_day(day, plan, subsets, outages, cutoff if day == end else None, out_dir, add, tally)
    report("consultations", plan.days, plan.days)
    truth.consultations = tally.truth(net, end)

    report("status", 0, 1)
    events = bulk_status(hub_ids, end, outages, rng_for(seed, 6, 1), cutoff)
    add(write_bulk_status(out_dir / f"status_{end:%Y-%m-%d}_{end:%Y-%m-%d}.jsonl", events), "status", "jsonl",
        len(events))
    truth.status = {
        "events": len(events), "days": [end.isoformat()],
        "outages": [{"hub_id": o.hub_id, "start": o.start.isoformat(), "end": o.end.isoformat() if o.end else None}
                    for o in outages],
        "kinds": kinds(events),
    }  # fmt: skip
    report("status", 1, 1)
    add(late_path, "facilities", "csv", int(f.late.sum()), late_additions=True)


def _weekday_targets(plan: DemoPlan, master, states: list[int]) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Bihar keeps the state scale's volume; the rest of the national volume goes to the other states in
    proportion to their spokes."""
    spokes = master.spokes
    counts = spokes[~spokes.late].groupby("state_lgd").size()
    others = counts.drop(BIHAR_STATE_LGD)
    rest = plan.weekday_target - BIHAR_WEEKDAY_TARGET
    return {BIHAR_STATE_LGD: BIHAR_WEEKDAY_TARGET, **{int(s): rest * n / others.sum() for s, n in others.items()}}


def _write_day(day: date, plan: DemoPlan, subsets, outages, cutoff, out_dir: Path, add,  # type: ignore[no-untyped-def]
               tally: ConsultationTally) -> None:
    seed, offset = plan.seed, (plan.end_date - day).days
    parts, names, formats = [], [], Counter()
    for k, (state, sub) in enumerate(subsets):
        batch = generate_day(sub, day, plan.end_date, rng_for(seed, 7, day.toordinal(), state), salt=seed,
                             outages=outages, cutoff=cutoff, id_prefix=f"ESN{day:%Y%m%d}{state:02d}")
        fmt = national_format(offset, k, batch.n)
        frame = render(batch, fmt, rng_for(seed, 8, day.toordinal(), state))
        if frame.empty:
            continue
        path = write_day(frame, fmt, out_dir / f"consultations_{day:%Y-%m-%d}_{_slug(state)}{fmt.extension}")
        parts.append(tally.add(batch, len(frame), sub, state))
        names.append(path.name)
        formats[fmt.label] += 1
        add(path, "consultations", fmt.label, len(frame), date=day.isoformat(), state=state)
    if names:
        tally.by_day.append({"date": day.isoformat(), "files": names, "formats": dict(sorted(formats.items())),
                             **ConsultationTally.merge(parts)})


def _state_summary(master, districts, states: list[int]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    f = master.frame
    ok = f[~f.broken & ~f.late]
    hubs = ok[ok.role == "hub"].groupby("state_lgd").size()
    spokes = ok[ok.role == "spoke"].groupby("state_lgd").size()
    out = {}
    for s in states:
        ds = [d for d in districts if d.state_lgd == s]
        out[str(s)] = {"name": _slug(s), "districts": len(ds), "blocks": sum(d.n_blocks for d in ds),
                       "hubs": int(hubs.get(s, 0)), "spokes": int(spokes.get(s, 0))}
    return out
