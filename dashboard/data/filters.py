"""The typed filter every query takes, the caller's scope, and the period presets."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30))

PERIOD_PRESETS: tuple[str, ...] = ("today", "last7", "last30", "last90", "this_month", "last_month", "fy", "custom")
DEFAULT_PERIOD = "last30"


def _ints(values: Iterable[int | str] | None) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values or ()}))


def _strs(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values or () if str(v)}))


@dataclass(frozen=True)
class Filter:
    """What the user asked to see. Empty tuples mean "no restriction"; lists are kept sorted so that equal filters
    have equal cache keys."""

    start: date
    end: date
    district_lgds: tuple[int, ...] = ()
    block_lgds: tuple[int, ...] = ()
    facility_ids: tuple[str, ...] = ()
    facility_types: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            start, end = self.end, self.start
            object.__setattr__(self, "start", start)
            object.__setattr__(self, "end", end)
        object.__setattr__(self, "district_lgds", _ints(self.district_lgds))
        object.__setattr__(self, "block_lgds", _ints(self.block_lgds))
        object.__setattr__(self, "facility_ids", _strs(self.facility_ids))
        object.__setattr__(self, "facility_types", _strs(self.facility_types))
        object.__setattr__(self, "modes", _strs(self.modes))
        object.__setattr__(self, "specialties", _strs(self.specialties))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filter:
        """The period of equal length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return replace(self, start=end - timedelta(days=self.days - 1), end=end)

    def with_(self, **changes: object) -> Filter:
        return replace(self, **changes)

    @property
    def needs_facility_rollup(self) -> bool:
        """Block, facility and facility-type filters need the facility rollup; the district rollup lacks them."""
        return bool(self.block_lgds or self.facility_ids or self.facility_types)

    def cache_token(self) -> str:
        return repr(self)


@dataclass(frozen=True)
class Scope:
    """The districts a user may see. Deny by default: ``Scope()`` sees nothing; ``Scope.full()`` sees all."""

    district_lgds: frozenset[int] = field(default_factory=frozenset)
    all_districts: bool = False

    @classmethod
    def full(cls) -> Scope:
        return cls(all_districts=True)

    @classmethod
    def districts(cls, lgds: Iterable[int]) -> Scope:
        return cls(district_lgds=frozenset(int(x) for x in lgds))

    @property
    def is_empty(self) -> bool:
        return not self.all_districts and not self.district_lgds

    def allows(self, district_lgd: int | None) -> bool:
        return self.all_districts or (district_lgd is not None and int(district_lgd) in self.district_lgds)

    def cache_token(self) -> str:
        return "all" if self.all_districts else ",".join(str(x) for x in sorted(self.district_lgds)) or "none"


def ist_today(pinned: str = "") -> date:
    """Today in India, or the pinned ``YYYY-MM-DD`` date (``AROGYA_TODAY``) when set."""
    if pinned:
        return date.fromisoformat(pinned)
    return datetime.now(IST).date()


def financial_year_start(day: date) -> date:
    """1 April of the Indian financial year (April–March) that holds ``day``."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def resolve_period(preset: str, today: date, start: date | None = None, end: date | None = None) -> tuple[date, date]:
    """(start, end) of a preset, both inclusive; ``custom`` uses ``start``/``end`` (falling back to the default)."""
    if preset == "today":
        return today, today
    if preset in {"last7", "last30", "last90"}:
        n = int(preset[4:])
        return today - timedelta(days=n - 1), today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        last_end = today.replace(day=1) - timedelta(days=1)
        return last_end.replace(day=1), last_end
    if preset == "fy":
        return financial_year_start(today), today
    if preset == "custom" and start is not None and end is not None:
        return (start, end) if start <= end else (end, start)
    return resolve_period(DEFAULT_PERIOD, today)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
