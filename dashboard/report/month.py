"""The report's month: parsed from ``YYYY-MM``, offered in the month picker, and its default (the last complete
month of the page's filter period)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.data.filters import Filter, month_end
from dashboard.i18n import t

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR = 2000
PICKER_MONTHS = 24


class MonthError(ValueError):
    """A month the report cannot be made for; ``key`` and ``params`` give the translated message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


@dataclass(frozen=True)
class ReportMonth:
    """A calendar month; the report covers its first day to its last, or to today while it is running."""

    year: int
    month: int

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return month_end(self.first)

    @property
    def code(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def end(self, today: date) -> date:
        return min(self.last, today)

    def is_partial(self, today: date) -> bool:
        return self.last >= today

    def filter(self, district_lgd: int, today: date) -> Filter:
        """The whole district over the month (up to today): no block, facility, mode or specialty restriction."""
        return Filter(start=self.first, end=self.end(today), district_lgds=(district_lgd,))

    def label(self, lang: str, today: date | None = None) -> str:
        text = t("report.month.label", lang, month=t(f"report.monthname.{self.month}", lang), year=self.year)
        return t("report.month.partial", lang, month=text) if today is not None and self.is_partial(today) else text

    def previous(self) -> ReportMonth:
        return ReportMonth.of(self.first - timedelta(days=1))

    @classmethod
    def of(cls, day: date) -> ReportMonth:
        return cls(day.year, day.month)


def parse_month(raw: str | None, today: date) -> ReportMonth:
    """``YYYY-MM`` → the month; anything else, a month before 2000 or one that has not started yet → ``MonthError``."""
    text = (raw or "").strip()
    match = MONTH_RE.match(text)
    if match is None or int(match.group(1)) < FIRST_YEAR:
        raise MonthError("report.error.month", value=text[:20] or "–")
    month = ReportMonth(int(match.group(1)), int(match.group(2)))
    if month.first > today:
        raise MonthError("report.error.future", month=month.code)
    return month


def default_month(f: Filter, today: date) -> ReportMonth:
    """The last complete month of the filter period: the month of the period's last day if that month has ended by
    then (and before today), else the month before it."""
    end = min(f.end, today)
    month = ReportMonth.of(end)
    return month if month.last <= end and month.last < today else month.previous()


def month_options(today: date, lang: str, count: int = PICKER_MONTHS) -> list[dict[str, str]]:
    """The picker's months, newest first: the running month (marked "so far") and the ``count - 1`` before it."""
    out: list[dict[str, str]] = []
    month = ReportMonth.of(today)
    for _ in range(count):
        out.append({"value": month.code, "label": month.label(lang, today)})
        month = month.previous()
    return out
