"""Scheme indicators per spoke per month: counts against targets (a realistic spread, some districts lagging)
and the twelve service packages as 0/1 flags (target 1)."""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from etl.warehouse.reference import read_reference

# Monthly target per spoke for the count indicators.
COUNT_TARGETS: dict[str, float] = {
    "ABHA_CREATED": 60, "PMJAY_CARDS": 40, "NCD_HTN": 120, "NCD_DM": 120, "NCD_ORAL": 80, "NCD_BREAST": 40,
    "NCD_CERVICAL": 30, "WELLNESS": 8, "FOOTFALL": 450,
}  # fmt: skip
# Harder indicators run behind.
INDICATOR_EASE: dict[str, float] = {"NCD_BREAST": 0.75, "NCD_CERVICAL": 0.6, "NCD_ORAL": 0.85, "PMJAY_CARDS": 0.9}
# Share of spokes offering each package (1..12) once the programme is mature.
PACKAGE_OFFER = (0.97, 0.95, 0.9, 0.93, 0.92, 0.9, 0.75, 0.6, 0.55, 0.5, 0.4, 0.7)
LAGGING_DISTRICTS = 5


def indicator_codes() -> list[str]:
    return [r["indicator_code"] for r in read_reference("scheme_indicators.csv")]


def months_covered(start: date, end: date, minimum: int = 3) -> list[date]:
    """First days of the months from the period start to the end month, oldest first: at least ``minimum``
    months, the end month (reported so far) included."""
    first = date(start.year, start.month, 1)
    back = date(end.year, end.month, 1)
    for _ in range(minimum - 1):
        back = date(back.year - (back.month == 1), 12 if back.month == 1 else back.month - 1, 1)
    first = min(first, back)
    out = []
    m = first
    while m <= end:
        out.append(m)
        m = date(m.year + (m.month == 12), 1 if m.month == 12 else m.month + 1, 1)
    return out


class SchemeModel:
    """Per-spoke performance drawn once, so months tell a consistent story."""

    def __init__(self, spoke_ids: np.ndarray, spoke_district: np.ndarray, quiet: np.ndarray,
                 rng: np.random.Generator, lagging_districts: int = LAGGING_DISTRICTS) -> None:
        self.spoke_ids = spoke_ids
        districts = np.unique(spoke_district)
        perf = rng.lognormal(np.log(0.88), 0.18, len(districts))
        n_lagging = min(lagging_districts, len(districts))
        lagging = rng.choice(len(districts), n_lagging, replace=False)
        perf[lagging] = rng.uniform(0.4, 0.6, n_lagging)
        self.district_perf = dict(zip(districts.tolist(), perf.tolist(), strict=True))
        d_perf = np.array([self.district_perf[d] for d in spoke_district.tolist()])
        self.spoke_perf = d_perf * rng.lognormal(0, 0.3, len(spoke_ids)) * np.where(quiet, 0.25, 1.0)
        self.package_u = rng.random((len(spoke_ids), len(PACKAGE_OFFER)))
        self.maturity = np.clip(d_perf, 0.5, 1.1)
        self.codes = indicator_codes()

    def month_frame(self, month: date, index: int, n_months: int, end: date, rng: np.random.Generator,
                    rows: np.ndarray | None = None) -> pd.DataFrame:
        """Long rows (facility_id, indicator_code, month, value, target) for one month, for all spokes or for the
        spokes at positions ``rows``."""
        sel = slice(None) if rows is None else rows
        spoke_ids, spoke_perf, package_u = self.spoke_ids[sel], self.spoke_perf[sel], self.package_u[sel]
        n = len(spoke_ids)
        days = calendar.monthrange(month.year, month.month)[1]
        elapsed = min(1.0, ((end - month).days + 1) / days) if end < date(month.year, month.month, days) else 1.0
        ramp = 0.9 + 0.1 * (index + 1) / n_months
        ids, codes, values, targets = [], [], [], []
        # Which service packages a centre offers is a snapshot, reported with the latest month only.
        codes_this_month = [c for c in self.codes if not c.startswith("PKG_") or index == n_months - 1]
        for code in codes_this_month:
            if code.startswith("PKG_"):
                k = int(code[4:]) - 1
                offered = package_u[:, k] < PACKAGE_OFFER[k] * self.maturity[sel] * ramp
                val = offered.astype(float)
                tgt = np.ones(n)
            else:
                target = COUNT_TARGETS[code] * elapsed
                lam = target * spoke_perf * INDICATOR_EASE.get(code, 1.0) * ramp
                val = rng.poisson(np.maximum(lam, 0)).astype(float)
                tgt = np.full(n, round(target))
            ids.append(spoke_ids)
            codes.append(np.full(n, code))
            values.append(val)
            targets.append(tgt)
        # Facility by facility, each with its indicators in catalogue order, as the state's MIS exports them.
        return pd.DataFrame({
            "facility_id": np.stack(ids, axis=1).ravel(),
            "indicator_code": np.stack(codes, axis=1).ravel(),
            "month": month.strftime("%Y-%m"),
            "value": np.stack(values, axis=1).ravel().astype(int),
            "target": np.stack(targets, axis=1).ravel().astype(int),
        })  # fmt: skip
