"""What a demo run covers: scale, number of days, last day, seed (and for the national scale, how many spokes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30), "IST")

# Expected consultations on an ordinary weekday at the end of the period (Sundays run at about 40%, a year back
# about 15% lower, a few percent of spokes are idle): the state scale averages over 15,000 a day. The national
# scale is eSanjeevani's published size: about 175,000 spokes (173,881 Arogya Mandirs operational in July 2024)
# and about 500,000 consultations on a working day (peak day 510,702 in February 2023): its target is set so that,
# after idle and vacant spokes, an ordinary working day writes about 500,000 rows and a Monday about 510,000.
SCALES: dict[str, dict[str, float]] = {
    "small": {"days": 30, "weekday_target": 10_000},
    "state": {"days": 365, "weekday_target": 20_000},
    "national": {"days": 30, "weekday_target": 520_000},
}
NATIONAL_SPOKES = 175_000


@dataclass(frozen=True)
class DemoPlan:
    scale: str
    days: int
    end_date: date
    seed: int
    spokes: int | None = None  # national only: total spokes (default NATIONAL_SPOKES; fewer for fast tests)

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def dates(self) -> list[date]:
        return [self.start_date + timedelta(days=i) for i in range(self.days)]

    @property
    def national(self) -> bool:
        return self.scale == "national"

    @property
    def spoke_target(self) -> int:
        return int(self.spokes or NATIONAL_SPOKES)

    @property
    def weekday_target(self) -> float:
        """Consultations on an ordinary weekday; at national scale in proportion to the spokes asked for."""
        target = SCALES[self.scale]["weekday_target"]
        if self.national:
            target *= self.spoke_target / NATIONAL_SPOKES
        return target


def now_ist() -> datetime:
    return datetime.now(IST)


def make_plan(scale: str = "small", days: int | None = None, end_date: date | None = None,
              seed: int = 20250801, spokes: int | None = None) -> DemoPlan:
    if scale not in SCALES:
        raise ValueError(f"unknown demo scale {scale!r}: choose one of {', '.join(SCALES)}")
    days = int(SCALES[scale]["days"]) if days is None else int(days)
    if days < 1:
        raise ValueError("days must be at least 1")
    if spokes is not None and (scale != "national" or spokes < 1):
        raise ValueError("spokes can be set only for the national scale, to a positive number")
    return DemoPlan(scale, days, end_date or now_ist().date(), int(seed), spokes)
