"""What a demo run covers: scale, number of days, last day, seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30), "IST")

# Expected consultations on an ordinary weekday at the end of the period (Sundays run at about 40%, a year back
# about 15% lower, a few percent of spokes are idle): the state scale averages over 15,000 a day.
SCALES: dict[str, dict[str, float]] = {
    "small": {"days": 30, "weekday_target": 10_000},
    "state": {"days": 365, "weekday_target": 20_000},
}


@dataclass(frozen=True)
class DemoPlan:
    scale: str
    days: int
    end_date: date
    seed: int

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def dates(self) -> list[date]:
        return [self.start_date + timedelta(days=i) for i in range(self.days)]

    @property
    def weekday_target(self) -> float:
        return SCALES[self.scale]["weekday_target"]


def now_ist() -> datetime:
    return datetime.now(IST)


def make_plan(scale: str = "small", days: int | None = None, end_date: date | None = None,
              seed: int = 20250801) -> DemoPlan:
    if scale == "national":
        raise NotImplementedError(
            "the 'national' demo scale is not implemented yet: use 'small' (Bihar, 30 days) or 'state' (Bihar, a year)"
        )
    if scale not in SCALES:
        raise ValueError(f"unknown demo scale {scale!r}: choose one of {', '.join(SCALES)} (national: not yet)")
    days = int(SCALES[scale]["days"]) if days is None else int(days)
    if days < 1:
        raise ValueError("days must be at least 1")
    return DemoPlan(scale, days, end_date or now_ist().date(), int(seed))
