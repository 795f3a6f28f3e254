"""Ground truth as the files are written: what each consultation file holds, what the facility master and the CHO
roster hold, in the shape ``demo_truth.json`` records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from etl.demo.activity import Network
from etl.demo.chos import Roster
from etl.demo.consultations import FAULT_KINDS, DayBatch
from etl.demo.facilities import Master
from etl.demo.geography import District


def _counts(values: pd.Series) -> dict[str, int]:
    return {k: int(v) for k, v in values.value_counts().sort_index().items()}


def facility_truth(master: Master, districts: Iterable[District]) -> dict:
    districts = list(districts)
    f = master.frame
    ok = f[~f.broken & ~f.late]
    spokes = ok[ok.role == "spoke"]
    hubs = ok[ok.role == "hub"]
    all_blocks = [b.block_lgd for d in districts for b in d.blocks]
    per_block = spokes.groupby("block_lgd").size().reindex(all_blocks, fill_value=0)
    n_spokes = spokes.groupby("district_lgd").size()
    n_hubs = hubs.groupby("district_lgd").size()
    late = f[f.late]
    late_hubs = late[late.role == "hub"].groupby("district_lgd").size()
    late_spokes = late[late.role == "spoke"].groupby("district_lgd").size()
    hub_types = {k: _counts(g.facility_type) for k, g in hubs.groupby("district_lgd")}
    per_district = {}
    for d in districts:
        k = d.district_lgd
        h, s = int(n_hubs.get(k, 0)), int(n_spokes.get(k, 0))
        per_district[str(k)] = {
            "name": d.name_en, "blocks": d.n_blocks, "hubs": h, "spokes": s, "facilities": h + s,
            "late_hubs": int(late_hubs.get(k, 0)), "late_spokes": int(late_spokes.get(k, 0)),
            "hub_types": hub_types.get(k, {}),
        }  # fmt: skip
    return {
        "districts": len(districts),
        "blocks": len(all_blocks),
        "hubs": len(hubs),
        "spokes": len(spokes),
        "hub_types": _counts(hubs.facility_type),
        "spoke_types": _counts(spokes.facility_type),
        "late_additions": late.facility_id.tolist(),
        "broken_rows": master.broken,
        "blocks_below_two_spokes": [int(b) for b in per_block[per_block < 2].index],
        "cross_district_spokes": master.cross_district,
        "per_district": per_district,
    }


def cho_truth(roster: Roster) -> dict:
    r = roster.frame
    return {
        "chos": len(r), "vacant_spokes": len(roster.vacant), "with_laptop": int(r.laptop_issued_on.notna().sum()),
        "inactive": r[~r.active].cho_id.tolist(),
        "absent_for_weeks": r[r.gap_start.notna()][["cho_id", "facility_id", "gap_start", "gap_end"]].astype(str)
        .to_dict("records"),
        "training_modules_mean": round(float(r.training_modules.mean()), 2),
    }  # fmt: skip


class ConsultationTally:
    """Counts over every consultation file written: per batch (one file) and in total."""

    def __init__(self, n_spokes: int) -> None:
        self.by_day: list[dict] = []
        self.faults = dict.fromkeys(FAULT_KINDS, 0)
        self.last_seen = np.zeros(n_spokes, dtype=np.int64)
        self.per_district: dict[int, int] = {}
        self.per_state: dict[int, int] = {}
        self.women = self.seniors = self.outside = self.valid = 0

    def add(self, batch: DayBatch, rows: int, net: Network, state: int | None = None) -> dict:
        """Count one written batch (``rows`` lines in its file); returns the batch's own counts."""
        c = batch.cols
        fault = c["fault"]
        clean = (fault == "") | (fault == "duplicate")
        faults = {k: int((fault == k).sum()) for k in FAULT_KINDS}
        for k, v in faults.items():
            self.faults[k] += v
        late = int((clean & c["late"]).sum())
        valid = int(clean.sum())
        self.last_seen[net.global_index(c["spoke_idx"][clean])] = batch.day.toordinal()
        for d, k in zip(*np.unique(c["district_lgd"][clean], return_counts=True), strict=True):
            self.per_district[int(d)] = self.per_district.get(int(d), 0) + int(k)
        if state is not None:
            self.per_state[state] = self.per_state.get(state, 0) + valid
        self.women += int((clean & (c["sex"] == "F")).sum())
        self.seniors += int((clean & (c["age"] >= 60)).sum())
        outside = int((clean & c["outside_hours"]).sum())
        self.outside += outside
        self.valid += valid
        return {"rows": rows, "valid": valid, "valid_first_pass": valid - late, "late_facility": late,
                "faults": faults, "outside_hours": outside}

    @staticmethod
    def merge(parts: list[dict]) -> dict:
        """Several batches' counts (one day's files) as one."""
        out = {"rows": 0, "valid": 0, "valid_first_pass": 0, "late_facility": 0,
               "faults": dict.fromkeys(FAULT_KINDS, 0), "outside_hours": 0}
        for p in parts:
            for k in ("rows", "valid", "valid_first_pass", "late_facility", "outside_hours"):
                out[k] += p[k]
            for k, v in p["faults"].items():
                out["faults"][k] += v
        return out

    def truth(self, net: Network, end: date) -> dict:
        end_o = end.toordinal()
        main = ~net.spoke_late
        live = net.live_from <= end_o - 7
        late_total = sum(d["late_facility"] for d in self.by_day)
        out = {
            "rows": sum(d["rows"] for d in self.by_day),
            "valid": self.valid,
            "valid_first_pass": self.valid - late_total,
            "late_facility": late_total,
            "faults": self.faults,
            "share_women": round(self.women / max(1, self.valid), 4),
            "share_60_plus": round(self.seniors / max(1, self.valid), 4),
            "share_outside_hours": round(self.outside / max(1, self.valid), 4),
            "per_district_valid": {str(k): v for k, v in sorted(self.per_district.items())},
            "spokes_silent_last_7_days": int((main & live & (self.last_seen <= end_o - 7)).sum()),
            "spokes_silent_whole_period": int((main & (self.last_seen == 0)).sum()),
            "idle_designed": net.idle_designed,
            "by_day": self.by_day,
        }
        if self.per_state:
            out["per_state_valid"] = {str(k): v for k, v in sorted(self.per_state.items())}
        return out
